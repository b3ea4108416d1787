// The chaos scenarios. Each one runs a fault schedule against a fresh cluster under the
// client workload (chaos/workload.ts); every schedule is bounded in rounds and time and ends
// with every fault healed (every node running, network whole, clocks right), so the
// checkers (chaos/check.ts) can measure convergence from that moment.
import { cluster as clusterView, waitSettled, type RingProcess } from '../testkit';
import type { Anomaly } from './check';
import type { ChaosCluster } from './cluster';
import { Browser, visit, type Target } from './http';
import type { Workload, WorkloadOptions } from './workload';

export interface FaultContext {
  cluster: ChaosCluster;
  workload: Workload;
  /** Short run (--ci): fewer rounds. */
  ci: boolean;
  sleep(ms: number): Promise<void>;
  rand(n: number): number;
  /** Time windows (performance.now()) a scenario marks, e.g. while a clock is skewed, with the node concerned. */
  windows: { node: string; from: number; to: number; what: string }[];
}

export interface Scenario {
  name: string;
  title: string;
  /** What the schedule does, for the report. */
  schedule: string;
  nodes: number;
  /** Needs network namespaces (root, ip, iptables); skipped without them. */
  needsNetns?: boolean;
  /** Runs in network namespaces when they are available (partitions then are real packet drops). */
  preferNetns?: boolean;
  /** Needs libfaketime (LD_PRELOAD). */
  faketime?: boolean;
  workload?: Partial<WorkloadOptions>;
  warmupMs: number;
  /** Load after the last heal, before the clients stop. */
  tailMs: number;
  faults(ctx: FaultContext): Promise<void>;
  /** Session replacements the scenario expects (see check.ts). */
  excuseReplacement?(r: { node: string; at: number }, windows: FaultContext['windows']): boolean;
  /** The scenario's own checks of what its schedule saw (run after the common checkers): anomalies and figures. */
  verify?(): { anomalies: Anomaly[]; findings: string[] };
}

