#!/usr/bin/env node
// `npm run sim`: bundle the simulator with esbuild (plain JS: faster than running through
// tsx, whose transform keeps every closure's name) and run it with the given arguments.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'node_modules', '.cache', 'ringlink');
mkdirSync(outDir, { recursive: true });
const outfile = join(outDir, 'sim.mjs');
await build({
  entryPoints: [join(root, 'ring', 'sim', 'cli.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile,
  packages: 'external',
  logLevel: 'warning',
});
const r = spawnSync(process.execPath, [outfile, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
