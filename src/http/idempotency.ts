// Idempotency-Key on POST (Stripe semantics):
//  - the record (request hash + response) is written in the same database transaction
//    as the effect, so an effect without its record, or the reverse, cannot exist;
//  - a repeat with the same body replays the stored response; a different body → 422;
//  - while the first request with a key is still running here, repeats get 409
//    (retryable); a repeat on another process waits on the key's unique index and
//    then replays;
//  - refusals made while executing (4xx) are stored too, so a retry sees the same answer.
import { hash as digest } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, conflict, IdempotencyKeyTaken, SettleError } from '../domain/errors.js';
import { retryOnConflict, type Db, type Store, type Trx } from '../store/db.js';
import { errorPayload, toSettleError } from './errors.js';
import type { AnswerRecorder } from '../services/context.js';

export interface MutationResult<T> {
  body: T;
  status?: number;
  /**
   * Work after commit (e.g. sending a card refund); its result becomes the response, and
   * the stored one. It may write that itself in its last statement (`answer.update`) and
   * then sets `answer.recorded`.
   */
  after?: (answer: AnswerRecorder) => Promise<T>;
  /** The work wrote the idempotency record itself, with `ctx.recordInsert` (hot paths). */
  recorded?: boolean;
}

export interface RunOptions<T> {
  /** What to keep in the idempotency record instead of the body (e.g. without secrets). */
  storedBody?: (body: T) => unknown;
}

export interface MutationContext {
  /** Stable across retries of the same request: pass it to payment providers. */
  idempotencyKey: string;
  /**
   * For hot paths that write the record in the same statement as their effect: the INSERT
   * of the record with this response (null when the request has no key). The work then
   * returns `recorded: true`, and throws `IdempotencyKeyTaken` if the insert wrote no row.
   */
  recordInsert: (body: unknown, status?: number) => RawBuilder<unknown> | null;
  /**
   * Nothing runs in the transaction after a work that returns `recorded: true`, so its last
   * write may carry the commit (pipeline-marks.ts). False for statement-only work.
   */
  commitWithWrite: boolean;
}

const MAX_KEY_LENGTH = 255;

type Work<T> =
  | { kind: 'transaction'; work: (trx: Trx, ctx: MutationContext) => Promise<MutationResult<T>> }
  | { kind: 'statement'; work: (db: Db, ctx: MutationContext) => Promise<MutationResult<T>> };

interface IdempotencyRecord {
  scope: string;
  key: string;
  hash: string;
}

/** The record's INSERT of the answer's JSON text; it writes nothing if the key is already taken (one place for both paths). */
function insertRecord(record: IdempotencyRecord, status: number, json: string): RawBuilder<unknown> {
  return sql`insert into idempotency_keys (scope, key, request_hash, status_code, response)
    values (${record.scope}, ${record.key}, ${record.hash}, ${status}, ${json})
    on conflict (scope, key) do nothing`;
}

/** The stored response replaced by the one the work after commit gave. */
function updateRecord(record: IdempotencyRecord, json: string, onlyWith: RawBuilder<unknown> | null): RawBuilder<unknown> {
  return sql`update idempotency_keys set response = ${json}
    where scope = ${record.scope} and key = ${record.key} ${onlyWith ? sql`and exists (${onlyWith})` : sql``}`;
}

const JSON_UTF8 = 'application/json; charset=utf-8';

/**
 * An answer serialized once: the JSON text stored in the record is the text the reply sends,
 * made by the route's own response serializer (so it holds exactly what the route's schema
 * lets out, in its order). An order's answer is 3–8 KB of JSON; before, it was serialized for
 * the record, again for the settled card refunds' update, and again for the reply.
 */
class AnswerText<T> {
  private last: { body: unknown; status: number; json: string } | null = null;

  constructor(
    private readonly reply: FastifyReply,
    private readonly storedBody: ((body: T) => unknown) | undefined,
  ) {}

