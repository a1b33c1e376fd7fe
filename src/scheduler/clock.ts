// The clock every service reads. In live mode it is the system clock. In sandbox mode
// it follows real time until a test sets or advances it; from then on it stands still
// at that time (like Stripe test clocks), only ever moving forward. The frozen time is
// stored in the database so it survives restarts and is shared by all processes.
import { sql } from 'kysely';
import type { Db, Store, Trx } from '../store/db.js';
import { badRequest } from '../domain/errors.js';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export class SandboxClock implements Clock {
  private frozenAtMs: number | null = null;

  constructor(private readonly store: Store) {}

  now(): Date {
    return new Date(this.frozenAtMs ?? Date.now());
  }

  get frozen(): boolean {
    return this.frozenAtMs !== null;
  }

  /** Loads the shared frozen time (at start, and by workers before each sweep). */
  async refresh(): Promise<void> {
    const row = await this.store.db.selectFrom('sandbox_clock').select('frozen_at').executeTakeFirst();
    if (row) this.frozenAtMs = Math.max(this.frozenAtMs ?? 0, row.frozen_at.getTime());
  }

  async setTo(target: Date): Promise<Date> {
    return this.adopt(await this.write(this.store.db, target));
  }

  /**
   * Writes the new frozen time in `db` (a request's transaction, with its idempotency
   * record) without moving this process's clock; `adopt` the result once it has committed.
   */
  async write(db: Db | Trx, target: Date): Promise<Date> {
    const targetMs = target.getTime();
    if (!Number.isFinite(targetMs)) throw badRequest('parameter_invalid', 'to must be an ISO 8601 time');
    if (targetMs < this.now().getTime()) {
      throw badRequest('clock_cannot_go_back', `The test clock only moves forward; it is at ${this.now().toISOString()}`);
    }
    // GREATEST keeps the shared clock monotonic if two processes advance it at once.
    const row = await sql<{ frozen_at: Date }>`
      insert into sandbox_clock (id, frozen_at) values (1, ${new Date(targetMs).toISOString()})
      on conflict (id) do update set frozen_at = greatest(sandbox_clock.frozen_at, excluded.frozen_at)
      returning frozen_at`.execute(db);
    return (row.rows[0] as { frozen_at: Date }).frozen_at;
  }

  /** Moves this process's clock to a frozen time that was written (never back). */
  adopt(frozenAt: Date): Date {
    this.frozenAtMs = Math.max(this.frozenAtMs ?? 0, frozenAt.getTime());
    return this.now();
  }

  advance(seconds: number): Promise<Date> {
    return this.setTo(new Date(this.now().getTime() + seconds * 1000));
  }
}
