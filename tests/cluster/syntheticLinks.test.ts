// The memory benchmark (bench/links.ts) loads its million links through a test hook,
// POST /api/admin/synthetic-links, instead of POST /api/links. Its figure stands for the
// public create path only if the hook leaves exactly what the API leaves: on a 3-node cluster
// (N=3, so every node holds every key) k links created through the API and k through the hook
// must add the same number of keys in every namespace and of CAS acceptor states on every node.
// Also the hook that forces a GC before a memory reading.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, ensureBuilt, Harness, newAccount, type RingProcess, sleep } from '../../testkit';

let h: Harness;
let nodes: RingProcess[];

beforeAll(async () => {
  ensureBuilt();
  h = new Harness({ nodeArgs: ['--expose-gc'] });
  const env = { RATE_LIMIT_CREATE_PER_MIN: '0', SERVE_UI: '0' };
  nodes = await h.startCluster(['s1', 's2', 's3'], { env, settleTimeoutMs: 30_000 });
}, 180_000);

afterAll(async () => {
  await h?.cleanup();
}, 30_000);

type Counts = { keys: Record<string, number>; cas: Record<string, number> };

async function countsOf(node: RingProcess): Promise<Counts> {
  const r = await admin<Counts>(node, 'GET', 'storage-counts');
  expect(r.status).toBe(200);
  return r.body;
}

/** Every node's counts once they stop changing (replication and owner-index merges settle). */
async function settledCounts(): Promise<Counts[]> {
  let last = '';
  for (let i = 0; i < 60; i++) {
    const now = await Promise.all(nodes.map(countsOf));
    const text = JSON.stringify(now);
    if (text === last) return now;
    last = text;
    await sleep(500);
  }
  throw new Error(`storage counts did not settle: ${last}`);
}

function delta(after: Counts, before: Counts): Counts {
  const sub = (a: Record<string, number>, b: Record<string, number>) => {
    const out: Record<string, number> = {};
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = (a[k] ?? 0) - (b[k] ?? 0);
      if (d !== 0) out[k] = d;
    }
    return out;
  };
  return { keys: sub(after.keys, before.keys), cas: sub(after.cas, before.cas) };
}

describe('the synthetic-links loader', () => {
  // Enough links that each owner's links reach all 16 owner-index shards (a shard is missed
  // with probability about 16 x (15/16)^200, 4e-5).
  const k = 200;

  it('leaves on every node the same keys per namespace and the same CAS acceptor states as k creates through POST /api/links', async () => {
    const account = await newAccount(nodes[0]!, 'synth');
    const { key } = await account.createKey('bench');
    const before = await settledCounts();

    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < k) {
          const n = next++;
          const r = await fetch(`${nodes[n % 3]!.url}/api/links`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
            body: JSON.stringify({ url: `https://example.com/api/${n}` }),
          });
          expect(r.status).toBe(201);
          await r.arrayBuffer();
        }
      }),
    );
    const viaApi = await settledCounts();

    const loaded = await admin(nodes[1]!, 'POST', 'synthetic-links', { count: k, owner: 's:synthetic' }, 60_000);
    expect(loaded.status).toBe(200);
    expect(loaded.body).toMatchObject({ created: k, failed: {} });
    const viaLoader = await settledCounts();

    for (let i = 0; i < nodes.length; i++) {
      const api = delta(viaApi[i]!, before[i]!);
      const loader = delta(viaLoader[i]!, viaApi[i]!);
      expect(api.keys.link).toBe(k);
      expect(api.cas.slug).toBe(k);
      expect(loader).toEqual(api);
    }
  }, 120_000);

  it('forces a full GC on a node started with --expose-gc and reports its memory', async () => {
    const r = await admin<NodeJS.MemoryUsage>(nodes[0]!, 'POST', 'gc');
    expect(r.status).toBe(200);
    for (const f of ['rss', 'heapUsed', 'heapTotal', 'external', 'arrayBuffers'] as const)
      expect(r.body[f]).toBeGreaterThan(0);
  });
});
