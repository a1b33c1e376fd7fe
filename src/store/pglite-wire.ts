// The wire message PGlite gets per prepared statement run — Bind, Describe (portal),
// Execute and Sync — or per pipeline of several (the held begin, deferred writes, the
// statement, the commit: pglite-dialect.ts), built in a single buffer with Node's native
// UTF-8 length and write.
// PGlite's own serializer measures each value's UTF-8 length in a JavaScript loop, encodes
// it with a TextEncoder and copies every message into a new buffer: for an order's JSON
// parameters (a few KB each) that was ~5 % of the server's main thread in a booking
// lifecycle on PGlite (perf). Same bytes, same format codes as PGlite's (text for strings,
// binary for byte arrays) — except for strings with unpaired surrogates, whose length PGlite
// counts wrong (this writes them as Node does, U+FFFD); the HTTP layer refuses such text.

/** Describe the unnamed portal (its RowDescription: the statement's columns). */
const DESCRIBE = Uint8Array.from([0x44, 0, 0, 0, 6, 0x50, 0]);
/** Execute the unnamed portal, all rows. */
const EXECUTE = Uint8Array.from([0x45, 0, 0, 0, 9, 0, 0, 0, 0, 0]);
const SYNC = Uint8Array.from([0x53, 0, 0, 0, 4]);

/** PostgreSQL reads parameter counts as 16-bit unsigned integers. */
export const MAX_PARAMETERS = 65_535;

export type WireValue = string | Uint8Array | null;

/** One prepared statement's run in a pipeline: Bind, Describe (if its rows are read), Execute. */
export interface WireRun {
  statement: string;
  values: readonly WireValue[];
  describe: boolean;
}

/**
 * Several prepared statements' runs and one Sync, in one buffer: PostgreSQL runs them in
 * order, and after a failure skips the rest up to the Sync.
 */
export function pipelineMessage(runs: readonly WireRun[]): Uint8Array {
  const lengths: number[][] = [];
  const bindSizes: number[] = [];
  let total = SYNC.length;
  for (const run of runs) {
    const count = run.values.length;
    if (count > MAX_PARAMETERS) throw new Error(`a statement takes at most ${MAX_PARAMETERS} parameters, not ${count}`);
    const own = new Array<number>(count);
    // Type byte, length, portal "" and its NUL, the statement's name and its NUL, the format
    // codes, the values' count, the result-format count (0: all text).
    let size = 1 + 4 + 1 + Buffer.byteLength(run.statement) + 1 + 2 + 2 * count + 2 + 2;
    for (let i = 0; i < count; i++) {
      const v = run.values[i] as WireValue;
      const length = v === null ? -1 : typeof v === 'string' ? Buffer.byteLength(v) : v.byteLength;
      own[i] = length;
      size += 4 + Math.max(length, 0);
    }
    lengths.push(own);
    bindSizes.push(size);
    total += size + (run.describe ? DESCRIBE.length : 0) + EXECUTE.length;
  }
  // Its own ArrayBuffer (not a slice of Node's pool), exactly this long: PGlite may read `.buffer`.
  const out = Buffer.allocUnsafeSlow(total);
  let at = 0;
  runs.forEach((run, r) => {
    const start = at;
    const size = bindSizes[r] as number;
    const own = lengths[r] as number[];
    const count = run.values.length;
    out[at++] = 0x42; // 'B'
    out.writeInt32BE(size - 1, at);
    at += 4;
    out[at++] = 0; // the unnamed portal
    at += out.write(run.statement, at, 'utf8');
    out[at++] = 0;
    out.writeUInt16BE(count, at);
    at += 2;
    for (let i = 0; i < count; i++) {
      const v = run.values[i];
      out.writeUInt16BE(v === null || typeof v === 'string' ? 0 : 1, at);
      at += 2;
    }
    out.writeUInt16BE(count, at);
    at += 2;
    for (let i = 0; i < count; i++) {
      const v = run.values[i] as WireValue;
      const length = own[i] as number;
      out.writeInt32BE(length, at);
      at += 4;
      if (v === null) continue;
      if (typeof v === 'string') at += out.write(v, at, 'utf8');
      else {
        out.set(v, at);
        at += length;
      }
    }
    out.writeUInt16BE(0, at);
    at += 2;
    if (at - start !== size) throw new Error(`pglite-wire: wrote ${at - start} bytes of a ${size}-byte Bind`);
    if (run.describe) {
      out.set(DESCRIBE, at);
      at += DESCRIBE.length;
    }
    out.set(EXECUTE, at);
    at += EXECUTE.length;
  });
  out.set(SYNC, at);
  at += SYNC.length;
  if (at !== total) throw new Error(`pglite-wire: wrote ${at} bytes of ${total}`);
  return out;
}
