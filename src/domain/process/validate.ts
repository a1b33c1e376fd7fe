// Checks a process definition when it is loaded, so a broken process fails at start with
// every problem listed, instead of stranding orders in production. The TypeScript types
// already catch most of this for definitions written in code; these checks also cover
// definitions read from JSON and mistakes the types cannot see (reachability, dead ends).
import { isActionName, isConditionName, isGuardName, isProcessActor } from './vocabulary.js';
import { NAMED_TIMES, DAYS_POLICIES, HOURS_POLICIES, type TimeExpr } from './time.js';
import { SAME, START, branchesOf, targetsOf, type ProcessDefinition, type StateDef, type TransitionDef } from './types.js';

export interface ProcessIssue {
  code: string;
  message: string;
}

function timeExprIssues(expr: unknown, where: string): ProcessIssue[] {
  const bad = (message: string): ProcessIssue[] => [{ code: 'invalid_time_expression', message: `${where}: ${message}` }];
  if (!expr || typeof expr !== 'object') return bad('not an expression');
  const e = expr as Record<string, unknown>;
  if ('ref' in e) return (NAMED_TIMES as readonly unknown[]).includes(e.ref) ? [] : bad(`unknown time '${String(e.ref)}'`);
  if ('plus' in e) {
    const [base, duration] = (Array.isArray(e.plus) ? e.plus : []) as [unknown, Record<string, unknown> | undefined];
    const issues = timeExprIssues(base, where);
    const hours = duration?.hours;
    const days = duration?.days;
    const known = (v: unknown, names: readonly string[]) =>
      (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && names.includes(v));
    if (!(known(hours, HOURS_POLICIES) && days === undefined) && !(known(days, DAYS_POLICIES) && hours === undefined)) {
      issues.push(...bad(`bad duration ${JSON.stringify(duration)}`));
    }
    return issues;
  }
  if ('min' in e) {
    if (!Array.isArray(e.min) || e.min.length === 0) return bad('min() needs at least one expression');
    return e.min.flatMap((x) => timeExprIssues(x, where));
  }
  if ('ifSameDay' in e) {
    const pair = Array.isArray(e.ifSameDay) && e.ifSameDay.length === 2 ? e.ifSameDay : null;
    if (!pair) return bad('ifSameDay needs two expressions');
    return [pair[0], pair[1], e.then, e.else].flatMap((x) => timeExprIssues(x, where));
  }
  return bad(`unknown expression ${JSON.stringify(expr)}`);
}

function transitionIssues(t: TransitionDef, stateNames: Set<string>, terminal: Set<string>): ProcessIssue[] {
  const issues: ProcessIssue[] = [];
  const add = (code: string, message: string) => issues.push({ code, message: `transition '${t.name}': ${message}` });
  if (t.from.length === 0) add('no_from_state', 'has no from-state');
  for (const s of t.from) if (s !== START && !stateNames.has(s)) add('unknown_state', `from-state '${s}' is not declared`);
  const branches = branchesOf(t);
  if (branches.length === 0) add('no_target', 'has no target state');
  branches.forEach((b, i) => {
    if (b.to === SAME && t.from.includes(START)) add('same_from_start', `cannot stay in '${START}'`);
    else if (b.to !== SAME && !stateNames.has(b.to)) add('unknown_state', `target '${b.to}' is not declared`);
    if (b.when !== undefined && !isConditionName(b.when)) add('unknown_condition', `unknown condition '${b.when}'`);
    for (const a of b.actions ?? []) if (!isActionName(a)) add('unknown_action', `unknown action '${a}'`);
    const last = i === branches.length - 1;
    if (last && b.when !== undefined) add('no_default_branch', 'the last branch must have no condition');
    if (!last && b.when === undefined) add('unreachable_branch', `branch ${i + 1} has no condition, so later branches never run`);
  });
  if (t.actors.length === 0) add('no_actors', 'nobody may take it');
  for (const a of t.actors) if (!isProcessActor(a)) add('unknown_actor', `unknown actor '${a}'`);
  if (new Set(t.actors).size !== t.actors.length) add('duplicate_actor', 'lists an actor twice');
  const system = t.actors.includes('system');
  if (system && t.actors.length > 1) add('mixed_system_actor', 'a system transition cannot also be taken by people');
  if (system && !t.at && !t.scheduledBy) add('system_without_at', 'a system transition needs an `at` deadline (or a `scheduledBy`)');
  if (t.at && t.scheduledBy) add('at_and_scheduled_by', 'a system transition has an `at` deadline or a `scheduledBy`, not both');
  if (!system && t.at) add('at_without_system', 'only system transitions have an `at` deadline');
  if (!system && t.scheduledBy) add('scheduled_by_without_system', 'only system transitions have a `scheduledBy`');
  if (t.scheduledBy !== undefined && t.scheduledBy !== 'job_batch_release') add('unknown_schedule', `unknown scheduledBy '${String(t.scheduledBy)}'`);
  if (system && t.from.includes(START)) add('system_creation', 'orders cannot be created by the system');
  if (t.at) issues.push(...timeExprIssues(t.at, `transition '${t.name}' at`));
  for (const g of t.guards ?? []) if (!isGuardName(g)) add('unknown_guard', `unknown guard '${g}'`);
  for (const a of t.actions ?? []) if (!isActionName(a)) add('unknown_action', `unknown action '${a}'`);
  for (const s of t.from) {
    if (!terminal.has(s)) continue;
    if (targetsOf(t, s).some((to) => to !== s)) add('leaves_terminal_state', `leads out of terminal state '${s}'`);
    if (system) add('deadline_in_terminal_state', `puts a deadline on terminal state '${s}'`);
  }
  return issues;
}

