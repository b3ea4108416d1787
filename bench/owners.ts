// "My links" at scale over a real 3-node cluster on loopback (N=3, R=2, W=2): one account
// owns L links (created in process through LinkService.create by the synthetic-links test
// hook, which tests/cluster/syntheticLinks.test.ts shows leaves what POST /api/links does), then
//   - paging GET /api/links 50 per page (each page also counts the owner's links exactly),
//     newest first by cursor, from every node: p50/p99 per page;
//   - the exact count alone (limit=1) and a substring search (q) over all L links.
//
// npm run bench:owners [-- --links 1000000 --pages 100 --limit 50 --json --json-out FILE]
//   --pages      pages walked from each node (consecutive, from the newest)
//   --json       print the figures as one JSON line on stdout
//   --json-out   write them (with the settings) to FILE
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { Harness, newAccount, requireBundle, waitFor } from '../testkit';

const { values } = parseArgs({
  options: {
    links: { type: 'string', default: '1000000' },
    pages: { type: 'string', default: '100' },
    limit: { type: 'string', default: '50' },
    json: { type: 'boolean', default: false },
    'json-out': { type: 'string' },
  },
});
const linkCount = Number(values.links);
const pagesPerNode = Number(values.pages);
const limit = Number(values.limit);
/** Timed repetitions of the count and of each search. */
const repeats = 5;
/** Links per synthetic-links request, and attempts at each. */
const loadChunkLinks = 10_000;
const loadAttemptsMax = 5;
/** Attempts at one GET /api/links answered 503/504. */
const listAttemptsMax = 3;

// Production settings (the bench profile); the synthetic-links hook needs RINGLINK_TEST_FAULTS=1.
const h = new Harness({ profile: 'bench', env: { RATE_LIMIT_CREATE_PER_MIN: '0', RINGLINK_TEST_FAULTS: '1' } });
process.on('SIGINT', () => void h.cleanup().finally(() => process.exit(130)));

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
const ms = (x: number) => +x.toFixed(1);

interface Page {
  links: { slug: string; createdAt: string }[];
  nextCursor: string | null;
  total: number;
}

