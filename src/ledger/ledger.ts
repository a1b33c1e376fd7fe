// The double-entry ledger: immutable, balanced transactions whose postings move money
// between accounts, with each account's balance kept up to date in the same database
// transaction so reading it is O(1). One SQL statement updates the balances (only if
// none would break its non-negative rule), inserts the transaction and its postings.
import { sql, type RawBuilder } from 'kysely';
import { afterCommit, type Db, type Trx } from '../store/db.js';
import { refusedCode } from '../store/refuse.js';
import { deferredMark } from '../store/pipeline-marks.js';
import { ruleRefused, SettleError } from '../domain/errors.js';
import { MAX_AMOUNT_MINOR } from '../domain/money.js';
import { newId } from '../domain/ids.js';
import { ACCOUNT_POLICIES, accountId, type AccountRef } from './accounts.js';

export type TransactionType =
  | 'top_up'
  | 'card_refund'
  | 'card_refund_failed'
  | 'card_refund_settled'
  | 'charge'
  | 'charge_refund'
  | 'correction'
  | 'reversal'
  | 'order_card_payment'
  | 'order_payment'
  | 'order_refund'
  | 'order_settlement'
  | 'payout';

export interface PostingInput {
  account: AccountRef;
  amountMinor: number;
}

export interface PostInput {
  /** Pre-assigned id, when a row written before the ledger entry must point at it. */
  id?: string;
  type: TransactionType;
  currency: string;
  postings: PostingInput[];
  actor: string;
  memo?: string | null;
  customerId?: string | null;
  providerId?: string | null;
  orderId?: string | null;
  cause: { type: string; id: string };
  reversesId?: string | null;
  relatedId?: string | null;
  createdAt: Date;
}

export interface PostedTransaction {
  id: string;
  createdAt: Date;
  /** Rows each companion statement wrote, in the order given. */
  companionRows: number[];
  /** With `claim`: false when the claim changed no row, and nothing was written. */
  claimed: boolean;
  /** With `claimAfter`: the row it returned (as JSON), or null (also for a deferred write). */
  claimAfterRow: Record<string, unknown> | null;
}

/**
 * Hot paths write their own rows in the ledger's statement, saving round trips (a charge
 * is then one statement): `companions` are INSERTs run in the same statement (in the same
 * database transaction, so a refusal rolls them back with everything else; one that
 * selects `from txn` is written only together with the transaction, which it can name as
 * `txn.id`), and `guard` is a condition that must hold for anything to be written, with
 * the error to give if not.
 */
export interface PostOptions {
  /** `error` is given the executor the write ran on, for any reading it does (on PGlite another one would wait for this one). */
  guard?: { condition: RawBuilder<unknown>; error: (db: Db | Trx) => SettleError | Promise<SettleError> };
  companions?: RawBuilder<unknown>[];
  /**
   * An `update … returning 1` run first in the same statement: the transaction is written
   * only if it changed exactly one row ("settle this once": of two processes settling the
   * same thing, the second finds the row changed, waits for the first and writes nothing).
   * Companions with a claim must be written only with the transaction (`… from txn`).
   */
  claim?: RawBuilder<unknown>;
  /**
   * With `claim`: an `update … returning …` the claim must run after, to take another
   * row's lock first (the claim names it `locked`: `… and exists (select 1 from locked)`).
   * What it returned comes back as `claimAfterRow`.
   */
  claimAfter?: RawBuilder<unknown>;
  /**
   * The write is a statement on its own, not inside a transaction (post is then given the
   * database, not a transaction): the statement must undo itself when refused, so it raises
   * (settle_refuse, migration 008) if the guard fails, a balance would break its rule or a
   * companion wrote other than one row — then nothing of it stays (a claim that changed no
   * row is no refusal: nothing is written, claimed is false). Refusals come back as
   * from a transaction; a companion that wrote nothing shows as 0 in companionRows.
   */
  atomic?: boolean;
  /**
   * Inside a transaction, a write that nothing but a bug can refuse (no guard; e.g. escrow
   * paying out what the order holds): it raises like an atomic write if it is refused, and
   * nobody waits for its answer — on PostgreSQL it goes out with the transaction's next
   * statement (pipeline-marks.ts), whose failure its refusal then is. Companions must each
   * write one row, and a claim must be met (a cap the caller checked under a lock): they are
   * taken to have been, and raise if not.
   */
  deferred?: boolean;
}

