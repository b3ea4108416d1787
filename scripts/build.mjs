#!/usr/bin/env node
// `npm run build`: bundle the server entry and ringctl into dist/ (esbuild; npm packages
// stay external and load from node_modules). The Next.js build joins here with the web app.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
for (const [entry, out] of [
  ['server/main.ts', 'dist/server.mjs'],
  ['server/cli/ringctl.ts', 'dist/ringctl.mjs'],
]) {
  await build({
    entryPoints: [join(root, entry)],
    outfile: join(root, out),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
    banner: { js: '// Built by scripts/build.mjs from ' + entry + '; do not edit.' },
  });
}
console.log('built dist/server.mjs and dist/ringctl.mjs');
