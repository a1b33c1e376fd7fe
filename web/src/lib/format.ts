// Amounts and times as people read them. Amounts are integer minor units; they become
// decimal strings by digit arithmetic (no floats) and Intl.NumberFormat prints them in the
// currency's own way. Times are shown in the business time zone, with the zone named.

const numberFormats = new Map<string, Intl.NumberFormat>();

function currencyFormat(currency: string): Intl.NumberFormat {
  let f = numberFormats.get(currency);
  if (!f) {
    f = new Intl.NumberFormat(undefined, { style: 'currency', currency });
    numberFormats.set(currency, f);
  }
  return f;
}

/** Digits after the decimal point (USD 2, JPY 0, BHD 3). */
export function exponentOf(currency: string): number {
  try {
    return currencyFormat(currency).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** 1500 → "15.00" (USD), 1500 → "1500" (JPY). Exact for every safe integer. */
export function minorToDecimal(minor: number, currency: string): string {
  const digits = exponentOf(currency);
  const negative = minor < 0;
  const abs = String(Math.abs(minor)).padStart(digits + 1, '0');
  const whole = digits ? abs.slice(0, -digits) : abs;
  const frac = digits ? abs.slice(-digits) : '';
  return `${negative ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}

export function money(minor: number, currency: string): string {
  try {
    return currencyFormat(currency).format(minorToDecimal(minor, currency) as Intl.StringNumericLiteral);
  } catch {
    return `${minorToDecimal(minor, currency)} ${currency}`;
  }
}

/** "+$5.00" / "−$5.00" for ledger entries. */
export function signedMoney(minor: number, currency: string): string {
  return minor > 0 ? `+${money(minor, currency)}` : money(minor, currency);
}

export type Parsed = { ok: true; minor: number } | { ok: false; error: string };

/**
 * What a person typed ("150", "150.5", "1,234.56", "-20") → minor units, or why not.
 * Exact digit arithmetic; refuses more decimals than the currency has.
 */
export function parseMoney(text: string, currency: string, opts: { allowNegative?: boolean; allowZero?: boolean } = {}): Parsed {
  const digits = exponentOf(currency);
  const cleaned = text.trim().replace(/[\s,]/g, '').replace(/^\u2212/, '-');
  if (!cleaned) return { ok: false, error: 'Enter an amount.' };
  const m = /^(-)?(\d+)(?:\.(\d*))?$/.exec(cleaned);
  if (!m) return { ok: false, error: `Enter a number such as ${digits ? `12.${'5'.padEnd(digits, '0')}` : '1200'}.` };
  const [, sign, whole, frac = ''] = m;
  if (sign && !opts.allowNegative) return { ok: false, error: 'The amount cannot be negative.' };
  if (frac.length > digits) return { ok: false, error: digits ? `Use at most ${digits} decimal places for ${currency}.` : `${currency} has no decimal places.` };
  const minor = Number(`${whole}${frac.padEnd(digits, '0')}`) * (sign ? -1 : 1);
  if (!Number.isSafeInteger(minor)) return { ok: false, error: 'That amount is too large.' };
  if (minor === 0 && !opts.allowZero) return { ok: false, error: 'The amount must not be zero.' };
  return { ok: true, minor };
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();

function dateFormat(timeZone: string, kind: 'dateTime' | 'date' | 'time'): Intl.DateTimeFormat {
  const key = `${timeZone}|${kind}`;
  let f = dateFormats.get(key);
  if (!f) {
    const opts: Intl.DateTimeFormatOptions =
      kind === 'date'
        ? { timeZone, weekday: 'short', year: 'numeric', month: 'short', day: 'numeric' }
        : kind === 'time'
          ? { timeZone, hour: 'numeric', minute: '2-digit', timeZoneName: 'short' }
          : { timeZone, year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short' };
    try {
      f = new Intl.DateTimeFormat(undefined, opts);
    } catch {
      f = new Intl.DateTimeFormat(undefined, { ...opts, timeZone: 'UTC' });
    }
    dateFormats.set(key, f);
  }
  return f;
}

export function dateTime(iso: string | null | undefined, timeZone: string): string {
  return iso ? dateFormat(timeZone, 'dateTime').format(new Date(iso)) : '—';
}

export function dateOnly(iso: string, timeZone: string): string {
  return dateFormat(timeZone, 'date').format(new Date(iso));
}

export function timeOnly(iso: string, timeZone: string): string {
  return dateFormat(timeZone, 'time').format(new Date(iso));
}

/** A session's time: "Tue, May 8, 2030 · 09:00 – 10:00 UTC". */
export function timeRange(startsAt: string | null, endsAt: string | null, timeZone: string): string {
  if (!startsAt) return '—';
  const end = endsAt ? ` – ${timeOnly(endsAt, timeZone)}` : '';
  const start = timeOnly(startsAt, timeZone);
  return `${dateOnly(startsAt, timeZone)} · ${end ? start.replace(/\s\S+$/, '') : start}${end}`;
}

function zoneParts(ms: number, timeZone: string): Record<string, number> {
  const f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: 'numeric', minute: '2-digit', second: '2-digit' });
  const out: Record<string, number> = {};
  for (const p of f.formatToParts(new Date(ms))) if (p.type !== 'literal') out[p.type] = Number(p.value);
  return out;
}

function offsetMs(ms: number, timeZone: string): number {
  const p = zoneParts(ms, timeZone);
  const asUtc = Date.UTC(p.year ?? 1970, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** An ISO time → the value of an <input type="datetime-local"> in the business zone. */
export function toZonedInput(iso: string | null, timeZone: string): string {
  if (!iso) return '';
  const p = zoneParts(Date.parse(iso), timeZone);
  const two = (n: number | undefined) => String(n ?? 0).padStart(2, '0');
  return `${p.year}-${two(p.month)}-${two(p.day)}T${two(p.hour)}:${two(p.minute)}`;
}

/** "2030-05-08T09:00" read as a wall-clock time in the business zone → ISO (UTC). */
export function fromZonedInput(value: string, timeZone: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value);
  if (!m) return null;
  const [y, mo, d, h, mi] = m.slice(1).map(Number) as [number, number, number, number, number];
  const wall = Date.UTC(y, mo - 1, d, h, mi);
  let guess = wall - offsetMs(wall, timeZone);
  guess = wall - offsetMs(guess, timeZone);
  return new Date(guess).toISOString();
}

/** 3 h 05 min / 2 d 4 h / 45 s — the time left until a deadline. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d} d ${h} h ${String(m).padStart(2, '0')} min`;
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min ${String(sec).padStart(2, '0')} s`;
  if (m > 0) return `${m} min ${String(sec).padStart(2, '0')} s`;
  return `${sec} s`;
}

const WORDS: Record<string, string> = {
  confirmation: 'Confirmation',
  payment: 'Payment',
  execution: 'Execution in progress',
  execution_confirmation: 'Confirmation of execution',
  claim: 'Claim',
  closed: 'Closed',
  cancelled: 'Cancelled',
  delivery: 'Delivery',
  // Prepay (seed 002): where a picture-day order is on its way to the lab.
  collection: 'In order collection',
  revision: 'Manual revision',
  batch: 'In batch',
  production: 'In production',
  selling: 'Selling',
  prepay: 'Prepay',
  account_credit: 'Account credit',
  card: 'Card',
};

/** A state or code as words: execution_confirmation → "Confirmation of execution". */
export function words(code: string | null | undefined): string {
  if (!code) return '—';
  return WORDS[code] ?? code.charAt(0).toUpperCase() + code.slice(1).replaceAll('_', ' ').replaceAll('.', ' · ');
}
