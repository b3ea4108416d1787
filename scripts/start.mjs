#!/usr/bin/env node
// `npm start`: install (npm ci) and build if needed, then run a local 3-node cluster on 127.0.0.1:3000-3002
// (START_PORT moves them)
// with embedded defaults (no Redis, data under ./data). Log lines are prefixed by node.
// Ctrl-C stops every node gracefully (SIGINT: flush and exit, staying a member, so the
// next `npm start` resumes the same cluster from ./data).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ensureDependencies } from './ensure-deps.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** START_PORT moves the three nodes (default 3000-3002), e.g. when port 3000 is taken. */
const startPort = Number(process.env.START_PORT ?? 3000);
if (!Number.isInteger(startPort) || startPort < 1 || startPort > 65533) {
  console.error(
    `config: START_PORT must be a port number from 1 to 65533 (got ${JSON.stringify(process.env.START_PORT)})`,
  );
  process.exit(1);
}
const ports = [startPort, startPort + 1, startPort + 2];
ensureDependencies(root);

// Every time: cheap when nothing changed (esbuild re-bundles in about a second; Next's build is
// skipped when .next is newer than its inputs), and a fresh clone gets both.
const built = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit', cwd: root });
if (built.status !== 0) process.exit(built.status ?? 1);
const bundle = join(root, 'dist', 'server.mjs');

/**
 * A secret generated on first start and kept under ./data (mode 0600), so there is no
 * built-in secret anybody could read in the source: the cluster secret peers authenticate
 * with, and the admin token. An environment variable of the same name wins.
 */
function localSecret(envName, file) {
  if (process.env[envName]) return process.env[envName];
  const path = join(root, 'data', file);
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const secret = randomBytes(32).toString('hex');
  mkdirSync(join(root, 'data'), { recursive: true });
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return secret;
}
const clusterSecret = localSecret('CLUSTER_SECRET', 'cluster-secret');
const adminToken = localSecret('ADMIN_TOKEN', 'admin-token');

const colors = ['\x1b[36m', '\x1b[35m', '\x1b[33m'];
const anyData = ports.some((_, i) => {
  const dir = join(root, 'data', `n${i + 1}`);
  return existsSync(dir) && readdirSync(dir).length > 0;
});
const children = ports.map((port, i) => {
  const name = `n${i + 1}`;
  const dataDir = join(root, 'data', name);
  mkdirSync(dataDir, { recursive: true });
  const env = {
    ...process.env,
    NODE_NAME: name,
    HOST: '127.0.0.1',
    PORT: String(port),
    SEEDS: ports
      .filter((p) => p !== port)
      .map((p) => `127.0.0.1:${p}`)
      .join(','),
    DATA_DIR: dataDir,
    ADMIN_TOKEN: adminToken,
    CLUSTER_SECRET: clusterSecret,
  };
  // n1 founds the cluster the first time; once any node has data, everyone rejoins through seeds.
  if (i === 0 && !anyData) env.SEEDS = '';
  const child = spawn(process.execPath, ['--enable-source-maps', bundle], {
    env,
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = `${colors[i]}[${name}]\x1b[0m `;
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      try {
        const { level, msg, time: _t, node: _n, pid: _p, hostname: _h, ...rest } = JSON.parse(line);
        const lvl = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' }[level] ?? level;
        const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
        console.log(`${prefix}${lvl} ${msg}${extra}`);
      } catch {
        console.log(prefix + line);
      }
    });
  }
  child.on('exit', (code, signal) => {
    console.log(`${prefix}exited (${signal ?? code})`);
    if (children.every((c) => c.exitCode !== null || c.signalCode !== null)) process.exit(0);
  });
  return child;
});

console.log(`ringlink local cluster: ${ports.map((p) => `http://127.0.0.1:${p}`).join('  ')}`);
console.log(`  cluster view:  curl http://127.0.0.1:3000/api/cluster`);
console.log(`  ringctl:       ADMIN_TOKEN=$(cat data/admin-token) npm run ringctl -- status`);
console.log('  secrets:       data/cluster-secret (peers), data/admin-token (admin API), generated on first start');
console.log('  Ctrl-C stops all nodes (they stay members; data in ./data)');

let stopping = false;
process.on('SIGINT', () => {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping all nodes...');
  for (const c of children) c.kill('SIGINT');
  setTimeout(() => {
    for (const c of children) c.kill('SIGKILL');
    process.exit(1);
  }, 15_000).unref();
});
process.on('SIGTERM', () => process.emit('SIGINT'));
