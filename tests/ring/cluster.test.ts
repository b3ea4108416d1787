// Cluster scenarios: the real RingNode code (membership, coordinators, handoff,
// anti-entropy, tombstone collection, CAS, counters, coverage) on the simulated network,
// no mocks. Each test drives one world from a fixed seed, then checks one property both
// through the public API and white-box, by reading every node's vnode store directly.
// The simulator is synchronous: call the API, `world.run(ms)`, then assert on what the
// callbacks recorded.
import { beforeAll, describe, expect, it } from 'vitest';
import type { RingConfig } from '../../ring/config';
import type { ReadResult, WriteResult } from '../../ring/coordinator/quorum';
import type { CoverageQuery, CoverageResult } from '../../ring/coverage/coverage';
import { gcounterValue, type GCounter } from '../../ring/crdt/gcounter';
import { initHash, partitionOf } from '../../ring/hash';
import { ringFingerprint } from '../../ring/membership/ringState';
import type { Callback, RingError } from '../../ring/node/context';
import { durableStateOf, type RingNode } from '../../ring/node/ringNode';
import { isTombstone } from '../../ring/storage/entry';
import type { StoredEntry } from '../../ring/storage/vnodeStore';
import type { VersionVector } from '../../ring/storage/versions';
import { SimWorld, simRingConfig } from '../../ring/sim/world';

beforeAll(async () => {
  await initHash();
});

// ---------------------------------------------------------------- harness

/** CLUSTER_SEED_OFFSET=k replays every scenario with its seed shifted by k (to explore other schedules). */
const seedOffset = Number(process.env.CLUSTER_SEED_OFFSET ?? 0);

function newWorld(seed: number, config: RingConfig): SimWorld {
  return new SimWorld(seed + seedOffset, config);
}

type Outcome<T> = { err: RingError | null; res: T | undefined };

/** A callback that records its single outcome (a second call is itself a failure). */
class Op<T> {
  outcome: Outcome<T> | undefined;
  calls = 0;
  readonly cb: Callback<T> = (err, res) => {
    this.calls++;
    this.outcome ??= { err, res };
  };
  get done(): boolean {
    return this.outcome !== undefined;
  }
}

/** Run the world in small steps until `pred` holds or `maxMs` of virtual time passed. */
function runUntil(world: SimWorld, pred: () => boolean, maxMs: number, stepMs = 50): boolean {
  const end = world.now() + maxMs;
  while (!pred()) {
    if (world.now() >= end) return false;
    world.run(stepMs);
  }
  return true;
}

/** Start requests, run until every callback fired, and return the outcomes in order. */
function settle<T>(
  world: SimWorld,
  start: (cb: Callback<T>, i: number) => void,
  count = 1,
  maxMs = 10_000,
): Outcome<T>[] {
  const ops = Array.from({ length: count }, () => new Op<T>());
  ops.forEach((op, i) => start(op.cb, i));
  const finished = runUntil(world, () => ops.every((o) => o.done), maxMs, 5);
  expect(finished, `${ops.filter((o) => !o.done).length} of ${count} requests never called back`).toBe(true);
  for (const op of ops) expect(op.calls).toBe(1);
  return ops.map((o) => o.outcome!);
}

function one<T>(world: SimWorld, start: (cb: Callback<T>) => void, maxMs = 10_000): Outcome<T> {
  return settle<T>(world, (cb) => start(cb), 1, maxMs)[0]!;
}

function node(world: SimWorld, name: string): RingNode {
  const sim = world.nodes.get(name);
  if (!sim?.up) throw new Error(`${name} is not up`);
  return sim.node;
}

function put(world: SimWorld, via: string, key: string, value: string, context: VersionVector = {}): WriteResult {
  const o = one<WriteResult>(world, (cb) => node(world, via).put(key, value, context, cb));
  expect(o.err, `put ${key} via ${via}`).toBeNull();
  return o.res!;
}

function get(world: SimWorld, via: string, key: string): ReadResult {
  const o = one<ReadResult>(world, (cb) => node(world, via).get(key, cb));
  expect(o.err, `get ${key} via ${via}`).toBeNull();
  return o.res!;
}

/** Write every key (value = key + suffix) through `via`, all at once; every write must succeed. */
function putAll(world: SimWorld, via: string, keys: readonly string[], suffix = ''): void {
  const outs = settle<WriteResult>(
    world,
    (cb, i) => node(world, via).put(keys[i]!, `${keys[i]}${suffix}`, {}, cb),
    keys.length,
  );
  const failed = outs.flatMap((o, i) => (o.err ? [`${keys[i]}: ${o.err.kind} ${o.err.message}`] : []));
  expect(failed).toEqual([]);
}

/** Read every key through every up node; each must be found with exactly its expected value. */
function expectReadableEverywhere(world: SimWorld, expected: ReadonlyMap<string, string>): void {
  const keys = [...expected.keys()];
  for (const sim of world.upNodes()) {
    const outs = settle<ReadResult>(world, (cb, i) => sim.node.get(keys[i]!, cb), keys.length);
    const wrong: string[] = [];
    outs.forEach((o, i) => {
      const key = keys[i]!;
      if (o.err) wrong.push(`${key} via ${sim.name}: ${o.err.kind} ${o.err.message}`);
      else if (!o.res?.found || o.res.deleted || o.res.values.length !== 1 || o.res.value !== expected.get(key))
        wrong.push(`${key} via ${sim.name}: ${JSON.stringify(o.res)}`);
    });
    expect(wrong.slice(0, 5), `${wrong.length} keys read wrong through ${sim.name}`).toEqual([]);
  }
}

