// Ordered list of migrations; each runs once, in its own transaction, at start.
import * as m001 from './001_foundation.js';

export interface Migration {
  name: string;
  up: string;
}

export const migrations: readonly Migration[] = [m001];
