// A transaction's last statement can carry its commit (PostgreSQL): the statement and the
// `commit` go out in one write and come back in one round trip. The statement says so with
// this mark at the end of its text (a comment, so PGlite and any other client just ignore
// it); postgres.ts sends the commit with it, then answers Kysely's own `commit` from there.
//
// Only for a write after which the transaction has nothing left to do: once it succeeded the
// transaction is committed, so nothing after it can be undone. A write that must be refused
// raises in SQL (settle_refuse), which fails the statement and skips the commit.
import { sql, type RawBuilder } from 'kysely';

export const LAST_STATEMENT_MARK = '\n/* settle:last-statement */';

/** The mark, to end a statement's text with. */
export function lastStatementMark(): RawBuilder<unknown> {
  return sql.raw(LAST_STATEMENT_MARK);
}

/** Whether a statement's text ends with the mark. */
export function isLastStatement(text: string): boolean {
  return text.endsWith(LAST_STATEMENT_MARK);
}
