// The web pages: the single-page app built into web/dist (`npm run build:web`), served by
// the API server. Hashed files under /assets/ are cached for good; every other GET outside
// /v1 and /docs answers with index.html and the app's router takes it from there.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpServerLike } from './routes/types.js';

/** src/http/web.ts and dist/http/web.js are both two folders below the project root. */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../web/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json', '.txt']);

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

interface CachedFile {
  mtimeMs: number;
  body: Buffer;
  gzip: Buffer | null;
}

export function registerWeb(server: HttpServerLike, dir: string = process.env.SETTLE_WEB_DIR ?? DEFAULT_WEB_DIR): void {
  const root = path.resolve(dir);
  const cache = new Map<string, CachedFile>();

  async function load(file: string): Promise<CachedFile | null> {
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) return null;
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === info.mtimeMs) return hit;
    const body = await readFile(file);
    const entry = { mtimeMs: info.mtimeMs, body, gzip: COMPRESSIBLE.has(path.extname(file)) && body.length > 1024 ? gzipSync(body) : null };
    cache.set(file, entry);
    return entry;
  }

  /** Sends the file if it exists. (Returns a boolean, not the reply: a reply is thenable.) */
  async function send(request: FastifyRequest, reply: FastifyReply, file: string, immutable: boolean): Promise<boolean> {
    const entry = await load(file);
    if (!entry) return false;
    const gzip = entry.gzip && /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
    reply
      .headers(SECURITY_HEADERS)
      .header('content-type', TYPES[path.extname(file)] ?? 'application/octet-stream')
      .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .header('vary', 'accept-encoding');
    if (gzip) reply.header('content-encoding', 'gzip');
    void reply.send(gzip ? entry.gzip : entry.body);
    return true;
  }

  server.get('/*', { schema: { hide: true } }, async (request, reply) => {
    const urlPath = request.url.split('?')[0] as string;
    if (urlPath === '/v1' || urlPath.startsWith('/v1/') || urlPath === '/docs' || urlPath.startsWith('/docs/')) return reply.callNotFound();
    let decoded: string;
    try {
      decoded = decodeURIComponent(urlPath);
    } catch {
      return reply.callNotFound();
    }
    const file = path.resolve(root, `.${path.posix.normalize(decoded)}`);
    const inside = file.startsWith(`${root}${path.sep}`);
    if (inside && path.extname(file)) {
      if (await send(request, reply, file, decoded.startsWith('/assets/'))) return reply;
      // A missing file is a 404, never the app's HTML under a script's name.
      return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
    }
    if (await send(request, reply, path.join(root, 'index.html'), false)) return reply;
    return reply
      .code(404)
      .type('text/plain; charset=utf-8')
      .send('The web pages are not built yet: run `npm run build:web` (npm install does it), then reload. The API is at /v1 and its docs at /docs.');
  });
}
