import { Type } from '@sinclair/typebox';
import { checkLedger } from '../../ledger/check.js';
import { requireAdmin } from '../auth.js';
import { errorResponses } from '../schemas.js';
import type { RouteModule } from './route-module.js';

export const ledgerRoutes: RouteModule = (server, app) => {
  server.get(
    '/v1/ledger/check',
    {
      schema: {
        tags: ['ledger'],
        summary: 'Re-derive every balance from the postings and report any difference (admin).',
        response: {
          200: Type.Object({
            ok: Type.Boolean(),
            accounts: Type.Integer(),
            transactions: Type.Integer(),
            postings: Type.Integer(),
            pendingRefunds: Type.Integer(),
            problems: Type.Array(Type.Object({ kind: Type.String(), id: Type.String(), detail: Type.String() })),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      requireAdmin(req.actor);
      return checkLedger(app.services.store.db);
    },
  );
};
