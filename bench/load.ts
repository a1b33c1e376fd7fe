// A small closed-loop HTTP load generator on node:http with a keep-alive Agent: N
// clients, each sending its next request as soon as the previous answer is in. Only
// talks to 127.0.0.1.
import http from 'node:http';
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
  readonly agent: http.Agent;

  constructor(
    readonly port: number,
    private readonly apiKey: string,
    maxSockets: number,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'fifo' });
  }

  request(req: BenchRequest): Promise<Response> {
    const payload = req.body === undefined ? undefined : JSON.stringify(req.body);
    const headers: Record<string, string | number> = { authorization: `Bearer ${this.apiKey}`, ...(req.headers ?? {}) };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    return new Promise((resolve, reject) => {
      const r = http.request({ host: '127.0.0.1', port: this.port, method: req.method, path: req.path, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      r.on('error', reject);
      if (payload !== undefined) r.end(payload);
      else r.end();
    });
  }

  /** Sends a request and parses a 2xx JSON answer; throws on anything else. */
  async json<T = any>(req: BenchRequest): Promise<T> {
    const res = await this.request(req);
    if (res.status < 200 || res.status >= 300) throw new Error(`${req.method} ${req.path} → ${res.status}: ${res.body.slice(0, 300)}`);
    return JSON.parse(res.body) as T;
  }

  close(): void {
    this.agent.destroy();
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
