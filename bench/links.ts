// Shortener figures over a real 3-node cluster on loopback (N=3, R=2, W=2):
//   - creates per second through POST /api/links (API key, random slugs: each create is a
//     CAS claim of the slug, a quorum write of the link, and a merge into the owner index),
//     C requests in flight spread over the three nodes;
//   - memory per link: RSS and V8 heap growth per stored link copy after loading L links
//     (synthetic link documents through quorum writes, via a test hook), i.e.
//     (growth summed over nodes) / (links × N).
//
// npm run bench:links [-- --seconds 10 --concurrency 64 --links 1000000 --json --json-out FILE]
//   --json       print the figures as one JSON line on stdout
//   --json-out   write them (with the settings) to FILE (used by `npm run bench`)
import { spawn, type ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { freePort, waitFor } from './lib/wait';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, concurrency: { type: 'string', default: '64' }, links: { type: 'string', default: '1000000' }, json: { type: 'boolean', default: false }, 'json-out': { type: 'string' } } });
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const linkCount = Number(values.links);
const token = 'bench-admin-token-0123456789';
const root = process.cwd();


const children: ChildProcess[] = [];
const stopAll = () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
};
process.on('exit', stopAll);
process.on('SIGINT', () => {
  stopAll();
  process.exit(130);
});

function start(name: string, port: number, seed: number | undefined): void {
  const child = spawn(process.execPath, ['--expose-gc', join(root, 'dist', 'server.mjs')], {
    env: { ...process.env, NODE_NAME: name, HOST: '127.0.0.1', PORT: String(port), SEEDS: seed ? `127.0.0.1:${seed}` : '', ADMIN_TOKEN: token, LOG_LEVEL: 'warn', SERVE_UI: '0', RATE_LIMIT_CREATE_PER_MIN: '0', RINGLINK_TEST_FAULTS: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
}


async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return Number(line?.split(' ').pop());
}

async function memory(ports: number[]): Promise<{ rss: number; heap: number }> {
  let rss = 0;
  let heap = 0;
  for (const p of ports) {
    rss += await metric(p, 'process_resident_memory_bytes');
    heap += await metric(p, 'nodejs_heap_size_used_bytes');
  }
  return { rss, heap };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function main(): Promise<void> {
  const ports = [await freePort(), await freePort(), await freePort()];
  start('b1', ports[0]!, undefined);
  await waitFor('b1 ready', async () => (await fetch(`http://127.0.0.1:${ports[0]}/readyz`)).ok, 30_000);
  start('b2', ports[1]!, ports[0]);
  start('b3', ports[2]!, ports[0]);
  for (const p of ports) await waitFor(`${p} ready`, async () => (await fetch(`http://127.0.0.1:${p}/readyz`)).ok, 30_000);
  await waitFor('ring settled', async () => {
    const c = (await (await fetch(`http://127.0.0.1:${ports[0]}/api/cluster`)).json()) as { handoffs: unknown[]; ring: { partitions: { owner: string; next?: string }[] } };
    return c.handoffs.length === 0 && c.ring.partitions.every((p) => !p.next) && new Set(c.ring.partitions.map((p) => p.owner)).size === 3;
  }, 60_000);

  // An account and an API key to create with (no cookie, no Origin needed).
  const origin = `http://127.0.0.1:${ports[0]}`;
  const signup = await fetch(`${origin}/api/auth/signup`, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify({ username: 'bench', password: 'bench password' }) });
  const cookie = signup.headers.getSetCookie()[0]!.split(';')[0]!;
  const key = ((await (await fetch(`${origin}/api/keys`, { method: 'POST', headers: { 'content-type': 'application/json', origin, cookie }, body: JSON.stringify({ name: 'bench' }) })).json()) as { key: string }).key;

  // Compare-and-set serves once every acceptor caught up after the joins (a few seconds):
  // warm up until a create succeeds quickly through every node.
  const createVia = (port: number, n: number) => fetch(`http://127.0.0.1:${port}/api/links`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ url: `https://example.com/warm/${n}` }) });
  await waitFor('creates to be quick on every node', async () => {
    for (const p of ports) {
      const t = performance.now();
      if ((await createVia(p, Math.random())).status !== 201 || performance.now() - t > 100) return false;
    }
    return true;
  }, 60_000);

  // Creates, all by one account (one API key), as a script would.
  const latencies: number[] = [];
  let created = 0;
  let failed = 0;
  const deadline = performance.now() + seconds * 1000;
  let i = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const port = ports[i++ % 3]!;
        const t = performance.now();
        const r = await fetch(`http://127.0.0.1:${port}/api/links`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ url: `https://example.com/bench/${i}` }) });
        await r.arrayBuffer();
        if (r.status === 201) {
          created++;
          latencies.push(performance.now() - t);
        } else failed++;
      }
    }),
  );
  const elapsed = (performance.now() - (deadline - seconds * 1000)) / 1000;
  latencies.sort((a, b) => a - b);
  const creates = { perSecond: Math.round(created / Math.min(elapsed, seconds)), created, failed, p50Ms: +percentile(latencies, 50).toFixed(1), p99Ms: +percentile(latencies, 99).toFixed(1), concurrency };
  console.log(`creates: ${creates.perSecond}/s (${created} in ${Math.min(elapsed, seconds).toFixed(1)} s, ${failed} failed), p50 ${creates.p50Ms} ms, p99 ${creates.p99Ms} ms, ${concurrency} in flight, W=2`);

  // Memory per link.
  const before = await memory(ports);
  const perNode = Math.ceil(linkCount / 3);
  const t0 = performance.now();
  await Promise.all(
    ports.map(async (p, n) => {
      const r = await fetch(`http://127.0.0.1:${p}/api/admin/synthetic-links`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ count: perNode, prefix: `m${n}x` }), signal: AbortSignal.timeout(30 * 60_000) });
      if (!r.ok) throw new Error(`synthetic load on ${p}: ${r.status} ${await r.text()}`);
    }),
  );
  const loadSec = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 3_000));
  const after = await memory(ports);
  const copies = perNode * 3 * 3;
  const mem = { links: perNode * 3, copies, loadSeconds: +loadSec.toFixed(1), loadPerSecond: Math.round((perNode * 3) / loadSec), rssBytesPerCopy: Math.round((after.rss - before.rss) / copies), heapBytesPerCopy: Math.round((after.heap - before.heap) / copies), rssBefore: before.rss, rssAfter: after.rss };
  console.log(`memory: ${mem.links} links (${copies} stored copies, N=3) loaded in ${mem.loadSeconds} s (${mem.loadPerSecond} links/s); RSS +${((after.rss - before.rss) / 2 ** 20).toFixed(0)} MiB → ${mem.rssBytesPerCopy} B per copy (${mem.rssBytesPerCopy * 3} B per link); V8 heap +${((after.heap - before.heap) / 2 ** 20).toFixed(0)} MiB → ${mem.heapBytesPerCopy} B per copy`);
  if (values.json) console.log(JSON.stringify({ creates, memory: mem }));
  if (values['json-out']) {
    const file = values['json-out'];
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, `${JSON.stringify({ benchmark: 'links', settings: { seconds, concurrency, links: linkCount, nodes: 3, nVal: 3, w: 2 }, creates, memory: mem }, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
  }
  stopAll();
}

main().catch((err) => {
  console.error(err);
  stopAll();
  process.exit(1);
});