  /** The JSON to store for `body`. */
  of(body: unknown, status: number): string {
    // What is stored differs from what is sent (e.g. a secret shown once): the reply serializes its own.
    if (this.storedBody) return storedText(this.reply, status, this.storedBody(body as T));
    const json = serializedBy(this.reply, status, body);
    if (json === null) return JSON.stringify(body);
    this.last = { body, status, json };
    return json;
  }

  /** What the handler returns: the stored text when it is this very answer, else the body for the reply to serialize. */
  answer(body: T, status: number): T {
    const last = this.last;
    if (!last || last.body !== body || last.status !== status) return body;
    this.reply.type(JSON_UTF8);
    // A string with a JSON content type goes out as it is (no reply.serializer() is set anywhere).
    return last.json as unknown as T;
  }
}

/**
 * `body` as the route's response serializer for `status` writes it, or null when the route has
 * none or it refuses the body (a bug: the reply's own serialization then fails after the commit,
 * as it always did, instead of failing the write — or a card refund's settle — here).
 */
function serializedBy(reply: FastifyReply, status: number, body: unknown): string | null {
  const serialize = reply.getSerializationFunction(String(status)) as ((data: unknown) => string) | undefined;
  if (!serialize) return null;
  try {
    return serialize(body);
  } catch {
    return null;
  }
}

