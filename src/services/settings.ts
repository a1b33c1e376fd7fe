// Reads and changes the business settings. Reads are cached for a moment because
// every charge needs the commission; a change is visible to this process at once and
// to other processes within SETTINGS_CACHE_MS.
import type { Db, Trx } from '../store/db.js';
import { DEFAULT_SETTINGS, isTimeZone, type Settings, type SettingsPatch } from '../domain/settings.js';
import { badRequest } from '../domain/errors.js';
import { isCurrency } from '../domain/currencies.js';
import type { Clock } from '../scheduler/clock.js';

const SETTINGS_CACHE_MS = 1000;

export class SettingsService {
  private cached: { settings: Settings; atMs: number } | null = null;

  constructor(private readonly clock: Clock) {}

  async get(db: Db | Trx): Promise<Settings> {
    const nowMs = Date.now();
    if (this.cached && nowMs - this.cached.atMs < SETTINGS_CACHE_MS) return this.cached.settings;
    const row = await db.selectFrom('settings').select('data').executeTakeFirst();
    const settings = { ...DEFAULT_SETTINGS, ...((row?.data as Partial<Settings> | undefined) ?? {}) };
    this.cached = { settings, atMs: nowMs };
    return settings;
  }

  async update(trx: Trx, patch: SettingsPatch): Promise<Settings> {
    if (patch.timeZone !== undefined && !isTimeZone(patch.timeZone)) {
      throw badRequest('parameter_invalid', `Unknown time zone '${patch.timeZone}' (use an IANA name such as Europe/Berlin).`, { param: 'timeZone' });
    }
    if (patch.defaultCurrency !== undefined && !isCurrency(patch.defaultCurrency)) {
      throw badRequest('currency_invalid', `Unknown currency '${patch.defaultCurrency}'.`, { param: 'defaultCurrency' });
    }
    const row = await trx.selectFrom('settings').select('data').forUpdate().executeTakeFirst();
    const current = { ...DEFAULT_SETTINGS, ...((row?.data as Partial<Settings> | undefined) ?? {}) };
    const next: Settings = { ...current, ...patch, serviceFee: { ...current.serviceFee, ...(patch.serviceFee ?? {}) } };
    await trx
      .insertInto('settings')
      .values({ id: 1, data: JSON.stringify(next), updated_at: this.clock.now() })
      .onConflict((oc) => oc.column('id').doUpdateSet({ data: JSON.stringify(next), updated_at: this.clock.now() }))
      .execute();
    this.cached = null;
    return next;
  }
}
