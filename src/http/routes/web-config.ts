// What the web pages need before anyone signs in: the mode, the business time zone (times
// are shown in it, with the zone named) and, in sandbox mode only, the demo logins the
// first page lists. Public: none of it is a secret (demo passwords exist only in sandbox).
import { Type } from '@sinclair/typebox';
import { DEMO_ADMIN_EMAIL, DEMO_PASSWORD } from '../../services/auth/web-auth.js';
import type { RouteModule } from './route-module.js';

const DemoLogin = Type.Object({
  role: Type.Union([Type.Literal('admin'), Type.Literal('customer'), Type.Literal('provider')]),
  name: Type.String(),
  email: Type.String(),
});

const WebConfig = Type.Object({
  mode: Type.String(),
  timeZone: Type.String(),
  demo: Type.Union([Type.Object({ password: Type.String(), logins: Type.Array(DemoLogin) }), Type.Null()]),
});

export const webConfigRoutes: RouteModule = (server, app) => {
  const db = app.services.store.db;
  server.get(
    '/v1/web/config',
    {
      schema: {
        tags: ['system'],
        summary: 'What the web pages need before sign-in: mode, business time zone, and the demo logins (sandbox only).',
        security: [],
        response: { 200: WebConfig },
      },
    },
    async () => {
      const settings = await app.services.settings.get(db);
      if (app.mode !== 'sandbox') return { mode: app.mode, timeZone: settings.timeZone, demo: null };
      const row = await db.selectFrom('sandbox_demo').select('logins').executeTakeFirst();
      const seeded = ((row?.logins ?? []) as { role: string; id: string }[]).filter((l) => l.role === 'customer' || l.role === 'provider');
      const ids = (role: string) => seeded.filter((l) => l.role === role).map((l) => l.id);
      const [customers, providers] = await Promise.all([
        ids('customer').length ? db.selectFrom('customers').select(['id', 'name', 'email']).where('id', 'in', ids('customer')).orderBy('id').execute() : [],
        ids('provider').length ? db.selectFrom('providers').select(['id', 'name', 'email']).where('id', 'in', ids('provider')).orderBy('id').execute() : [],
      ]);
      const logins = [
        ...(row ? [{ role: 'admin' as const, name: 'Staff (admin backend)', email: DEMO_ADMIN_EMAIL }] : []),
        ...customers.map((c) => ({ role: 'customer' as const, name: c.name, email: c.email })),
        ...providers.map((p) => ({ role: 'provider' as const, name: p.name, email: p.email })),
      ];
      return { mode: app.mode, timeZone: settings.timeZone, demo: { password: DEMO_PASSWORD, logins } };
    },
  );
};