const MAX_POSTINGS = 16;

export class Ledger {
  /** Accounts known to exist in this database; filled only after a commit. */
  private readonly knownAccounts = new Set<string>();

  /**
   * The rows that open a new account (its balance rows too), for a caller that writes them
   * in its own statement (an order opens its escrow account with the order); known to this
   * ledger once the caller's transaction commits.
   */
  openingRows(trx: Trx, ref: AccountRef, createdAt: Date) {
    const rows = openingRowsOf(ref, createdAt);
    afterCommit(trx, () => this.knownAccounts.add(rows.account.id));
    return rows;
  }

  async ensureAccounts(trx: Trx | Db, refs: AccountRef[], createdAt: Date): Promise<void> {
    const missing = refs.filter((r) => !this.knownAccounts.has(accountId(r)));
    if (missing.length === 0) return;
    const unique = [...new Map(missing.map((r) => [accountId(r), r])).values()];
    const opening = unique.map((r) => openingRowsOf(r, createdAt));
    const accountRows = opening.map(
      ({ account: a }) => sql`(${a.id}, ${a.kind}, ${a.owner_id}, ${a.currency}, ${a.allow_negative}, ${a.shards}, ${createdAt.toISOString()}::timestamptz)`,
    );
    const balanceRows = opening.flatMap(({ balances }) => balances.map((b) => sql`(${b.account_id}, ${b.shard}::int2, ${b.allow_negative})`));
    await sql`
      with created as (
        insert into accounts (id, kind, owner_id, currency, allow_negative, shards, created_at)
        values ${sql.join(accountRows)} on conflict do nothing returning id)
      insert into account_balances (account_id, shard, allow_negative)
      values ${sql.join(balanceRows)} on conflict do nothing`.execute(trx);
    const known = () => unique.forEach((r) => this.knownAccounts.add(accountId(r)));
    if (trx.isTransaction) afterCommit(trx as Trx, known);
    else known(); // a statement on its own has committed
  }

