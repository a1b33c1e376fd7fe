import type { App } from '../../app/app.js';
import type { Idempotency } from '../idempotency.js';
import type { HttpServerLike } from './types.js';
import { healthRoutes } from './health.js';
import { apiKeyRoutes } from './api-keys.js';
import { partyRoutes } from './parties.js';
import { moneyRoutes } from './money.js';
import { settingsRoutes } from './settings.js';
import { ledgerRoutes } from './ledger.js';
import { sandboxRoutes } from './sandbox.js';
import { orderRoutes } from './orders.js';
import { catalogRoutes } from './catalog.js';
import { siteRoutes } from './sites.js';
import { authRoutes } from './auth.js';
import { webConfigRoutes } from './web-config.js';
import { jobRoutes } from './jobs.js';

export async function registerRoutes(server: HttpServerLike, app: App, idempotency: Idempotency): Promise<void> {
  for (const register of [healthRoutes, apiKeyRoutes, partyRoutes, moneyRoutes, settingsRoutes, ledgerRoutes, sandboxRoutes, catalogRoutes, orderRoutes, siteRoutes, jobRoutes, webConfigRoutes, authRoutes]) {
    register(server, app, idempotency);
  }
}
