// What a cluster-wide rate-limit check costs, over real 3-node clusters on loopback (N=3, W=2):
//   - creates per second through POST /api/links (one API key, C in flight spread over the
//     nodes) with the create limits off (RATE_LIMIT_CREATE_PER_MIN=0) and on (a budget too
//     large to refuse, so every create pays its two checks: per address and per owner);
//   - password guesses on the redirect path (POST /:slug, a wrong password, one address): after
//     the first five the limiter refuses them, which is what a guesser meets;
//   - the latency of one limit check by where it was decided (local: this node owns the key;
//     owner: a remote owner answered over the ring RPC), from the nodes' own histogram
//     ringlink_rate_limit_check_seconds (mean exact; p50/p99 as the upper bound of their bucket).
// Each setting runs in a fresh cluster; the machine's other load shows in the figures.
//
// npm run bench:ratelimits [-- --seconds 8 --concurrency 32 --json]
import { parseArgs } from 'node:util';
import { ApiClient, newAccount } from '../testkit';
import { LocalCluster, type ClusterNode } from './lib/cluster';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    concurrency: { type: 'string', default: '32' },
    json: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
/** "On" without refusals: every create is checked twice and admitted. */
const createsPerMinNeverReached = 1_000_000_000;

interface Load {
  perSecond: number;
  done: number;
  statuses: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** `concurrency` workers send `send(node, i)` round-robin over the nodes for `seconds`. */
async function load(c: LocalCluster, send: (n: ClusterNode, i: number) => Promise<number>): Promise<Load> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  let i = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const n = i++;
        const t = performance.now();
        const status = await send(c.nodes[n % c.nodes.length]!, n);
        latencies.push(performance.now() - t);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const p = (q: number) => +percentile(latencies, q).toFixed(2);
  const done = latencies.length;
  return { perSecond: Math.round(done / elapsed), done, statuses, p50Ms: p(50), p99Ms: p(99) };
}

type Buckets = Map<string, { le: number[]; counts: number[]; sum: number; count: number }>;

/** The limit-check histogram summed over the nodes, by where decided. */
async function checkHistogram(c: LocalCluster): Promise<Buckets> {
  const out: Buckets = new Map();
  for (const n of c.nodes) {
    for (const line of (await c.get(n, '/metrics')).body.split('\n')) {
      const m = /^ringlink_rate_limit_check_seconds_(bucket|sum|count)\{([^}]*)\}\s+(\S+)/.exec(line);
      if (!m) continue;
      const labels = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
      const h = out.get(labels.by!) ?? { le: [], counts: [], sum: 0, count: 0 };
      out.set(labels.by!, h);
      const v = Number(m[3]);
      if (m[1] === 'sum') h.sum += v;
      else if (m[1] === 'count') h.count += v;
      else if (labels.le !== '+Inf') {
        const le = Number(labels.le);
        const at = h.le.indexOf(le);
        if (at < 0) {
          h.le.push(le);
          h.counts.push(v);
        } else h.counts[at]! += v;
      }
    }
  }
  return out;
}

interface CheckCost {
  checks: number;
  meanUs: number;
  p50UsAtMost: number;
  p99UsAtMost: number;
}

/** Per where-decided: checks made between two snapshots, their mean and bucketed p50/p99. */
function checkCost(before: Buckets, after: Buckets): Record<string, CheckCost> {
  const out: Record<string, CheckCost> = {};
  for (const [by, a] of after) {
    const b = before.get(by);
    const count = a.count - (b?.count ?? 0);
    if (count <= 0) continue;
    const cumulative = a.counts.map((x, i) => x - (b?.counts[b.le.indexOf(a.le[i]!)] ?? 0));
    const at = (q: number) => {
      const i = cumulative.findIndex((x) => x >= q * count);
      return i < 0 ? Infinity : Math.round(a.le[i]! * 1e6);
    };
    const meanUs = Math.round(((a.sum - (b?.sum ?? 0)) / count) * 1e6);
    out[by] = { checks: count, meanUs, p50UsAtMost: at(0.5), p99UsAtMost: at(0.99) };
  }
  return out;
}

/** An account's API key (a script's way of creating), made through node 0. */
async function apiKey(c: LocalCluster): Promise<string> {
  return (await (await newAccount(c.nodes[0]!, 'bench')).createKey('bench')).key;
}

async function createsWith(createsPerMin: number): Promise<{ creates: Load; checks: Record<string, CheckCost> }> {
  const env = { RATE_LIMIT_CREATE_PER_MIN: String(createsPerMin) };
  const c = await LocalCluster.start({ nodes: 3, env });
  try {
    const key = await apiKey(c);
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` };
    const create = async (n: ClusterNode, i: number) => {
      const body = JSON.stringify({ url: `https://example.com/bench/${i}` });
      return (await c.request(n, 'POST', '/api/links', { headers, body })).status;
    };
    // Warm up (compare-and-set catches up after the joins; connections open).
    for (let i = 0; i < 60; i++) await create(c.nodes[i % 3]!, -i);
    const before = await checkHistogram(c);
    const creates = await load(c, create);
    return { creates, checks: checkCost(before, await checkHistogram(c)) };
  } finally {
    await c.stop();
  }
}

async function guesses(): Promise<{ guesses: Load; checks: Record<string, CheckCost> }> {
  const c = await LocalCluster.start({ nodes: 3 });
  try {
    const n0 = c.nodes[0]!;
    const link = { url: 'https://example.com/secret', password: 'open sesame' };
    // A fresh cluster claims slugs once its CAS acceptors caught up: createLink retries, bounded.
    const slug = (await new ApiClient(n0).createLink(link)).body.slug;
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const guess = async (n: ClusterNode) => {
      return (await c.request(n, 'POST', `/${slug}`, { headers: form, body: 'password=wrong' })).status;
    };
    for (const n of c.nodes) await c.get(n, `/${slug}`); // every node has the link at hand
    const before = await checkHistogram(c);
    const result = await load(c, guess);
    return { guesses: result, checks: checkCost(before, await checkHistogram(c)) };
  } finally {
    await c.stop();
  }
}

function show(label: string, l: Load): void {
  const statuses = JSON.stringify(l.statuses);
  const took = `p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms`;
  console.log(`${label}: ${l.perSecond}/s (${l.done} in ${seconds} s; statuses ${statuses}), ${took}`);
}

function showChecks(label: string, checks: Record<string, CheckCost>): void {
  for (const [by, x] of Object.entries(checks)) {
    const quantiles = `p50 <= ${x.p50UsAtMost} us, p99 <= ${x.p99UsAtMost} us`;
    console.log(`  ${label} limit check, ${by}: ${x.checks} checks, mean ${x.meanUs} us, ${quantiles}`);
  }
}

async function main(): Promise<void> {
  console.log(`3 nodes, ${concurrency} requests in flight over them, ${seconds} s per setting`);
  const off = await createsWith(0);
  show('creates, limits off', off.creates);
  const on = await createsWith(createsPerMinNeverReached);
  show('creates, limits on ', on.creates);
  showChecks('create', on.checks);
  console.log(`  creates/s on / off: ${(on.creates.perSecond / off.creates.perSecond).toFixed(2)}`);
  const g = await guesses();
  show('password guesses (one address; refused after 5)', g.guesses);
  showChecks('guess', g.checks);
  if (values.json) console.log(JSON.stringify({ settings: { seconds, concurrency, nodes: 3 }, off, on, guesses: g }));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
