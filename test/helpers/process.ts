// Real Settle server processes for the process-level tests: spawn `settle serve` on a
// free port of 127.0.0.1, wait for /v1/health, talk to it over keep-alive HTTP, stop it
// gracefully or `kill -9` it. Every process started here is killed by stopAllServers()
// (call it in afterAll) and, as a last resort, when the test worker exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const HOST = '127.0.0.1';
const CLI = ['--import', 'tsx', 'src/cli/main.ts'];
const OUTPUT_KEEP = 64 * 1024;

export interface ServerOptions {
  /** DATABASE_URL (postgres://…) or SETTLE_DATA_DIR (PGlite on disk): exactly one. */
  databaseUrl?: string;
  dataDir?: string;
  adminKey: string;
  env?: Record<string, string>;
  startTimeoutMs?: number;
}

export interface ServerProcess {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last 64 KB of its stdout and stderr, for failure messages. */
  output(): string;
  /** SIGKILL (kill -9), then wait until the process is gone. */
  kill9(): Promise<void>;
  /** SIGTERM (graceful shutdown), then wait; SIGKILL after `timeoutMs`. Returns the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A port that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, HOST, () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function serverEnv(options: ServerOptions, port: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['DATABASE_URL', 'SETTLE_DATA_DIR', 'SETTLE_DB_POOL', 'SETTLE_MODE']) delete env[k];
  Object.assign(env, {
    PORT: String(port),
    HOST,
    LOG_LEVEL: 'warn',
    SETTLE_SEED_DEMO: '0',
    SETTLE_ADMIN_KEY: options.adminKey,
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
    ...(options.dataDir ? { SETTLE_DATA_DIR: options.dataDir } : {}),
    ...(options.env ?? {}),
  });
  return env;
}

async function spawnOnce(options: ServerOptions): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...CLI, 'serve'], { cwd: ROOT, env: serverEnv(options, port), stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  const collect = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    if (out.length > OUTPUT_KEEP) out = out.slice(-OUTPUT_KEEP);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });
  const url = `http://${HOST}:${port}`;
  const proc: ServerProcess = {
    url,
    port,
    pid: child.pid ?? -1,
    child,
    exited,
    output: () => out,
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop(timeoutMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const { code } = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  // Generous: a first PGlite start runs initdb, and CI machines can be busy.
  const deadline = Date.now() + (options.startTimeoutMs ?? 90_000);
  let gone = false;
  void exited.then(() => (gone = true));
  for (;;) {
    if (gone) throw Object.assign(new Error(`settle serve exited before it was healthy:\n${out}`), { addressInUse: /EADDRINUSE/.test(out) });
    if (Date.now() > deadline) {
      await proc.kill9();
      throw new Error(`settle serve not healthy within the time limit:\n${out}`);
    }
    const res = await rawRequest(undefined, 'GET', `${url}/v1/health`, undefined, {}, 1_000);
    if (res.status === 200) return proc;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts `settle serve` on a free port and resolves once GET /v1/health answers 200. */
export async function startServerProcess(options: ServerOptions): Promise<ServerProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnOnce(options);
    } catch (err) {
      // Another process took the port between freePort() and listen(): try another.
      if ((err as { addressInUse?: boolean }).addressInUse && attempt < 3) continue;
      throw err;
    }
  }
}

/** Kills every server process still running (afterAll). */
export async function stopAllServers(): Promise<void> {
  await Promise.all(
    [...live].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/** Runs a `settle` CLI command (e.g. `check`) to completion. */
export function runCli(
  args: string[],
  options: { databaseUrl?: string; dataDir?: string; timeoutMs?: number },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, SETTLE_SEED_DEMO: '0', LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  delete env.SETTLE_DATA_DIR;
  if (options.databaseUrl) env.DATABASE_URL = options.databaseUrl;
  if (options.dataDir) env.SETTLE_DATA_DIR = options.dataDir;
  const child = spawn(process.execPath, [...CLI, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface Res<T = any> {
  /** 0 when there was no HTTP answer (connection refused or reset, timeout). */
  status: number;
  body: T;
  headers: http.IncomingHttpHeaders;
  /** Set when status is 0. */
  error?: string;
}

function rawRequest(
  agent: http.Agent | undefined,
  method: string,
  url: string,
  payload: string | undefined,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<Res> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: Res) => {
      if (!settled) {
        settled = true;
        resolve(r);
      }
    };
    const req = http.request(
      url,
      {
        method,
        agent: agent ?? false,
        headers: { ...headers, ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => done({ status: 0, body: undefined, headers: {}, error: err.message }));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          done({ status: res.statusCode ?? 0, body, headers: res.headers });
        });
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => done({ status: 0, body: undefined, headers: {}, error: err.code ?? err.message }));
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** A small keep-alive JSON client for one server, authenticated with one key. */
export class Client {
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;

  constructor(
    readonly baseUrl: string,
    private readonly key: string,
    options: { maxSockets?: number; timeoutMs?: number } = {},
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 32 });
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** POST with an Idempotency-Key (a fresh one unless given). */
  post<T = any>(path: string, body: unknown, idempotencyKey: string = randomUUID()): Promise<Res<T>> {
    return rawRequest(this.agent, 'POST', this.baseUrl + path, JSON.stringify(body ?? {}), this.headers({ 'idempotency-key': idempotencyKey }), this.timeoutMs);
  }

  patch<T = any>(path: string, body: unknown): Promise<Res<T>> {
    return rawRequest(this.agent, 'PATCH', this.baseUrl + path, JSON.stringify(body ?? {}), this.headers({}), this.timeoutMs);
  }

  get<T = any>(path: string): Promise<Res<T>> {
    return rawRequest(this.agent, 'GET', this.baseUrl + path, undefined, this.headers({}), this.timeoutMs);
  }

  /** GET every page of a list endpoint. */
  async list<T = any>(path: string): Promise<T[]> {
    const out: T[] = [];
    let after: string | undefined;
    for (;;) {
      const sep = path.includes('?') ? '&' : '?';
      const res = await this.get<{ data: (T & { id: string })[]; has_more: boolean }>(`${path}${sep}limit=100${after ? `&starting_after=${after}` : ''}`);
      if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(res.body)}`);
      out.push(...res.body.data);
      if (!res.body.has_more || res.body.data.length === 0) return out;
      after = res.body.data[res.body.data.length - 1]!.id;
    }
  }

  close(): void {
    this.agent.destroy();
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    return { authorization: `Bearer ${this.key}`, ...extra };
  }
}

/** A seeded PRNG (mulberry32), so a failing run can be repeated with the same seed. */
export function prng(seed: number): { next(): number; int(min: number, max: number): number; pick<T>(xs: readonly T[]): T } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return { next, int, pick: (xs) => xs[Math.floor(next() * xs.length)]! };
}