function duplicates(names: readonly string[]): string[] {
  const seen = new Set<string>();
  return [...new Set(names.filter((n) => (seen.has(n) ? true : (seen.add(n), false))))];
}

/** Every problem of a definition; empty when it is sound. */
export function validateProcess(process: ProcessDefinition): ProcessIssue[] {
  const issues: ProcessIssue[] = [];
  const add = (code: string, message: string) => issues.push({ code, message });
  if (!process.name) add('no_name', 'the process has no name');
  if (!process.version) add('no_version', 'the process has no version');
  const states: readonly StateDef[] = process.states;
  const stateNames = new Set(states.map((s) => s.name));
  const terminal = new Set(states.filter((s) => s.terminal).map((s) => s.name));
  for (const d of duplicates(states.map((s) => s.name))) add('duplicate_state', `state '${d}' is declared twice`);
  for (const d of duplicates(process.transitions.map((t) => t.name))) add('duplicate_transition', `transition '${d}' is declared twice`);
  if (stateNames.has(START)) add('reserved_state', `'${START}' is reserved for "no order yet"`);
  for (const t of process.transitions) issues.push(...transitionIssues(t, stateNames, terminal));
  if (!process.transitions.some((t) => t.from.includes(START))) add('no_creation', 'no transition creates an order');

  // Reachability from creation, and a way out of every non-terminal state.
  const reached = new Set<string>([START]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const t of process.transitions) {
      for (const from of t.from.filter((s) => reached.has(s))) {
        for (const target of targetsOf(t, from)) if (!reached.has(target)) (reached.add(target), (grew = true));
      }
    }
  }
  for (const s of states) {
    if (!reached.has(s.name)) add('unreachable_state', `state '${s.name}' cannot be reached`);
    const leaves = process.transitions.some((t) => t.from.includes(s.name) && targetsOf(t, s.name).some((to) => to !== s.name));
    if (!s.terminal && !leaves) add('dead_end_state', `non-terminal state '${s.name}' has no way out`);
  }
  for (const [name, expr] of Object.entries(process.schedules ?? {})) {
    if (expr) issues.push(...timeExprIssues(expr as TimeExpr, `schedule '${name}'`));
  }
  return issues;
}

export class InvalidProcessError extends Error {
  constructor(
    readonly processName: string,
    readonly issues: ProcessIssue[],
  ) {
    super(`process '${processName}' is invalid:\n${issues.map((i) => `  - [${i.code}] ${i.message}`).join('\n')}`);
    this.name = 'InvalidProcessError';
  }
}

export function assertValidProcess<P extends ProcessDefinition>(process: P): P {
  const issues = validateProcess(process);
  if (issues.length > 0) throw new InvalidProcessError(process.name, issues);
  return process;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Declares a process: infers its state and transition names as literal types (so code
 * that names a state or transition is checked), validates it, and freezes it so no
 * caller can change a running process by accident.
 */
export function defineProcess<const S extends string, const T extends string>(def: {
  name: string;
  version: string;
  description: string;
  states: readonly StateDef<S>[];
  transitions: readonly TransitionDef<NoInfer<S>, T>[];
  schedules?: ProcessDefinition['schedules'];
}): ProcessDefinition<S, T> {
  return deepFreeze(assertValidProcess(def as ProcessDefinition<S, T>));
}
