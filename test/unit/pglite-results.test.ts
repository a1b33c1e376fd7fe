// Settle reads PGlite's answers from their bytes (src/store/pglite-results.ts): the rows,
// counts and errors must be exactly what PGlite's own query() gives for the same statement.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PGlite, protocol } from '@electric-sql/pglite';
import { pipelineMessage, type WireRun } from '../../src/store/pglite-wire.js';
import { AnswerBytes, decodeRows, scanRun } from '../../src/store/pglite-results.js';

let pg: PGlite;
beforeAll(async () => {
  pg = new PGlite();
  await pg.exec(`create table t (id int primary key, name text, n int8, amount numeric, ok bool, doc jsonb, at timestamptz, raw bytea)`);
  await pg.exec(`insert into t values
    (1, 'ünïcödé ☕ 𝄞', 9007199254740991, 12.50, true, '{"a":[1,"x",null]}', '2026-11-28T08:00:00Z', '\\x00ff'),
    (2, '', null, null, false, 'null', null, null),
    (3, null, -5, 0, null, '[]', '1970-01-01T00:00:00Z', '\\x')`);
});
afterAll(() => pg?.close());

let named = 0;
async function prepare(text: string): Promise<string> {
  const name = `p${++named}`;
  await pg.execProtocol(Buffer.concat([protocol.serialize.parse({ name, text, types: [] }), protocol.serialize.sync()]));
  return name;
}

function readRun(bytes: Buffer, at: number, parsers: PGlite['parsers']) {
  const scanned = scanRun(bytes, at);
  return { rows: decodeRows(bytes, scanned, parsers), numAffectedRows: scanned.numAffectedRows, lastCommand: scanned.lastCommand };
}

async function run(runs: WireRun[], at: number) {
  const answer = new AnswerBytes();
  await pg.execProtocolRawStream(pipelineMessage(runs), { onRawData: answer.onRawData });
  return readRun(answer.bytes(), at, pg.parsers);
}

describe('reading PGlite answers from their bytes', () => {
  it('gives the rows query() gives: every type, NULLs, empty strings, multi-byte text', async () => {
    const text = 'select id, name, n, amount, ok, doc, at, raw, $1::text as param from t where id >= $2::int order by id';
    const name = await prepare(text);
    const mine = await run([{ statement: name, values: ['é ☕', '1'], describe: true }], 0);
    const theirs = await pg.query(text, ['é ☕', 1]);
    expect(mine.rows).toEqual(theirs.rows);
    expect(mine.rows).toHaveLength(3);
    expect(mine.numAffectedRows).toBeUndefined();
  });

  it("picks one run's rows and count out of a pipeline", async () => {
    const begin = await prepare('begin');
    const update = await prepare('update t set name = name where id <= $1::int');
    const select = await prepare('select id, name from t where id = $1::int');
    const rollback = await prepare('rollback');
    const runs: WireRun[] = [
      { statement: begin, values: [], describe: false },
      { statement: select, values: ['2'], describe: false }, // rows nobody reads, no Describe
      { statement: update, values: ['2'], describe: true },
      { statement: select, values: ['1'], describe: true },
      { statement: rollback, values: [], describe: false },
    ];
    expect(await run(runs, 2)).toEqual({ rows: [], numAffectedRows: 2n, lastCommand: 'ROLLBACK' });
    expect(await run(runs, 3)).toEqual({ rows: [{ id: 1, name: 'ünïcödé ☕ 𝄞' }], numAffectedRows: undefined, lastCommand: 'ROLLBACK' });
    expect(await run(runs, -1)).toEqual({ rows: [], numAffectedRows: undefined, lastCommand: 'ROLLBACK' });
  });

  it("throws PGlite's own DatabaseError, with every field refusal decoding reads", async () => {
    const insert = await prepare('insert into t (id) values ($1::int)');
    const theirs = await pg.query('insert into t (id) values ($1::int)', [1]).catch((e: unknown) => e);
    const mine = await run([{ statement: insert, values: ['1'], describe: true }], 0).catch((e: unknown) => e);
    expect(mine).toBeInstanceOf(protocol.messages.DatabaseError);
    const fields = (e: unknown) => {
      const x = e as Record<string, unknown>;
      return { message: x.message, code: x.code, detail: x.detail, constraint: x.constraint, table: x.table, severity: x.severity };
    };
    expect(fields(mine)).toEqual(fields(theirs));
    expect(fields(mine).code).toBe('23505');
    // A failure ahead of a run skips it: the answer is the failure, never an empty result.
    const raise = await prepare("select 1 / $1::int");
    await expect(run([{ statement: raise, values: ['0'], describe: false }, { statement: insert, values: ['9'], describe: true }], 1)).rejects.toMatchObject({ code: '22012' });
    expect((await pg.query('select count(*)::int as n from t where id = 9')).rows).toEqual([{ n: 0 }]);
  });

  it("keeps a leading byte-order mark, as PostgreSQL through pg does (PGlite's TextDecoder dropped it)", async () => {
    const echo = await prepare('select $1::text as v');
    expect((await run([{ statement: echo, values: ['\uFEFFa'], describe: true }], 0)).rows).toEqual([{ v: '\uFEFFa' }]);
  });

  it('refuses an answer cut short instead of reading past it', () => {
    const cut = Buffer.from([0x43, 0, 0, 0, 40, 0x55]);
    expect(() => readRun(cut, 0, pg.parsers)).toThrow(/runs past the answer/);
  });
});
