// The processes Settle runs, by name and version. An order stores both, so when a process
// changes, the new version is added here and orders created under the old one keep it.
import { bookingProcess, bookingProcessV1_0, bookingProcessV1_1 } from './booking.js';
import { directProcess, directProcessV1_0 } from './direct.js';
import { prepayProcess } from './prepay.js';
import type { ProcessDefinition } from './types.js';

export * from './vocabulary.js';
export * from './time.js';
export * from './types.js';
export * from './validate.js';
export * from './engine.js';
export { toMermaid, type MermaidOptions } from './mermaid.js';
export { bookingProcess, bookingProcessV1_0, bookingProcessV1_1, type BookingProcess } from './booking.js';
export { directProcess, directProcessV1_0, type DirectProcess } from './direct.js';
export { prepayProcess, type PrepayProcess } from './prepay.js';

/** The version new orders get, per process name. */
export const CURRENT_PROCESSES = { booking: bookingProcess, direct: directProcess, prepay: prepayProcess } as const;
export type ProcessName = keyof typeof CURRENT_PROCESSES;

const ALL_VERSIONS: readonly ProcessDefinition[] = [bookingProcess, bookingProcessV1_1, bookingProcessV1_0, directProcess, directProcessV1_0, prepayProcess];

export const isProcessName = (name: string): name is ProcessName => Object.hasOwn(CURRENT_PROCESSES, name);

/** Every version of a process Settle can run, oldest first. */
export function processVersions(name: string): string[] {
  return ALL_VERSIONS.filter((p) => p.name === name)
    .map((p) => p.version)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/** The definition an order runs on: its name and the version it was created under (default: current). */
export function getProcess(name: string, version?: string): ProcessDefinition | undefined {
  if (version === undefined) return isProcessName(name) ? CURRENT_PROCESSES[name] : undefined;
  return ALL_VERSIONS.find((p) => p.name === name && p.version === version);
}
