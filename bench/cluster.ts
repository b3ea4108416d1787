// Cluster runtime figures over real processes on loopback:
//   - load K keys into one node (admin API, C requests in flight; R=W=1 so one node accepts writes);
//   - join a second node: join-to-ready time, and handoff time/rate until no partition
//     is moving and the newcomer holds every key (with 2 nodes and N=3 every key lives
//     on both, so all K keys move);
//   - SIGKILL the newcomer: failure detection time (until the survivor reports it not alive);
//   - SIGINT and restart the first node with its DATA_DIR: log replay and restart-to-ready time;
//   - with --restart-links L: a fresh one-node cluster (N=3 clamped to its one replica, so it
//     holds every link and every slug's CAS claim, as each of 3 nodes does at N=3) gets L links
//     through the create path (the test hook's loader, all of one owner), is stopped (SIGINT)
//     and restarted: restart-to-ready time at that size.
//
// npm run bench:cluster [-- --keys 100000 --concurrency 64 --restart-links 300000 --json --json-out FILE]
//   --json       print the figures as one JSON line on stdout (instead of the list)
//   --json-out   also write them (with the settings) to FILE (used by `npm run bench`)
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { admin, Harness, type RingProcess, requireBundle, waitFor, waitReady } from '../testkit';

const { values } = parseArgs({
  options: {
    keys: { type: 'string', default: '100000' },
    concurrency: { type: 'string', default: '64' },
    'restart-links': { type: 'string', default: '0' },
    json: { type: 'boolean', default: false },
    'json-out': { type: 'string' },
  },
});
const keyCount = Number(values.keys);
const concurrency = Number(values.concurrency);
const restartLinks = Number(values['restart-links']);

requireBundle('npm run bench:cluster builds it');
// Production settings (the bench profile), R=W=1, info logs (the restart's replay figures are in them).
const h = new Harness({ profile: 'bench', env: { LOG_LEVEL: 'info', R: '1', W: '1' }, logBytes: 1024 * 1024 });
// Interrupted (Ctrl-C, or `npm run bench` stopping it): kill the nodes, remove their data.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => void h.cleanup().finally(() => process.exit(130)));
}

interface Status {
  keys: number;
  ring: { partitions: { next: string | null }[] };
  members: { name: string; liveness: string }[];
}
const status = async (p: RingProcess) => (await admin<Status>(p, 'GET', 'status')).body;
const livenessOf = async (p: RingProcess, name: string) =>
  (await status(p)).members.find((m) => m.name === name)?.liveness;
const wait = (what: string, fn: () => Promise<boolean>, timeoutMs: number) =>
  waitFor(fn, { timeoutMs, intervalMs: 50, what });

try {
  let t = performance.now();
  const a = await h.startNode({ name: 'a', dataDir: true }, 60_000);
  await waitReady(a, 60_000);
  const firstReadyMs = performance.now() - t;

  t = performance.now();
  let next = 0;
  let failed = 0;
  const worker = async () => {
    for (let i = next++; i < keyCount; i = next++) {
      const res = await fetch(`${a.url}/api/admin/kv/k${i}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ value: { url: `https://example.com/page/${i}`, n: i } }),
      });
      if (!res.ok) failed++;
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const loadSeconds = (performance.now() - t) / 1000;
  if (failed > 0) throw new Error(`${failed} of ${keyCount} loading PUTs failed`);

  t = performance.now();
  const b = await h.startNode({ name: 'b', seeds: [a], dataDir: true }, 60_000);
  await waitReady(b, 60_000);
  const joinToReadyMs = performance.now() - t;
  await wait(
    'handoff to finish',
    async () => {
      const [sa, sb] = [await status(a), await status(b)];
      return (
        sa.ring.partitions.every((c) => !c.next) && sb.ring.partitions.every((c) => !c.next) && sb.keys >= keyCount
      );
    },
    600_000,
  );
  const handoffSeconds = (performance.now() - t) / 1000;

  t = performance.now();
  h.kill(b);
  await wait('failure detection', async () => (await livenessOf(a, 'b')) !== 'alive', 30_000);
  const detectSuspectMs = performance.now() - t;
  await wait('dead', async () => (await livenessOf(a, 'b')) === 'dead', 30_000);
  const detectDeadMs = performance.now() - t;

  await h.stop(a, 'SIGINT');
  t = performance.now();
  const a2 = await h.restart(a, { seeds: [b] });
  await waitReady(a2, 60_000);
  const restartToReadyMs = performance.now() - t;
  const parse = (l: string) => {
    try {
      return JSON.parse(l);
    } catch {
      return {};
    }
  };
  const restored =
    a2.log
      .text()
      .split('\n')
      .map(parse)
      .find((l) => l.msg === 'restored state from disk') ?? {};

  await h.stop(a2, 'SIGINT');
  const big = restartLinks > 0 ? await restartWithLinks(restartLinks) : undefined;

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
    replayRecordsPerSecond: restored.millis
      ? Math.round(((restored.snapshotRecords ?? 0) + (restored.tailRecords ?? 0)) / (restored.millis / 1000))
      : null,
    ...(big ?? {}),
  };
  if (values.json) console.log(JSON.stringify(result));
  else for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(24)} ${v}`);
  const settings = { keys: keyCount, concurrency, restartLinks, r: 1, w: 1 };
  if (values['json-out']) {
    const file = values['json-out'];
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, `${JSON.stringify({ benchmark: 'cluster', settings, result }, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
  }
} finally {
  await h.cleanup();
}

/** A one-node cluster with `links` links (and their CAS claims) on disk: how long its restart takes to be ready. */
async function restartWithLinks(links: number) {
  const hl = new Harness({
    profile: 'bench',
    env: { LOG_LEVEL: 'info', RINGLINK_TEST_FAULTS: '1' },
    logBytes: 1024 * 1024,
  });
  try {
    const n = await hl.startNode({ name: 'l', dataDir: true }, 60_000);
    await waitReady(n, 60_000);
    const r = await fetch(`${n.url}/api/admin/synthetic-links`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${hl.adminToken}` },
      body: JSON.stringify({ count: links, owner: 's:restart' }),
      signal: AbortSignal.timeout(60 * 60_000),
    });
    const loaded = (await r.json()) as { created: number; failed: Record<string, number> };
    if (!r.ok || loaded.created !== links)
      throw new Error(`loading ${links} links: ${r.status} ${JSON.stringify(loaded)}`);
    const keys = (await admin<Status>(n, 'GET', 'status')).body.keys;
    await hl.stop(n, 'SIGINT');
    const t0 = performance.now();
    const n2 = await hl.restart(n);
    await waitReady(n2, 120_000);
    const readyMs = performance.now() - t0;
    const restored = restoredFigures(n2.log.text());
    return {
      restartLinks: links,
      restartLinksKeys: keys,
      restartLinksReadyMs: Math.round(readyMs),
      restartLinksReplayRecords: (restored.snapshotRecords ?? 0) + (restored.tailRecords ?? 0),
      restartLinksRestoreMs: Math.round(restored.ms ?? 0),
    };
  } finally {
    await hl.cleanup();
  }
}

/** The fields of a node's 'restored state from disk' log line. */
function restoredFigures(log: string): {
  snapshotRecords?: number;
  tailRecords?: number;
  millis?: number;
  ms?: number;
} {
  for (const line of log.split('\n')) {
    try {
      const l = JSON.parse(line);
      if (l.msg === 'restored state from disk') return l;
    } catch {
      // not a JSON line
    }
  }
  return {};
}
