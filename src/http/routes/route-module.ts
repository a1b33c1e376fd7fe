import type { App } from '../../app/app.js';
import type { Idempotency } from '../idempotency.js';
import type { HttpServerLike } from './types.js';
import type { PageRequest } from '../../services/pagination.js';

export type RouteModule = (server: HttpServerLike, app: App, idempotency: Idempotency) => void;

export function pageOf(query: { limit: number; starting_after?: string | undefined }): PageRequest {
  return { limit: query.limit, startingAfter: query.starting_after };
}
