import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../src/domain/settings.js';
import {
  evaluateTime,
  formatTimeExpr,
  ifSameDay,
  min,
  plus,
  policiesUsed,
  ref,
  timesUsed,
  type ProcessTimes,
  type TimePolicies,
} from '../../src/domain/process/time.js';
import {
  completionDeadline,
  confirmationDeadline,
  executionConfirmationDeadline,
  paymentDeadline,
  payoutDue,
} from '../../src/domain/process/booking.js';

const H = 3_600_000;
const at = (iso: string) => new Date(iso);
const zone = (timeZone: string): TimePolicies => ({ ...DEFAULT_SETTINGS, timeZone });
const UTC = zone('UTC');
const confirmBy = (lastEditAt: string, startsAt: string | null, policies = UTC) =>
  evaluateTime(confirmationDeadline, { lastEditAt: at(lastEditAt), startsAt: startsAt ? at(startsAt) : null }, policies)?.toISOString();

describe('confirmation deadline: 24 h, 5 h on the same day, never after the start', () => {
  it('is exactly 24 h after the last edit when the start is later', () => {
    expect(confirmBy('2025-06-10T08:00:00Z', '2025-06-12T10:00:00Z')).toBe('2025-06-11T08:00:00.000Z');
  });

  it('is the start when the start is exactly 24 h away (both bounds meet)', () => {
    expect(confirmBy('2025-06-10T10:00:00Z', '2025-06-11T10:00:00Z')).toBe('2025-06-11T10:00:00.000Z');
  });

  it('is 5 h when the service starts later the same calendar day', () => {
    expect(confirmBy('2025-06-10T08:00:00Z', '2025-06-10T20:00:00Z')).toBe('2025-06-10T13:00:00.000Z');
  });

  it('is capped at the start when the start is under 5 h away', () => {
    expect(confirmBy('2025-06-10T08:00:00Z', '2025-06-10T10:00:00Z')).toBe('2025-06-10T10:00:00.000Z');
  });

  it('uses 24 h (capped at the start) when the start is tomorrow, even if under 24 h away', () => {
    expect(confirmBy('2025-06-10T20:00:00Z', '2025-06-11T09:00:00Z')).toBe('2025-06-11T09:00:00.000Z');
  });

  it('is 24 h after the last edit when the order has no start', () => {
    expect(confirmBy('2025-06-10T08:00:00Z', null)).toBe('2025-06-11T08:00:00.000Z');
  });

  it('follows the policy snapshot, not fixed numbers', () => {
    const policies = { ...UTC, confirmationWindowHours: 48, sameDayConfirmationWindowHours: 2 };
    expect(confirmBy('2025-06-10T08:00:00Z', '2025-06-15T00:00:00Z', policies)).toBe('2025-06-12T08:00:00.000Z');
    expect(confirmBy('2025-06-10T08:00:00Z', '2025-06-10T23:00:00Z', policies)).toBe('2025-06-10T10:00:00.000Z');
  });
});

