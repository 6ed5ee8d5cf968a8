#!/usr/bin/env node
import('../dist/cli.js').catch((err) => {
  if (err.code === 'ERR_MODULE_NOT_FOUND') {
    console.error('trajectory is not built yet: run `npm start` (or `npx turbo run build`) first.');
    process.exit(1);
  }
  throw err;
});
