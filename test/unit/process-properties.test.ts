import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_SETTINGS } from '../../src/domain/settings.js';
import { bookingProcess, confirmationDeadline, paymentDeadline } from '../../src/domain/process/booking.js';
import { deadlineFor } from '../../src/domain/process/engine.js';
import { evaluateTime, type TimePolicies } from '../../src/domain/process/time.js';
import { addCalendarDays, calendarDate, instantOfWallTime, isSameCalendarDay, readWallTime, wallTime } from '../../src/domain/process/zoned.js';

const H = 3_600_000;
const DAY = 24 * H;
// DST zones north and south, half-hour and 45-minute offsets, both ends of the dateline.
const ZONES = [
  'UTC',
  'America/New_York',
  'America/Los_Angeles',
  'Europe/Berlin',
  'Australia/Sydney',
  'Australia/Lord_Howe',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Asia/Tokyo',
  'Pacific/Kiritimati',
  'Pacific/Pago_Pago',
  'America/St_Johns',
];
const zoneArb = fc.constantFrom(...ZONES);
const instant = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) });
const policiesIn = (timeZone: string): TimePolicies => ({ ...DEFAULT_SETTINGS, timeZone });

describe('confirmation deadline properties', () => {
  it('is never before the last edit, never after the start, at most 24 h, and one of the three candidates', () => {
    fc.assert(
      fc.property(zoneArb, instant, fc.integer({ min: 0, max: 3 * DAY }), (tz, edit, ahead) => {
        const lastEditAt = new Date(edit);
        const startsAt = new Date(edit + ahead);
        const d = evaluateTime(confirmationDeadline, { lastEditAt, startsAt }, policiesIn(tz))!.getTime();
        expect(d).toBeGreaterThanOrEqual(edit);
        expect(d).toBeLessThanOrEqual(startsAt.getTime());
        expect(d).toBeLessThanOrEqual(edit + 24 * H);
        expect([edit + 5 * H, edit + 24 * H, startsAt.getTime()]).toContain(d);
        // The 5 h window is used exactly when both fall on the same local day.
        const sameDay = isSameCalendarDay(lastEditAt, startsAt, tz);
        expect(d).toBe(Math.min(edit + (sameDay ? 5 : 24) * H, startsAt.getTime()));
      }),
    );
  });

  it('payment deadline is never after the start nor later than 12 h', () => {
    fc.assert(
      fc.property(zoneArb, instant, fc.integer({ min: 0, max: 2 * DAY }), (tz, entered, ahead) => {
        const d = evaluateTime(paymentDeadline, { enteredState: new Date(entered), startsAt: new Date(entered + ahead) }, policiesIn(tz))!;
        expect(d.getTime()).toBe(Math.min(entered + 12 * H, entered + ahead));
      }),
    );
  });

  it('deadlineFor is the earliest system deadline of the state', () => {
    const states = bookingProcess.states.map((s) => s.name);
    const maybe = fc.option(instant, { nil: undefined });
    fc.assert(
      fc.property(fc.constantFrom(...states), zoneArb, maybe, maybe, maybe, maybe, (state, tz, a, b, c, d) => {
        const times = {
          enteredState: a === undefined ? undefined : new Date(a),
          lastEditAt: b === undefined ? undefined : new Date(b),
          startsAt: c === undefined ? undefined : new Date(c),
          endsAt: d === undefined ? undefined : new Date(d),
        };
        const policies = policiesIn(tz);
        const candidates = bookingProcess.transitions
          .filter((t) => t.at && (t.from as readonly string[]).includes(state))
          .map((t) => evaluateTime(t.at!, times, policies)?.getTime())
          .filter((x): x is number => x !== undefined);
        const got = deadlineFor(bookingProcess, state, times, policies);
        expect(got?.at.getTime()).toBe(candidates.length ? Math.min(...candidates) : undefined);
      }),
    );
  });
});

describe('calendar arithmetic properties', () => {
  it('same day agrees with plain arithmetic in fixed-offset zones', () => {
    // Etc/GMT-14 is UTC+14 (POSIX sign); with no DST, a local day is a fixed 24 h window.
    const fixed = fc.integer({ min: -12, max: 14 }).map((h) => ({ h, tz: h === 0 ? 'Etc/GMT' : `Etc/GMT${h > 0 ? '-' : '+'}${Math.abs(h)}` }));
    fc.assert(
      fc.property(fixed, instant, instant, ({ h, tz }, a, b) => {
        const day = (t: number) => Math.floor((t + h * H) / DAY);
        expect(isSameCalendarDay(new Date(a), new Date(b), tz)).toBe(day(a) === day(b));
      }),
    );
  });

  it('the memoized wall clock reads as the formatter does, for every instant of a second, before 1970 too', () => {
    const anyInstant = fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2100, 0, 1) });
    fc.assert(
      fc.property(zoneArb, anyInstant, fc.integer({ min: 0, max: 999 }), (tz, t, otherMs) => {
        const sameSecond = Math.floor(t / 1000) * 1000 + otherMs;
        expect(wallTime(t, tz)).toEqual(readWallTime(t, tz));
        expect(wallTime(sameSecond, tz)).toEqual(readWallTime(sameSecond, tz));
        expect(wallTime(t - 1000, tz)).toEqual(readWallTime(t - 1000, tz));
      }),
      { numRuns: 300 },
    );
  });

  it('resolving a wall time read at an instant gives back that reading', () => {
    fc.assert(
      fc.property(zoneArb, instant, (tz, t) => {
        const w = wallTime(t, tz);
        const local = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
        const back = instantOfWallTime(local, tz);
        expect(wallTime(back, tz)).toEqual(w);
        expect(back).toBeLessThanOrEqual(Math.floor(t / 1000) * 1000); // an overlap resolves to the earlier one
      }),
    );
  });

  it('adding days moves the calendar date by exactly that many days, within an hour of n × 24 h', () => {
    fc.assert(
      fc.property(zoneArb, instant, fc.integer({ min: -30, max: 30 }), (tz, t, n) => {
        const from = new Date(t);
        const to = addCalendarDays(from, n, tz);
        const dateOf = (d: Date) => Date.parse(`${calendarDate(d, tz)}T00:00:00Z`);
        expect((dateOf(to) - dateOf(from)) / DAY).toBe(n);
        expect(Math.abs(to.getTime() - t - n * DAY)).toBeLessThanOrEqual(H);
        if (tz === 'UTC') expect(to.getTime()).toBe(t + n * DAY);
      }),
    );
  });

  it('adding days keeps the wall-clock time unless it falls in a DST gap', () => {
    fc.assert(
      fc.property(zoneArb, instant, fc.integer({ min: 1, max: 30 }), (tz, t, n) => {
        const w = wallTime(t, tz);
        const after = wallTime(addCalendarDays(new Date(t), n, tz).getTime(), tz);
        const minutes = (x: typeof w) => x.hour * 60 + x.minute;
        const shift = minutes(after) - minutes(w);
        expect(shift === 0 || (shift > 0 && shift <= 60)).toBe(true);
        expect(after.second).toBe(w.second);
      }),
    );
  });
});