const shuffle = <T>(xs: readonly T[], rand: (n: number) => number): T[] => {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = rand(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
};

const killLoop: Scenario = {
  name: 'kill9',
  title: 'kill -9 loop under load',
  schedule:
    'SIGKILL a random node every 2-4 s, restart it from its DATA_DIR 1-3 s later and wait for /readyz; 6 rounds (3 with --ci)',
  nodes: 3,
  warmupMs: 3_000,
  tailMs: 2_000,
  async faults({ cluster, ci, sleep, rand }) {
    const rounds = ci ? 3 : 6;
    for (let r = 0; r < rounds; r++) {
      await sleep(2_000 + rand(2_000));
      const slot = rand(cluster.spec.size);
      await cluster.stop(slot, 'SIGKILL', 10_000);
      await sleep(1_000 + rand(2_000));
      await cluster.restart(slot);
    }
  },
};

const pauses: Scenario = {
  name: 'pause',
  title: 'SIGSTOP pauses',
  schedule:
    'SIGSTOP a random node (its sockets stay open, it just stops answering) for 3-5 s, then SIGCONT; 4 rounds, 2-3 s apart',
  nodes: 3,
  warmupMs: 3_000,
  tailMs: 2_000,
  async faults({ cluster, sleep, rand }) {
    for (let r = 0; r < 4; r++) {
      await sleep(2_000 + rand(1_000));
      const slot = rand(cluster.spec.size);
      cluster.pause(slot);
      await sleep(3_000 + rand(2_000));
      cluster.resume(slot);
    }
  },
};

const majority: Scenario = {
  name: 'partition-majority',
  title: 'majority/minority partitions',
  schedule: '5 nodes split 3|2 at random for 8 s, then healed for 4 s; 3 rounds',
  nodes: 5,
  preferNetns: true,
  warmupMs: 3_000,
  tailMs: 2_000,
  async faults({ cluster, sleep, rand }) {
    for (let r = 0; r < 3; r++) {
      const order = shuffle([...Array(cluster.spec.size).keys()], rand);
      const minority = new Set(order.slice(0, 2));
      const side = (i: number) => minority.has(i);
      await cluster.partition(
        (i, j) => side(i) === side(j),
        `{${order
          .slice(2)
          .map((i) => cluster.names[i])
          .join(',')}} | {${order
          .slice(0, 2)
          .map((i) => cluster.names[i])
          .join(',')}}`,
      );
      await sleep(8_000);
      await cluster.heal();
      await sleep(4_000);
    }
  },
};

/** Links every node serves before the partition (partition-served-links). */
const servedLinks = 20;
/** Redirects during the partition, spread over every node and link. */
const partitionRedirects = 300;
/** Random-slug creates on the minority side during the partition. */
const minorityCreates = 20;
/** How long the partition lasts. */
const servedPartitionMs = 10_000;
/** Every acknowledged link must answer 302 on every node within this long after the heal. */
const healRedirectBoundMs = 10_000;
/** One request's timeout. */
const servedRequestTimeoutMs = 3_000;

/** What partition-served-links saw, for its verify(). */
const served = {
  anomalies: [] as Anomaly[],
  findings: [] as string[],
};

const partitionServedLinks: Scenario = {
  name: 'partition-served-links',
  title: 'links served before a partition stay served; creates on the minority side; every link after the heal',
  schedule: `5 nodes; ${servedLinks} links, each served by every node; split {n1,n2} | {n3,n4,n5} for ${servedPartitionMs / 1000} s with ${partitionRedirects} redirects across all nodes and ${minorityCreates} random-slug creates on n1 and n2; healed: every acknowledged link must answer 302 on every node within ${healRedirectBoundMs / 1000} s`,
  nodes: 5,
  preferNetns: true,
  warmupMs: 2_000,
  tailMs: 2_000,
  async faults({ cluster, sleep, rand }) {
    served.anomalies = [];
    served.findings = [];
    const nodes: Target[] = cluster.nodes.map((n) => ({ name: n.name, url: n.url }));
    const browser = new Browser('served-links');
    const links: { slug: string; url: string }[] = [];
    /** The new link's slug, or why the create was not acknowledged. */
    const create = async (node: Target, url: string, by = browser): Promise<{ slug: string } | { why: string }> => {
      const r = await by.call(node, 'POST', '/api/links', { url }, servedRequestTimeoutMs);
      if (r.kind !== 'ok') return { why: r.error };
      if (r.status === 201) return { slug: (r.body as { slug: string }).slug };
      return { why: `${r.status} ${(r.body as { detail?: string } | undefined)?.detail ?? ''}`.trim() };
    };
    const redirects = async (node: Target, l: { slug: string; url: string }) => {
      const r = await visit(node, l.slug, 'GET', servedRequestTimeoutMs);
      return r.kind === 'ok' && r.status === 302 && r.headers.get('location') === l.url
        ? true
        : r.kind === 'ok'
          ? r.status
          : r.error;
    };
    for (let i = 0; links.length < servedLinks && i < servedLinks * 5; i++) {
      const url = `https://example.com/served/${i}`;
      const c = await create(nodes[i % nodes.length]!, url);
      if ('slug' in c) links.push({ slug: c.slug, url });
    }
    if (links.length < servedLinks) throw new Error(`only ${links.length} of ${servedLinks} links created`);
    // Every node serves every link (a 302), so each has it cached or holds it.
    const warmDeadline = performance.now() + 20_000;
    for (const node of nodes)
      for (const l of links)
        while ((await redirects(node, l)) !== true) {
          if (performance.now() > warmDeadline) throw new Error(`${node.name} never served ${l.slug}`);
          await sleep(100);
        }
    cluster.note(`every node served each of ${links.length} links`);

    const minority = (i: number) => i < 2;
    await cluster.partition((i, j) => minority(i) === minority(j), '{n1,n2} | {n3,n4,n5}');
    const partitionedAt = performance.now();
    const failures = new Map<string, number>();
    const redirectRun = (async () => {
      for (let k = 0; k < partitionRedirects; k++) {
        const at = partitionedAt + (k * (servedPartitionMs - 500)) / partitionRedirects;
        await sleep(Math.max(0, at - performance.now()));
        const node = nodes[k % nodes.length]!;
        const l = links[rand(links.length)]!;
        const r = await redirects(node, l);
        if (r !== true) failures.set(`${node.name}: ${r}`, (failures.get(`${node.name}: ${r}`) ?? 0) + 1);
      }
    })();
    // A visitor new to the minority side (its session is made there): a browser whose session's
    // replicas are all across the cut is refused writes by Sessions (503), which is not about slugs.
    const minorityBrowser = new Browser('served-links-minority');
    const created: { slug: string; url: string }[] = [];
    const refused = new Map<string, number>();
    const createRun = (async () => {
      for (let k = 0; k < minorityCreates; k++) {
        const at = partitionedAt + (k * (servedPartitionMs - 1_000)) / minorityCreates;
        await sleep(Math.max(0, at - performance.now()));
        const node = nodes[k % 2]!;
        const url = `https://example.com/minority/${k}`;
        const c = await create(node, url, minorityBrowser);
        if ('slug' in c) created.push({ slug: c.slug, url });
        else {
          const why = `${node.name} at +${((performance.now() - partitionedAt) / 1000).toFixed(1)} s: ${c.why}`;
          refused.set(why, (refused.get(why) ?? 0) + 1);
        }
      }
    })();
    await Promise.all([redirectRun, createRun]);
    await sleep(Math.max(0, partitionedAt + servedPartitionMs - performance.now()));
    const failed = [...failures.values()].reduce((a, b) => a + b, 0);
    const minted = created.filter((c) => c.slug.length > 7).length;
    served.findings.push(
      `during the partition: ${failed} of ${partitionRedirects} redirects of served links failed` +
        (failed ? ` (${[...failures].map(([k, n]) => `${k} x${n}`).join(', ')})` : ''),
      `minority creates: ${created.length} of ${minorityCreates} acknowledged (${minted} minted slugs), ${minorityCreates - created.length} refused` +
        (refused.size ? ` (${[...refused].map(([k, n]) => `${k} x${n}`).join(', ')})` : ''),
    );
    if (failed > 0)
      served.anomalies.push({
        checker: 'partition',
        kind: 'unexpected',
        what: `${failed} of ${partitionRedirects} redirects of links every node had served failed during the partition`,
        n: failed,
      });
    if (created.length < minorityCreates)
      served.anomalies.push({
        checker: 'partition',
        kind: 'unexpected',
        what: `${minorityCreates - created.length} of ${minorityCreates} random-slug creates refused on the minority side`,
        n: minorityCreates - created.length,
      });

    await cluster.heal();
    const healedAt = performance.now();
    const all = [...links, ...created];
    let pending = nodes.flatMap((node) => all.map((l) => ({ node, l })));
    let last = new Map<string, string>();
    while (pending.length > 0 && performance.now() - healedAt < healRedirectBoundMs) {
      const results = await Promise.all(pending.map(async (p) => ({ p, r: await redirects(p.node, p.l) })));
      pending = results.filter((x) => x.r !== true).map((x) => x.p);
      last = new Map(results.filter((x) => x.r !== true).map((x) => [`${x.p.node.name}/${x.p.l.slug}`, String(x.r)]));
      if (pending.length > 0) await sleep(200);
    }
    const tookMs = Math.round(performance.now() - healedAt);
    served.findings.push(
      pending.length === 0
        ? `after the heal: all ${all.length} acknowledged links answered 302 on all ${nodes.length} nodes within ${(tookMs / 1000).toFixed(1)} s`
        : `after the heal: ${pending.length} link x node pairs still not 302 after ${healRedirectBoundMs / 1000} s`,
    );
    if (pending.length > 0)
      served.anomalies.push({
        checker: 'partition',
        kind: 'lost',
        what: `${pending.length} acknowledged link x node pairs did not answer 302 within ${healRedirectBoundMs / 1000} s of the heal (${[
          ...last,
        ]
          .slice(0, 6)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', ')})`,
        n: pending.length,
      });
    for (const f of served.findings) cluster.note(f);
  },
  verify: () => ({ anomalies: served.anomalies, findings: served.findings }),
};

const bridge: Scenario = {
  name: 'partition-bridge',
  title: 'bridge partitions',
  schedule:
    '5 nodes: two halves of two that cannot see each other, and one bridge node that sees both; 10 s, healed for 4 s; 2 rounds',
  nodes: 5,
  preferNetns: true,
  warmupMs: 3_000,
  tailMs: 2_000,
  async faults({ cluster, sleep, rand }) {
    for (let r = 0; r < 2; r++) {
      const [a, b, c, d, e] = shuffle([...Array(cluster.spec.size).keys()], rand) as [
        number,
        number,
        number,
        number,
        number,
      ];
      const half = (i: number) => (i === a || i === b ? 1 : i === d || i === e ? 2 : 0);
      const n = (i: number) => cluster.names[i];
      await cluster.partition(
        (i, j) => half(i) === 0 || half(j) === 0 || half(i) === half(j),
        `{${n(a)},${n(b)}} <- ${n(c)} -> {${n(d)},${n(e)}}`,
      );
      await sleep(10_000);
      await cluster.heal();
      await sleep(4_000);
    }
  },
};

const oneWay: Scenario = {
  name: 'partition-oneway',
  title: 'one-way partitions',
  schedule:
    'a random node drops every packet from its peers (iptables INPUT) while its own packets still reach them, for 8 s, then healed for 4 s; 2 rounds. Over TCP this stays one-way only until the next retransmission timeout and heartbeat: the deaf node never sees ACKs',
  nodes: 3,
  needsNetns: true,
  warmupMs: 3_000,
  tailMs: 2_000,
  async faults({ cluster, sleep, rand }) {
    for (let r = 0; r < 2; r++) {
      cluster.oneWay(rand(cluster.spec.size));
      await sleep(8_000);
      await cluster.heal();
      await sleep(4_000);
    }
  },
};

function rolling(signal: 'SIGTERM' | 'SIGINT'): Scenario {
  const term = signal === 'SIGTERM';
  return {
    name: term ? 'rolling-restart-sigterm' : 'rolling-restart',
    title: term
      ? 'rolling restart with SIGTERM (the Dockerfile STOPSIGNAL: stop without leaving, restart with DATA_DIR)'
      : 'rolling restart (SIGINT: stop without leaving, restart with DATA_DIR)',
    schedule: term
      ? 'each of 4 nodes in turn: SIGTERM (drain, flush, exit, stay a member: no partition moves), restart with its DATA_DIR, wait for /readyz and a settled ring of all four, 2 s; the round stops at the first node that does not come back'
      : 'each node in turn: SIGINT (flush, exit, stay a member), restart with its DATA_DIR, wait for /readyz and a settled ring, 2 s',
    nodes: term ? 4 : 3,
    warmupMs: 3_000,
    tailMs: 2_000,
    async faults({ cluster, sleep }) {
      // Partition owners as another node sees them: a restart that is not a departure moves none.
      const owners = async (from: RingProcess) =>
        (await clusterView(from)).ring.partitions.map((p) => `${p.owner}>${p.next ?? ''}`);
      for (let slot = 0; slot < cluster.spec.size; slot++) {
        const witness = cluster.nodes[(slot + 1) % cluster.spec.size]!;
        const before = await owners(witness).catch(() => undefined);
        await cluster.stop(slot, signal, 60_000);
        await sleep(500);
        const restartedAt = performance.now();
        try {
          await cluster.restart(slot, 60_000);
          await waitSettled(cluster.nodes, 90_000);
        } catch (err) {
          cluster.note(`${cluster.names[slot]} did not come back: ${(err as Error).message.split('\n')[0]}`);
          return;
        }
        const settledS = ((performance.now() - restartedAt) / 1000).toFixed(1);
        const after = await owners(witness).catch(() => undefined);
        const moved = before && after ? after.filter((o, i) => o !== before[i]).length : undefined;
        cluster.note(
          `ring settled ${settledS} s after ${cluster.names[slot]} was restarted; partitions moved: ${moved ?? 'unknown'}`,
        );
        await sleep(2_000);
      }
    },
  };
}

const wholeCluster: Scenario = {
  name: 'cluster-restart',
  title: 'whole-cluster restart with DATA_DIR',
  schedule:
    'round 1: SIGINT every node at once (all down), restart all; round 2: SIGKILL every node at once, restart all; each time wait for /readyz everywhere, then 3 s of load',
  nodes: 3,
  warmupMs: 4_000,
  tailMs: 2_000,
  async faults({ cluster, sleep }) {
    const slots = [...Array(cluster.spec.size).keys()];
    for (const signal of ['SIGINT', 'SIGKILL'] as const) {
      await Promise.all(slots.map((s) => cluster.stop(s, signal, 30_000)));
      cluster.note(`all nodes down (${signal})`);
      await sleep(2_000);
      await Promise.all(slots.map((s) => cluster.restart(s, 90_000)));
      cluster.note('all nodes back');
      await sleep(3_000);
    }
  },
};

const DAY_S = 86_400;
const clockJumps: Scenario = {
  name: 'clock',
  title: 'wall-clock jumps (libfaketime)',
  schedule:
    'n2 jumps +1 h for 8 s, n3 jumps -1 h for 8 s, n1 jumps +31 days (past the 30-day session TTL) for 8 s, each back to the true time and 4 s of calm after; six extra links expire in 20 min (true time)',
  nodes: 3,
  faketime: true,
  workload: { expiringLinks: 6, expiringInMs: 20 * 60_000 },
  warmupMs: 3_000,
  tailMs: 3_000,
  async faults({ cluster, sleep, windows }) {
    const jumps: [number, number, string][] = [
      [1, 3_600, '+1 h'],
      [2, -3_600, '-1 h'],
      [0, 31 * DAY_S, '+31 d'],
    ];
    for (const [slot, seconds, label] of jumps) {
      await sleep(3_000);
      const from = performance.now();
      cluster.setClock(slot, seconds >= 0 ? `+${seconds}` : `${seconds}`);
      await sleep(8_000);
      cluster.setClock(slot, '+0');
      windows.push({ node: cluster.names[slot]!, from, to: performance.now(), what: label });
      await sleep(4_000);
    }
  },
  // A node whose clock is 31 days ahead sees every session as expired (30-day TTL): a browser
  // it answers gets a new session. That follows from the design; what must hold is that the
  // old session is intact everywhere once the clock is right (the sessions checker).
  excuseReplacement: (r, windows) =>
    windows.some((w) => w.what === '+31 d' && r.node === w.node && r.at >= w.from && r.at <= w.to + 1_500),
};

export const scenarios: Scenario[] = [
  killLoop,
  pauses,
  majority,
  partitionServedLinks,
  bridge,
  oneWay,
  rolling('SIGINT'),
  rolling('SIGTERM'),
  wholeCluster,
  clockJumps,
];

/** The --ci scenario: kill -9 under load (runs anywhere, no root needed, about a minute). */
export const ciScenario = 'kill9';
