// A child process run to its end, its output collected: pgbench, `settle migrate` / `settle
// check`, and the issue-3 scripts (each prints one JSON report on stdout).
import { spawn } from 'node:child_process';

export interface ChildOutput {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ChildOptions {
  cwd?: string;
  /** The child's whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Told the child's pid once it runs (e.g. to count its CPU). */
  onSpawn?: (pid: number) => void;
}

/** Runs `cmd args` and resolves once it has exited; rejects only if it could not start. */
export function runChild(cmd: string, args: string[], o: ChildOptions = {}): Promise<ChildOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(o.cwd ? { cwd: o.cwd } : {}), ...(o.env ? { env: o.env } : {}) });
    if (child.pid) o.onSpawn?.(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
