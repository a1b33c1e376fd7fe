// Settle's Bind + Describe + Execute + Sync for PGlite, and its pipelines of several runs,
// must be byte for byte what PGlite's own serializer sends for the same statements and values.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { protocol } from '@electric-sql/pglite';
import { MAX_PARAMETERS, pipelineMessage, type WireRun, type WireValue } from '../../src/store/pglite-wire.js';

/** One statement's run as the dialect sends it: Bind, Describe, Execute, Sync. */
const bindAndExecute = (statement: string, values: WireValue[]) => pipelineMessage([{ statement, values, describe: true }]);

const serialize = protocol.serialize;

function pglites(statement: string, values: WireValue[]): Buffer {
  return Buffer.concat([serialize.bind({ statement, values }), serialize.describe({ type: 'P' }), serialize.execute({}), serialize.sync()]);
}

describe('PGlite wire message', () => {
  it('is the bytes PGlite would send: text, NULL, empty, multi-byte UTF-8, binary, long JSON', () => {
    const json = JSON.stringify({ lines: Array.from({ length: 200 }, (_, i) => ({ id: `ol_${i}`, note: 'café ☕ 𝄞' })) });
    const cases: [string, WireValue[]][] = [
      ['s1', []],
      ['s2', ['1500', null, '', 'ünïcödé ☕ 𝄞', json]],
      ['s3', [new Uint8Array([0, 1, 2, 255]), 'x', null]],
    ];
    for (const [name, values] of cases) expect(Buffer.from(bindAndExecute(name, values))).toEqual(pglites(name, values));
  });

  it('matches PGlite for any statement name and values (property)', () => {
    const value = fc.oneof(fc.constant(null), fc.string({ unit: 'grapheme', maxLength: 300 }), fc.uint8Array({ maxLength: 50 }));
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii', maxLength: 60 }).filter((s) => !s.includes('\u0000')), fc.array(value, { maxLength: 40 }), (name, values) => {
        expect(Buffer.from(bindAndExecute(name, values))).toEqual(pglites(name, values));
      }),
      { numRuns: 300 },
    );
  });

  it('is a pipeline of runs (with or without Describe) and one Sync, as PGlite would send them (property)', () => {
    const value = fc.oneof(fc.constant(null), fc.string({ unit: 'grapheme', maxLength: 100 }), fc.uint8Array({ maxLength: 20 }));
    const run = fc.record({ statement: fc.stringMatching(/^s[0-9]{1,4}$/), values: fc.array(value, { maxLength: 10 }), describe: fc.boolean() });
    fc.assert(
      fc.property(fc.array(run, { maxLength: 6 }), (runs: WireRun[]) => {
        const expected = Buffer.concat([
          ...runs.flatMap((r) => [serialize.bind({ statement: r.statement, values: [...r.values] }), ...(r.describe ? [serialize.describe({ type: 'P' })] : []), serialize.execute({})]),
          serialize.sync(),
        ]);
        const out = pipelineMessage(runs);
        expect(Buffer.from(out)).toEqual(expected);
        expect(out.buffer.byteLength).toBe(out.byteLength);
      }),
      { numRuns: 200 },
    );
  });

  it('stands on its own ArrayBuffer, exactly as long as the message', () => {
    const out = bindAndExecute('s9', ['a', 'b']);
    expect(out.byteOffset).toBe(0);
    expect(out.buffer.byteLength).toBe(out.byteLength);
  });

  it('refuses more parameters than PostgreSQL can take', () => {
    expect(() => bindAndExecute('s1', new Array(MAX_PARAMETERS + 1).fill(null))).toThrow(/at most 65535/);
  });
});
