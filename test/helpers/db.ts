// A fresh database per test file: in-memory PGlite, or a new PostgreSQL database that
// is dropped afterwards.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const TEST_DB = (process.env.SETTLE_TEST_DB ?? 'pglite') as 'pglite' | 'postgres';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

function adminUrl(): string {
  const url = process.env.SETTLE_TEST_POSTGRES_URL;
  if (!url) throw new Error('SETTLE_TEST_POSTGRES_URL is not set');
  return url;
}

export function databaseUrl(base: string, name: string): string {
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function createTestDatabase(kind = TEST_DB): Promise<TestDatabase> {
  if (kind === 'pglite') return { url: 'memory://', drop: async () => {} };
  const name = `settle_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: databaseUrl(adminUrl(), name),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl() });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}