function keysNamed(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `kv/${prefix}${i}`);
}

/** Founder plus joiners (all through the founder), then wait for a settled ring. */
function formCluster(world: SimWorld, names: readonly string[], onBoot?: (name: string) => void): void {
  world.addNode(names[0]!, []);
  onBoot?.(names[0]!);
  for (const name of names.slice(1)) {
    world.addNode(name, [names[0]!]);
    onBoot?.(name);
  }
  expect(
    runUntil(world, () => settled(world), 30_000),
    `cluster ${names.join(',')} did not settle`,
  ).toBe(true);
}

/**
 * Membership is quiet: every up node holds the same ring, every up node is a valid member
 * and sees every other up node alive, no partition has a pending owner, no handoff runs
 * and no counter delta waits for a flush.
 */
function settled(world: SimWorld): boolean {
  const up = world.upNodes();
  if (up.length === 0) return true;
  const print = ringFingerprint(up[0]!.node.ring());
  for (const sim of up) {
    const n = sim.node;
    const ring = n.ring();
    if (ringFingerprint(ring) !== print) return false;
    if (ring.members[sim.name]?.status !== 'valid') return false;
    if (ring.partitions.some((c) => c.next !== null)) return false;
    if (n.handoffs().length > 0 || n.counterState().pending() > 0) return false;
    const live = new Map(n.members().map((m) => [m.name, m.liveness]));
    for (const other of up) if (live.get(other.name) !== 'alive') return false;
  }
  return true;
}

/** Every up node has every partition it is a primary of ready for CAS. */
function casReady(world: SimWorld): boolean {
  for (const sim of world.upNodes()) {
    const prefs = sim.node.preferenceLists();
    for (let p = 0; p < prefs.primaries.length; p++)
      if (prefs.primaries[p]!.includes(sim.name) && !sim.node.casReady(p)) return false;
  }
  return true;
}

/** Who holds `key` among the up nodes, with what. */
function holders(world: SimWorld, key: string): Map<string, StoredEntry> {
  const p = partitionOf(key, world.config.ringSize);
  const out = new Map<string, StoredEntry>();
  for (const sim of world.upNodes()) {
    const stored = durableStateOf(sim.node).store.get(p, key);
    if (stored) out.set(sim.name, stored);
  }
  return out;
}

function primariesOf(world: SimWorld, key: string, via?: string): string[] {
  const n = via ? node(world, via) : world.upNodes()[0]!.node;
  return [...n.preferenceLists().primaries[partitionOf(key, world.config.ringSize)]!];
}

function liveValues(stored: StoredEntry | undefined): unknown[] {
  if (!stored || stored.entry.kind !== 'register') return [];
  return stored.entry.v.siblings.filter((s) => !s.deleted).map((s) => s.value);
}

/**
 * Problems with the placement of `key`: it must be held by exactly its N primaries (as every
 * up node computes them), all of them up, with one identical version whose only live value
 * is the expected one, and by no other up node.
 */
function placementProblems(world: SimWorld, key: string, value: string): string[] {
  const nVal = world.config.nVal;
  const primaries = primariesOf(world, key);
  const out: string[] = [];
  if (primaries.length !== nVal || new Set(primaries).size !== nVal) out.push(`${key}: primaries [${primaries}]`);
  const have = holders(world, key);
  for (const name of primaries) {
    if (!world.nodes.get(name)?.up) out.push(`${key}: primary ${name} is down`);
    const stored = have.get(name);
    if (!stored) out.push(`${key}: missing on primary ${name} (held by ${[...have.keys()]})`);
    else if (JSON.stringify(liveValues(stored)) !== JSON.stringify([value]))
      out.push(`${key}: ${name} holds ${JSON.stringify(liveValues(stored))}`);
  }
  const hashes = new Set([...have.values()].map((s) => s.hash));
  if (hashes.size > 1) out.push(`${key}: ${hashes.size} different versions among ${[...have.keys()]}`);
  for (const name of have.keys()) if (!primaries.includes(name)) out.push(`${key}: also held by non-primary ${name}`);
  return out;
}

function allPlacementProblems(world: SimWorld, expected: ReadonlyMap<string, string>): string[] {
  return [...expected].flatMap(([k, v]) => placementProblems(world, k, v));
}

/** Ownership: only valid members own partitions, each floor(Q/n) or ceil(Q/n) of them. */
function balanceProblems(world: SimWorld): string[] {
  const ring = world.upNodes()[0]!.node.ring();
  const valid = Object.values(ring.members)
    .filter((m) => m.status === 'valid')
    .map((m) => m.name);
  const counts = new Map(valid.map((v) => [v, 0]));
  const out: string[] = [];
  for (const c of ring.partitions) {
    if (!counts.has(c.owner)) out.push(`${c.owner} (${ring.members[c.owner]?.status}) owns a partition`);
    counts.set(c.owner, (counts.get(c.owner) ?? 0) + 1);
  }
  const q = ring.ringSize;
  for (const name of valid) {
    const k = counts.get(name)!;
    if (k < Math.floor(q / valid.length) || k > Math.ceil(q / valid.length))
      out.push(`${name} owns ${k} of ${q} with ${valid.length} members`);
  }
  return out;
}

function expectedMap(keys: readonly string[], suffix = ''): Map<string, string> {
  return new Map(keys.map((k) => [k, `${k}${suffix}`]));
}

