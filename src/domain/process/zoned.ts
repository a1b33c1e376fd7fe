// Calendar arithmetic in the business time zone with nothing but Intl: deadlines such as
// "same calendar day" and "+5 days" are about the business's wall clock, not UTC, and a
// date library is not worth a dependency for three functions.

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

// Formatters are costly to build and a deadline sweep evaluates thousands of expressions.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // h23 avoids the "24:00" some engines print for midnight with hour12: false;
    // the explicit calendar and digits keep the parts parseable in any locale data.
    f = new Intl.DateTimeFormat('en-US-u-ca-iso8601-nu-latn', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
      era: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

// Each deadline computed reads the wall clock several times, mostly at instants derived from
// the current second, and formatToParts is the costliest step of it (~3 % of a server's CPU
// in booking lifecycles): readings are kept per zone and whole second, in a bounded map.
const MEMO_LIMIT = 4096;
const readings = new Map<string, Readonly<WallTime>>();

/** The wall-clock reading in `timeZone` at instant `ms` (seconds precision). */
export function wallTime(ms: number, timeZone: string): Readonly<WallTime> {
  const key = `${Math.floor(ms / 1000)}|${timeZone}`;
  let w = readings.get(key);
  if (w === undefined) {
    if (readings.size >= MEMO_LIMIT) readings.clear();
    w = Object.freeze(readWallTime(ms, timeZone));
    readings.set(key, w);
  }
  return w;
}

/** wallTime without the memo (exported for its test). */
export function readWallTime(ms: number, timeZone: string): WallTime {
  const out: Record<string, number> = {};
  let bc = false;
  for (const part of formatterFor(timeZone).formatToParts(new Date(ms))) {
    if (part.type === 'era') bc = part.value.startsWith('B');
    else if (part.type !== 'literal') out[part.type] = Number(part.value);
  }
  const year = bc ? 1 - (out.year ?? 0) : (out.year ?? 0);
  return { year, month: out.month ?? 1, day: out.day ?? 1, hour: out.hour ?? 0, minute: out.minute ?? 0, second: out.second ?? 0 };
}

function wallToMs(w: Readonly<WallTime>, ms = 0): number {
  // Not Date.UTC: it maps years 0..99 to 1900..1999. Overflowing days roll into the
  // right month of the right year (leap years included).
  const d = new Date(0);
  d.setUTCFullYear(w.year, w.month - 1, w.day);
  d.setUTCHours(w.hour, w.minute, w.second, ms);
  return d.getTime();
}

/** Local minus UTC, in ms, at instant `ms` (+09:00 → 32_400_000). */
export function offsetAt(ms: number, timeZone: string): number {
  const whole = Math.floor(ms / 1000) * 1000;
  return wallToMs(wallTime(whole, timeZone)) - whole;
}

/**
 * The instant at which the wall clock in `timeZone` reads `localMs` (a wall time encoded
 * as if it were UTC). Resolves like Temporal's 'compatible': in a fall-back overlap the
 * earlier instant; in a spring-forward gap the time is pushed forward by the gap
 * (02:30 that does not exist becomes 03:30).
 */
export function instantOfWallTime(localMs: number, timeZone: string): number {
  const before = offsetAt(localMs - DAY_MS, timeZone);
  const after = offsetAt(localMs + DAY_MS, timeZone);
  const fits = [before, after]
    .map((offset) => localMs - offset)
    .filter((instant) => offsetAt(instant, timeZone) === localMs - instant);
  if (fits.length > 0) return Math.min(...fits);
  return localMs - before; // in a gap: read with the offset in force before it
}

/** "YYYY-MM-DD" of the calendar day `date` falls on in `timeZone`. */
export function calendarDate(date: Date, timeZone: string): string {
  const w = wallTime(date.getTime(), timeZone);
  const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, '0');
  return `${w.year < 0 ? '-' : ''}${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`;
}

export function isSameCalendarDay(a: Date, b: Date, timeZone: string): boolean {
  return calendarDate(a, timeZone) === calendarDate(b, timeZone);
}

/**
 * `days` calendar days later at the same wall-clock time in `timeZone` (as Temporal's
 * ZonedDateTime.add({days})): across a DST change this is 23 or 25 hours per day, which
 * is what "five days later" means to the people at the business.
 */
export function addCalendarDays(date: Date, days: number, timeZone: string): Date {
  const ms = date.getTime();
  const w = wallTime(ms, timeZone);
  const subSecond = ms - Math.floor(ms / 1000) * 1000;
  const local = wallToMs({ ...w, day: w.day + days }, subSecond);
  return new Date(instantOfWallTime(local - subSecond, timeZone) + subSecond);
}

export function addHours(date: Date, hours: number): Date {
  return new Date(date.getTime() + hours * HOUR_MS);
}
