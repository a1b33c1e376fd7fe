import { SettingsPatchSchema, SettingsSchema } from '../../domain/settings.js';
import { requireAdmin } from '../auth.js';
import { errorResponses } from '../schemas.js';
import type { RouteModule } from './route-module.js';

export const settingsRoutes: RouteModule = (server, app, idem) => {
  // Settings are the business's own terms (commission, fees): admin only, like changing them.
  server.get('/v1/settings', { schema: { tags: ['settings'], response: { 200: SettingsSchema, ...errorResponses } } }, async (req) => {
    requireAdmin(req.actor);
    return app.services.settings.get(app.services.store.db);
  });

  // PATCH is not a POST, but a retried settings change is harmless to repeat; the
  // Idempotency-Key is honoured all the same.
  server.patch(
    '/v1/settings',
    { schema: { tags: ['settings'], summary: 'Change business settings (admin). New orders use them; existing orders keep theirs.', body: SettingsPatchSchema, response: { 200: SettingsSchema, ...errorResponses } } },
    async (req, reply) => {
      requireAdmin(req.actor);
      return idem.run(req, reply, async (trx) => ({ body: await app.services.settings.update(trx, req.body) }));
    },
  );
};
