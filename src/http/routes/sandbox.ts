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

// After 9999 toISOString() writes "+010000-…", which neither PostgreSQL nor the API's
// date-time format reads back (a 500 on the next write); the test clock stops here.
const LATEST_CLOCK_MS = Date.parse('9999-12-31T23:59:59.999Z');

function assertClockInRange(targetMs: number): void {
  if (targetMs > LATEST_CLOCK_MS) throw badRequest('clock_out_of_range', 'The test clock cannot go past 9999-12-31T23:59:59.999Z.');
}

export const sandboxRoutes: RouteModule = (server, app, idem) => {
  const clock = app.sandboxClock;
  if (!clock) return;
  const view = () => ({ now: clock.now().toISOString(), frozen: clock.frozen });
  server.get('/v1/test/clock', { schema: { tags: ['sandbox'], response: { 200: ClockView, ...errorResponses } } }, async () => view());
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
    async (req, reply) => {
      requireAdmin(req.actor);
      const body = req.body as { advanceSeconds?: number; to?: string };
      // Like every POST it honours Idempotency-Key: a retried "advance 1 day" moves the clock once.
      return idem.run(req, reply, async (trx) => {
        let target: Date;
        if (body.advanceSeconds !== undefined) {
          target = new Date(clock.now().getTime() + body.advanceSeconds * 1000);
        } else if (body.to !== undefined) {
          target = new Date(body.to);
        } else {
          throw badRequest('parameter_missing', 'Send advanceSeconds or to.');
        }
        assertClockInRange(target.getTime());
        const frozenAt = await clock.write(trx, target);
        return {
          body: { now: frozenAt.toISOString(), frozen: true },
          // Once committed: this process moves to it, and every deadline due by then runs
          // before we answer, also those a concurrent request or another process held.
          after: async () => {
            clock.adopt(frozenAt);
            await app.deadlines.runAllDue();
            return view();
          },
        };
      });
    },
  );
};
