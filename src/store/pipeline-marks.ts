// Marks on a statement's text that let the drivers send it together with others (postgres.ts,
// pglite-dialect.ts), saving round trips (each costs both processes a write, a read and a
// wake-up; on PGlite each call costs ~0.1 ms). They are comments, so any other client runs
// the statement as it is.
//
// - last: the transaction's last statement carries its commit. Only for a write after which
//   the transaction has nothing left to do: once it succeeded the transaction is committed,
//   so nothing after it can be undone. A write that must be refused raises in SQL
//   (settle_refuse), which fails the statement and skips the commit.
// - deferred: a write whose answer nobody waits for goes out with the transaction's next
//   statement (or its commit), ahead of it. Only for a write that raises if anything is
//   wrong (settle_refuse): its failure then fails the statement it went out with.
import { sql, type RawBuilder } from 'kysely';

export const LAST_STATEMENT_MARK = '\n/* settle:last-statement */';
export const DEFERRED_MARK = '\n/* settle:deferred */';

/** How the error begins when a commit finds its transaction aborted (PostgreSQL then answers ROLLBACK). */
export const ROLLED_BACK_AT_COMMIT = 'the transaction was rolled back at its commit: an earlier statement of it had failed';

/**
 * Refuses a commit's answer unless it committed: PostgreSQL answers the commit of a
 * transaction an earlier failure aborted with ROLLBACK, not an error. Only a bug (a failure
 * caught and ignored) gets there, and it must not pass as committed. Both drivers.
 */
export function refuseUnlessCommitted(commandTag: string | null): void {
  if (commandTag !== 'COMMIT') throw new Error(`${ROLLED_BACK_AT_COMMIT} (${commandTag})`);
}

/** How the refusal of a statement sent after a transaction's last statement begins. */
export const AFTER_LAST_STATEMENT = "a statement after the transaction's last statement";

/** The mark, to end a statement's text with. */
export function lastStatementMark(): RawBuilder<unknown> {
  return sql.raw(LAST_STATEMENT_MARK);
}

export function deferredMark(): RawBuilder<unknown> {
  return sql.raw(DEFERRED_MARK);
}

export function isLastStatement(text: string): boolean {
  return text.endsWith(LAST_STATEMENT_MARK);
}

export function isDeferred(text: string): boolean {
  return text.endsWith(DEFERRED_MARK);
}
