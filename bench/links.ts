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
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { Harness, newAccount, requireBundle, waitFor } from '../testkit';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '64' },
    links: { type: 'string', default: '1000000' },
    json: { type: 'boolean', default: false },
    'json-out': { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const linkCount = Number(values.links);

// Production settings (the bench profile); the synthetic-links hook needs RINGLINK_TEST_FAULTS=1.
const h = new Harness({
  profile: 'bench',
  nodeArgs: ['--expose-gc'],
  env: { RATE_LIMIT_CREATE_PER_MIN: '0', RINGLINK_TEST_FAULTS: '1' },
});
process.on('SIGINT', () => void h.cleanup().finally(() => process.exit(130)));

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
  requireBundle('npm run bench:links builds it');
  const nodes = await h.startCluster(['b1', 'b2', 'b3'], { readyTimeoutMs: 30_000, settled: { noHandoffs: true } });
  const ports = nodes.map((n) => n.port);

  // An account and an API key to create with (no cookie, no Origin needed).
  const key = (await (await newAccount(nodes[0]!, 'bench')).createKey('bench')).key;

  // Compare-and-set serves once every acceptor caught up after the joins (a few seconds):
  // warm up until a create succeeds quickly through every node.
  const createVia = (port: number, n: number) =>
    fetch(`http://127.0.0.1:${port}/api/links`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ url: `https://example.com/warm/${n}` }),
    });
  const quickEverywhere = async () => {
    for (const p of ports) {
      const t = performance.now();
      if ((await createVia(p, Math.random())).status !== 201 || performance.now() - t > 100) return false;
    }
    return true;
  };
  await waitFor(quickEverywhere, { timeoutMs: 60_000, intervalMs: 50, what: 'creates to be quick on every node' });

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
        const r = await fetch(`http://127.0.0.1:${port}/api/links`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: JSON.stringify({ url: `https://example.com/bench/${i}` }),
        });
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
  const creates = {
    perSecond: Math.round(created / Math.min(elapsed, seconds)),
    created,
    failed,
    p50Ms: +percentile(latencies, 50).toFixed(1),
    p99Ms: +percentile(latencies, 99).toFixed(1),
    concurrency,
  };
  console.log(
    `creates: ${creates.perSecond}/s (${created} in ${Math.min(elapsed, seconds).toFixed(1)} s, ${failed} failed), p50 ${creates.p50Ms} ms, p99 ${creates.p99Ms} ms, ${concurrency} in flight, W=2`,
  );

  // Memory per link.
  const before = await memory(ports);
  const perNode = Math.ceil(linkCount / 3);
  const t0 = performance.now();
  await Promise.all(
    ports.map(async (p, n) => {
      const r = await fetch(`http://127.0.0.1:${p}/api/admin/synthetic-links`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${h.adminToken}` },
        body: JSON.stringify({ count: perNode, prefix: `m${n}x` }),
        signal: AbortSignal.timeout(30 * 60_000),
      });
      if (!r.ok) throw new Error(`synthetic load on ${p}: ${r.status} ${await r.text()}`);
    }),
  );
  const loadSec = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 3_000));
  const after = await memory(ports);
  const copies = perNode * 3 * 3;
  const mem = {
    links: perNode * 3,
    copies,
    loadSeconds: +loadSec.toFixed(1),
    loadPerSecond: Math.round((perNode * 3) / loadSec),
    rssBytesPerCopy: Math.round((after.rss - before.rss) / copies),
    heapBytesPerCopy: Math.round((after.heap - before.heap) / copies),
    rssBefore: before.rss,
    rssAfter: after.rss,
  };
  console.log(
    `memory: ${mem.links} links (${copies} stored copies, N=3) loaded in ${mem.loadSeconds} s (${mem.loadPerSecond} links/s); RSS +${((after.rss - before.rss) / 2 ** 20).toFixed(0)} MiB → ${mem.rssBytesPerCopy} B per copy (${mem.rssBytesPerCopy * 3} B per link); V8 heap +${((after.heap - before.heap) / 2 ** 20).toFixed(0)} MiB → ${mem.heapBytesPerCopy} B per copy`,
  );
  if (values.json) console.log(JSON.stringify({ creates, memory: mem }));
  if (values['json-out']) {
    const file = values['json-out'];
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(
      `${file}.tmp`,
      `${JSON.stringify({ benchmark: 'links', settings: { seconds, concurrency, links: linkCount, nodes: 3, nVal: 3, w: 2 }, creates, memory: mem }, null, 2)}\n`,
    );
    renameSync(`${file}.tmp`, file);
  }
}

main().then(
  () => h.cleanup(),
  async (err) => {
    console.error(err);
    console.error(h.dumpLogs().slice(-6000));
    await h.cleanup();
    process.exit(1);
  },
);
