#!/usr/bin/env node
// `npm test`: everything, on a fresh machine. Installs what is missing (npm packages now;
// later issues add Debian's chromium and redis-server here), type-checks, runs the unit,
// property and simulation tests, then a rotating batch of simulator seeds.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const simSeeds = Number(process.env.SIM_SEEDS ?? 100);

function run(cmd, args, opts = {}) {
  console.log(`\n$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    console.error(`\nnpm test: "${cmd} ${args.join(' ')}" failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
}

if (!existsSync(join(root, 'node_modules', '.package-lock.json'))) run('npm', ['ci', '--no-audit', '--no-fund']);
run('npx', ['tsc', '--noEmit', '-p', '.']);
run('npx', ['vitest', 'run']);
// Seeds rotate daily so CI keeps exploring new schedules; a failure prints its replay command.
const start = Math.floor(Date.now() / 86_400_000) * 1000;
run('node', ['scripts/run-bundled.mjs', 'ring/sim/cli.ts', '--seeds', String(simSeeds), '--start', String(start)]);