/** `observer` believes `target` is dead (SWIM). */
function seesDead(world: SimWorld, observer: string, target: string): boolean {
  return (
    node(world, observer)
      .members()
      .find((m) => m.name === target)?.liveness === 'dead'
  );
}

function everyoneSeesDead(world: SimWorld, target: string): boolean {
  return world.upNodes().every((s) => s.name === target || seesDead(world, s.name, target));
}

// ---------------------------------------------------------------- tests

describe('cluster scenarios (real RingNode on the simulated network)', () => {
  it('join 1 -> 3 -> 4 with data: every key on exactly its N primaries, readable everywhere, ownership balanced', () => {
    // The default N=3, R=2, W=2: the founder alone serves (quorums clamped to its one
    // replica), and the keys it took get back to N distinct replicas as nodes join.
    const world = newWorld(101, simRingConfig());
    formCluster(world, ['n0']);
    const keys = keysNamed('join', 300);
    const expected = expectedMap(keys);
    putAll(world, 'n0', keys);
    expect(node(world, 'n0').keyCount()).toBe(300);

    world.addNode('n1', ['n0']);
    world.addNode('n2', ['n0']);
    const t3 = runUntil(world, () => settled(world) && allPlacementProblems(world, expected).length === 0, 30_000);
    expect(allPlacementProblems(world, expected).slice(0, 5)).toEqual([]);
    expect(t3).toBe(true);
    expect(balanceProblems(world)).toEqual([]);

    world.addNode('n3', ['n1']);
    runUntil(world, () => settled(world) && allPlacementProblems(world, expected).length === 0, 30_000);
    expect(settled(world)).toBe(true);
    expect(Object.keys(node(world, 'n0').ring().members).sort()).toEqual(['n0', 'n1', 'n2', 'n3']);
    expect(allPlacementProblems(world, expected).slice(0, 5)).toEqual([]);
    expect(balanceProblems(world)).toEqual([]);
    // The newcomer got a share of the data, and the founder gave some away.
    expect(node(world, 'n3').keyCount()).toBeGreaterThan(0);
    expect(node(world, 'n0').keyCount()).toBeLessThan(300);
    expectReadableEverywhere(world, expected);
  });

  it('a joining node gets each key streamed once, in small chunks with several in flight', () => {
    // Two nodes at N=3: every key moves to the newcomer. Transfers to one receiver run one at
    // a time (each would stream the same partitions), so the founder sends each key once.
    const world = newWorld(102, simRingConfig({ handoffBatchKeysMax: 16, handoffChunksInFlightMax: 3 }));
    formCluster(world, ['n0']);
    const keys = keysNamed('once', 400);
    const expected = expectedMap(keys);
    putAll(world, 'n0', keys);
    world.addNode('n1', ['n0']);
    const done = runUntil(world, () => settled(world) && node(world, 'n1').keyCount() === 400, 30_000);
    expect(done).toBe(true);
    expect(node(world, 'n1').keyCount()).toBe(400);
    expect(node(world, 'n0').stats.handoffKeysSent).toBe(400);
    expectReadableEverywhere(world, expected);
  });

  it('a one-node cluster serves with N=3, R=2, W=2: writes, reads, deletes, CAS and counters', () => {
    const world = newWorld(111, simRingConfig());
    formCluster(world, ['n0']);
    const n0 = node(world, 'n0');
    const w = put(world, 'n0', 'kv/solo', 'v1');
    expect(get(world, 'n0', 'kv/solo')).toMatchObject({ found: true, value: 'v1' });
    put(world, 'n0', 'kv/solo', 'v2', w.context);
    expect(get(world, 'n0', 'kv/solo')).toMatchObject({ found: true, values: ['v2'] });
    const del = one<WriteResult>(world, (cb) => n0.delete('kv/gone', {}, cb));
    expect(del.err).toBeNull();
    const cas = one<string>(world, (cb) =>
      n0.cas('cas/solo', (cur) => (cur ? { next: cur, result: 'taken' } : { next: 'mine', result: 'granted' }), cb),
    );
    expect(cas).toEqual({ err: null, res: 'granted' });
    for (let i = 0; i < 5; i++) n0.increment('ctr/solo', 2);
    expect(
      runUntil(world, () => n0.counterState().pending() === 0 && n0.counterState().unacknowledged().size === 0, 5_000),
    ).toBe(true);
    const total = one<{ value: GCounter }>(world, (cb) => n0.readCounter('ctr/solo', cb));
    expect(total.err).toBeNull();
    expect(gcounterValue(total.res!.value)).toBe(10);
  });

  it('quorums follow membership, not reachability: with 2 of 3 members down, a write that needs W=2 is refused', () => {
    const world = newWorld(112, simRingConfig());
    formCluster(world, ['n0', 'n1', 'n2']);
    world.crash('n1', true);
    world.crash('n2', true);
    runUntil(world, () => !node(world, 'n0').isUp('n1') && !node(world, 'n0').isUp('n2'), 10_000);
    const w = one<WriteResult>(world, (cb) => node(world, 'n0').put('kv/alone', 'x', {}, cb));
    expect(w.err?.kind).toBe('unavailable');
    const r = one<ReadResult>(world, (cb) => node(world, 'n0').get('kv/alone', cb));
    expect(r.err?.kind).toBe('unavailable');
  });

  it('graceful leave: the left event fires once, the leaver ends empty, every key keeps N replicas on the others', () => {
    const world = newWorld(202, simRingConfig());
    formCluster(world, ['n0', 'n1', 'n2', 'n3']);
    const keys = keysNamed('leave', 200);
    const expected = expectedMap(keys);
    putAll(world, 'n1', keys);
    runUntil(world, () => allPlacementProblems(world, expected).length === 0, 5_000);
    expect(allPlacementProblems(world, expected).slice(0, 5)).toEqual([]);
    const leaver = node(world, 'n2');
    expect(leaver.keyCount()).toBeGreaterThan(0);

    let left = 0;
    let keysAtLeft = -1;
    leaver.events.on('left', () => {
      left++;
      keysAtLeft = leaver.keyCount();
    });
    leaver.leave();
    expect(
      runUntil(world, () => left > 0, 30_000),
      'left never fired',
    ).toBe(true);
    expect(keysAtLeft).toBe(0);
    expect(leaver.ring().members.n2?.status).toBe('exiting');
    expect(leaver.ring().partitions.every((c) => c.owner !== 'n2' && c.next !== 'n2')).toBe(true);
    // The process exits after leaving; its last gossip (status exiting) is still in flight.
    world.crash('n2', true);
    world.run(1_000);
    expect(runUntil(world, () => settled(world) && allPlacementProblems(world, expected).length === 0, 20_000)).toBe(
      true,
    );
    expect(left).toBe(1);
    expect(leaver.keyCount()).toBe(0);
    for (const sim of world.upNodes()) expect(sim.node.ring().members.n2?.status).toBe('exiting');
    expect(balanceProblems(world)).toEqual([]);
    expect(allPlacementProblems(world, expected).slice(0, 5)).toEqual([]);
    expectReadableEverywhere(world, expected);
  });

  // BUG (ring/node/ringNode.ts, RingNode.checkLeft): the leaver sets itself 'exiting',
  // gossips that once to gossipFanout peers (fire and forget) and emits left at once; the
  // process then exits. If those few messages are lost, the survivors keep it 'leaving'
  // for ever (or, with auto-down, 'downed' for ever): tombstones are never collected again
  // (every leaving or downed member must confirm) and, with auto-down, no other member can
  // ever be downed (one downed member at a time). Here the loss is made certain by cutting
  // the leaver off inside its left listener, before its last gossip is delivered.
  it("graceful leave is final even if the leaver's last gossip is lost: survivors record it as exited and reap tombstones again", () => {
    const world = newWorld(222, simRingConfig());
    formCluster(world, ['n0', 'n1', 'n2', 'n3']);
    const leaver = node(world, 'n2');
    let left = false;
    leaver.events.on('left', () => {
      left = true;
      world.net.partition([['n2'], ['n0', 'n1', 'n3']]);
    });
    leaver.leave();
    expect(
      runUntil(world, () => left, 30_000),
      'left never fired',
    ).toBe(true);
    world.crash('n2', true);
    world.run(100); // the leaver's last messages are dropped, then the network heals
    world.net.heal();
    world.run(5_000);
    const key = 'kv/after-leave';
    const w = put(world, 'n0', key, 'x');
    expect(one<WriteResult>(world, (cb) => node(world, 'n0').delete(key, w.context, cb)).err).toBeNull();
    world.run(world.config.tombstoneGraceMs + 5_000);
    const seen = {
      n2StatusOnSurvivors: world.upNodes().map((s) => s.node.ring().members.n2?.status),
      tombstoneCopies: holders(world, key).size,
    };
    expect(seen).toEqual({ n2StatusOnSurvivors: ['exiting', 'exiting', 'exiting'], tombstoneCopies: 0 });
  });

  it('hinted handoff: writes taken by a fallback while a primary is down reach that primary after it restarts, and the fallback drops them', () => {
    const world = newWorld(303, simRingConfig());
    formCluster(world, ['n0', 'n1', 'n2', 'n3']);
    // Keys whose primaries include n3 (with 4 nodes and N = 3, the fourth node is the fallback).
    const keys = keysNamed('hint', 400)
      .filter((k) => primariesOf(world, k).includes('n3'))
      .slice(0, 60);
    expect(keys.length).toBe(60);
    const expected = expectedMap(keys);
    const fallbackOf = new Map(
      keys.map((k) => [k, ['n0', 'n1', 'n2', 'n3'].find((n) => !primariesOf(world, k).includes(n))!]),
    );

    world.crash('n3', true);
    expect(
      runUntil(world, () => everyoneSeesDead(world, 'n3'), 10_000),
      'n3 never detected dead',
    ).toBe(true);
    putAll(world, 'n0', keys);
    world.run(500);
    // The writes went to the fallbacks (precondition of the property).
    for (const k of keys) {
      const have = holders(world, k);
      expect([...have.keys()].sort(), k).toEqual(['n0', 'n1', 'n2']);
      expect(have.has(fallbackOf.get(k)!)).toBe(true);
    }

    world.restart('n3');
    const ok = runUntil(world, () => settled(world) && allPlacementProblems(world, expected).length === 0, 20_000);
    expect(allPlacementProblems(world, expected).slice(0, 5)).toEqual([]);
    expect(ok).toBe(true);
    for (const k of keys) {
      expect(holders(world, k).has('n3'), k).toBe(true);
      expect(holders(world, k).has(fallbackOf.get(k)!), k).toBe(false);
    }
    const sent = world.upNodes().reduce((n, s) => n + s.node.stats.handoffKeysSent, 0);
    expect(sent).toBeGreaterThan(0);
  });

  it('anti-entropy: a node restarted without its disk gets back every key it is a primary of, without any reads', () => {
    const world = newWorld(404, simRingConfig());
    formCluster(world, ['n0', 'n1', 'n2', 'n3']);
    const keys = keysNamed('ae', 200);
    const expected = expectedMap(keys);
    putAll(world, 'n0', keys);
    runUntil(world, () => allPlacementProblems(world, expected).length === 0, 5_000);
    const mine = keys.filter((k) => primariesOf(world, k).includes('n1'));
    expect(mine.length).toBeGreaterThan(50);
    expect(node(world, 'n1').keyCount()).toBe(mine.length);

    world.crash('n1', false);
    world.run(200);
    world.restart('n1');
    expect(node(world, 'n1').keyCount()).toBe(0);
    const getsBefore = world.upNodes().reduce((n, s) => n + s.node.stats.gets, 0);
    const ok = runUntil(world, () => settled(world) && mine.every((k) => holders(world, k).has('n1')), 15_000);
    expect(ok, `n1 holds ${node(world, 'n1').keyCount()} of ${mine.length}`).toBe(true);
    world.run(2_000);
    expect(world.upNodes().reduce((n, s) => n + s.node.stats.gets, 0)).toBe(getsBefore);
    expect(node(world, 'n1').stats.readRepairs).toBe(0);
    expect(node(world, 'n1').keyCount()).toBe(mine.length);
    expect(allPlacementProblems(world, expected).slice(0, 5)).toEqual([]);
    expect(world.upNodes().reduce((n, s) => n + s.node.stats.antiEntropyKeysRepaired, 0)).toBeGreaterThanOrEqual(
      mine.length,
    );
  });

  it('read repair: one quorum read brings a stale replica up to date (anti-entropy off)', () => {
    const world = newWorld(505, simRingConfig({ antiEntropyIntervalMs: 1e9 }));
    // Three nodes, N = 3: every node is a primary of every key, so there is no fallback and no hinted handoff.
    formCluster(world, ['n0', 'n1', 'n2']);
    const key = 'kv/repair-me';
    const v1 = put(world, 'n0', key, 'v1');
    world.run(200);
    expect([...holders(world, key).keys()].sort()).toEqual(['n0', 'n1', 'n2']);

    world.net.partition([['n2'], ['n0', 'n1']]);
    put(world, 'n0', key, 'v2', v1.context);
    world.run(100);
    world.net.heal();
    expect(runUntil(world, () => settled(world), 10_000)).toBe(true);
    // Precondition: n2 is stale, the others have v2.
    expect(liveValues(holders(world, key).get('n2'))).toEqual(['v1']);
    expect(liveValues(holders(world, key).get('n0'))).toEqual(['v2']);
    expect(liveValues(holders(world, key).get('n1'))).toEqual(['v2']);
    world.run(1_000);
    expect(liveValues(holders(world, key).get('n2')), 'something other than read repair fixed n2').toEqual(['v1']);

    const r = get(world, 'n1', key);
    expect(r.found && r.value).toBe('v2');
    world.run(200);
    const have = holders(world, key);
    expect(liveValues(have.get('n2'))).toEqual(['v2']);
    expect(have.get('n2')!.hash).toBe(have.get('n0')!.hash);
    expect(node(world, 'n1').stats.readRepairs).toBeGreaterThanOrEqual(1);
    expect(world.upNodes().reduce((n, s) => n + s.node.stats.antiEntropyExchanges, 0)).toBe(0);
  });

  describe('deletes', () => {
    const isGone = (r: ReadResult) => !r.found || (r.deleted && r.values.length === 0);

    it('a deleted key reads as deleted, its tombstone is reaped from every store after the grace period, and it never comes back', () => {
      const world = newWorld(606, simRingConfig());
      formCluster(world, ['n0', 'n1', 'n2', 'n3']);
      const keys = keysNamed('del', 20);
      putAll(world, 'n0', keys);
      const deletedAt = world.now();
      for (const [i, k] of keys.entries()) {
        const via = `n${i % 4}`;
        const r = get(world, via, k);
        expect(r.found).toBe(true);
        const o = one<WriteResult>(world, (cb) => node(world, via).delete(k, r.found ? r.context : {}, cb));
        expect(o.err).toBeNull();
      }
      for (const k of keys)
        for (const n of ['n0', 'n1', 'n2', 'n3']) expect(isGone(get(world, n, k)), `${k} via ${n}`).toBe(true);
      world.run(300);
      for (const k of keys) {
        const have = holders(world, k);
        expect(have.size, k).toBe(3);
        for (const s of have.values()) expect(isTombstone(s.entry)).toBe(true);
      }
      const reaped = runUntil(world, () => keys.every((k) => holders(world, k).size === 0), 20_000, 100);
      expect(reaped, `${keys.filter((k) => holders(world, k).size > 0).length} tombstones left`).toBe(true);
      expect(world.now() - deletedAt).toBeGreaterThanOrEqual(world.config.tombstoneGraceMs);
      // (The stat counts collections a node coordinated, not copies dropped on request.)
      expect(world.upNodes().reduce((n, s) => n + s.node.stats.tombstonesReaped, 0)).toBeGreaterThanOrEqual(
        keys.length,
      );
      world.run(3_000);
      for (const k of keys) {
        expect(holders(world, k).size, k).toBe(0);
        for (const n of ['n0', 'n1', 'n2', 'n3']) expect(get(world, n, k).found, `${k} via ${n}`).toBe(false);
      }
      world.run(1_000);
      for (const k of keys) expect(holders(world, k).size, `${k} came back after reads`).toBe(0);
    });

    it.each([
      { autoDownAfterMs: 0, status: 'valid' },
      { autoDownAfterMs: 2_000, status: 'downed' },
    ])(
      'a tombstone is not reaped while a member is crashed (autoDownAfterMs $autoDownAfterMs, member $status), and is once it is back',
      ({ autoDownAfterMs, status }) => {
        const world = newWorld(607 + autoDownAfterMs, simRingConfig({ autoDownAfterMs }));
        formCluster(world, ['n0', 'n1', 'n2', 'n3']);
        const keys = keysNamed('tomb', 12);
        putAll(world, 'n0', keys);
        world.run(300);
        world.crash('n3', true);
        // Wait for detection: a delete forwarded to a crashed, still trusted coordinator ends in an unknown outcome.
        expect(runUntil(world, () => everyoneSeesDead(world, 'n3'), 10_000)).toBe(true);
        const contexts = keys.map((k) => {
          const r = get(world, 'n1', k);
          return r.found ? r.context : {};
        });
        const outs = settle<WriteResult>(
          world,
          (cb, i) => node(world, 'n1').delete(keys[i]!, contexts[i]!, cb),
          keys.length,
        );
        expect(outs.map((o) => o.err)).toEqual(keys.map(() => null));
        world.run(world.config.tombstoneGraceMs + 4_000);
        for (const sim of world.upNodes()) expect(sim.node.ring().members.n3?.status).toBe(status);
        for (const k of keys) {
          const have = holders(world, k);
          expect(have.size, `${k}: tombstone reaped while n3 is down`).toBeGreaterThanOrEqual(2);
          for (const s of have.values()) expect(isTombstone(s.entry)).toBe(true);
        }
        expect(world.upNodes().reduce((n, s) => n + s.node.stats.tombstonesReaped, 0)).toBe(0);

        world.restart('n3');
        const reaped = runUntil(
          world,
          () => settled(world) && keys.every((k) => holders(world, k).size === 0),
          30_000,
          100,
        );
        expect(reaped, `${keys.filter((k) => holders(world, k).size > 0).length} tombstones left`).toBe(true);
        world.run(2_000);
        for (const k of keys) {
          expect(holders(world, k).size, k).toBe(0);
          expect(get(world, 'n3', k).found, k).toBe(false);
        }
      },
    );
  });

  it('concurrent writes with the same empty context become siblings; a write with the merged context resolves them', () => {
    const world = newWorld(707, simRingConfig());
    formCluster(world, ['n0', 'n1', 'n2']);
    const key = 'kv/contended';
    const outs = settle<WriteResult>(
      world,
      (cb, i) => node(world, i === 0 ? 'n0' : 'n1').put(key, i === 0 ? 'from-n0' : 'from-n1', {}, cb),
      2,
    );
    expect(outs.map((o) => o.err)).toEqual([null, null]);
    world.run(200);
    const r = get(world, 'n2', key);
    expect(r.found).toBe(true);
    if (!r.found) return;
    expect([...r.values].sort()).toEqual(['from-n0', 'from-n1']);
    expect(r.deleted).toBe(false);
    for (const s of holders(world, key).values()) expect(liveValues(s).sort()).toEqual(['from-n0', 'from-n1']);

    put(world, 'n2', key, 'resolved', r.context);
    world.run(200);
    for (const n of ['n0', 'n1', 'n2']) {
      const after = get(world, n, key);
      expect(after.found && after.values).toEqual(['resolved']);
    }
    const have = holders(world, key);
    expect(have.size).toBe(3);
    for (const s of have.values()) expect(liveValues(s)).toEqual(['resolved']);
  });

  it('CAS create-if-absent under a partition: only the majority side creates, and after healing every node reads the winner', () => {
    const world = newWorld(808, simRingConfig());
    formCluster(world, ['n0', 'n1', 'n2']);
    expect(
      runUntil(world, () => casReady(world), 10_000),
      'CAS never ready',
    ).toBe(true);
    const key = 'kv/cas-unique';
    const create = (v: string) => (cur: unknown) =>
      cur === null ? { next: v, result: 'created' } : { next: cur, result: 'exists' };

    world.net.partition([['n0'], ['n1', 'n2']]);
    const outs = settle<string>(
      world,
      (cb, i) => node(world, i === 0 ? 'n0' : 'n1').cas(key, create(i === 0 ? 'minority' : 'majority'), cb),
      2,
      30_000,
    );
    const [minority, majority] = outs as [Outcome<string>, Outcome<string>];
    expect(majority.err).toBeNull();
    expect(majority.res).toBe('created');
    expect(
      minority.err !== null || minority.res === 'exists',
      `minority side reported ${JSON.stringify(minority)}`,
    ).toBe(true);
    expect(outs.filter((o) => !o.err && o.res === 'created').length).toBeLessThanOrEqual(1);

    world.net.heal();
    expect(runUntil(world, () => settled(world), 10_000)).toBe(true);
    for (const n of ['n0', 'n1', 'n2']) {
      const read = one<unknown>(world, (cb) => node(world, n).cas(key, (cur) => ({ next: cur, result: cur }), cb));
      expect(read.err, `CAS read via ${n}`).toBeNull();
      expect(read.res, `CAS read via ${n}`).toBe('majority');
    }
    // A later create through the former minority sees the winner.
    const again = one<string>(world, (cb) => node(world, 'n0').cas(key, create('late'), cb));
    expect(again).toEqual({ err: null, res: 'exists' });
  });

  it("G-counter: increments through three nodes sum exactly; a crash loses exactly the crashed node's unacknowledged increments", () => {
    const world = newWorld(909, simRingConfig());
    formCluster(world, ['n0', 'n1', 'n2', 'n3']);
    const key = 'ctr/views';
    const readTotal = (via: string) => {
      const o = one<{ value: GCounter }>(world, (cb) => node(world, via).readCounter(key, cb));
      expect(o.err, `readCounter via ${via}`).toBeNull();
      return gcounterValue(o.res!.value);
    };
    let applied = 0;
    const inc = (via: string, by: number) => {
      const o = new Op<true>();
      node(world, via).increment(key, by, o.cb);
      expect(o.outcome).toEqual({ err: null, res: true });
      applied += by;
    };
    for (let i = 0; i < 10; i++) {
      inc('n0', 1);
      inc('n1', 2);
      inc('n2', 3);
      world.run(7);
    }
    expect(
      runUntil(
        world,
        () =>
          world
            .upNodes()
            .every((s) => s.node.counterState().pending() === 0 && s.node.counterState().unacknowledged().size === 0),
        5_000,
      ),
    ).toBe(true);
    for (const n of ['n0', 'n1', 'n2', 'n3']) expect(readTotal(n), `via ${n}`).toBe(60);
    // White-box: every replica holds the full state.
    for (const s of holders(world, key).values())
      expect(s.entry.kind === 'crdt' && gcounterValue(s.entry.value as GCounter)).toBe(60);

    // n1 counts more, some of it acknowledged, then crashes before its next flush.
    inc('n1', 5);
    expect(runUntil(world, () => node(world, 'n1').counterState().unacknowledged().size === 0, 5_000)).toBe(true);
    inc('n1', 100);
    inc('n0', 7);
    const lost = node(world, 'n1').counterState().unacknowledged().get(key) ?? 0;
    expect(lost).toBe(100);
    world.crash('n1', true);
    expect(
      runUntil(world, () => world.upNodes().every((s) => s.node.counterState().unacknowledged().size === 0), 5_000),
    ).toBe(true);
    world.run(500);
    for (const n of ['n0', 'n2', 'n3']) expect(readTotal(n), `via ${n}`).toBe(applied - lost);
    expect(applied - lost).toBe(72);
    // The crashed life's slot is gone for good: a restart counts in a fresh slot.
    world.restart('n1');
    expect(runUntil(world, () => settled(world), 10_000)).toBe(true);
    inc('n1', 1);
    world.run(500);
    for (const n of ['n0', 'n1', 'n2', 'n3']) expect(readTotal(n), `via ${n}`).toBe(applied - lost);
    expect(applied - lost).toBe(73);

    // A flush that cannot reach W replicas is not an acknowledgement: n2, cut off, keeps
    // counting its increments as unacknowledged, and losing its disk loses exactly them.
    world.net.partition([['n2'], ['n0', 'n1', 'n3']]);
    inc('n2', 40);
    world.run(1_000);
    expect(node(world, 'n2').counterState().unacknowledged().get(key)).toBe(40);
    world.crash('n2', false);
    world.net.heal();
    world.run(1_000);
    for (const n of ['n0', 'n1', 'n3']) expect(readTotal(n), `via ${n}`).toBe(applied - lost - 40);
    expect(applied - lost - 40).toBe(73);
  });

  it('coverage: a count of live kv keys sees each key once, also with a node crashed', () => {
    const world = newWorld(1010, simRingConfig());
    const countKeys: CoverageQuery<number> = {
      name: 'count-kv',
      init: () => 0,
      fold: (acc) => acc + 1,
      combine: (a, b) => a + b,
    };
    const register = (name: string) => world.nodes.get(name)!.node.registerCoverage(countKeys);
    formCluster(world, ['n0', 'n1', 'n2', 'n3'], register);
    const keys = keysNamed('cov', 200);
    putAll(world, 'n2', keys);
    world.run(300);
    const count = (via: string) => {
      const o = one<CoverageResult<number>>(world, (cb) => node(world, via).coverageQuery('count-kv', null, cb));
      expect(o.err, `coverage via ${via}`).toBeNull();
      return o.res!;
    };
    for (const n of ['n0', 'n1', 'n2', 'n3']) {
      const r = count(n);
      expect({ value: r.value, missing: r.missing, partitions: r.partitions }, `via ${n}`).toEqual({
        value: 200,
        missing: [],
        partitions: 32,
      });
    }

    // Deleted keys are not live.
    const doomed = keys.slice(0, 10);
    for (const k of doomed) {
      const r = get(world, 'n0', k);
      expect(one<WriteResult>(world, (cb) => node(world, 'n0').delete(k, r.found ? r.context : {}, cb)).err).toBeNull();
    }
    world.run(300);
    expect(count('n1').value).toBe(190);
    put(world, 'n0', doomed[0]!, 'revived');
    world.run(300);

    // Crashed and not yet detected: its partitions time out and are asked of other primaries.
    world.crash('n3', true);
    const early = count('n0');
    expect({ value: early.value, missing: early.missing }).toEqual({ value: 191, missing: [] });
    expect(runUntil(world, () => everyoneSeesDead(world, 'n3'), 10_000)).toBe(true);
    for (const n of ['n0', 'n1', 'n2'])
      expect({ value: count(n).value, missing: count(n).missing }, `via ${n}`).toEqual({ value: 191, missing: [] });

    // After a restart (a new RingNode) the query is registered again.
    world.restart('n3');
    register('n3');
    expect(runUntil(world, () => settled(world), 10_000)).toBe(true);
    expect(count('n3').value).toBe(191);
  });

  it('coverage with replicas: 2 reconciles two primaries per partition, so a primary that missed writes does not lower the answer', () => {
    const world = newWorld(1012, simRingConfig({ antiEntropyIntervalMs: 60_000 }));
    const oneReplica: CoverageQuery<number> = {
      name: 'count-1',
      init: () => 0,
      fold: (acc) => acc + 1,
      combine: (a, b) => a + b,
    };
    const twoReplicas: CoverageQuery<number> = {
      ...oneReplica,
      name: 'count-2',
      replicas: 2,
      reconcile: (a, b) => Math.max(a, b),
    };
    formCluster(world, ['n0', 'n1', 'n2', 'n3'], (name) => {
      world.nodes.get(name)!.node.registerCoverage(oneReplica);
      world.nodes.get(name)!.node.registerCoverage(twoReplicas);
    });
    const keys = keysNamed('lag', 200);
    putAll(world, 'n2', keys);
    world.run(300);
    // n1 loses its copies (as a replica that missed the writes would): where n1 is the first
    // up primary, a one-replica fold reads only n1. (Anti-entropy is slowed so it cannot heal meanwhile.)
    const lagging = node(world, 'n1');
    let dropped = 0;
    for (const key of keys) {
      const p = partitionOf(key, world.config.ringSize);
      const stored = durableStateOf(lagging).store.get(p, key);
      if (
        stored &&
        lagging.preferenceLists().primaries[p]![0] === 'n1' &&
        durableStateOf(lagging).store.removeIfUnchanged(p, key, stored.seq)
      )
        dropped++;
    }
    expect(dropped).toBeGreaterThan(0);
    const count = (name: string) => {
      const o = one<CoverageResult<number>>(world, (cb) => node(world, 'n0').coverageQuery(name, null, cb));
      expect(o.err).toBeNull();
      return o.res!;
    };
    expect(count('count-1').value).toBe(200 - dropped);
    const two = count('count-2');
    expect({ value: two.value, missing: two.missing }).toEqual({ value: 200, missing: [] });
  });

  it('auto-down: a node dead past autoDownAfterMs is downed, its partitions reassigned, every key back on N live primaries', () => {
    const world = newWorld(1111, simRingConfig({ autoDownAfterMs: 2_000 }));
    formCluster(world, ['n0', 'n1', 'n2', 'n3', 'n4']);
    const keys = keysNamed('down', 200);
    const expected = expectedMap(keys);
    putAll(world, 'n0', keys);
    runUntil(world, () => allPlacementProblems(world, expected).length === 0, 5_000);
    expect(allPlacementProblems(world, expected).slice(0, 5)).toEqual([]);
    const owned = node(world, 'n0')
      .ring()
      .partitions.filter((c) => c.owner === 'n3').length;
    expect(owned).toBeGreaterThan(0);

    const crashedAt = world.now();
    world.crash('n3', true);
    const downed = runUntil(
      world,
      () => world.upNodes().every((s) => s.node.ring().members.n3?.status === 'downed'),
      15_000,
    );
    expect(downed, 'n3 never downed').toBe(true);
    expect(world.now() - crashedAt).toBeGreaterThanOrEqual(2_000);
    const ok = runUntil(world, () => settled(world) && allPlacementProblems(world, expected).length === 0, 20_000);
    expect(allPlacementProblems(world, expected).slice(0, 5)).toEqual([]);
    expect(ok).toBe(true);
    for (const sim of world.upNodes())
      expect(sim.node.ring().partitions.some((c) => c.owner === 'n3' || c.next === 'n3')).toBe(false);
    expect(balanceProblems(world)).toEqual([]);
    expectReadableEverywhere(world, expected);
  });

  it('operator remove: removing a crashed node reassigns its partitions and brings every key back to N replicas', () => {
    const world = newWorld(1212, simRingConfig());
    formCluster(world, ['n0', 'n1', 'n2', 'n3', 'n4']);
    const keys = keysNamed('rm', 200);
    const expected = expectedMap(keys);
    putAll(world, 'n1', keys);
    runUntil(world, () => allPlacementProblems(world, expected).length === 0, 5_000);
    expect(allPlacementProblems(world, expected).slice(0, 5)).toEqual([]);

    world.crash('n2', true);
    world.run(3_000);
    // Without auto-down nothing changes by itself.
    expect(node(world, 'n0').ring().members.n2?.status).toBe('valid');
    expect(
      node(world, 'n0')
        .ring()
        .partitions.some((c) => c.owner === 'n2'),
    ).toBe(true);
    expect(node(world, 'n4').remove('n2')).toBe(true);
    expect(node(world, 'n4').remove('n2')).toBe(false);
    const ok = runUntil(world, () => settled(world) && allPlacementProblems(world, expected).length === 0, 20_000);
    expect(allPlacementProblems(world, expected).slice(0, 5)).toEqual([]);
    expect(ok).toBe(true);
    for (const sim of world.upNodes()) {
      expect(sim.node.ring().members.n2?.status).toBe('removed');
      expect(sim.node.ring().partitions.some((c) => c.owner === 'n2' || c.next === 'n2')).toBe(false);
    }
    expect(balanceProblems(world)).toEqual([]);
    expectReadableEverywhere(world, expected);
  });
});
