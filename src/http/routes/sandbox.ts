// Sandbox-only test clock (absent in live mode).
import { Type } from '@sinclair/typebox';
import { requireAdmin } from '../auth.js';
import { errorResponses } from '../schemas.js';
import { badRequest } from '../../domain/errors.js';
import type { RouteModule } from './route-module.js';

const ClockBody = Type.Union([
  Type.Object({ advanceSeconds: Type.Integer({ minimum: 0, maximum: 10 * 365 * 24 * 3600 }) }, { additionalProperties: false }),
  Type.Object({ to: Type.String({ format: 'date-time' }) }, { additionalProperties: false }),
]);
const ClockView = Type.Object({ now: Type.String(), frozen: Type.Boolean() });

export const sandboxRoutes: RouteModule = (server, app) => {
  const clock = app.sandboxClock;
  if (!clock) return;
  server.get('/v1/test/clock', { schema: { tags: ['sandbox'], response: { 200: ClockView, ...errorResponses } } }, async () => ({
    now: clock.now().toISOString(),
    frozen: clock.frozen,
  }));
  server.post(
    '/v1/test/clock',
    {
      schema: {
        tags: ['sandbox'],
        summary: 'Set or advance the test clock (admin). It then stands still until moved again; it only moves forward.',
        body: ClockBody,
        response: { 200: ClockView, ...errorResponses },
      },
    },
    async (req) => {
      requireAdmin(req.actor);
      const body = req.body as { advanceSeconds?: number; to?: string };
      if (body.advanceSeconds !== undefined) await clock.advance(body.advanceSeconds);
      else if (body.to !== undefined) await clock.setTo(new Date(body.to));
      else throw badRequest('parameter_missing', 'Send advanceSeconds or to.');
      return { now: clock.now().toISOString(), frozen: clock.frozen };
    },
  );
};
