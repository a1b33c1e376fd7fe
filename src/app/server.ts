// Running Settle: open the database, migrate, wire the app, listen, run background
// upkeep, and shut down gracefully (in-flight requests finish, the database closes).
//
// Start-up order (the cold start is spawn → first 200 on /v1/health): the database opens
// (PGlite: WebAssembly PostgreSQL, ~1 s) and migrates while the app and HTTP modules load;
// only then is the app wired and the port opened, so a 200 from /v1/health still means
// the database is open and migrated and every route can be served.
import pino, { type Logger } from 'pino';
import { openStore, type Store } from '../store/db.js';
import { migrate } from '../store/migrate.js';
import type { App, Mode } from './app.js';
import type { HttpServer } from '../http/app.js';
import type { DemoInfo } from './demo.js';

export interface ServerConfig {
  databaseUrl?: string;
  dataDir: string;
  host: string;
  port: number;
  mode: Mode;
  adminKey?: string;
  logLevel: string;
  seedDemo: boolean;
  poolSize?: number;
  /** Run deadlines in this process (default); off when `settle worker` processes do it. */
  runDeadlines: boolean;
  deadlineIntervalMs: number;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const mode = (env.SETTLE_MODE ?? 'sandbox') as Mode;
  if (mode !== 'sandbox' && mode !== 'live') throw new Error(`SETTLE_MODE must be sandbox or live, not ${mode}`);
  return {
    ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
    dataDir: env.SETTLE_DATA_DIR ?? './.settle',
    host: env.HOST ?? '127.0.0.1',
    port: Number(env.PORT ?? 4000),
    mode,
    ...(env.SETTLE_ADMIN_KEY ? { adminKey: env.SETTLE_ADMIN_KEY } : {}),
    logLevel: env.LOG_LEVEL ?? 'info',
    seedDemo: env.SETTLE_SEED_DEMO !== '0',
    ...(env.SETTLE_DB_POOL ? { poolSize: Number(env.SETTLE_DB_POOL) } : {}),
    runDeadlines: env.SETTLE_RUN_DEADLINES !== '0',
    deadlineIntervalMs: Number(env.SETTLE_DEADLINE_INTERVAL_MS ?? 1000),
  };
}

export async function openConfiguredStore(config: ServerConfig): Promise<Store> {
  return openStore({ url: config.databaseUrl ?? '', dataDir: config.dataDir, ...(config.poolSize ? { poolSize: config.poolSize } : {}) });
}

export interface RunningServer {
  app: App;
  http: HttpServer;
  url: string;
  demo: DemoInfo | null;
  stop(): Promise<void>;
}

const REFUND_RESUME_EVERY_MS = 30_000;
const IDEMPOTENCY_PURGE_EVERY_MS = 60 * 60 * 1000;
const IDEMPOTENCY_KEEP_MS = 48 * 60 * 60 * 1000;

/** Opens the database and applies pending migrations (closing it again if that fails). */
async function openAndMigrate(config: ServerConfig, logger: Logger): Promise<Store> {
  const store = await openConfiguredStore(config);
  try {
    const applied = await migrate(store);
    if (applied.length) logger.info({ applied }, 'migrations applied');
    return store;
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
}

export async function startServer(config: ServerConfig, logger: Logger = pino({ level: config.logLevel })): Promise<RunningServer> {
  // The database opens while the modules it does not need load (see the top of the file).
  const opening = openAndMigrate(config, logger);
  opening.catch(() => {}); // handled below; do not report it as unhandled meanwhile
  let modules;
  try {
    modules = await Promise.all([import('./app.js'), import('../http/app.js'), import('../http/idempotency.js')]);
  } catch (err) {
    await opening.then((s) => s.close(), () => {});
    throw err;
  }
  const [{ createApp }, { buildHttpApp }, { purgeIdempotencyKeys }] = modules;
  const store = await opening;
  let http: HttpServer | undefined;
  let app: App;
  let demo: DemoInfo | null;
  try {
    app = await createApp(store, {
      mode: config.mode,
      onDeadlineError: (err, d) => logger.error({ err, deadline: d }, 'deadline could not fire; dropped and recorded on the order'),
    });
    if (config.adminKey) await app.apiKeys.ensureAdminKey(store.db, config.adminKey, 'SETTLE_ADMIN_KEY');
    demo = config.mode === 'sandbox' && config.seedDemo ? await (await import('./demo.js')).ensureDemo(app, config.adminKey) : null;
    http = await buildHttpApp(app, { logger });
    await http.listen({ host: config.host, port: config.port });
  } catch (err) {
    await http?.close().catch(() => {});
    await store.close().catch(() => {});
    throw err;
  }
  const address = http.server.address();
  const url = typeof address === 'object' && address ? `http://${config.host}:${address.port}` : `http://${config.host}:${config.port}`;

  // Background upkeep. Refunds left pending by a crash are finished at start and then
  // regularly; old idempotency records (kept ≥ 24 h) are dropped after 48 h.
  const resume = () => app.cardRefunds.resumeStaleRefunds().catch((err) => logger.error({ err }, 'resuming refunds failed'));
  void app.cardRefunds.resumeStaleRefunds(0).catch((err) => logger.error({ err }, 'resuming refunds failed'));
  const timers = [
    setInterval(resume, REFUND_RESUME_EVERY_MS),
    setInterval(() => {
      void purgeIdempotencyKeys(store.db, new Date(Date.now() - IDEMPOTENCY_KEEP_MS)).catch((err) => logger.error({ err }, 'purging idempotency keys failed'));
    }, IDEMPOTENCY_PURGE_EVERY_MS),
  ];
  timers.forEach((t) => t.unref());
  if (config.runDeadlines) startDeadlines(app, config, logger);

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      timers.forEach(clearInterval);
      await app.deadlines.stop();
      await http.close(); // stops accepting, waits for in-flight requests
      await store.close();
    })());
  return { app, http, url, demo, stop };
}

/** Sweeps due deadlines every interval; missed ones (server was down) fire at once, in order. */
export function startDeadlines(app: App, config: Pick<ServerConfig, 'deadlineIntervalMs'>, logger: Logger): void {
  const clock = app.sandboxClock;
  app.deadlines.start(
    config.deadlineIntervalMs,
    (err) => logger.error({ err }, 'deadline sweep failed'),
    async () => {
      if (clock) await clock.refresh(); // another process may have moved the test clock
    },
  );
}
