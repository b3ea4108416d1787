#!/usr/bin/env node
// `npm start`: build if needed, then run a local 3-node cluster on 127.0.0.1:3000-3002
// with embedded defaults (no Redis, data under ./data). Log lines are prefixed by node.
// Ctrl-C stops every node gracefully (SIGINT: flush and exit, staying a member, so the
// next `npm start` resumes the same cluster from ./data).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ports = [3000, 3001, 3002];
const adminToken = process.env.ADMIN_TOKEN ?? 'ringlink-local-admin-token';

function newestMtime(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}
const bundle = join(root, 'dist', 'server.mjs');
const stale = !existsSync(bundle) || ['ring', 'server'].some((d) => newestMtime(join(root, d)) > statSync(bundle).mtimeMs);
if (stale) {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

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
    SEEDS: ports.filter((p) => p !== port).map((p) => `127.0.0.1:${p}`).join(','),
    DATA_DIR: dataDir,
    ADMIN_TOKEN: adminToken,
  };
  // n1 founds the cluster the first time; once any node has data, everyone rejoins through seeds.
  if (i === 0 && !anyData) env.SEEDS = '';
  const child = spawn(process.execPath, ['--enable-source-maps', bundle], { env, cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
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
console.log(`  ringctl:       ADMIN_TOKEN=${adminToken} npm run ringctl -- status`);
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
