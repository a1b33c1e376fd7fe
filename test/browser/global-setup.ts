// Builds the web pages (web/ → web/dist) once before the browser tests, so they test the
// code as it is now; the servers they start serve that build.
import path from 'node:path';
import { build } from 'vite';
import { ROOT } from '../helpers/process.js';

export default async function setup(): Promise<void> {
  // Vitest sets NODE_ENV=test, which would make Vite bundle React's development build.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ root: path.join(ROOT, 'web'), configFile: path.join(ROOT, 'web', 'vite.config.ts'), mode: 'production', logLevel: 'warn' });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
}
