#!/usr/bin/env node
// `npm test`: everything, on a fresh machine. Installs what is missing (Debian packages,
// npm packages), builds, type-checks, lints, checks formatting, runs the unit, property (fuzzers at a small size),
// simulation, multi-process, deployment and browser tests, one short chaos scenario, then a
// rotating batch of simulator seeds.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDependencies } from './ensure-deps.mjs';

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

/** Debian packages the tests need, by the command they provide. Installed when missing (CI runs as root). */
const debianPackages = {
  'docker-compose': 'docker-compose',
  ip: 'iproute2',
  iptables: 'iptables',
  chromium: 'chromium',
  'redis-server': 'redis-server',
  faketime: 'faketime',
};

function hasCommand(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

const missing = Object.entries(debianPackages)
  .filter(([cmd]) => !hasCommand(cmd))
  .map(([, pkg]) => pkg);
if (missing.length > 0) {
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const aptGet = (args) =>
    spawnSync(sudo[0] ?? 'apt-get', [...sudo.slice(1), ...(sudo.length ? ['apt-get'] : []), ...args], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    }).status === 0;
  if (!aptGet(['install', '-y', '--no-install-recommends', ...missing])) {
    run(sudo[0] ?? 'apt-get', [...sudo.slice(1), ...(sudo.length ? ['apt-get'] : []), 'update']);
    run(
      sudo[0] ?? 'apt-get',
      [...sudo.slice(1), ...(sudo.length ? ['apt-get'] : []), 'install', '-y', '--no-install-recommends', ...missing],
      { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } },
    );
  }
}
ensureDependencies(root);
run('node', ['scripts/build.mjs']);
run('npx', ['tsc', '--noEmit', '-p', '.']);
run('npx', ['tsc', '--noEmit', '-p', 'tsconfig.next.json']);
// Layering, promises and `any` (eslint.config.js), then formatting at 120 columns (Prettier).
run('npx', ['eslint', '.']);
run('npx', ['prettier', '--check', '.']);
run('npx', ['vitest', 'run']);
// End to end in Debian's chromium against a 3-node cluster of production builds.
run('npx', ['playwright', 'test']);
// One short chaos scenario over real processes (kill -9 loops under load, histories checked);
// `npm run chaos` runs them all and writes CHAOS.md.
run('node', ['scripts/run-bundled.mjs', 'chaos/run.ts', '--ci']);
// Seeds rotate daily so CI keeps exploring new schedules; a failure prints its replay command.
// Each seed runs the ring's scenario and the shortener's (server/sim/cli.ts, as `npm run sim`).
const start = Math.floor(Date.now() / 86_400_000) * 1000;
run('node', ['scripts/run-bundled.mjs', 'server/sim/cli.ts', '--seeds', String(simSeeds), '--start', String(start)]);
// Last and alone: `npm start` on a fresh clone of HEAD (installs and builds a second copy).
run('npx', ['vitest', 'run', '--config', 'vitest.fresh.config.ts']);
