// Shortener figures over a real 3-node cluster on loopback (N=3, R=2, W=2):
//   - creates per second through POST /api/links (API key, random slugs: each create is a
//     CAS claim of the slug, a quorum write of the link, and a merge into the owner index),
//     C requests in flight spread over the three nodes;
//   - memory per stored copy through the public create path: A links created with POST
//     /api/links (C in flight, random slugs), then every node forced through a full GC
//     (nodes run with --expose-gc); the growth of V8 heap (used + external + array buffers)
//     and of RSS summed over the nodes, divided by the stored copies (links x N);
//   - the same at L links (1M for `npm run bench`) loaded by the test hook
//     POST /api/admin/synthetic-links, which runs the create path in process (LinkService.create
//     and the answer's view, as the route does after auth and rate limits). That it leaves what
//     the API leaves, key for key and CAS state for CAS state on every node, is checked by
//     tests/cluster/syntheticLinks.test.ts.
//
// npm run bench:links [-- --seconds 10 --concurrency 64 --api-links 20000 --links 1000000 --json --json-out FILE]
//   --links 0    skip the loader run
//   --heap-snapshots  also write heap snapshots of the first node before and after the API run, for
//                bench/heapBreakdown.ts (where each byte goes: docs/storage.md)
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
    'api-links': { type: 'string', default: '20000' },
    links: { type: 'string', default: '1000000' },
    'heap-snapshots': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    'json-out': { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const linkCount = Number(values.links);
const apiLinkCount = Number(values['api-links']);
/** Links per account in the API run: below the 40,000 an owner may hold today. */
const apiLinksPerAccount = 10_000;

// Production settings (the bench profile); the test hooks (loader, GC) need RINGLINK_TEST_FAULTS=1.
const h = new Harness({
  profile: 'bench',
  nodeArgs: ['--expose-gc'],
  env: { RATE_LIMIT_CREATE_PER_MIN: '0', RINGLINK_TEST_FAULTS: '1' },
});
process.on('SIGINT', () => void h.cleanup().finally(() => process.exit(130)));

interface Memory {
  /** V8 heap used + external + array buffers, summed over the nodes, after a full GC. */
  heap: number;
  rss: number;
}

/** Every node's memory after a forced full GC (POST /api/admin/gc), summed. */
async function memory(ports: number[]): Promise<Memory> {
  let rss = 0;
  let heap = 0;
  for (const p of ports) {
    const r = await fetch(`http://127.0.0.1:${p}/api/admin/gc`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.adminToken}` },
    });
    if (!r.ok) throw new Error(`gc on ${p}: ${r.status} ${await r.text()}`);
    const m = (await r.json()) as NodeJS.MemoryUsage;
    heap += m.heapUsed + m.external + m.arrayBuffers;
    rss += m.rss;
  }
  return { rss, heap };
}

/** Bytes per stored copy between two readings, with `copies` copies stored in between. */
function perCopy(before: Memory, after: Memory, copies: number) {
  return {
    copies,
    rssBytesPerCopy: Math.round((after.rss - before.rss) / copies),
    heapBytesPerCopy: Math.round((after.heap - before.heap) / copies),
    rssBefore: before.rss,
    rssAfter: after.rss,
    heapBefore: before.heap,
    heapAfter: after.heap,
  };
}

async function heapSnapshot(port: number): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${port}/api/admin/heap-snapshot`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.adminToken}` },
    signal: AbortSignal.timeout(10 * 60_000),
  });
  if (!r.ok) throw new Error(`heap snapshot on ${port}: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { file: string }).file;
}

