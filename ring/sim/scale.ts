// The ring at n nodes, measured in the simulator (`npm run bench:ring-scale`, and a small size
// point in tests/ring/scale.test.ts). Real RingNode code with the production protocol timings
// (defaultRingConfig: gossip and probes every 200 ms, fanout 2, suspicion timeout 1 s) runs on
// the seeded scheduler and network; only the ring size is set per point. The cluster starts
// settled (every node holds the ring the balanced claim gives n members, as after a restart
// from disk), warms up, and then goes through, in order:
//  - steady state: the bytes of every message sent, by kind (SimNetwork.countBytes);
//  - joins, one at a time: partitions moved against the ideal Q/(n+1), the transfers the
//    claimant's plan schedules, the claimant's CPU for that plan, and how long each ring
//    change (the joiner known; the joiner valid with its claims) takes to reach every node;
//  - a graceful leave: the same figures;
//  - a crash: per observer, the time until its failure detector calls the node dead;
//  - a partition of 30% of the nodes for 5 s, healed: the time until every node sees every
//    other alive again;
//  - message loss (1%): suspect and dead marks of nodes that are up, scaled to an hour.
// Everything is a function of the seed, except the claimant's CPU, which is wall time of the
// claim computation (planRing) on the ring the claimant planned from, measured in-process.
import { CasAcceptorStore } from '../cas/caspaxos';
import { defaultRingConfig, ringConfig, type RingConfig } from '../config';
import { claimantOf, planRing } from '../membership/claimant';
import { ringFingerprint, type RingState } from '../membership/ringState';
import type { DurableState } from '../node/durable';
import { claimPartitions, countMoves } from '../placement/claim';
import { computePreferenceLists } from '../placement/preference';
import { VnodeStore } from '../storage/vnodeStore';
import { SimWorld, simTypes, type SimNode } from './world';

export interface ScaleOptions {
  nodes: number;
  ringSize: number;
  seed: number;
  /** Virtual ms the settled cluster runs before anything is measured. */
  warmupMs: number;
  /** Virtual ms over which steady-state bytes are counted. */
  steadyMs: number;
  /** Nodes that join one after the other. */
  joins: number;
  /** Virtual ms run under `lossRate` message loss, counting false suspicions. */
  lossMs: number;
  lossRate: number;
  /** Longest virtual wait for one step to settle; a step that does not is reported (null), not awaited. */
  settleMaxMs: number;
  /** Protocol settings over defaultRingConfig (ringSize comes from `ringSize`). */
  config?: Partial<RingConfig>;
}

export const defaultScaleOptions: Omit<ScaleOptions, 'nodes' | 'ringSize'> = {
  seed: 1,
  warmupMs: 3_000,
  steadyMs: 10_000,
  joins: 3,
  lossMs: 120_000,
  lossRate: 0.01,
  settleMaxMs: 120_000,
};

export interface BytesPerNodePerSec {
  /** Ring gossip: digests, whole rings exchanged when digests differ, join requests. */
  gossip: number;
  /** SWIM: ping, ack, ping-req. */
  liveness: number;
  /** gossip + liveness. */
  membership: number;
  /** Every message, including requests, handoff, anti-entropy and CAS catch-up. */
  total: number;
}

export interface Spread {
  /** Samples (nodes times changes, or observers). */
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Samples that never happened within the step's wait (not in the quantiles). */
  missing: number;
}

export interface ChangeStep {
  /** 'join n5' or 'leave n3'. */
  step: string;
  /** Partitions whose owner differs between the settled rings before and after. */
  moved: number;
  /** The fewest a join can move, Q/(n+1); for a leave, what the leaver owned. */
  ideal: number;
  ratio: number;
  /** Partitions the claimant's first plan for the step gives a `next` owner (ownership transfers). */
  planTransfers: number;
  /** (partition, node) pairs that join a partition's preference list: replica copies the step makes. */
  replicaCopies: number;
  /** Wall time of the claim computation for the first plan, in-process (median of 5). */
  claimMs: number;
  /** Virtual ms until every node holds the same ring with no transfer pending; null: not within the wait. */
  settleMs: number | null;
}

