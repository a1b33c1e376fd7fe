// A small closed-loop HTTP load generator: N clients, each sending its next request as soon
// as the previous answer is in, over keep-alive connections of the lean HTTP/1.1 client in
// http1.ts (the load generator shares the machine with the server it measures). Only talks
// to 127.0.0.1.
import { Http1Connection } from './http1.js';
import { summarize, round, type LatencySummary } from './stats.js';

export interface BenchRequest {
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Response {
  status: number;
  body: string;
}

export class Client {
  private readonly free: Http1Connection[] = [];
  private readonly all = new Set<Http1Connection>();
  private readonly waiting: { resolve: (c: Http1Connection) => void; reject: (e: Error) => void }[] = [];
  private closed = false;

  constructor(
    readonly port: number,
    private readonly apiKey: string,
    private readonly maxSockets: number,
  ) {}

  async request(req: BenchRequest): Promise<Response> {
    const payload = req.body === undefined ? undefined : JSON.stringify(req.body);
    let head = `${req.method} ${req.path} HTTP/1.1\r\nhost: 127.0.0.1:${this.port}\r\nauthorization: Bearer ${this.apiKey}\r\n`;
    if (req.headers) for (const [name, value] of Object.entries(req.headers)) head += `${name}: ${value}\r\n`;
    head += payload === undefined ? '\r\n' : `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(payload)}\r\n\r\n`;
    const conn = await this.connection();
    try {
      return await conn.request(head, payload);
    } finally {
      this.release(conn);
    }
  }

  /** A free connection, a new one while fewer than maxSockets are open, or the next one freed. */
  private connection(): Promise<Http1Connection> | Http1Connection {
    if (this.closed) throw new Error('bench client: closed');
    for (let free = this.free.pop(); free; free = this.free.pop()) {
      if (free.usable) return free;
      this.all.delete(free); // closed by the server while idle
    }
    if (this.all.size < this.maxSockets) {
      const conn = new Http1Connection(this.port);
      this.all.add(conn);
      return conn;
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private release(conn: Http1Connection): void {
    if (this.closed) {
      conn.close();
      return;
    }
    if (!conn.usable) {
      this.all.delete(conn);
      // Its place is free: a waiter gets a new connection.
      const next = this.waiting.shift();
      if (next) {
        const fresh = new Http1Connection(this.port);
        this.all.add(fresh);
        next.resolve(fresh);
      }
      return;
    }
    const next = this.waiting.shift();
    if (next) next.resolve(conn);
    else this.free.push(conn);
  }

  /** Sends a request and parses a 2xx JSON answer; throws on anything else. */
  async json<T = any>(req: BenchRequest): Promise<T> {
    return JSON.parse(await this.ok(req)) as T;
  }

  /** Sends a request and gives a 2xx answer's text, unparsed (the load generator's CPU is the server's loss); throws on anything else. */
  async ok(req: BenchRequest): Promise<string> {
    const res = await this.request(req);
    if (res.status < 200 || res.status >= 300) throw new Error(`${req.method} ${req.path} → ${res.status}: ${res.body.slice(0, 300)}`);
    return res.body;
  }

  close(): void {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.reject(new Error('bench client: closed'));
    for (const conn of this.all) conn.close();
    this.all.clear();
    this.free.length = 0;
  }
}

/** Runs `items` through `fn` with at most `concurrency` in flight; results in order. */
export async function mapConcurrent<I, O>(items: readonly I[], concurrency: number, fn: (item: I, index: number) => Promise<O>): Promise<O[]> {
  const out = new Array<O>(items.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      out[i] = await fn(items[i] as I, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}

export interface LoadOptions {
  client: Client;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** The i-th request (i counts every request sent, warm-up included). */
  next: (i: number) => BenchRequest;
  /** Called about every 200 ms while measuring (e.g. to sample the server's memory). */
  onTick?: () => void;
  /** Called once when the warm-up ends and measuring starts. */
  onMeasureStart?: () => void;
}

export interface LoadResult {
  concurrency: number;
  durationS: number;
  requests: number;
  ok: number;
  errors: number;
  throughputPerS: number;
  latency: LatencySummary;
  statuses: Record<string, number>;
  errorSamples: string[];
}

/** Closed-loop load: `concurrency` clients for warm-up + duration; measures only after the warm-up. */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const start = performance.now();
  const measureFrom = start + o.warmupMs;
  const stopAt = measureFrom + o.durationMs;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const errorSamples: string[] = [];
  let sent = 0;
  let ok = 0;
  let errors = 0;
  let lastEnd = measureFrom;
  const tick = o.onTick ? setInterval(() => performance.now() >= measureFrom && o.onTick?.(), 200) : null;
  const startTimer = setTimeout(() => o.onMeasureStart?.(), o.warmupMs);

  const worker = async () => {
    while (performance.now() < stopAt) {
      const req = o.next(sent++);
      const t0 = performance.now();
      let status = 0;
      let body = '';
      try {
        const res = await o.client.request(req);
        status = res.status;
        body = res.body;
      } catch (err) {
        body = String((err as Error).message ?? err);
      }
      const t1 = performance.now();
      if (t0 < measureFrom) continue; // warm-up
      lastEnd = Math.max(lastEnd, t1);
      latencies.push(t1 - t0);
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status >= 200 && status < 300) ok++;
      else {
        errors++;
        if (errorSamples.length < 5) errorSamples.push(`${status}: ${body.slice(0, 300)}`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: o.concurrency }, worker));
  } finally {
    if (tick) clearInterval(tick);
    clearTimeout(startTimer);
  }
  const windowS = (lastEnd - measureFrom) / 1000;
  return {
    concurrency: o.concurrency,
    durationS: round(windowS),
    requests: latencies.length,
    ok,
    errors,
    throughputPerS: round(windowS > 0 ? ok / windowS : 0, 1),
    latency: summarize(latencies),
    statuses,
    errorSamples,
  };
}
