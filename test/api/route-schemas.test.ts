// Validators and serializers are compiled at first use (a faster start, see src/http/app.ts),
// so a broken route schema would otherwise show only as a 500 on that route's first
// request. Here the app is built with every schema compiled up front: each route's body,
// query, params and response schemas must compile, and the OpenAPI document is served.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { createApp } from '../../src/app/app.js';
import { buildHttpApp } from '../../src/http/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let database: TestDatabase;
let store: Store;

beforeAll(async () => {
  database = await createTestDatabase();
  store = await openStore({ url: database.url });
  await migrate(store);
});

afterAll(async () => {
  await store?.close();
  await database?.drop();
});

describe('route schemas', () => {
  it('every route schema compiles when the app is built eagerly, and the OpenAPI document is served', async () => {
    const app = await createApp(store, { mode: 'sandbox' });
    const http = await buildHttpApp(app, { logger: false, eagerSchemas: true });
    await expect(http.ready()).resolves.toBeDefined();
    const doc = await http.inject({ method: 'GET', url: '/v1/openapi.json' });
    expect(doc.statusCode).toBe(200);
    const paths = Object.keys(JSON.parse(doc.body).paths as Record<string, unknown>);
    expect(paths.length).toBeGreaterThan(40);
    await http.close();
  });
});