/** Text to store that is not sent now (a refusal, a copy without secrets): in the route's form too, since replays send stored text as it is. */
function storedText(reply: FastifyReply, status: number, body: unknown): string {
  return serializedBy(reply, status, body) ?? JSON.stringify(body);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export class Idempotency {
  private readonly inFlight = new Set<string>();

  constructor(private readonly store: Store) {}

  /**
   * Runs `work` under the request's Idempotency-Key. What it resolves to must go back to
   * Fastify unchanged (`return idem.run(…)`): it may be the answer's JSON text rather than T.
   */
  async run<T>(
    request: FastifyRequest,
    reply: FastifyReply,
    work: (trx: Trx, ctx: MutationContext) => Promise<MutationResult<T>>,
    options: RunOptions<T> = {},
  ): Promise<T> {
    return this.keyed(request, reply, { kind: 'transaction', work }, options);
  }

  /**
   * For work that is one statement writing its effect and the record together (a charge,
   * ledger.post `atomic`): no transaction around it, so no begin and no commit; the
   * statement undoes itself when refused. The work must write the record (`recorded`).
   * Like `run`, its result goes back to Fastify unchanged.
   */
  async runStatement<T>(
    request: FastifyRequest,
    reply: FastifyReply,
    work: (db: Db, ctx: MutationContext) => Promise<MutationResult<T>>,
    options: RunOptions<T> = {},
  ): Promise<T> {
    return this.keyed(request, reply, { kind: 'statement', work }, options);
  }

  private async keyed<T>(request: FastifyRequest, reply: FastifyReply, work: Work<T>, options: RunOptions<T>): Promise<T> {
    const header = request.headers['idempotency-key'];
    const key = Array.isArray(header) ? header[0] : header;
    if (key === undefined) {
      return this.execute(request, reply, null, work, options);
    }
    // NUL cannot be stored in a text column (a socket never delivers it; inject can).
    if (key.length === 0 || key.length > MAX_KEY_LENGTH || key.includes('\u0000')) {
      throw badRequest('idempotency_key_invalid', `Idempotency-Key must be 1..${MAX_KEY_LENGTH} characters.`);
    }
    const scope = request.actor.keyId;
    const slot = `${scope}\u0000${key}`;
    if (this.inFlight.has(slot)) {
      throw conflict('idempotency_key_in_use', 'A request with this Idempotency-Key is still being processed; retry in a moment.');
    }
    this.inFlight.add(slot);
    try {
      const hash = digest('sha256', `${request.method} ${request.url}\n${canonical(request.body)}`, 'hex');
      return await this.execute(request, reply, { scope, key, hash }, work, options);
    } finally {
      this.inFlight.delete(slot);
    }
  }

  private async execute<T>(request: FastifyRequest, reply: FastifyReply, record: IdempotencyRecord | null, work: Work<T>, options: RunOptions<T>): Promise<T> {
    const text = new AnswerText<T>(reply, options.storedBody);
    const ctx: MutationContext = {
      idempotencyKey: record ? `${record.scope}:${record.key}` : `once:${request.id}:${Date.now()}`,
      recordInsert: (body, status = 200) => (record ? insertRecord(record, status, text.of(body, status)) : null),
      commitWithWrite: work.kind === 'transaction',
    };
    let result: MutationResult<T>;
    try {
      if (work.kind === 'statement') {
        result = await retryOnConflict(() => work.work(this.store.db, ctx));
        if (record && !result.recorded) throw new Error('a statement-only mutation must write its idempotency record');
      } else {
        const run = work.work;
        result = await this.store.transaction(async (trx) => {
          const out = await run(trx, ctx);
          if (record && !out.recorded && !(await this.insert(trx, record, out.status ?? 200, text.of(out.body, out.status ?? 200)))) throw new IdempotencyKeyTaken();
          return out;
        });
      }
    } catch (err) {
      if (err instanceof IdempotencyKeyTaken) return this.replay(reply, record!);
      const refusal = toSettleError(err);
      if (record && refusal && isStorable(refusal)) {
        const saved = await this.store.transaction((trx) => this.insert(trx, record, refusal.status, storedText(reply, refusal.status, errorPayload(refusal))));
        if (!saved) return this.replay(reply, record);
      } else if (record && (await this.isStored(record))) {
        // A repeat of a request that already took effect can fail now because of that
        // effect (409: the order already moved on): the stored answer is the answer.
        return this.replay(reply, record);
      }
      throw err;
    }
    let body = result.body;
    const status = result.status ?? 200;
    if (result.after) {
      const answer: AnswerRecorder = {
        update: (b, onlyWith) => (record ? updateRecord(record, text.of(b, status), onlyWith) : null),
        recorded: false,
      };
      body = await result.after(answer);
      if (record && !answer.recorded) await updateRecord(record, text.of(body, status), null).execute(this.store.db);
    }
    reply.code(status);
    return text.answer(body, status);
  }

  private async insert(trx: Trx, record: IdempotencyRecord, status: number, json: string): Promise<boolean> {
    const written = await sql`${insertRecord(record, status, json)} returning 1`.execute(trx);
    return written.rows.length === 1;
  }

  private async isStored(record: { scope: string; key: string }): Promise<boolean> {
    const row = await this.store.db
      .selectFrom('idempotency_keys')
      .select('key')
      .where('scope', '=', record.scope)
      .where('key', '=', record.key)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** The stored outcome of the first request, its JSON text as it was sent (T, or a stored refusal). */
  private async replay<T>(reply: FastifyReply, record: IdempotencyRecord): Promise<T> {
    const stored = await this.store.db
      .selectFrom('idempotency_keys')
      .select(['request_hash', 'status_code', 'response'])
      .where('scope', '=', record.scope)
      .where('key', '=', record.key)
      .executeTakeFirst();
    if (!stored) throw conflict('idempotency_key_in_use', 'A request with this Idempotency-Key is still being processed; retry in a moment.');
    if (stored.request_hash !== record.hash) {
      throw new SettleError(422, 'idempotency_error', 'idempotency_key_reused', 'This Idempotency-Key was already used with a different request body or path.');
    }
    reply.code(stored.status_code).header('Idempotent-Replayed', 'true').type(JSON_UTF8);
    return stored.response as unknown as T; // sent as it is (see AnswerText)
  }
}

/** Refusals made while executing are part of the request's outcome; conflicts and auth are not. */
function isStorable(err: SettleError): boolean {
  return err.status >= 400 && err.status < 500 && err.status !== 409 && err.status !== 401 && err.status !== 403;
}

/** Keys are kept at least 24 h; background upkeep drops older ones with this. */
export async function purgeIdempotencyKeys(db: Db, cutoff: Date): Promise<number> {
  const res = await db
    .deleteFrom('idempotency_keys')
    .where(sql<boolean>`created_at < ${cutoff.toISOString()}::timestamptz`)
    .executeTakeFirst();
  return Number(res.numDeletedRows ?? 0);
}
