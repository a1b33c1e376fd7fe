// Reading a V8 .cpuprofile (node --cpu-prof): self time by package/file and the top functions.
import { readFileSync } from 'node:fs';
import { round } from './stats.js';

/** Self time by package / file and the top functions, from a .cpuprofile. */
export function summarizeProfile(file: string, windowUs: [number, number] = [0, Number.MAX_SAFE_INTEGER]) {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
    samples: number[];
    timeDeltas: number[];
    startTime: number;
  };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  // Sample times are CLOCK_MONOTONIC µs, like process.hrtime here: keep the load window only.
  let at = prof.startTime;
  prof.samples.forEach((id, i) => {
    const dt = prof.timeDeltas[i] ?? 0;
    at += dt;
    if (at >= windowUs[0] && at <= windowUs[1]) self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i + 1] ?? dt));
  });
  let total = 0;
  const cats = new Map<string, number>();
  const fns = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === '(idle)') continue;
    total += us;
    let cat = functionName.startsWith('(') ? functionName : 'other';
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (m) cat = m[1] as string;
    else if (url.includes('/dist/')) cat = `settle ${url.slice(url.indexOf('/dist/') + 6)}`;
    else if (url.startsWith('node:')) cat = url;
    else if (url.startsWith('wasm://')) cat = 'PGlite WebAssembly (PostgreSQL itself)';
    else if (!url && !functionName.startsWith('(')) cat = '(native / builtins)';
    cats.set(cat, (cats.get(cat) ?? 0) + us);
    const fkey = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, 'dist/')}:${lineNumber + 1}`;
    fns.set(fkey, (fns.get(fkey) ?? 0) + us);
  }
  const top = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: round(us / 1000, 0), pct: round((100 * us) / total, 1) }));
  return { busyMs: round(total / 1000, 0), byPackage: top(cats, 25), topFunctions: top(fns, 30) };
}
