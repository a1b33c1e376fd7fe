// One error type for every refusal: HTTP status, stable machine code, human message.
export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'conflict_error'
  | 'rule_error'
  | 'card_error'
  | 'idempotency_error'
  | 'api_error';

export class SettleError extends Error {
  constructor(
    readonly status: number,
    readonly type: ErrorType,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'SettleError';
  }
}

export const badRequest = (code: string, message: string, details?: Record<string, unknown>) =>
  new SettleError(400, 'invalid_request_error', code, message, details);
export const notFound = (what: string, id: string) =>
  new SettleError(404, 'not_found_error', 'resource_missing', `No such ${what}: '${id}'`, { param: 'id' });
export const conflict = (code: string, message: string, details?: Record<string, unknown>) =>
  new SettleError(409, 'conflict_error', code, message, details);
export const ruleRefused = (code: string, message: string, details?: Record<string, unknown>) =>
  new SettleError(422, 'rule_error', code, message, details);
export const forbidden = (message = 'This key may not do that.') =>
  new SettleError(403, 'permission_error', 'forbidden', message);

/**
 * Thrown inside a request's work when its Idempotency-Key turned out to be taken by a
 * request that committed meanwhile: the HTTP layer rolls back and replays that answer.
 */
export class IdempotencyKeyTaken extends Error {}
