import { sql } from 'kysely';
import { Type } from '@sinclair/typebox';
import type { RouteModule } from './route-module.js';

export const healthRoutes: RouteModule = (server, app) => {
  server.get(
    '/v1/health',
    {
      schema: {
        tags: ['system'],
        security: [],
        response: { 200: Type.Object({ status: Type.String(), database: Type.String(), mode: Type.String(), time: Type.String() }) },
      },
    },
    async () => {
      await sql`select 1`.execute(app.services.store.db);
      return { status: 'ok', database: app.services.store.kind, mode: app.mode, time: app.services.clock.now().toISOString() };
    },
  );
};