/** Messages between nodes (broadcasts, counter shipping) settle before a reading. */
const settleMs = 3_000;

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

  // Memory per stored copy through POST /api/links: fresh accounts, random slugs, C in flight.
  const keys: string[] = [];
  for (let a = 0; a * apiLinksPerAccount < apiLinkCount; a++)
    keys.push((await (await newAccount(nodes[a % 3]!, `mem${a}`)).createKey('bench')).key);
  await new Promise((r) => setTimeout(r, settleMs));
  const snapBefore = values['heap-snapshots'] ? await heapSnapshot(ports[0]!) : undefined;
  const apiBefore = await memory(ports);
  let issued = 0;
  let made = 0;
  let refused = 0;
  const tApi = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (issued < apiLinkCount) {
        const n = issued++;
        const r = await fetch(`http://127.0.0.1:${ports[n % 3]!}/api/links`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${keys[Math.floor(n / apiLinksPerAccount)]!}`,
          },
          body: JSON.stringify({ url: `https://example.com/mem/${n}` }),
        });
        await r.arrayBuffer();
        if (r.status === 201) made++;
        else refused++;
      }
    }),
  );
  const apiSec = (performance.now() - tApi) / 1000;
  await new Promise((r) => setTimeout(r, settleMs));
  const memoryApi = {
    links: made,
    failed: refused,
    seconds: +apiSec.toFixed(1),
    ...perCopy(apiBefore, await memory(ports), made * 3),
  };
  console.log(
    `memory through POST /api/links: ${made} links (${memoryApi.copies} stored copies, N=3, ${refused} refused) in ${memoryApi.seconds} s; after a full GC: V8 heap (incl. external) ${memoryApi.heapBytesPerCopy} B per copy, RSS ${memoryApi.rssBytesPerCopy} B per copy`,
  );

  if (snapBefore) {
    const snapAfter = await heapSnapshot(ports[0]!);
    console.log(
      `heap snapshots of ${nodes[0]!.name}: npx tsx bench/heapBreakdown.ts ${snapBefore} ${snapAfter} ${made}`,
    );
  }

  // Memory per stored copy at L links through the in-process create path (the test hook).
  let mem:
    | (ReturnType<typeof perCopy> & { links: number; failed: number; loadSeconds: number; loadPerSecond: number })
    | undefined;
  if (linkCount > 0) {
    const before = await memory(ports);
    const perNode = Math.ceil(linkCount / 3);
    const t0 = performance.now();
    const loaded = await Promise.all(
      ports.map(async (p, n) => {
        const r = await fetch(`http://127.0.0.1:${p}/api/admin/synthetic-links`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${h.adminToken}` },
          body: JSON.stringify({ count: perNode, owner: `s:synthetic${n}` }),
          signal: AbortSignal.timeout(60 * 60_000),
        });
        if (!r.ok) throw new Error(`synthetic load on ${p}: ${r.status} ${await r.text()}`);
        return (await r.json()) as { created: number; failed: Record<string, number> };
      }),
    );
    const created = loaded.reduce((sum, l) => sum + l.created, 0);
    const loadFailed = loaded.reduce((sum, l) => sum + Object.values(l.failed).reduce((a, b) => a + b, 0), 0);
    const loadSec = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, settleMs));
    mem = {
      links: created,
      failed: loadFailed,
      loadSeconds: +loadSec.toFixed(1),
      loadPerSecond: Math.round(created / loadSec),
      ...perCopy(before, await memory(ports), created * 3),
    };
    console.log(
      `memory through the loader: ${mem.links} links (${mem.copies} stored copies, N=3, ${mem.failed} failed) created in ${mem.loadSeconds} s (${mem.loadPerSecond} links/s); after a full GC: V8 heap (incl. external) ${mem.heapBytesPerCopy} B per copy, RSS ${mem.rssBytesPerCopy} B per copy (${mem.rssBytesPerCopy * 3} B per link)`,
    );
  }
  if (values.json) console.log(JSON.stringify({ creates, memoryApi, memory: mem }));
  if (values['json-out']) {
    const file = values['json-out'];
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(
      `${file}.tmp`,
      `${JSON.stringify({ benchmark: 'links', settings: { seconds, concurrency, apiLinks: apiLinkCount, links: linkCount, nodes: 3, nVal: 3, w: 2 }, creates, memoryApi, memory: mem }, null, 2)}\n`,
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