  /**
   * Writes one balanced transaction. Refuses (422 insufficient_funds) and writes nothing
   * if any non-negative account would go below zero; the caller's transaction rolls back.
   */
  async post(trx: Trx | Db, input: PostInput, options: PostOptions = {}): Promise<PostedTransaction> {
    if (Boolean(options.atomic) === trx.isTransaction) throw new Error('ledger.post: atomic writes take the database, other writes a transaction');
    const merged = mergePostings(input);
    if (options.atomic && merged.some((p) => !this.knownAccounts.has(accountId(p.account)))) {
      // Opening an account is a statement of its own: here it goes in one transaction with
      // the write, so a refused write opens none (and no account for an unknown owner).
      return this.postOpeningAccounts(trx as Db, input, merged, options);
    }
    await this.ensureAccounts(trx, merged.map((p) => p.account), input.createdAt);
    const id = input.id ?? newId('transaction');
    // Sorted so concurrent writers lock balance rows in the same order.
    const rows = merged
      .map((p) => {
        const policy = ACCOUNT_POLICIES[p.account.kind];
        const shard = policy.shards === 1 ? 0 : shardSeed(trx) % policy.shards;
        // Balances people read (one row) must stay readable as JS numbers; platform
        // accounts spread over shards are only ever summed in SQL.
        return { accountId: accountId(p.account), shard, amountMinor: p.amountMinor, bounded: policy.shards === 1 };
      })
      .sort((a, b) => (a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0));
    const values = sql.join(rows.map((r) => sql`(${r.accountId}::text, ${r.shard}::int2, ${r.amountMinor}::int8, ${r.bounded}::bool)`));
    const companions = options.companions ?? [];
    if (options.claimAfter && !options.claim) throw new Error('ledger.post: claimAfter needs a claim');
    if (options.deferred && (options.guard || !trx.isTransaction)) throw new Error('ledger.post: a deferred write has no guard and runs in a transaction');
    const raises = options.atomic || options.deferred;
    const claimed = options.claim ? sql`(select count(*) = 1 from claim)` : sql`true`;
    const guard = options.guard ? sql`(${options.guard.condition})` : sql`true`;
    const result = await sql<{ updated: number; guard_ok: boolean; claimed: boolean; companion_rows: number[]; claim_after_row?: Record<string, unknown> | null }>`
      with ${options.claim && options.claimAfter ? sql`locked as (${options.claimAfter}),` : sql``}
      ${options.claim ? sql`claim as (${options.claim}),` : sql``}
      v (account_id, shard, delta, bounded) as (values ${values}),
      g (ok, claimed) as (select ${claimed} and ${guard}, ${claimed}),
      upd as (
        update account_balances b set balance = b.balance + v.delta
        from v, g
        where g.ok and b.account_id = v.account_id and b.shard = v.shard
          and (b.allow_negative or b.balance + v.delta >= 0)
          and (not v.bounded or b.balance + v.delta between ${-MAX_AMOUNT_MINOR}::int8 and ${MAX_AMOUNT_MINOR}::int8)
        returning b.account_id, b.shard),
      txn as (
        insert into ledger_transactions
          (id, type, currency, memo, actor, customer_id, provider_id, order_id, cause_type, cause_id, reverses_id, related_id, created_at)
        select ${id}, ${input.type}, ${input.currency}, ${input.memo ?? null}, ${input.actor}, ${input.customerId ?? null},
          ${input.providerId ?? null}, ${input.orderId ?? null}, ${input.cause.type}, ${input.cause.id},
          ${input.reversesId ?? null}, ${input.relatedId ?? null}, ${input.createdAt.toISOString()}::timestamptz
        where (select count(*) from upd) = ${rows.length}
        returning id),
      posted as (
        insert into postings (transaction_id, account_id, amount)
        select txn.id, v.account_id, v.delta from txn, v
        returning 1)${sql.join(
          companions.map((c, i) => sql`, ${sql.ref(`c${i}`)} as (${c} returning 1)`),
          sql``,
        )}
      select (select count(*) from upd)::int as updated, (select ok from g) as guard_ok, (select claimed from g) as claimed,
        array[${sql.join([sql`0`, ...companions.map((_, i) => sql`(select count(*) from ${sql.ref(`c${i}`)})::int`)])}] as companion_rows
        ${options.claim && options.claimAfter ? sql`, (select to_json(l) from locked l limit 1) as claim_after_row` : sql``}
        ${raises ? sql`, settle_refuse(case when not (select claimed from g) then ${options.deferred ? sql`'unclaimed'` : sql`null`}
          when not (select ok from g) then 'guard'
          when (select count(*) from upd) <> ${rows.length} then 'balance:' || coalesce((
            select case when v.bounded and abs(b.balance + v.delta) > ${MAX_AMOUNT_MINOR}::int8 then 'limit:' else 'short:' end || v.account_id
            from v left join account_balances b on b.account_id = v.account_id and b.shard = v.shard
            where (v.account_id, v.shard) not in (select account_id, shard from upd)
            order by v.account_id limit 1), 'short:')
          ${sql.join(companions.map((_, i) => sql`when (select count(*) from ${sql.ref(`c${i}`)}) <> 1 then ${`companion:${i}`}`), sql` `)}
          end) as atomic_ok` : sql``}
        ${options.deferred ? deferredMark() : sql``}`
      .execute(trx)
      .then((r) => (options.deferred ? null : r))
      .catch(async (err: unknown) => {
        const refused = refusedCode(err);
        if (refused === null) throw err;
        if (options.deferred && refused.startsWith('companion:')) throw new Error(`ledger.post: a deferred write's companion wrote no row (${refused})`);
        if (refused === 'unclaimed') throw new Error("ledger.post: a deferred write's claim was not met");
        // Decoded, not read: the transaction is aborted now, and a deferred write's refusal
        // may even surface here from a write that went ahead of this one.
        const balance = balanceRefusal(refused);
        if (balance) throw balance;
        if (refused === 'guard' && options.guard) throw await options.guard.error(trx);
        if (refused.startsWith('companion:')) {
          const missing = Number(refused.slice('companion:'.length));
          return { rows: [{ updated: rows.length, guard_ok: true, claimed: true, companion_rows: [0, ...companions.map((_, i) => (i === missing ? 0 : 1))], claim_after_row: null }] };
        }
        throw await refusal(trx, rows);
      });
    // Deferred: the statement raises on any refusal, so reaching here means it went (or will go) through.
    if (result === null) return { id, createdAt: input.createdAt, companionRows: companions.map(() => 1), claimed: true, claimAfterRow: null };
    const row = result.rows[0];
    if (row && !row.claimed) {
      if (row.companion_rows.some((n) => n !== 0)) throw new Error('ledger.post: a companion of an unclaimed write was written (companions of a claim must select from txn)');
      return { id, createdAt: input.createdAt, companionRows: [], claimed: false, claimAfterRow: row.claim_after_row ?? null };
    }
    if (row && !row.guard_ok && options.guard) throw await options.guard.error(trx);
    if (!row || row.updated !== rows.length) throw await refusal(trx, rows);
    return { id, createdAt: input.createdAt, companionRows: row.companion_rows.slice(1), claimed: true, claimAfterRow: row.claim_after_row ?? null };
  }