async function main(): Promise<void> {
  requireBundle('npm run bench:owners builds it');
  const nodes = await h.startCluster(['o1', 'o2', 'o3'], { readyTimeoutMs: 30_000, settled: { noHandoffs: true } });
  const ports = nodes.map((n) => n.port);
  const account = await newAccount(nodes[0]!, 'owner');
  const owner = `a:${(await account.get('/api/session')).body.user.id as string}`;
  const key = (await account.createKey('bench')).key;

  /** Requests answered 503/504 (a quorum read timed out on this shared machine) and asked again. */
  let retries = 0;
  const list = async (port: number, query: string): Promise<{ page: Page; ms: number }> => {
    for (let attempt = 1; ; attempt++) {
      const t = performance.now();
      const r = await fetch(`http://127.0.0.1:${port}/api/links?${query}`, {
        headers: { authorization: `Bearer ${key}` },
        signal: AbortSignal.timeout(60_000),
      });
      const body = (await r.json()) as Page;
      const took = performance.now() - t;
      if (r.status === 200) return { page: body, ms: took };
      if ((r.status !== 503 && r.status !== 504) || attempt >= listAttemptsMax)
        throw new Error(`GET /api/links?${query} on ${port}: ${r.status} ${JSON.stringify(body)}`);
      retries++;
    }
  };

  // Quorum writes time out while the new ring still settles: warm up until one succeeds on every node
  // (documents of another owner, so they are not counted).
  const synthetic = (port: number, body: object) =>
    fetch(`http://127.0.0.1:${port}/api/admin/synthetic-links`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${h.adminToken}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(60 * 60_000),
    });
  let warm = 0;
  await waitFor(
    async () => {
      for (const p of ports) if (!(await synthetic(p, { count: 50, owner: `s:warm${warm++}` })).ok) return false;
      return true;
    },
    { timeoutMs: 60_000, intervalMs: 200, what: 'quorum writes to succeed on every node' },
  );

  // Load in chunks, round-robin over the nodes, all for one owner, through the create path in
  // process (the hook runs LinkService.create: random slugs, the CAS claim, the quorum write). A
  // create that fails is counted by the hook and not retried; `loaded` counts the links created.
  const chunks = Math.ceil(linkCount / loadChunkLinks);
  const t0 = performance.now();
  let loaded = 0;
  let retried = 0;
  for (let c = 0; c < chunks; c++) {
    const count = Math.min(loadChunkLinks, linkCount - c * loadChunkLinks);
    for (let attempt = 1; ; attempt++) {
      const r = await synthetic(ports[c % 3]!, { count, owner, urlPath: `w${c}x` });
      if (r.ok) {
        loaded += ((await r.json()) as { created: number }).created;
        break;
      }
      const text = await r.text();
      if (attempt >= loadAttemptsMax) throw new Error(`synthetic load of chunk ${c}: ${r.status} ${text}`);
      retried++;
    }
  }
  const loadSeconds = (performance.now() - t0) / 1000;
  console.log(`loaded ${loaded} links of one owner in ${loadSeconds.toFixed(1)} s (${retried} load requests repeated)`);
  // The third replica of each write lands just after W=2 acknowledged it.
  await new Promise((r) => setTimeout(r, 10_000));

  // The exact count (a page of one link: the count dominates). A create the loader counted as
  // failed (a timeout) may still have been stored, so the owner holds between the acknowledged
  // and the attempted creates; the first count fixes the number every later answer must equal.
  const countMs: number[] = [];
  let owned = -1;
  for (let i = 0; i < repeats; i++) {
    const { page, ms: took } = await list(ports[i % 3]!, 'limit=1');
    if (owned < 0) owned = page.total;
    if (page.total !== owned || owned < loaded || owned > linkCount)
      throw new Error(
        `total ${page.total}: expected ${owned}, between ${loaded} acknowledged and ${linkCount} attempted`,
      );
    countMs.push(took);
  }
  if (owned !== loaded)
    console.log(`the owner holds ${owned} links: ${owned - loaded} creates timed out but were stored`);
  countMs.sort((a, b) => a - b);

  // Paging from every node: consecutive pages from the newest, each page checked for order.
  const pageMs: number[] = [];
  const perNodeFigures: { node: string; p50Ms: number; p99Ms: number }[] = [];
  for (const [n, port] of ports.entries()) {
    const mine: number[] = [];
    let cursor: string | null = null;
    let last = Infinity;
    const seen = new Set<string>();
    for (let i = 0; i < pagesPerNode; i++) {
      const q: string = `limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const { page, ms: took } = await list(port, q);
      mine.push(took);
      for (const l of page.links) {
        const at = Date.parse(l.createdAt);
        if (at > last || seen.has(l.slug))
          throw new Error(`page ${i} from ${nodes[n]!.name}: out of order at ${l.slug}`);
        last = at;
        seen.add(l.slug);
      }
      if (page.total !== owned) throw new Error(`page ${i}: total ${page.total}, expected ${owned}`);
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    pageMs.push(...mine);
    mine.sort((a, b) => a - b);
    perNodeFigures.push({ node: nodes[n]!.name, p50Ms: ms(percentile(mine, 50)), p99Ms: ms(percentile(mine, 99)) });
  }
  pageMs.sort((a, b) => a - b);

  // Searches: a rare match (one link's slug) and a common one (a tenth of the targets).
  const search = async (q: string) => {
    const times: number[] = [];
    let total = 0;
    for (let i = 0; i < repeats; i++) {
      const { page, ms: took } = await list(ports[i % 3]!, `limit=${limit}&q=${encodeURIComponent(q)}`);
      times.push(took);
      total = page.total;
    }
    times.sort((a, b) => a - b);
    return { q, matches: total, p50Ms: ms(percentile(times, 50)), maxMs: ms(times[times.length - 1]!) };
  };
  const rare = await search(`/w0x/${1_234 % Math.min(loadChunkLinks, linkCount)}`);
  const common = await search('/w1x/');

  const figures = {
    links: owned,
    acknowledged: loaded,
    loadSeconds: +loadSeconds.toFixed(1),
    page: {
      limit,
      pages: pageMs.length,
      p50Ms: ms(percentile(pageMs, 50)),
      p99Ms: ms(percentile(pageMs, 99)),
      maxMs: ms(pageMs[pageMs.length - 1]!),
      perNode: perNodeFigures,
    },
    count: { p50Ms: ms(percentile(countMs, 50)), maxMs: ms(countMs[countMs.length - 1]!) },
    search: { rare, common },
    retries,
  };
  console.log(
    `pages of ${limit} (each with the exact total of ${loaded}): ${pageMs.length} pages from 3 nodes, p50 ${figures.page.p50Ms} ms, p99 ${figures.page.p99Ms} ms, max ${figures.page.maxMs} ms (${perNodeFigures.map((f) => `${f.node} p50 ${f.p50Ms} p99 ${f.p99Ms}`).join('; ')})`,
  );
  console.log(`exact count (limit=1): p50 ${figures.count.p50Ms} ms, max ${figures.count.maxMs} ms over ${repeats}`);
  for (const s of [rare, common])
    console.log(`search q=${s.q}: ${s.matches} matches, first page with total p50 ${s.p50Ms} ms, max ${s.maxMs} ms`);
  console.log(`requests answered 503/504 and asked again: ${retries}`);
  if (values.json) console.log(JSON.stringify(figures));
  if (values['json-out']) {
    const file = values['json-out'];
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(
      `${file}.tmp`,
      `${JSON.stringify({ benchmark: 'owners', settings: { links: linkCount, pagesPerNode, limit, nodes: 3, nVal: 3, r: 2, w: 2 }, ...figures }, null, 2)}\n`,
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
