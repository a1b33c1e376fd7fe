// How Settle starts PGlite: a smaller shared_buffers, and the WebAssembly module compiled
// ahead, while the rest of the server is still loading. Only node: modules are imported
// here, so the CLI can call precompilePGlite() before it loads anything else.
import { readFile } from 'node:fs/promises';

/**
 * PostgreSQL's shared_buffers inside PGlite. PGlite's WebAssembly heap holds them, so the
 * default 128MB is ~110 MB of resident memory more than 16MB, and it also makes the start
 * slower (the buffers are initialized at every start). Reads that miss them go to the
 * data files through the OS page cache, so on one connection little is lost.
 * Passed on the command line (`-c`), so it applies to existing data dirs too and
 * `postgresql.conf` in the data dir is left as initdb wrote it.
 */
export const PGLITE_SHARED_BUFFERS = process.env.SETTLE_PGLITE_SHARED_BUFFERS || '16MB';

export function pgliteStartParams(defaults: readonly string[]): string[] {
  return [...defaults, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`];
}

let compiled: Promise<WebAssembly.Module | undefined> | null = null;

/**
 * Starts compiling pglite.wasm (V8 compiles it on background threads), so that opening
 * PGlite later does not wait for it. Harmless to call more than once, or not at all.
 */
export function precompilePGlite(): void {
  compiled ??= (async () => {
    try {
      const url = new URL('./pglite.wasm', import.meta.resolve('@electric-sql/pglite'));
      return await WebAssembly.compile(await readFile(url));
    } catch {
      return undefined; // PGlite then loads and compiles it itself
    }
  })();
}

/** The module compiled by precompilePGlite() (started now if it was not), or undefined. */
export function precompiledPGlite(): Promise<WebAssembly.Module | undefined> {
  precompilePGlite();
  return compiled as Promise<WebAssembly.Module | undefined>;
}
