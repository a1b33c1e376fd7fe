// Bearer API keys → an Actor on the request, and the checks routes use to keep each
// customer and provider to their own things.
import type { FastifyRequest } from 'fastify';
import { forbidden, notFound, SettleError } from '../domain/errors.js';
import type { Actor } from '../services/context.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor;
  }
}

export const unauthenticated = (message: string) => new SettleError(401, 'authentication_error', 'unauthenticated', message);

export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const m = /^Bearer\s+(\S{1,200})$/i.exec(header);
  return m ? (m[1] as string) : null;
}

export function requireAdmin(actor: Actor): void {
  if (actor.role !== 'admin') throw forbidden('Only an admin key may do this.');
}

/** Admin, or the customer themself. Others get a 404, so ids of others are not revealed. */
export function requireCustomerAccess(actor: Actor, customerId: string): void {
  if (actor.role === 'admin') return;
  if (actor.role === 'customer' && actor.customerId === customerId) return;
  if (actor.role === 'customer') throw notFound('customer', customerId);
  throw forbidden();
}

/**
 * For a customer's thing looked up by its own id (a top-up, a refund): anyone but admin
 * and that customer gets the same 404 as for an unknown id, so existence is not revealed.
 */
export function requireOwnCustomerThing(actor: Actor, customerId: string, what: string, id: string): void {
  if (actor.role === 'admin') return;
  if (actor.role === 'customer' && actor.customerId === customerId) return;
  throw notFound(what, id);
}

export function requireProviderAccess(actor: Actor, providerId: string): void {
  if (actor.role === 'admin') return;
  if (actor.role === 'provider' && actor.providerId === providerId) return;
  if (actor.role === 'provider') throw notFound('provider', providerId);
  throw forbidden();
}
