// The `settle` command for operators.
//
// Modules are imported per command, and nothing else is loaded before the PGlite
// WebAssembly module starts compiling (on V8's background threads), so that overlaps
// the loading of everything else (the cold start of `settle serve`).
import { parseArgs } from 'node:util';
import { precompilePGlite } from '../store/pglite-start.js';
import type { App } from '../app/app.js';

const DB_COMMANDS = new Set(['serve', 'worker', 'migrate', 'seed', 'check', 'keys']);
if (DB_COMMANDS.has(process.argv[2] ?? '') && !/^postgres(ql)?:\/\//.test(process.env.DATABASE_URL ?? '')) precompilePGlite();

const HELP = `settle — services paid in advance, kept right to the cent

Usage: settle <command> [options]

  serve                      run the API server (PORT, HOST, DATABASE_URL, SETTLE_DATA_DIR, SETTLE_MODE, SETTLE_ADMIN_KEY)
  migrate                    apply database migrations and exit
  seed                       seed the demo business if the database is empty (sandbox)
  worker                     run due deadlines only (any number of workers and servers may share one PostgreSQL)
  check                      prove the ledger: re-derive every balance from the postings (exit 1 on any problem)
  process diagram [NAME[@V]] print the booking (direct, prepay) process as a Mermaid state diagram
                             (current version, or V: booking@1.0.0)
  keys create --role R       create an API key: --role admin | customer --customer cus_… | provider --provider prv_…

Database: DATABASE_URL=postgres://… for PostgreSQL, memory:// for in-memory PGlite,
otherwise PGlite on disk in SETTLE_DATA_DIR (default ./.settle).`;

async function withApp<T>(fn: (app: App) => Promise<T>): Promise<T> {
  const [{ configFromEnv, openConfiguredStore }, { migrate }, { createApp }] = await Promise.all([
    import('../app/server.js'),
    import('../store/migrate.js'),
    import('../app/app.js'),
  ]);
  const config = configFromEnv();
  const store = await openConfiguredStore(config);
  try {
    await migrate(store);
    return await fn(await createApp(store, { mode: config.mode }));
  } finally {
    await store.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': {
      const [{ default: pino }, { configFromEnv, startServer }, { printBanner }] = await Promise.all([import('pino'), import('../app/server.js'), import('./banner.js')]);
      const config = configFromEnv();
      const logger = pino({ level: config.logLevel });
      const started = Date.now();
      const running = await startServer(config, logger);
      printBanner(running, config, Date.now() - started);
      let signals = 0;
      const shutdown = (signal: string) => {
        if (signals++ > 0) process.exit(1); // second Ctrl-C: leave now
        logger.info({ signal }, 'shutting down: finishing in-flight requests');
        running.stop().then(
          () => process.exit(0),
          (err) => {
            logger.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => shutdown('SIGTERM'));
      process.on('SIGINT', () => shutdown('SIGINT'));
      return new Promise<number>(() => {}); // runs until a signal
    }
    case 'worker': {
      const [{ default: pino }, { configFromEnv, openConfiguredStore, startDeadlines }, { migrate }, { createApp }] = await Promise.all([
        import('pino'),
        import('../app/server.js'),
        import('../store/migrate.js'),
        import('../app/app.js'),
      ]);
      const config = configFromEnv();
      const logger = pino({ level: config.logLevel });
      const store = await openConfiguredStore(config);
      await migrate(store);
      const app = await createApp(store, {
        mode: config.mode,
        onDeadlineError: (err, d) => logger.error({ err, deadline: d }, 'deadline could not fire; dropped and recorded on the order'),
      });
      startDeadlines(app, config, logger);
      logger.info({ intervalMs: config.deadlineIntervalMs }, 'settle worker running deadlines');
      const stop = async () => {
        await app.deadlines.stop();
        await store.close();
        process.exit(0);
      };
      process.on('SIGTERM', () => void stop());
      process.on('SIGINT', () => void stop());
      return new Promise<number>(() => {});
    }
    case 'process': {
      // NAME or NAME@VERSION: orders keep the version they were created under, so an old
      // one must stay drawable.
      const [sub, spec = 'booking'] = rest;
      const { getProcess, processVersions, toMermaid } = await import('../domain/process/index.js');
      const [name = '', version] = spec.split('@');
      const definition = getProcess(name, version);
      if (sub !== 'diagram' || !definition) {
        const known = processVersions(name);
        console.error(known.length && version ? `no version ${version} of ${name}; there are: ${known.join(', ')}` : 'usage: settle process diagram [booking|direct|prepay][@VERSION]');
        return 2;
      }
      console.log(toMermaid(definition));
      return 0;
    }
    case 'migrate': {
      const [{ configFromEnv, openConfiguredStore }, { migrate }] = await Promise.all([import('../app/server.js'), import('../store/migrate.js')]);
      const config = configFromEnv();
      const store = await openConfiguredStore(config);
      try {
        const applied = await migrate(store);
        console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
      } finally {
        await store.close();
      }
      return 0;
    }
    case 'seed':
      return withApp(async (app) => {
        const { ensureDemo } = await import('../app/demo.js');
        const demo = await ensureDemo(app, process.env.SETTLE_ADMIN_KEY);
        console.log(demo.seeded ? 'demo business seeded' : 'database already has data; nothing seeded');
        console.log(`admin key: ${demo.adminKey}`);
        for (const l of demo.logins) console.log(`${l.role} ${l.name} (${l.id}): ${l.key}`);
        return 0;
      });
    case 'check':
      return withApp(async (app) => {
        const { checkLedger } = await import('../ledger/check.js');
        const report = await checkLedger(app.services.store.db);
        console.log(JSON.stringify(report, null, 2));
        return report.ok ? 0 : 1;
      });
    case 'keys': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { role: { type: 'string' }, customer: { type: 'string' }, provider: { type: 'string' }, label: { type: 'string' } },
      });
      if (positionals[0] !== 'create' || !values.role) {
        console.error('usage: settle keys create --role admin|customer|provider [--customer cus_…] [--provider prv_…] [--label text]');
        return 2;
      }
      const role = values.role as 'admin' | 'customer' | 'provider';
      return withApp(async (app) => {
        const key = await app.services.store.transaction((trx) =>
          app.apiKeys.create(trx, { role, customerId: values.customer, providerId: values.provider, label: values.label ?? 'cli' }),
        );
        console.log(key.key);
        return 0;
      });
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(HELP);
      return command === undefined ? 2 : 0;
    default:
      console.error(`unknown command: ${command}\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  async (err) => {
    const { SettleError } = await import('../domain/errors.js');
    if (err instanceof SettleError) console.error(`settle: ${err.code}: ${err.message}`);
    else console.error(err);
    process.exit(1);
  },
);