  /** An atomic write whose accounts may not exist yet: the same write, in a transaction of its own. */
  private async postOpeningAccounts(db: Db, input: PostInput, merged: PostingInput[], options: PostOptions): Promise<PostedTransaction> {
    let missingCompanion: PostedTransaction | null = null;
    try {
      const posted = await db.transaction().execute(async (trx) => {
        const p = await this.post(trx, input, { ...options, atomic: false });
        // As in the one-statement form: a companion that wrote nothing undoes the write.
        if (p.companionRows.some((n) => n !== 1)) {
          missingCompanion = p;
          throw new Error('companion wrote nothing');
        }
        return p;
      });
      // The accounts the write touched (a zero posting is dropped and opens nothing).
      for (const p of merged) this.knownAccounts.add(accountId(p.account));
      return posted;
    } catch (err) {
      if (missingCompanion) return missingCompanion;
      throw err;
    }
  }

  /**
   * Locks a single-shard account's balance row for the rest of the transaction and returns
   * the balance: for decisions that must not change under us (how much credit to use
   * before charging a card for the rest).
   */
  async lockBalance(trx: Trx, ref: AccountRef): Promise<number> {
    if (ACCOUNT_POLICIES[ref.kind].shards !== 1) throw new Error('only single-shard accounts can be locked');
    await this.ensureAccounts(trx, [ref], new Date());
    const row = await trx
      .selectFrom('account_balances')
      .select('balance')
      .where('account_id', '=', accountId(ref))
      .where('shard', '=', 0)
      .forUpdate()
      .executeTakeFirst();
    return Number(row?.balance ?? 0);
  }

  /** The balance of one account (0 if it has never been used). O(shards). */
  async balance(db: Db | Trx, ref: AccountRef): Promise<number> {
    const row = await db
      .selectFrom('account_balances')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('balance'), sql<number>`0`).as('balance'))
      .where('account_id', '=', accountId(ref))
      .executeTakeFirst();
    return Number(row?.balance ?? 0);
  }
}

/** The rows that open an account: the account and one balance row per shard, by its kind's policy. */
function openingRowsOf(ref: AccountRef, createdAt: Date) {
  const policy = ACCOUNT_POLICIES[ref.kind];
  const id = accountId(ref);
  return {
    account: { id, kind: ref.kind, owner_id: ref.ownerId, currency: ref.currency, allow_negative: policy.allowNegative, shards: policy.shards, created_at: createdAt },
    balances: Array.from({ length: policy.shards }, (_, shard) => ({ account_id: id, shard, allow_negative: policy.allowNegative, balance: 0 })),
  };
}

