// API keys: random secrets shown once, stored as SHA-256 hashes (they are long random
// strings, so a fast hash is enough). Lookups are cached briefly per process.
import { hash, randomBytes } from 'node:crypto';
import type { Db, Trx } from '../store/db.js';
import { badRequest, notFound } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { Actor, Role } from './context.js';
import type { Clock } from '../scheduler/clock.js';

const KEY_CACHE_MS = 30_000;
const MAX_CACHED_KEYS = 10_000;

export function hashKey(secret: string): string {
  return hash('sha256', secret, 'hex'); // one-shot: a third of createHash's cost
}

export function generateSecret(role: Exclude<Role, 'system'>, mode: 'sandbox' | 'live'): string {
  return `sk_${mode === 'sandbox' ? 'test' : 'live'}_${role}_${randomBytes(24).toString('base64url')}`;
}

export interface CreatedKey {
  id: string;
  object: 'api_key';
  key: string;
  role: Exclude<Role, 'system'>;
  customerId: string | null;
  providerId: string | null;
  label: string | null;
  createdAt: string;
}

export class ApiKeyService {
  private readonly cache = new Map<string, { actor: Actor; atMs: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly mode: 'sandbox' | 'live',
  ) {}

  async create(
    trx: Trx,
    input: { role: Exclude<Role, 'system'>; customerId?: string | undefined; providerId?: string | undefined; label?: string | undefined; secret?: string },
  ): Promise<CreatedKey> {
    if (input.role === 'customer' && !input.customerId) throw badRequest('parameter_missing', 'A customer key needs customerId.', { param: 'customerId' });
    if (input.role === 'provider' && !input.providerId) throw badRequest('parameter_missing', 'A provider key needs providerId.', { param: 'providerId' });
    if (input.role !== 'customer' && input.customerId) throw badRequest('parameter_invalid', 'Only a customer key takes customerId.', { param: 'customerId' });
    if (input.role !== 'provider' && input.providerId) throw badRequest('parameter_invalid', 'Only a provider key takes providerId.', { param: 'providerId' });
    if (input.customerId && !(await trx.selectFrom('customers').select('id').where('id', '=', input.customerId).executeTakeFirst())) {
      throw notFound('customer', input.customerId);
    }
    if (input.providerId && !(await trx.selectFrom('providers').select('id').where('id', '=', input.providerId).executeTakeFirst())) {
      throw notFound('provider', input.providerId);
    }
    const secret = input.secret ?? generateSecret(input.role, this.mode);
    const now = this.clock.now();
    const id = newId('apiKey');
    await trx
      .insertInto('api_keys')
      .values({
        id,
        key_hash: hashKey(secret),
        role: input.role,
        customer_id: input.customerId ?? null,
        provider_id: input.providerId ?? null,
        label: input.label ?? null,
        created_at: now,
        revoked_at: null,
      })
      .execute();
    return {
      id,
      object: 'api_key',
      key: secret,
      role: input.role,
      customerId: input.customerId ?? null,
      providerId: input.providerId ?? null,
      label: input.label ?? null,
      createdAt: now.toISOString(),
    };
  }

  /** Makes `secret` a valid admin key (SETTLE_ADMIN_KEY); idempotent across restarts. */
  async ensureAdminKey(db: Db, secret: string, label: string): Promise<void> {
    await db
      .insertInto('api_keys')
      .values({ id: newId('apiKey'), key_hash: hashKey(secret), role: 'admin', customer_id: null, provider_id: null, label, created_at: this.clock.now(), revoked_at: null })
      .onConflict((oc) => oc.column('key_hash').doNothing())
      .execute();
  }

  async authenticate(db: Db, secret: string): Promise<Actor | null> {
    const keyHash = hashKey(secret);
    const nowMs = Date.now();
    const hit = this.cache.get(keyHash);
    if (hit && nowMs - hit.atMs < KEY_CACHE_MS) return hit.actor;
    const row = await db
      .selectFrom('api_keys')
      .select(['id', 'role', 'customer_id', 'provider_id'])
      .where('key_hash', '=', keyHash)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    const actor: Actor | null = row ? { role: row.role, keyId: row.id, customerId: row.customer_id, providerId: row.provider_id } : null;
    // Only hits are cached: a key created a moment ago in another process must work at once.
    if (actor) {
      if (this.cache.size >= MAX_CACHED_KEYS) this.cache.clear();
      this.cache.set(keyHash, { actor, atMs: nowMs });
    }
    return actor;
  }
}
