// Profiling aid, loaded into the server with `node --import tsx --import ./bench/sql-hook.ts`
// by bench/profile.ts (never in a normal run): counts every SQL statement the server
// sends (pg and PGlite) and the time until its answer, and writes the tally to
// $SETTLE_SQL_TALLY_FILE once a second.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

type Tally = Record<string, { n: number; ms: number }>;
const tally: Tally = {};
const file = process.env.SETTLE_SQL_TALLY_FILE;
/** The tally's key counting pg round trips (not a statement). */
const ROUND_TRIP = '(round trip)';

function shape(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 160);
}

function record(text: string, t0: number): void {
  const key = shape(text);
  const entry = (tally[key] ??= { n: 0, ms: 0 });
  entry.n++;
  entry.ms += performance.now() - t0;
}

function wrap(proto: Record<string, unknown>, method: string): void {
  const original = proto[method] as (...a: unknown[]) => unknown;
  if (typeof original !== 'function') return;
  proto[method] = function (this: unknown, ...a: unknown[]) {
    const first = a[0] as string | { text?: string } | undefined;
    const text = typeof first === 'string' ? first : (first?.text ?? '?');
    const t0 = performance.now();
    // A pipeline (store/postgres.ts PipelinedQuery) carries deferred statements ahead of its
    // own: each is a statement too. Every call here is one round trip.
    const ahead = (first as { ahead?: { text: string }[] } | undefined)?.ahead;
    if (Array.isArray(ahead)) for (const s of ahead) record(s.text, t0);
    record(ROUND_TRIP, t0);
    const out = original.apply(this, a);
    if (out && typeof (out as Promise<unknown>).then === 'function') {
      (out as Promise<unknown>).then(
        () => record(text, t0),
        () => record(`ERROR ${text}`, t0),
      );
    } else record(text, t0);
    return out;
  };
}

const require = createRequire(`${process.cwd()}/package.json`);
const pg = require('pg') as { Client: { prototype: Record<string, unknown> } };
wrap(pg.Client.prototype, 'query');

const { PGlite } = await import('@electric-sql/pglite');
for (const method of ['query', 'exec']) {
  let proto: Record<string, unknown> | null = PGlite.prototype as unknown as Record<string, unknown>;
  while (proto && !Object.prototype.hasOwnProperty.call(proto, method)) proto = Object.getPrototypeOf(proto) as Record<string, unknown> | null;
  if (proto) wrap(proto, method);
}

// Settle's PGlite dialect runs prepared statements through execProtocol (store/pglite-dialect.ts):
// count each Bind there under the text its Parse gave the statement's name.
const texts = new Map<string, string>();
function cString(buf: Uint8Array, at: number): [string, number] {
  let end = at;
  while (buf[end] !== 0) end++;
  return [Buffer.from(buf.subarray(at, end)).toString('utf8'), end + 1];
}
{
  let proto: Record<string, unknown> | null = PGlite.prototype as unknown as Record<string, unknown>;
  while (proto && !Object.prototype.hasOwnProperty.call(proto, 'execProtocol')) proto = Object.getPrototypeOf(proto) as Record<string, unknown> | null;
  const original = proto?.execProtocol as ((m: Uint8Array, ...a: unknown[]) => Promise<unknown>) | undefined;
  if (proto && original) {
    proto.execProtocol = function (this: unknown, message: Uint8Array, ...a: unknown[]) {
      // A pipeline (store/pglite-dialect.ts) binds several statements in one message: each is
      // a statement, and the call one round trip; the call's time goes to the last one bound.
      const bound: string[] = [];
      for (let at = 0; at < message.length; ) {
        const type = String.fromCharCode(message[at] as number);
        const len = new DataView(message.buffer, message.byteOffset + at + 1, 4).getInt32(0);
        if (type === 'P') {
          const [name, next] = cString(message, at + 5);
          texts.set(name, cString(message, next)[0]);
        } else if (type === 'B') {
          const [, next] = cString(message, at + 5);
          bound.push(texts.get(cString(message, next)[0]) ?? '?');
        }
        at += 1 + len;
      }
      const t0 = performance.now();
      const out = original.call(this, message, ...a);
      if (bound.length > 0) {
        record(ROUND_TRIP, t0);
        for (const text of bound.slice(0, -1)) record(text, t0);
        const text = bound.at(-1) as string;
        out.then(() => record(text, t0), () => record(`ERROR ${text}`, t0));
      }
      return out;
    };
  }
}

if (file) {
  setInterval(() => writeFileSync(file, JSON.stringify(tally)), 1000).unref();
}
