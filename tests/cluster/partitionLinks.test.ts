// Links under a partition, over real processes: five nodes split {n1,n2} | {n3,n4,n5} through
// the transport fault hook (dropped messages; the chaos scenario partition-served-links does
// the same with packet drops in network namespaces). A link every node served keeps
// redirecting on both sides (stale-if-error); a link only the other side holds answers 503,
// never 404; random creates on the minority side are acknowledged; and once the partition
// heals every acknowledged link redirects from every node.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintedSlug } from '../../server/links/rules';
import { ApiClient, cluster, ensureBuilt, Harness, type RingProcess, sleep, visit, waitFor } from '../../testkit';

const h = new Harness();
let nodes: RingProcess[] = [];
const minority = (i: number) => i < 2;

async function sees(from: RingProcess, others: RingProcess[], liveness: (l: string) => boolean): Promise<boolean> {
  const members = (await cluster(from)).members;
  return others.every((o) => liveness(members.find((m) => m.name === o.name)?.liveness ?? 'dead'));
}

async function redirectsEverywhere(links: { slug: string; url: string }[], on: RingProcess[]): Promise<string[]> {
  const wrong: string[] = [];
  for (const n of on)
    for (const l of links) {
      const v = await visit(n, l.slug, { method: 'HEAD' });
      if (v.status !== 302 || v.location !== l.url) wrong.push(`${n.name}/${l.slug}: ${v.status}`);
    }
  return wrong;
}

describe('links under a partition {n1,n2} | {n3,n4,n5}', () => {
  beforeAll(async () => {
    ensureBuilt();
    nodes = await h.startCluster(['n1', 'n2', 'n3', 'n4', 'n5'], { env: { RATE_LIMIT_CREATE_PER_MIN: '0' } });
  }, 120_000);

  afterAll(async () => {
    await h.cleanup();
  });

  it('served links keep redirecting, the other side says 503, minority creates land, and everything redirects after the heal', async () => {
    const c = new ApiClient(nodes[2]!);
    const served: { slug: string; url: string }[] = [];
    for (let i = 0; i < 12; i++) {
      const url = `https://example.com/served/${i}`;
      const r = await c.via(nodes[i % 5]!).post('/api/links', { url });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      served.push({ slug: r.body.slug, url });
    }
    await waitFor(async () => (await redirectsEverywhere(served, nodes)).length === 0, {
      timeoutMs: 20_000,
      what: 'every node serves every link',
    });

    await h.partition(nodes, (i, j) => minority(i) === minority(j));
    const majorityLinks: { slug: string; url: string }[] = [];
    const minorityLinks: { slug: string; url: string }[] = [];
    try {
      await waitFor(
        async () =>
          (await sees(nodes[0]!, nodes.slice(2), (l) => l === 'dead')) &&
          (await sees(nodes[2]!, nodes.slice(0, 2), (l) => l === 'dead')),
        { timeoutMs: 20_000, what: 'both sides see the other side dead' },
      );
      // Past the cache's freshness: every answer now needs a read, and no replica across the cut answers.
      for (let round = 0; round < 2; round++) {
        await sleep(1_200);
        expect(await redirectsEverywhere(served, nodes)).toEqual([]);
      }
      // Links made on the majority side: the minority cannot know them, so it says "try again", not "no such link".
      const m = new ApiClient(nodes[3]!);
      for (let i = 0; i < 6; i++) {
        const url = `https://example.com/majority/${i}`;
        const r = await m.post('/api/links', { url });
        expect(r.status, JSON.stringify(r.body)).toBe(201);
        majorityLinks.push({ slug: r.body.slug, url });
      }
      for (const n of nodes.slice(0, 2))
        for (const l of majorityLinks) expect((await visit(n, l.slug)).status, `${n.name}/${l.slug}`).toBe(503);
      // Random-slug creates on the minority side (W=2: n1 and n2) are acknowledged and redirect there.
      const mc = new ApiClient(nodes[0]!);
      for (let i = 0; i < 6; i++) {
        const url = `https://example.com/minority/${i}`;
        const r = await mc.via(nodes[i % 2]!).post('/api/links', { url });
        expect(r.status, JSON.stringify(r.body)).toBe(201);
        minorityLinks.push({ slug: r.body.slug, url });
      }
      expect(await redirectsEverywhere(minorityLinks, nodes.slice(0, 2))).toEqual([]);
    } finally {
      await h.heal(nodes);
    }
    // Healed: every acknowledged link redirects from every node (reads find the fallbacks' copies before handoff).
    const all = [...served, ...majorityLinks, ...minorityLinks];
    let wrong: string[] = [];
    await waitFor(async () => (wrong = await redirectsEverywhere(all, nodes)).length === 0, {
      timeoutMs: 20_000,
      what: 'every acknowledged link redirects from every node',
    }).catch((err: Error) => {
      throw new Error(`${err.message}: ${wrong.join(', ')}`);
    });
    // A slug that exists nowhere is a 404 again once every member is reachable.
    expect((await visit(nodes[0]!, 'no-such-link-here')).status).toBe(404);
  }, 180_000);

  it('a custom slug may not take the shape of a minted random slug', async () => {
    const r = await new ApiClient(nodes[4]!).post('/api/links', { url: 'https://example.com/x', slug: mintedSlug() });
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('slug_reserved');
    expect(r.body.field).toBe('slug');
  });
});
