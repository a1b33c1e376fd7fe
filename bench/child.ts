// A child process run to its end, its output collected (the bench's `settle check` and the
// issue-3 scripts, each of which prints one JSON report on stdout).
import { spawn } from 'node:child_process';
import { ROOT } from './server.js';

export interface ChildOutput {
  code: number | null;
  out: string;
  err: string;
}

/** Runs `node <args>` in the project's directory and resolves once it has exited. */
export function runNode(args: string[], env: NodeJS.ProcessEnv): Promise<ChildOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}
