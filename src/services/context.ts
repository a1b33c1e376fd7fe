// What every use case gets: storage, the ledger, the clock, the payment provider and
// who is acting. Built once per process (Services) and per request (Actor).
import type { RawBuilder } from 'kysely';
import type { Store } from '../store/db.js';
import type { Ledger } from '../ledger/ledger.js';
import type { Clock } from '../scheduler/clock.js';
import type { PaymentProvider } from '../payments/provider.js';
import type { SettingsService } from './settings.js';

export type Role = 'admin' | 'provider' | 'customer' | 'system';

export interface Actor {
  role: Role;
  /** The API key (or 'system') that acted; recorded on every ledger transaction. */
  keyId: string;
  customerId?: string | null;
  providerId?: string | null;
}

export const SYSTEM_ACTOR: Actor = { role: 'system', keyId: 'system' };

/** "admin:key_…", "customer:cus_…", "system" — how an actor is written into history. */
export function actorLabel(actor: Actor): string {
  if (actor.role === 'customer') return `customer:${actor.customerId}`;
  if (actor.role === 'provider') return `provider:${actor.providerId}`;
  if (actor.role === 'system') return 'system';
  return `admin:${actor.keyId}`;
}

export interface Services {
  store: Store;
  ledger: Ledger;
  clock: Clock;
  payments: PaymentProvider;
  settings: SettingsService;
}

/**
 * For work after a request's commit (sending card refunds): the UPDATE of the request's
 * stored answer (null when the request has no idempotency key), to write in the work's
 * own last statement; the work sets `recorded` when it did.
 */
export interface AnswerRecorder {
  /** Written only if `onlyWith` (a query) finds a row. */
  update(body: unknown, onlyWith: RawBuilder<unknown>): RawBuilder<unknown> | null;
  recorded: boolean;
}