export interface ScalePoint {
  nodes: number;
  ringSize: number;
  seed: number;
  config: Pick<RingConfig, 'gossipIntervalMs' | 'gossipFanout' | 'probeIntervalMs' | 'suspectTimeoutMs' | 'nVal'>;
  steady: {
    seconds: number;
    bytesPerNodePerSec: BytesPerNodePerSec;
    /** Per message kind (`t`): messages and bytes per node per second. */
    byKind: Record<string, { messages: number; bytes: number }>;
  };
  /** Ring changes (per join: the joiner known, then valid with its claims; per leave: leaving, its plan). */
  propagation: Spread & { changes: number };
  changes: ChangeStep[];
  /** Per observer, time from the crash to its detector's 'dead'. */
  crashToDead: Spread;
  partition: { isolated: number; isolatedMs: number; allAliveAfterHealMs: number | null };
  loss: {
    seconds: number;
    rate: number;
    /** Marks (one observer, one peer) of a node that was up. */
    falseSuspect: number;
    falseDead: number;
    falseSuspectPerHour: number;
    falseDeadPerHour: number;
  };
  virtualMs: number;
  wallMs: number;
}

const gossipKinds = new Set(['gossip', 'join']);
const livenessKinds = new Set(['ping', 'ack', 'pingreq']);

interface Watch {
  pred: (ring: RingState) => boolean;
  origin: number | undefined;
  reached: Map<string, number>;
  onOrigin?: (node: string, prev: RingState | undefined, ring: RingState) => void;
}

