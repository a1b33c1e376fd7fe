// Every failure leaves as {"error": {type, code, message, param?}} with a stable code.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { SettleError } from '../domain/errors.js';
import { balanceRefusal } from '../ledger/ledger.js';
import { refusedCode } from '../store/refuse.js';

export interface ErrorPayload {
  error: { type: string; code: string; message: string; [k: string]: unknown };
}

export function errorPayload(err: SettleError): ErrorPayload {
  return { error: { type: err.type, code: err.code, message: err.message, ...err.details } };
}

interface AjvIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** Turns a schema violation into the first, most useful 400. */
function validationError(err: FastifyError & { validation: AjvIssue[]; validationContext?: string }): SettleError {
  const issue = err.validation[0] as AjvIssue;
  const base = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
  if (issue.keyword === 'required') {
    const param = [base, String(issue.params.missingProperty)].filter(Boolean).join('.');
    return new SettleError(400, 'invalid_request_error', 'parameter_missing', `Missing required parameter: ${param}.`, { param });
  }
  if (issue.keyword === 'additionalProperties') {
    const param = [base, String(issue.params.additionalProperty)].filter(Boolean).join('.');
    return new SettleError(400, 'invalid_request_error', 'parameter_unknown', `Received unknown parameter: ${param}.`, { param });
  }
  const param = base || (err.validationContext ?? 'body');
  const money = /amount|fixed/i.test(param) && ['type', 'minimum', 'maximum', 'multipleOf'].includes(issue.keyword);
  const detail = money
    ? 'must be an integer number of minor units (e.g. 1500 for 15.00), from 0 up to 9007199254740991'
    : issue.keyword === 'format' && issue.params.format === 'iso4217'
      ? 'must be an ISO 4217 currency code such as USD'
      : (issue.message ?? 'is invalid');
  return new SettleError(400, 'invalid_request_error', money ? 'amount_invalid' : 'parameter_invalid', `Invalid ${param}: ${detail}.`, { param });
}

export function toSettleError(err: unknown): SettleError | null {
  if (err instanceof SettleError) return err;
  // A ledger write's refusal raised in SQL, surfacing from the statement it went out with.
  const refused = refusedCode(err);
  if (refused) return balanceRefusal(refused);
  const e = err as FastifyError & { validation?: AjvIssue[] };
  if (e?.validation) return validationError(e as FastifyError & { validation: AjvIssue[] });
  switch (e?.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new SettleError(400, 'invalid_request_error', 'invalid_json', 'The request body is not valid JSON.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new SettleError(400, 'invalid_request_error', 'invalid_json', 'The request body is empty; send a JSON object (at least {}).');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new SettleError(413, 'invalid_request_error', 'body_too_large', 'The request body is larger than 1 MB.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new SettleError(415, 'invalid_request_error', 'unsupported_media_type', 'Send the body as application/json.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new SettleError(400, 'invalid_request_error', 'invalid_content_length', 'The Content-Length does not match the body.');
  }
  if (e && typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new SettleError(e.statusCode, 'invalid_request_error', 'invalid_request', e.message);
  }
  return null;
}

export function sendError(reply: FastifyReply, err: SettleError): FastifyReply {
  return reply.code(err.status).send(errorPayload(err));
}

export function errorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const known = toSettleError(err);
  if (known) return sendError(reply, known);
  request.log.error({ err }, 'unhandled error');
  return reply.code(500).send({ error: { type: 'api_error', code: 'internal_error', message: 'Something went wrong on our side; nothing you sent was lost. Try again.' } });
}
