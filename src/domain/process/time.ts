// Deadlines as data: small JSON expressions over the order's named times and the
// policies snapshotted onto it. Being data, a window can be changed in the process
// definition (or the settings) without touching the engine, drawn in a diagram, and
// re-evaluated after every change of the order's times.
import type { Settings } from '../settings.js';
import { addCalendarDays, addHours, isSameCalendarDay } from './zoned.js';

/**
 * The times an expression may read. Any of them may be missing on a given order.
 * - enteredState: when the order last entered its current state from another state
 *   (self-loops such as an edit in confirmation do not move it).
 * - createdAt: when the order was created.
 * - lastEditAt: the create or the latest edit of the order's terms (equals createdAt until
 *   the first edit); the confirmation window runs from it.
 * - startsAt / endsAt: the service time (from the lines; absent for untimed orders).
 * - closedAt: when the order ended (closed, or cancelled with money kept); payouts run from it.
 */
export const NAMED_TIMES = ['enteredState', 'createdAt', 'lastEditAt', 'startsAt', 'endsAt', 'closedAt'] as const;
export type NamedTime = (typeof NAMED_TIMES)[number];
export type ProcessTimes = Partial<Record<NamedTime, Date | null | undefined>>;

type NumericSettingKey = { [K in keyof Settings]: Settings[K] extends number ? K : never }[keyof Settings];
/** Settings fields that hold a number of hours / days (derived from their names). */
export type HoursPolicy = Extract<NumericSettingKey, `${string}Hours`>;
export type DaysPolicy = Extract<NumericSettingKey, `${string}Days`>;
export const HOURS_POLICIES = [
  'confirmationWindowHours',
  'sameDayConfirmationWindowHours',
  'paymentWindowHours',
  'completionWindowHours',
  'noRefundWithinHours',
] as const satisfies readonly HoursPolicy[];
export const DAYS_POLICIES = ['executionConfirmationWindowDays', 'payoutDelayDays'] as const satisfies readonly DaysPolicy[];

/** What evaluating needs from the order's policy snapshot. */
export type TimePolicies = Pick<Settings, 'timeZone' | HoursPolicy | DaysPolicy>;

/**
 * Hours are exact elapsed hours. Days are calendar days in the business time zone (same
 * wall-clock time, so 23 or 25 h across a DST change), like Temporal's ZonedDateTime.add.
 * Either is a literal count or the name of a policy field.
 */
export type Duration = { hours: number | HoursPolicy } | { days: number | DaysPolicy };

export type TimeExpr =
  | { ref: NamedTime }
  | { plus: readonly [TimeExpr, Duration] }
  | { min: readonly TimeExpr[] }
  | {
      /** Compares the calendar days of the two times in the business time zone. */
      ifSameDay: readonly [TimeExpr, TimeExpr];
      then: TimeExpr;
      else: TimeExpr;
    };

// Builders, so definitions read like the SPEC's sentences.
export const ref = (name: NamedTime): TimeExpr => ({ ref: name });
export const plus = (expr: TimeExpr, duration: Duration): TimeExpr => ({ plus: [expr, duration] });
export const min = (...exprs: TimeExpr[]): TimeExpr => ({ min: exprs });
export const ifSameDay = (a: TimeExpr, b: TimeExpr, then: TimeExpr, otherwise: TimeExpr): TimeExpr => ({
  ifSameDay: [a, b],
  then,
  else: otherwise,
});

function policyNumber(policies: TimePolicies, field: HoursPolicy | DaysPolicy): number {
  const value = policies[field];
  // A snapshot without the field is a broken order, not a missing time: fail loudly.
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`policy ${field} is not a number`);
  return value;
}

export function durationAmount(duration: Duration, policies: TimePolicies): { unit: 'hours' | 'days'; amount: number } {
  if ('hours' in duration) {
    const h = duration.hours;
    return { unit: 'hours', amount: typeof h === 'number' ? h : policyNumber(policies, h) };
  }
  const d = duration.days;
  return { unit: 'days', amount: typeof d === 'number' ? d : policyNumber(policies, d) };
}

