// Cluster runtime figures over real processes on loopback:
//   - load K keys into one node (admin API, C requests in flight; R=W=1 so one node accepts writes);
//   - join a second node: join-to-ready time, and handoff time/rate until no partition
//     is moving and the newcomer holds every key (with 2 nodes and N=3 every key lives
//     on both, so all K keys move);
//   - SIGKILL the newcomer: failure detection time (until the survivor reports it not alive);
//   - SIGINT and restart the first node with its DATA_DIR: log replay and restart-to-ready time.
//
// npm run bench:cluster [-- --keys 100000 --concurrency 64 --json --json-out FILE]
//   --json       print the figures as one JSON line on stdout (instead of the list)
//   --json-out   also write them (with the settings) to FILE (used by `npm run bench`)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, waitFor } from './lib/wait';

const { values } = parseArgs({ options: { keys: { type: 'string', default: '100000' }, concurrency: { type: 'string', default: '64' }, json: { type: 'boolean', default: false }, 'json-out': { type: 'string' } } });
const keyCount = Number(values.keys);
const concurrency = Number(values.concurrency);
const token = 'bench-admin-token-0123456789';
// npm runs scripts from the package root (this file is bundled elsewhere before it runs).
const root = process.cwd();


interface Proc {
  name: string;
  port: number;
  child: ChildProcess;
  log: string[];
}

function start(name: string, port: number, seeds: number[], dataDir: string): Proc {
  const log: string[] = [];
  const child = spawn(process.execPath, [join(root, 'dist', 'server.mjs')], {
    env: { ...process.env, NODE_NAME: name, HOST: '127.0.0.1', PORT: String(port), SEEDS: seeds.map((p) => `127.0.0.1:${p}`).join(','), DATA_DIR: dataDir, ADMIN_TOKEN: token, LOG_LEVEL: 'info', R: '1', W: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const s of [child.stdout!, child.stderr!]) s.on('data', (b: Buffer) => log.push(...b.toString().split('\n').filter(Boolean)));
  return { name, port, child, log };
}


const get = (port: number, path: string) => fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${token}` } });
const ready = (p: Proc) => waitFor(`${p.name} ready`, async () => ((await get(p.port, '/readyz')).ok ? true : undefined), 60_000);
const status = async (p: Proc) => (await (await get(p.port, '/api/admin/status')).json()) as { keys: number; ring: { partitions: { next: string | null }[] }; members: { name: string; liveness: string }[] };

const dirs = [mkdtempSync(join(tmpdir(), 'ringlink-bench-a-')), mkdtempSync(join(tmpdir(), 'ringlink-bench-b-'))];
const procs: Proc[] = [];
// Interrupted (Ctrl-C, or `npm run bench` stopping it): kill the nodes, remove their data.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    for (const p of procs) p.child.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    process.exit(130);
  });
}
try {
  const [portA, portB] = [await freePort(), await freePort()];
  let t = performance.now();
  const a = start('a', portA, [], dirs[0]!);
  procs.push(a);
  await ready(a);
  const firstReadyMs = performance.now() - t;

  t = performance.now();
  let next = 0;
  let failed = 0;
  const worker = async () => {
    for (let i = next++; i < keyCount; i = next++) {
      const res = await fetch(`http://127.0.0.1:${portA}/api/admin/kv/k${i}`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ value: { url: `https://example.com/page/${i}`, n: i } }) });
      if (!res.ok) failed++;
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const loadSeconds = (performance.now() - t) / 1000;
  if (failed > 0) throw new Error(`${failed} of ${keyCount} loading PUTs failed`);

  t = performance.now();
  const b = start('b', portB, [portA], dirs[1]!);
  procs.push(b);
  await ready(b);
  const joinToReadyMs = performance.now() - t;
  await waitFor('handoff to finish', async () => {
    const [sa, sb] = [await status(a), await status(b)];
    return sa.ring.partitions.every((c) => !c.next) && sb.ring.partitions.every((c) => !c.next) && sb.keys >= keyCount ? true : undefined;
  }, 600_000);
  const handoffSeconds = (performance.now() - t) / 1000;

  t = performance.now();
  b.child.kill('SIGKILL');
  await waitFor('failure detection', async () => ((await status(a)).members.find((m) => m.name === 'b')?.liveness !== 'alive' ? true : undefined), 30_000);
  const detectSuspectMs = performance.now() - t;
  await waitFor('dead', async () => ((await status(a)).members.find((m) => m.name === 'b')?.liveness === 'dead' ? true : undefined), 30_000);
  const detectDeadMs = performance.now() - t;

  a.child.kill('SIGINT');
  await new Promise((r) => a.child.once('exit', r));
  t = performance.now();
  const a2 = start('a', portA, [portB], dirs[0]!);
  procs.push(a2);
  await ready(a2);
  const restartToReadyMs = performance.now() - t;
  const restored = a2.log.map((l) => { try { return JSON.parse(l); } catch { return {}; } }).find((l) => l.msg === 'restored state from disk') ?? {};

  const result = {
    keys: keyCount,
    loadFailures: failed,
    loadPutsPerSecond: Math.round(keyCount / loadSeconds),
    firstNodeReadyMs: Math.round(firstReadyMs),
    joinToReadyMs: Math.round(joinToReadyMs),
    handoffSeconds: +handoffSeconds.toFixed(2),
    handoffKeysPerSecond: Math.round(keyCount / handoffSeconds),
    failureSuspectedMs: Math.round(detectSuspectMs),
    failureDeadMs: Math.round(detectDeadMs),
    restartToReadyMs: Math.round(restartToReadyMs),
    replayRecords: (restored.snapshotRecords ?? 0) + (restored.tailRecords ?? 0),
    replayMs: Math.round(restored.millis ?? 0),
    replayRecordsPerSecond: restored.millis ? Math.round(((restored.snapshotRecords ?? 0) + (restored.tailRecords ?? 0)) / (restored.millis / 1000)) : null,
  };
  if (values.json) console.log(JSON.stringify(result));
  else for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(24)} ${v}`);
  if (values['json-out']) {
    const file = values['json-out'];
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, `${JSON.stringify({ benchmark: 'cluster', settings: { keys: keyCount, concurrency, r: 1, w: 1 }, result }, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
  }
} finally {
  for (const p of procs) p.child.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