/**
 * The refusal a raising ledger write named (settle_refuse 'balance:short:<account>' or
 * 'balance:limit:<account>'), wherever its error surfaced; null for other codes.
 */
export function balanceRefusal(code: string): SettleError | null {
  const m = /^balance:(short|limit):(.*)$/.exec(code);
  if (!m) return null;
  return m[1] === 'limit' ? limitRefusal(m[2] as string) : shortRefusal(m[2] || null);
}

/** Whether `err` is a balance refusal: decoded already (ledger.post threw it) or as raised (a deferred write's, surfacing elsewhere). */
export function isBalanceRefusal(err: unknown): boolean {
  if (err instanceof SettleError) return err.code === LIMIT_EXCEEDED || err.code === INSUFFICIENT_FUNDS;
  const code = refusedCode(err);
  return code !== null && balanceRefusal(code) !== null;
}

const LIMIT_EXCEEDED = 'balance_limit_exceeded';
const INSUFFICIENT_FUNDS = 'insufficient_funds';

function limitRefusal(accountId: string): SettleError {
  return ruleRefused(LIMIT_EXCEEDED, `This would take a balance beyond ${MAX_AMOUNT_MINOR} minor units; nothing was changed.`, { accountId });
}

function shortRefusal(accountId: string | null): SettleError {
  return ruleRefused(INSUFFICIENT_FUNDS, 'The account balance is too low for this; nothing was changed.', { accountId });
}

/** Why a ledger write was refused (only computed on the failure path). */
async function refusal(trx: Trx | Db, rows: { accountId: string; shard: number; amountMinor: number; bounded: boolean }[]) {
  for (const r of rows.filter((x) => x.bounded)) {
    const b = await trx
      .selectFrom('account_balances')
      .select(['balance', 'allow_negative'])
      .where('account_id', '=', r.accountId)
      .where('shard', '=', r.shard)
      .executeTakeFirst();
    const after = BigInt(b?.balance ?? 0) + BigInt(r.amountMinor);
    if (after > BigInt(MAX_AMOUNT_MINOR) || after < -BigInt(MAX_AMOUNT_MINOR)) return limitRefusal(r.accountId);
  }
  return shortRefusal(rows.find((r) => r.amountMinor < 0)?.accountId ?? null);
}

function mergePostings(input: PostInput): PostingInput[] {
  if (input.postings.length === 0 || input.postings.length > MAX_POSTINGS) {
    throw new Error(`a transaction needs 1..${MAX_POSTINGS} postings, got ${input.postings.length}`);
  }
  const byAccount = new Map<string, PostingInput>();
  let sum = 0;
  for (const p of input.postings) {
    if (!Number.isSafeInteger(p.amountMinor)) throw new Error(`posting amount is not a safe integer: ${p.amountMinor}`);
    if (p.account.currency !== input.currency) throw new Error('posting currency differs from the transaction currency');
    sum += p.amountMinor;
    const key = accountId(p.account);
    const prev = byAccount.get(key);
    byAccount.set(key, { account: p.account, amountMinor: (prev?.amountMinor ?? 0) + p.amountMinor });
  }
  // TIGER_STYLE: an unbalanced transaction is a programming error, never user input.
  if (sum !== 0) throw new Error(`unbalanced transaction ${input.type}: postings sum to ${sum}`);
  const merged = [...byAccount.values()].filter((p) => p.amountMinor !== 0);
  if (merged.length === 0) throw new Error('a transaction must move money');
  return merged;
}

// A transaction picks one random shard number and uses it for every sharded account it
// touches: concurrent writers still spread over the shards, and a transaction that posts
// many times (a batch of deadline firings) holds one row per account, not a random set
// that another such batch could be locking in the opposite order.
const shardSeeds = new WeakMap<Trx, number>();
function shardSeed(trx: Trx | Db): number {
  if (!trx.isTransaction) return Math.floor(Math.random() * 2 ** 30); // one statement: its own pick
  let seed = shardSeeds.get(trx as Trx);
  if (seed === undefined) {
    seed = Math.floor(Math.random() * 2 ** 30);
    shardSeeds.set(trx as Trx, seed);
  }
  return seed;
}