describe('the same-day rule reads the business time zone, not UTC', () => {
  it('23:30 → 00:30 local next day is not the same day, though it is the same UTC day (Tokyo)', () => {
    // 2025-06-10 23:30 JST = 14:30Z; 2025-06-11 00:30 JST = 15:30Z.
    expect(confirmBy('2025-06-10T14:30:00Z', '2025-06-10T15:30:00Z', zone('Asia/Tokyo'))).toBe('2025-06-10T15:30:00.000Z');
    // Start 08:00 JST next day (23:00Z, still 10 June UTC): 24 h rule, capped at the start —
    // a UTC comparison would wrongly give 14:30Z + 5 h.
    expect(confirmBy('2025-06-10T14:30:00Z', '2025-06-10T23:00:00Z', zone('Asia/Tokyo'))).toBe('2025-06-10T23:00:00.000Z');
  });

  it('is the same local day across a UTC midnight (Los Angeles)', () => {
    // 2025-06-10 16:00 PDT = 23:00Z; 2025-06-10 23:00 PDT = 06:00Z on 11 June.
    expect(confirmBy('2025-06-10T23:00:00Z', '2025-06-11T06:00:00Z', zone('America/Los_Angeles'))).toBe('2025-06-11T04:00:00.000Z');
    // The same instants in UTC are different days: 24 h rule, capped at the start.
    expect(confirmBy('2025-06-10T23:00:00Z', '2025-06-11T06:00:00Z', UTC)).toBe('2025-06-11T06:00:00.000Z');
  });

  it('works at the far ends of the offsets (UTC+14 and UTC−11)', () => {
    // Kiritimati: 2025-06-10 00:30 local = 2025-06-09T10:30Z; 23:00 local = 2025-06-10T09:00Z.
    expect(confirmBy('2025-06-09T10:30:00Z', '2025-06-10T09:00:00Z', zone('Pacific/Kiritimati'))).toBe('2025-06-09T15:30:00.000Z');
    // Pago Pago: 2025-06-10 01:00 local = 12:00Z; 2025-06-10 23:00 local = 2025-06-11T10:00Z.
    expect(confirmBy('2025-06-10T12:00:00Z', '2025-06-11T10:00:00Z', zone('Pacific/Pago_Pago'))).toBe('2025-06-10T17:00:00.000Z');
    // An hour later the start is at local midnight, the next day: 24 h rule, capped at the start.
    expect(confirmBy('2025-06-10T12:00:00Z', '2025-06-11T11:00:00Z', zone('Pacific/Pago_Pago'))).toBe('2025-06-11T11:00:00.000Z');
  });

  it('treats a 23-hour spring-forward day as one day (New York, 2025-03-09)', () => {
    // 00:30 EST (05:30Z) and 23:00 EDT (03:00Z next UTC day) are the same local day.
    expect(confirmBy('2025-03-09T05:30:00Z', '2025-03-10T03:00:00Z', zone('America/New_York'))).toBe('2025-03-09T10:30:00.000Z');
  });

  it('treats a 25-hour fall-back day as one day (New York, 2025-11-02)', () => {
    // 00:30 EDT (04:30Z) and 23:30 EST (04:30Z next UTC day) are exactly 24 h apart, same local day.
    expect(confirmBy('2025-11-02T04:30:00Z', '2025-11-03T04:30:00Z', zone('America/New_York'))).toBe('2025-11-02T09:30:00.000Z');
  });
});

describe('other booking windows', () => {
  const policies = zone('America/New_York');

  it('payment: 12 h after entering, capped at the start', () => {
    const times = { enteredState: at('2025-06-10T08:00:00Z'), startsAt: at('2025-06-11T08:00:00Z') };
    expect(evaluateTime(paymentDeadline, times, policies)?.toISOString()).toBe('2025-06-10T20:00:00.000Z');
    expect(evaluateTime(paymentDeadline, { ...times, startsAt: at('2025-06-10T09:00:00Z') }, policies)?.toISOString()).toBe(
      '2025-06-10T09:00:00.000Z',
    );
    expect(evaluateTime(paymentDeadline, { enteredState: times.enteredState }, policies)?.toISOString()).toBe('2025-06-10T20:00:00.000Z');
  });

  it('auto done: 72 elapsed hours after the end, also across DST; none without an end', () => {
    // 2025-03-08 12:00 EST = 17:00Z; +72 h is 2025-03-11T17:00Z (13:00 EDT): hours are exact.
    expect(evaluateTime(completionDeadline, { endsAt: at('2025-03-08T17:00:00Z') }, policies)?.toISOString()).toBe('2025-03-11T17:00:00.000Z');
    expect(evaluateTime(completionDeadline, { startsAt: at('2025-03-08T17:00:00Z') }, policies)).toBeNull();
  });

  it('auto close: 5 calendar days at the same local time, 119 h across spring-forward', () => {
    // 2025-03-06 10:00 EST = 15:00Z → 2025-03-11 10:00 EDT = 14:00Z.
    const t = evaluateTime(executionConfirmationDeadline, { enteredState: at('2025-03-06T15:00:00Z') }, policies);
    expect(t?.toISOString()).toBe('2025-03-11T14:00:00.000Z');
    expect(evaluateTime(executionConfirmationDeadline, { enteredState: at('2025-03-06T15:00:00Z') }, UTC)?.toISOString()).toBe(
      '2025-03-11T15:00:00.000Z',
    );
  });

  it('payout: 14 days after close, 337 h across fall-back (Berlin)', () => {
    // 2025-10-20 09:00 CEST = 07:00Z → 2025-11-03 09:00 CET = 08:00Z.
    expect(evaluateTime(payoutDue, { closedAt: at('2025-10-20T07:00:00Z') }, zone('Europe/Berlin'))?.toISOString()).toBe(
      '2025-11-03T08:00:00.000Z',
    );
  });

  it('a day added into a DST gap moves forward by the gap; into an overlap takes the earlier time', () => {
    const oneDay = plus(ref('closedAt'), { days: 1 });
    // 2025-03-08 02:30 EST; 2025-03-09 02:30 does not exist → 03:30 EDT = 07:30Z.
    expect(evaluateTime(oneDay, { closedAt: at('2025-03-08T07:30:00Z') }, policies)?.toISOString()).toBe('2025-03-09T07:30:00.000Z');
    // 2025-11-01 01:30 EDT; 2025-11-02 01:30 happens twice → the first (EDT) = 05:30Z.
    expect(evaluateTime(oneDay, { closedAt: at('2025-11-01T05:30:00Z') }, policies)?.toISOString()).toBe('2025-11-02T05:30:00.000Z');
  });

  it('keeps milliseconds and handles month and leap-year ends', () => {
    const days = (n: number) => plus(ref('closedAt'), { days: n });
    expect(evaluateTime(days(2), { closedAt: at('2025-02-28T12:00:00.123Z') }, UTC)?.toISOString()).toBe('2025-03-02T12:00:00.123Z');
    expect(evaluateTime(days(1), { closedAt: at('2024-02-28T12:00:00Z') }, UTC)?.toISOString()).toBe('2024-02-29T12:00:00.000Z');
    expect(evaluateTime(days(-1), { closedAt: at('2025-01-01T00:00:00Z') }, UTC)?.toISOString()).toBe('2024-12-31T00:00:00.000Z');
  });
});