/**
 * The instant an expression denotes, or null when a time it needs is missing (no
 * startsAt, say). Missing operands of `min` are skipped, because a cap that does not exist
 * does not cap: a booking without a start still expires 24 h after its last edit. A
 * same-day test with a missing side takes the `else` branch (nothing starts that day).
 */
export function evaluateTime(expr: TimeExpr, times: ProcessTimes, policies: TimePolicies): Date | null {
  if ('ref' in expr) {
    const t = times[expr.ref];
    return t instanceof Date && !Number.isNaN(t.getTime()) ? t : null;
  }
  if ('plus' in expr) {
    const base = evaluateTime(expr.plus[0], times, policies);
    if (!base) return null;
    const { unit, amount } = durationAmount(expr.plus[1], policies);
    return unit === 'hours' ? addHours(base, amount) : addCalendarDays(base, amount, policies.timeZone);
  }
  if ('min' in expr) {
    let best: Date | null = null;
    for (const e of expr.min) {
      const t = evaluateTime(e, times, policies);
      if (t && (!best || t.getTime() < best.getTime())) best = t;
    }
    return best;
  }
  const a = evaluateTime(expr.ifSameDay[0], times, policies);
  const b = evaluateTime(expr.ifSameDay[1], times, policies);
  const same = a !== null && b !== null && isSameCalendarDay(a, b, policies.timeZone);
  return evaluateTime(same ? expr.then : expr.else, times, policies);
}

/** The named times an expression reads (validation, and to know what to load). */
export function timesUsed(expr: TimeExpr, into = new Set<string>()): Set<string> {
  if ('ref' in expr) into.add(expr.ref);
  else if ('plus' in expr) timesUsed(expr.plus[0], into);
  else if ('min' in expr) expr.min.forEach((e) => timesUsed(e, into));
  else [expr.ifSameDay[0], expr.ifSameDay[1], expr.then, expr.else].forEach((e) => timesUsed(e, into));
  return into;
}

/** The policy fields an expression reads. */
export function policiesUsed(expr: TimeExpr, into = new Set<string>()): Set<string> {
  if ('plus' in expr) {
    policiesUsed(expr.plus[0], into);
    const d = expr.plus[1];
    const v = 'hours' in d ? d.hours : d.days;
    if (typeof v === 'string') into.add(v);
  } else if ('min' in expr) expr.min.forEach((e) => policiesUsed(e, into));
  else if ('ifSameDay' in expr) [expr.ifSameDay[0], expr.ifSameDay[1], expr.then, expr.else].forEach((e) => policiesUsed(e, into));
  return into;
}

function formatDuration(duration: Duration, policies?: TimePolicies): string {
  const unit = 'hours' in duration ? 'h' : 'd';
  const v = 'hours' in duration ? duration.hours : duration.days;
  if (typeof v === 'number') return `${v}${unit}`;
  return policies ? `${durationAmount(duration, policies).amount}${unit}` : v;
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * A one-line rendering for diagrams and deadline explanations, with policy values when
 * policies are given, else policy names: "min(lastEditAt + 24h|5h same day, startsAt)".
 */
export function formatTimeExpr(expr: TimeExpr, policies?: TimePolicies): string {
  if ('ref' in expr) return expr.ref;
  if ('plus' in expr) return `${formatTimeExpr(expr.plus[0], policies)} + ${formatDuration(expr.plus[1], policies)}`;
  if ('min' in expr) return `min(${expr.min.map((e) => formatTimeExpr(e, policies)).join(', ')})`;
  const { then, else: otherwise } = expr;
  // The common shape "base + X, or base + Y on the same day" gets the compact form.
  if ('plus' in then && 'plus' in otherwise && sameJson(then.plus[0], otherwise.plus[0])) {
    const base = formatTimeExpr(then.plus[0], policies);
    return `${base} + ${formatDuration(otherwise.plus[1], policies)}|${formatDuration(then.plus[1], policies)} same day`;
  }
  const [a, b] = expr.ifSameDay.map((e) => formatTimeExpr(e, policies));
  return `(if same day(${a}, ${b}) then ${formatTimeExpr(then, policies)} else ${formatTimeExpr(otherwise, policies)})`;
}
