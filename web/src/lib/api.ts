// The one way the pages talk to the Settle API: JSON over fetch, the session cookie (with
// its CSRF token on every change) or a staff API key, an Idempotency-Key on every POST,
// and the server's error passed on exactly as it was written.

export interface ApiErrorBody {
  type: string;
  code: string;
  message: string;
  param?: string;
  [k: string]: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(body.message);
  }
  get code(): string {
    return this.body.code;
  }
}

let csrfToken: string | null = null;
let apiKey: string | null = sessionStorage.getItem('settle.apiKey');

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** A staff API key (kept for this tab only); null signs out. */
export function setApiKey(key: string | null): void {
  apiKey = key;
  if (key) sessionStorage.setItem('settle.apiKey', key);
  else sessionStorage.removeItem('settle.apiKey');
}

export function usingApiKey(): boolean {
  return apiKey !== null;
}

function randomKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `web-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `${path}?${s}` : path;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export async function request<T>(method: Method, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') {
    headers['idempotency-key'] = randomKey();
    if (csrfToken && !apiKey) headers['x-csrf-token'] = csrfToken;
  }
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, credentials: 'same-origin', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch {
    throw new ApiError(0, { type: 'network_error', code: 'network_error', message: 'Could not reach the Settle server. Check your connection and try again.' });
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    const err = (json as { error?: ApiErrorBody } | null)?.error;
    throw new ApiError(res.status, err ?? { type: 'api_error', code: `http_${res.status}`, message: `The server answered ${res.status} ${res.statusText}.` });
  }
  return json as T;
}

export const api = {
  get: <T>(path: string, query?: Query) => request<T>('GET', withQuery(path, query)),
  post: <T>(path: string, body: unknown = {}) => request<T>('POST', path, body),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body),
};

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  return err instanceof Error ? err.message : String(err);
}
