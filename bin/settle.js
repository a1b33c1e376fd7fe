#!/usr/bin/env node
// Runs the compiled CLI; `npm install` builds it (the `prepare` script).
import('../dist/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    console.error('settle: not built yet. Run `npm install` (or `npm run build`) first.');
    process.exit(1);
  }
  throw err;
});
