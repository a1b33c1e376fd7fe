// Pure questions the order engine asks of a process: what may this actor do here, may
// they take this transition (and if not, why), and when is the next deadline. The service
// layer runs guards and actions; it never hard-codes a state or a window.
import { SettleError } from '../errors.js';
import { evaluateTime, type ProcessTimes, type TimePolicies } from './time.js';
import { START, branchesOf, resolveTarget, type ProcessDefinition, type StateDef, type TransitionDef } from './types.js';
import type { ActionName, ConditionName, ProcessActor } from './vocabulary.js';

type AnyProcess = ProcessDefinition<string, string>;
type TransitionIn<P extends AnyProcess> = P['transitions'][number];

export function stateDef(process: AnyProcess, state: string): StateDef | undefined {
  return process.states.find((s) => s.name === state);
}

/** The transitions `actor` may take from `state` (START for creation), in declaration order. */
export function transitionsFor<P extends AnyProcess>(process: P, state: string, actor: ProcessActor): TransitionIn<P>[] {
  return process.transitions.filter((t) => t.from.includes(state) && t.actors.includes(actor));
}

export type RefusalCode = 'unknown_transition' | 'unknown_state' | 'actor_not_allowed' | 'invalid_state_transition';

export type FindResult<T> =
  | { ok: true; transition: T }
  | { ok: false; code: RefusalCode; message: string; allowedStates?: readonly string[]; allowedActors?: readonly string[] };

/**
 * Looks up `name` for an order in `state`, optionally for `actor`. The actor is judged
 * before the state: a customer asking for `mark_done` is told they may never do it, not
 * that the order is in the wrong state, which would suggest waiting would help.
 */
export function findTransition<P extends AnyProcess>(
  process: P,
  state: string,
  name: string,
  actor?: ProcessActor,
): FindResult<TransitionIn<P>> {
  const transition = process.transitions.find((t) => t.name === name);
  if (!transition) {
    return { ok: false, code: 'unknown_transition', message: `The ${process.name} process has no transition '${name}'.` };
  }
  if (state !== START && !stateDef(process, state)) {
    return { ok: false, code: 'unknown_state', message: `The ${process.name} process has no state '${state}'.` };
  }
  if (actor !== undefined && !transition.actors.includes(actor)) {
    return {
      ok: false,
      code: 'actor_not_allowed',
      message: `A ${actor} may not ${name}; only ${transition.actors.join(', ')} may.`,
      allowedActors: transition.actors,
    };
  }
  if (!transition.from.includes(state)) {
    const where = state === START ? 'to create an order' : `while the order is in '${state}'`;
    return {
      ok: false,
      code: 'invalid_state_transition',
      message: `Cannot ${name} ${where}; it is only possible in ${transition.from.map((s) => `'${s}'`).join(', ')}.`,
      allowedStates: transition.from,
    };
  }
  return { ok: true, transition };
}

/**
 * findTransition that throws the API error: 400 for a name the process does not have,
 * 403 for an actor who may never take it, 409 for the wrong state (waiting or another
 * transition could change that). A state the process lacks is a corrupt order: 500.
 */
export function requireTransition<P extends AnyProcess>(
  process: P,
  state: string,
  name: string,
  actor: ProcessActor,
): TransitionIn<P> {
  const found = findTransition(process, state, name, actor);
  if (found.ok) return found.transition;
  const { ok: _ok, ...refusal } = found;
  const details = { process: process.name, version: process.version, state, transition: name, actor, ...refusal };
  switch (found.code) {
    case 'unknown_transition':
      throw new SettleError(400, 'invalid_request_error', found.code, found.message, details);
    case 'actor_not_allowed':
      throw new SettleError(403, 'permission_error', found.code, found.message, details);
    case 'invalid_state_transition':
      throw new SettleError(409, 'conflict_error', found.code, found.message, details);
    default:
      throw new SettleError(500, 'api_error', found.code, found.message, details);
  }
}

export interface Deadline {
  at: Date;
  /** The system transition that runs at `at`. */
  transition: string;
}

/**
 * The next deadline of an order in `state`: the earliest `at` among the state's system
 * transitions that can be evaluated (ties go to the one declared first, so the outcome is
 * deterministic). Null when the state has none or every one lacks a time it needs.
 */
export function deadlineFor(
  process: AnyProcess,
  state: string,
  times: ProcessTimes,
  policies: TimePolicies,
): Deadline | null {
  let best: Deadline | null = null;
  for (const t of process.transitions) {
    if (!t.at || !t.from.includes(state) || !t.actors.includes('system')) continue;
    const at = evaluateTime(t.at, times, policies);
    if (at && (!best || at.getTime() < best.at.getTime())) best = { at, transition: t.name };
  }
  return best;
}

/**
 * Whom an order in `state` awaits. For `counterparty`, `lastParty` is the party on whose
 * behalf the create or latest edit was made (an operator acts for one of them).
 */
export function awaitingParty(
  process: AnyProcess,
  state: string,
  lastParty?: 'customer' | 'provider',
): 'customer' | 'provider' | 'operator' | null {
  const awaiting = stateDef(process, state)?.awaiting;
  if (awaiting === undefined) return null;
  if (awaiting !== 'counterparty') return awaiting;
  if (lastParty === undefined) return null;
  return lastParty === 'customer' ? 'provider' : 'customer';
}

export function isTerminal(process: AnyProcess, state: string): boolean {
  return stateDef(process, state)?.terminal === true;
}

/**
 * Where a transition taken from `from` ends, once its own actions have run: the first
 * branch whose condition `holds` on the resulting order, with the branch's extra actions.
 */
export function chooseBranch(
  transition: TransitionDef,
  from: string,
  holds: (condition: ConditionName) => boolean,
): { to: string; actions: readonly ActionName[] } {
  for (const b of branchesOf(transition)) {
    if (b.when === undefined || holds(b.when)) return { to: resolveTarget(b.to, from), actions: b.actions ?? [] };
  }
  // Validation guarantees a last unconditional branch; reaching here means an unvalidated definition.
  throw new Error(`transition '${transition.name}' has no branch for this order`);
}
