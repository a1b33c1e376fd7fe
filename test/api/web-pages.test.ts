// The web pages as the server serves them: the built app for every page path (with a
// Content-Security-Policy), hashed assets cached for good and gzipped, missing files as
// 404s, /v1 and /docs untouched, nothing outside the build folder; and GET /v1/web/config.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let dir: string;
const previous = process.env.SETTLE_WEB_DIR;
const script = `console.log(${JSON.stringify('settle '.repeat(400))});`;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'settle-web-'));
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Settle</title><div id="root"></div>');
  writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), script);
  writeFileSync(path.join(tmpdir(), 'settle-outside.txt'), 'secret');
  process.env.SETTLE_WEB_DIR = dir;
  h = await startHarness();
});
afterAll(async () => {
  if (previous === undefined) delete process.env.SETTLE_WEB_DIR;
  else process.env.SETTLE_WEB_DIR = previous;
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = (url: string, headers: Record<string, string> = {}) => h.http.inject({ method: 'GET', url, headers });

describe('web pages', () => {
  it('answers every page path with the app, without a key, under a strict CSP', async () => {
    for (const url of ['/', '/login', '/admin/orders/ord_123', '/portal/receipts/ord_1?x=1']) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).toContain('<div id="root">');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('serves hashed assets gzipped and cached for good; a missing file is a 404, not the app', async () => {
    const res = await get('/assets/index-abc123.js', { 'accept-encoding': 'gzip, br' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(gunzipSync(res.rawPayload).toString()).toBe(script);
    const plain = await get('/assets/index-abc123.js');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(script);
    const missing = await get('/assets/index-zzz.js');
    expect(missing.statusCode).toBe(404);
    expect(missing.body).not.toContain('<div id="root">');
  });

  it('never serves a file from outside the build folder', async () => {
    for (const url of ['/../settle-outside.txt', '/%2e%2e/settle-outside.txt', '/assets/..%2f..%2fsettle-outside.txt', '/..%5csettle-outside.txt', '/%E0%A4%A']) {
      const res = await get(url);
      expect(res.body, url).not.toContain('secret');
    }
  });

  it('leaves /v1 and /docs as they were', async () => {
    expect((await get('/v1/orders')).statusCode).toBe(401);
    const unknown = await h.get('/v1/no-such-thing');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('route_not_found');
    const docs = await get('/docs');
    expect(docs.statusCode).toBe(200);
    expect(docs.body).not.toContain('<div id="root">');
    expect((await get('/v1/openapi.json')).statusCode).toBe(200);
  });

  it('GET /v1/web/config: mode, business time zone and (sandbox) the demo password, without a key', async () => {
    const res = await get('/v1/web/config');
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ mode: 'sandbox', timeZone: 'UTC', demo: { password: 'settle-demo-password', logins: [] } });
    await h.patch('/v1/settings', { timeZone: 'Europe/Berlin' });
    expect(JSON.parse((await get('/v1/web/config')).body).timeZone).toBe('Europe/Berlin');
    await h.patch('/v1/settings', { timeZone: 'UTC' });
  });
});