describe('evaluateTime mechanics', () => {
  const t0 = at('2025-06-10T00:00:00Z');

  it('returns null for a missing or invalid time, and propagates it through plus', () => {
    expect(evaluateTime(ref('startsAt'), {}, UTC)).toBeNull();
    expect(evaluateTime(ref('startsAt'), { startsAt: null }, UTC)).toBeNull();
    expect(evaluateTime(ref('startsAt'), { startsAt: new Date(NaN) }, UTC)).toBeNull();
    expect(evaluateTime(plus(ref('endsAt'), { hours: 1 }), {}, UTC)).toBeNull();
  });

  it('min skips missing operands and is null only when all are missing', () => {
    const times: ProcessTimes = { createdAt: t0, endsAt: new Date(t0.getTime() + H) };
    expect(evaluateTime(min(ref('startsAt'), ref('endsAt'), ref('createdAt')), times, UTC)).toEqual(t0);
    expect(evaluateTime(min(ref('startsAt'), ref('closedAt')), times, UTC)).toBeNull();
  });

  it('a same-day test with a missing side takes the else branch', () => {
    const e = ifSameDay(ref('createdAt'), ref('startsAt'), ref('createdAt'), ref('endsAt'));
    expect(evaluateTime(e, { createdAt: t0, endsAt: new Date(t0.getTime() + H) }, UTC)?.getTime()).toBe(t0.getTime() + H);
  });

  it('accepts literal durations and refuses a snapshot without the policy', () => {
    expect(evaluateTime(plus(ref('createdAt'), { hours: 1.5 }), { createdAt: t0 }, UTC)?.getTime()).toBe(t0.getTime() + 1.5 * H);
    const broken = { timeZone: 'UTC' } as TimePolicies;
    expect(() => evaluateTime(plus(ref('createdAt'), { hours: 'paymentWindowHours' }), { createdAt: t0 }, broken)).toThrow(
      /paymentWindowHours/,
    );
  });

  it('lists the times and policies an expression reads', () => {
    expect([...timesUsed(confirmationDeadline)].sort()).toEqual(['lastEditAt', 'startsAt']);
    expect([...policiesUsed(confirmationDeadline)].sort()).toEqual(['confirmationWindowHours', 'sameDayConfirmationWindowHours']);
  });
});

describe('formatTimeExpr', () => {
  it('renders the confirmation window compactly, with values or policy names', () => {
    expect(formatTimeExpr(confirmationDeadline, DEFAULT_SETTINGS)).toBe('min(lastEditAt + 24h|5h same day, startsAt)');
    expect(formatTimeExpr(confirmationDeadline)).toBe(
      'min(lastEditAt + confirmationWindowHours|sameDayConfirmationWindowHours same day, startsAt)',
    );
    expect(formatTimeExpr(executionConfirmationDeadline, DEFAULT_SETTINGS)).toBe('enteredState + 5d');
  });

  it('renders a general same-day test in full', () => {
    const e = ifSameDay(ref('createdAt'), ref('startsAt'), ref('startsAt'), plus(ref('endsAt'), { hours: 2 }));
    expect(formatTimeExpr(e)).toBe('(if same day(createdAt, startsAt) then startsAt else endsAt + 2h)');
  });
});