/** Every node's state when a cluster of `names` is settled: the balanced claim, CAS acceptors ready. */
export function settledCluster(names: readonly string[], config: RingConfig): Map<string, DurableState> {
  const owners = claimPartitions({ ringSize: config.ringSize, nVal: config.nVal, members: names, current: null });
  const ring: RingState = {
    clusterId: 'sim',
    ringSize: config.ringSize,
    members: Object.fromEntries(names.map((name) => [name, { name, addr: name, gen: 1, status: 'valid' as const }])),
    partitions: owners.map((owner) => ({ owner, next: null, epoch: 1 })),
  };
  const primaries = computePreferenceLists(ring, config.nVal).primaries;
  const out = new Map<string, DurableState>();
  for (const name of names) {
    const cas = new CasAcceptorStore();
    primaries.forEach((list, p) => {
      if (list.includes(name)) cas.readiness.set(p, 'active');
    });
    const store = new VnodeStore(simTypes(), config.antiEntropyBucketsPerPartition);
    out.set(name, { bootId: `${name}@settled`, incarnation: 0, ring, store, cas });
  }
  return out;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function spread(samples: number[], missing: number): Spread {
  const s = [...samples].sort((a, b) => a - b);
  const ms = (x: number) => Math.round(x);
  return {
    samples: s.length,
    p50Ms: ms(quantile(s, 0.5)),
    p99Ms: ms(quantile(s, 0.99)),
    maxMs: ms(s.at(-1) ?? 0),
    missing,
  };
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

export function measureRingScale(
  options: Partial<ScaleOptions> & Pick<ScaleOptions, 'nodes' | 'ringSize'>,
): ScalePoint {
  const o: ScaleOptions = { ...defaultScaleOptions, ...options };
  const wall0 = performance.now();
  const config = ringConfig({ ...defaultRingConfig, ...o.config, ringSize: o.ringSize });
  const world = new SimWorld(o.seed, config);
  const rnd = world.random.fork('scale');
  const watches = new Set<Watch>();
  const lastRing = new Map<string, RingState>();
  /** Per crashed node, per observer: virtual time of its 'dead'. */
  const deadAt = new Map<string, Map<string, number>>();
  const loss = { on: false, suspect: 0, dead: 0 };

  world.onBoot = (sim: SimNode) => {
    const name = sim.name;
    sim.node.events.on('ringChanged', (ring) => {
      const prev = lastRing.get(name);
      lastRing.set(name, ring);
      for (const w of watches) {
        if (w.reached.has(name) || !w.pred(ring)) continue;
        if (w.origin === undefined) {
          w.origin = world.now();
          w.onOrigin?.(name, prev, ring);
        }
        w.reached.set(name, world.now());
      }
    });
    sim.node.events.on('memberChanged', ({ member }) => {
      if (member.liveness === 'dead') {
        const seen = deadAt.get(member.name);
        if (seen && !seen.has(name)) seen.set(name, world.now());
      }
      if (loss.on && member.name !== name && world.nodes.get(member.name)?.up) {
        if (member.liveness === 'suspect') loss.suspect++;
        if (member.liveness === 'dead') loss.dead++;
      }
    });
    sim.node.events.on('left', () => world.scheduler.after(1, () => world.crash(name, false)));
  };

  const names = Array.from({ length: o.nodes }, (_, i) => `n${i}`);
  for (const [name, durable] of settledCluster(names, config)) world.addNode(name, [], durable);
  let next = o.nodes;

  const up = () => world.upNodes();
  /** Run in steps until `done` holds; the virtual ms it took, or null after `maxMs`. */
  const runUntil = (done: () => boolean, maxMs = o.settleMaxMs, stepMs = 100): number | null => {
    const t0 = world.now();
    while (world.now() - t0 < maxMs) {
      world.run(stepMs);
      if (done()) return world.now() - t0;
    }
    return null;
  };
  const settled = (): boolean => {
    const nodes = up();
    const ring0 = nodes[0]!.node.ring();
    if (ring0.partitions.some((c) => c.next !== null)) return false;
    const statuses = Object.values(ring0.members).map((m) => m.status);
    if (statuses.some((s) => s === 'joining' || s === 'leaving')) return false;
    const print = ringFingerprint(ring0);
    return nodes.every((s) => s.node.ring() === ring0 || ringFingerprint(s.node.ring()) === print);
  };
  const planMs = (node: string, prev: RingState | undefined): number => {
    if (!prev) return 0;
    const isUp = (n: string) => world.nodes.get(n)?.up ?? false;
    const self = claimantOf(prev, isUp) ?? node;
    const view = { self, nVal: config.nVal, now: 0, isUp, deadSince: () => undefined, autoDownAfterMs: 0 };
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      planRing(prev, view);
      times.push(performance.now() - t0);
    }
    return round(
      quantile(
        times.sort((a, b) => a - b),
        0.5,
      ),
      3,
    );
  };
  const propagation: number[] = [];
  let unreached = 0;
  let changeCount = 0;
  const watch = (pred: Watch['pred'], onOrigin?: Watch['onOrigin']): Watch => {
    const w: Watch = { pred, origin: undefined, reached: new Map(), ...(onOrigin ? { onOrigin } : {}) };
    watches.add(w);
    return w;
  };
  const closeWatch = (w: Watch) => {
    watches.delete(w);
    if (w.origin === undefined) return;
    changeCount++;
    for (const s of up()) {
      const at = w.reached.get(s.name);
      if (at === undefined) unreached++;
      else propagation.push(at - w.origin);
    }
  };
  const replicaCopies = (before: RingState, after: RingState): number => {
    const a = computePreferenceLists(before, config.nVal).primaries;
    const b = computePreferenceLists(after, config.nVal).primaries;
    let copies = 0;
    b.forEach((list, p) => {
      for (const node of list) if (!a[p]!.includes(node)) copies++;
    });
    return copies;
  };
  const changes: ChangeStep[] = [];
  /** One ring change step: `start` triggers it; `watches` are the ring changes to time; `plan` marks the claim. */
  const step = (label: string, ideal: number, start: () => void, preds: Watch['pred'][], plan: Watch['pred']) => {
    const before = up()[0]!.node.ring();
    let planTransfers = 0;
    let claimMs = 0;
    const ws = preds.map((p) => watch(p));
    const pw = watch(plan, (node, prev, ring) => {
      planTransfers = ring.partitions.filter((c) => c.next !== null).length;
      claimMs = planMs(node, prev);
    });
    start();
    const settleMs = runUntil(settled);
    world.run(1_000);
    for (const w of [...ws, pw]) closeWatch(w);
    const after = up()[0]!.node.ring();
    const moved = countMoves(
      before.partitions.map((c) => c.owner),
      after.partitions.map((c) => c.owner),
    );
    changes.push({
      step: label,
      moved,
      ideal: round(ideal),
      ratio: round(moved / ideal),
      planTransfers,
      replicaCopies: replicaCopies(before, after),
      claimMs,
      settleMs,
    });
  };

  // Warm up, then steady state.
  world.run(o.warmupMs);
  world.net.countBytes(true);
  world.run(o.steadyMs);
  const counted = world.net.bytesByKind();
  world.net.countBytes(false);
  const perNodeSec = (x: number) => round(x / o.nodes / (o.steadyMs / 1000), 1);
  const byKind: Record<string, { messages: number; bytes: number }> = {};
  const bytes = { gossip: 0, liveness: 0, total: 0 };
  for (const [kind, c] of [...counted].sort(([a], [b]) => (a < b ? -1 : 1))) {
    byKind[kind] = { messages: perNodeSec(c.messages), bytes: perNodeSec(c.bytes) };
    bytes.total += c.bytes;
    if (gossipKinds.has(kind)) bytes.gossip += c.bytes;
    if (livenessKinds.has(kind)) bytes.liveness += c.bytes;
  }

  // Joins.
  for (let j = 0; j < o.joins; j++) {
    const name = `n${next++}`;
    const members = up().length;
    step(
      `join ${name}`,
      o.ringSize / (members + 1),
      () => world.addNode(name, [names[0]!]),
      [(r) => r.members[name] !== undefined],
      (r) => r.members[name]?.status === 'valid' && r.partitions.some((c) => c.next === name || c.owner === name),
    );
  }

  // A graceful leave (not the claimant, n0).
  const leaver = names[1]!;
  const owned = up()[0]!
    .node.ring()
    .partitions.filter((c) => c.owner === leaver).length;
  step(
    `leave ${leaver}`,
    owned,
    () => world.nodes.get(leaver)!.node.leave(),
    // Monotone: a node may merge a later ring (exiting, partitions moved) without holding the first one.
    [(r) => ['leaving', 'exiting'].includes(r.members[leaver]?.status ?? '')],
    (r) =>
      r.partitions.some((c) => c.owner === leaver && c.next !== null) || r.partitions.every((c) => c.owner !== leaver),
  );

  // A crash: every observer's time to 'dead'. The node then restarts from its disk.
  const victim = names[Math.floor(o.nodes / 2)]!;
  const seen = new Map<string, number>();
  deadAt.set(victim, seen);
  const crashedAt = world.now();
  world.crash(victim, true);
  const observers = () => up().filter((s) => s.node.ring().members[s.name]?.status === 'valid');
  runUntil(() => observers().every((s) => seen.has(s.name)), 30_000);
  deadAt.delete(victim);
  const deadTimes = observers()
    .map((s) => seen.get(s.name))
    .filter((t): t is number => t !== undefined)
    .map((t) => t - crashedAt);
  const crashToDead = spread(deadTimes, observers().length - deadTimes.length);
  world.restart(victim);
  const allAlive = () => {
    const nodes = up();
    return nodes.every((s) => s.node.members().every((m) => m.liveness === 'alive' || !world.nodes.get(m.name)?.up));
  };
  runUntil(allAlive, 30_000);

  // A partition: 30% of the nodes (never n0) cut off for 5 s, then healed.
  const isolatedMs = 5_000;
  const upNames = up().map((s) => s.name);
  const shuffled = upNames.slice(1);
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = rnd.int(i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  const isolated = shuffled.slice(0, Math.max(1, Math.floor(upNames.length * 0.3)));
  world.net.partition([upNames.filter((n) => !isolated.includes(n)), isolated]);
  world.run(isolatedMs);
  world.net.heal();
  const allAliveAfterHealMs = runUntil(allAlive, 60_000);
  runUntil(settled, 30_000);

  // Message loss: marks of nodes that are up.
  world.net.setFaults({ dropRate: o.lossRate });
  loss.on = true;
  world.run(o.lossMs);
  loss.on = false;
  world.net.setFaults({ dropRate: 0 });
  const perHour = (x: number) => round((x * 3_600_000) / o.lossMs, 1);

  const prop = spread(propagation, unreached);
  return {
    nodes: o.nodes,
    ringSize: o.ringSize,
    seed: o.seed,
    config: {
      gossipIntervalMs: config.gossipIntervalMs,
      gossipFanout: config.gossipFanout,
      probeIntervalMs: config.probeIntervalMs,
      suspectTimeoutMs: config.suspectTimeoutMs,
      nVal: config.nVal,
    },
    steady: {
      seconds: o.steadyMs / 1000,
      bytesPerNodePerSec: {
        gossip: perNodeSec(bytes.gossip),
        liveness: perNodeSec(bytes.liveness),
        membership: perNodeSec(bytes.gossip + bytes.liveness),
        total: perNodeSec(bytes.total),
      },
      byKind,
    },
    propagation: { ...prop, changes: changeCount },
    changes,
    crashToDead,
    partition: { isolated: isolated.length, isolatedMs, allAliveAfterHealMs },
    loss: {
      seconds: o.lossMs / 1000,
      rate: o.lossRate,
      falseSuspect: loss.suspect,
      falseDead: loss.dead,
      falseSuspectPerHour: perHour(loss.suspect),
      falseDeadPerHour: perHour(loss.dead),
    },
    virtualMs: world.now(),
    wallMs: Math.round(performance.now() - wall0),
  };
}
