// The shape of a process declared as data (in the spirit of Sharetribe's transaction
// processes): plain JSON-able objects, so a definition can be read, versioned, diffed,
// drawn and validated, and an order keeps running on the version it was created under.
import type { ActionName, ConditionName, GuardName, ProcessActor } from './vocabulary.js';
import type { TimeExpr } from './time.js';

/** The pseudo-state before an order exists; transitions from it create orders. */
export const START = '@start';
export type Start = typeof START;
/** As a target: stay in the state the transition was taken from (one self-loop for several states). */
export const SAME = '@same';
export type Same = typeof SAME;

/**
 * Whom the order waits for in a state. `counterparty` is the party (customer or provider)
 * that did not take the transition into the state — the create or the latest edit — so an
 * edit in confirmation flips it. States without `awaiting` wait for nobody but the clock.
 */
export type Awaiting = 'customer' | 'provider' | 'operator' | 'counterparty';

export interface StateDef<S extends string = string> {
  name: S;
  description: string;
  /** The order's life is over: no transition leads to another state, no deadline. Self-loops (review, refunds) remain. */
  terminal?: boolean;
  awaiting?: Awaiting;
}

/** One target of a transition that can end in several states; `when` is read after the actions ran. */
export interface Branch<S extends string = string> {
  when?: ConditionName;
  to: S | Same;
  /** Run after the transition's own actions, only when this branch is taken. */
  actions?: readonly ActionName[];
}

export interface TransitionDef<S extends string = string, T extends string = string> {
  name: T;
  description: string;
  /** States it may be taken from; START for creation. */
  from: readonly (S | Start)[];
  /** One target, or branches tried in order (the last one without `when`). */
  to: S | Same | readonly Branch<S>[];
  /** `system` transitions are taken by the deadline worker and by nobody else. */
  actors: readonly ProcessActor[];
  /** All must hold before it runs; the first that fails is the refusal. */
  guards?: readonly GuardName[];
  /** Run in this order, in one database transaction with the state change. */
  actions?: readonly ActionName[];
  /** System transitions only: when the deadline falls. */
  at?: TimeExpr;
  /**
   * System transitions only, instead of `at`: a schedule outside the order fires it.
   * `job_batch_release`: a prepay job's batch shipping deadline (services/jobs) releases
   * every order of the batch at once.
   */
  scheduledBy?: 'job_batch_release';
  /** The machine reason recorded when no person gives one (e.g. 'confirmation_expired'). */
  reasonCode?: string;
}

export interface ProcessDefinition<S extends string = string, T extends string = string> {
  /** What orders store and the API accepts ("booking", "direct"). */
  name: string;
  /** Bumped on any change; orders keep the version they were created under. */
  version: string;
  description: string;
  states: readonly StateDef<S>[];
  transitions: readonly TransitionDef<S, T>[];
  /** Times that are not order transitions, read by actions (schedule_payout reads `payout`). */
  schedules?: { payout?: TimeExpr };
}

export type StateOf<P> = P extends ProcessDefinition<infer S, string> ? S : never;
export type TransitionOf<P> = P extends ProcessDefinition<string, infer T> ? T : never;

export function branchesOf<S extends string>(t: TransitionDef<S, string>): readonly Branch<S>[] {
  return typeof t.to === 'string' ? [{ to: t.to }] : t.to;
}

/** The state a branch leads to when taken from `from`. */
export function resolveTarget<S extends string>(to: S | Same, from: S | Start): S | Start {
  return to === SAME ? from : to;
}

/** The states a transition may lead to from `from`, in branch order. */
export function targetsOf<S extends string>(t: TransitionDef<S, string>, from: S | Start): (S | Start)[] {
  return branchesOf(t).map((b) => resolveTarget(b.to, from));
}
