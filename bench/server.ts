// The built Settle server as a child process on a free port: spawn, wait for the first
// 200 on /v1/health (that wait is the cold start), sample its memory from /proc, stop.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/settle.js', import.meta.url));

const live = new Set<ChildProcess>();

/** Kills every server this process started that is still running (used on exit). */
export function killAllServers(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  live.clear();
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Memory {
  rssMb: number;
  hwmMb: number;
}

export function readMemory(pid: number): Memory | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rssMb: Math.round(kb('VmRSS') / 102.4) / 10, hwmMb: Math.round(kb('VmHWM') / 102.4) / 10 };
  } catch {
    return null;
  }
}

/** CPU time (user + system) a process has used so far, in ms; null once it is gone. */
export function cpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[11], [12] are utime and stime (fields 14 and 15 of proc(5)), in clock ticks.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}
const CLOCK_TICKS = 100;

/** Summed CPU ms of the PostgreSQL backends serving database `dbName` (found in /proc). */
export function postgresBackendsCpuMs(dbName: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.startsWith('postgres: ') && cmd.includes(` ${dbName} `)) total += cpuMs(Number(entry)) ?? 0;
    } catch {
      /* gone */
    }
  }
  return total;
}

/**
 * Tracks the CPU used by a changing set of processes (e.g. pgbench and its backends,
 * which exit at the end) by polling /proc; processes that already existed count only
 * from the start. The last poll interval of a process that exits is lost (< 100 ms).
 */
export class CpuTracker {
  private readonly base = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly match: (pid: number, cmdline: string) => boolean) {
    this.poll(true);
    this.timer = setInterval(() => this.poll(false), 100);
  }

  private poll(initial: boolean): void {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const pid = Number(entry);
      try {
        if (!this.last.has(pid) && !this.match(pid, readFileSync(`/proc/${entry}/cmdline`, 'utf8'))) continue;
      } catch {
        continue;
      }
      const cpu = cpuMs(pid);
      if (cpu === null) continue;
      if (initial) this.base.set(pid, cpu);
      this.last.set(pid, cpu);
    }
  }

  /** CPU ms used since construction. */
  stop(): number {
    this.poll(false);
    clearInterval(this.timer);
    let total = 0;
    for (const [pid, cpu] of this.last) total += cpu - (this.base.get(pid) ?? 0);
    return total;
  }
}

export const isBackendOf = (dbName: string) => (_pid: number, cmd: string) => cmd.startsWith('postgres: ') && cmd.includes(` ${dbName} `);

export interface ServerOptions {
  env: Record<string, string>;
  logFile: string;
  /** Extra node flags, e.g. --cpu-prof or --import a profiling hook. */
  nodeArgs?: string[];
  startTimeoutMs?: number;
  /** Another checkout to run the server of (its bin/settle.js and dist/), e.g. for bench/ab.ts. */
  root?: string;
}

export interface Server {
  pid: number;
  port: number;
  /** Spawn → first 200 on /v1/health. */
  coldStartMs: number;
  /** Highest VmRSS seen by sample() and the kernel's VmHWM. */
  peak: Memory;
  sample(): Memory | null;
  /** CPU ms the server has used since it started. */
  cpuMs(): number;
  stop(): Promise<{ code: number | null; signal: string | null }>;
}

function healthOk(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/v1/health', agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * The Node flags `npm start` runs the server with (read from package.json, so the bench
 * measures what people run), plus any given for an experiment:
 * SETTLE_BENCH_SERVER_ARGS="--flag …".
 */
const SERVER_NODE_ARGS = [...startScriptNodeArgs(), ...(process.env.SETTLE_BENCH_SERVER_ARGS ?? '').split(/\s+/).filter(Boolean)];

function startScriptNodeArgs(): string[] {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } };
  const words = pkg.scripts.start.split(/\s+/);
  if (words[0] !== 'node' || !words.includes('bin/settle.js')) throw new Error(`bench: cannot read the node flags of "npm start" (${pkg.scripts.start})`);
  return words.slice(1, words.indexOf('bin/settle.js'));
}

export async function startServer(o: ServerOptions): Promise<Server> {
  const port = await freePort();
  const fd = openSync(o.logFile, 'a');
  const t0 = performance.now();
  // SETTLE_DB_POOL in the bench's environment reaches the server (to compare pool sizes).
  const root = o.root ?? ROOT;
  const child = spawn(process.execPath, [...SERVER_NODE_ARGS, ...(o.nodeArgs ?? []), o.root ? path.join(o.root, 'bin', 'settle.js') : BIN, 'serve'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', PORT: String(port), SETTLE_SEED_DEMO: '0', ...(process.env.SETTLE_DB_POOL ? { SETTLE_DB_POOL: process.env.SETTLE_DB_POOL } : {}), ...o.env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  live.add(child);
  let exited: { code: number | null; signal: string | null } | null = null;
  const exitPromise = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      exited = { code, signal };
      resolve(exited);
    }),
  );
  const deadline = t0 + (o.startTimeoutMs ?? 60_000);
  for (;;) {
    if (exited) throw new Error(`server exited during start (${JSON.stringify(exited)}):\n${tail(o.logFile)}`);
    if (await healthOk(port)) break;
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not answer /v1/health within ${o.startTimeoutMs ?? 60_000} ms:\n${tail(o.logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const coldStartMs = Math.round(performance.now() - t0);
  const pid = child.pid as number;
  const peak: Memory = { rssMb: 0, hwmMb: 0 };
  const sample = () => {
    const m = readMemory(pid);
    if (m) {
      peak.rssMb = Math.max(peak.rssMb, m.rssMb);
      peak.hwmMb = Math.max(peak.hwmMb, m.hwmMb);
    }
    return m;
  };
  sample();
  return {
    pid,
    port,
    coldStartMs,
    peak,
    sample,
    cpuMs: () => cpuMs(pid) ?? 0,
    async stop() {
      if (exited) return exited;
      sample();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const result = await exitPromise;
      clearTimeout(timer);
      return result;
    },
  };
}
