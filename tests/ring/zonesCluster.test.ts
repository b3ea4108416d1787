// Zones end to end on the simulated network (real RingNode code): ZONE reaches the ring
// through the join, the claimant's claim is zone-aware, and a coordinator replaces an
// unreachable primary with a fallback in that primary's zone, so a key's copies stay one
// per zone while the primary is away.
import { beforeAll, describe, expect, it } from 'vitest';
import type { WriteResult } from '../../ring/coordinator/quorum';
import { initHash, partitionOf } from '../../ring/hash';
import type { Callback } from '../../ring/node/context';
import { durableStateOf } from '../../ring/node/ringNode';
import { walk } from '../../ring/placement/preference';
import { zoneWindowViolations } from '../../ring/placement/zones';
import { SimWorld, simRingConfig } from '../../ring/sim/world';

beforeAll(async () => {
  await initHash();
});

const names = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5'];
/** n0, n3 in za; n1, n4 in zb; n2, n5 in zc. */
const zoneOf = (name: string): string => `z${'abc'[Number(name.slice(1)) % 3]}`;

function runUntil(world: SimWorld, pred: () => boolean, maxMs: number): boolean {
  const end = world.now() + maxMs;
  while (!pred()) {
    if (world.now() >= end) return false;
    world.run(50);
  }
  return true;
}

function settled(world: SimWorld): boolean {
  const up = world.upNodes();
  const first = up[0]!.node.ring();
  return up.every((s) => {
    const ring = s.node.ring();
    return (
      Object.keys(ring.members).length === names.length &&
      Object.values(ring.members).every((m) => m.status === 'valid') &&
      ring.partitions.every((c, i) => c.next === null && c.owner === first.partitions[i]!.owner) &&
      s.node.handoffs().length === 0
    );
  });
}

function zonedCluster(seed: number, zones = zoneOf, verbose = false): SimWorld {
  const world = new SimWorld(seed, simRingConfig(), { zoneOf: zones, verbose });
  world.addNode(names[0]!, []);
  for (const name of names.slice(1)) world.addNode(name, [names[0]!]);
  expect(
    runUntil(world, () => settled(world), 30_000),
    'the zoned cluster did not settle',
  ).toBe(true);
  return world;
}

describe('zones on the simulated cluster', () => {
  it('members carry the zone they joined with; the ring and every preference list span the zones', () => {
    const world = zonedCluster(11);
    for (const sim of world.upNodes()) {
      const ring = sim.node.ring();
      for (const name of names) expect(ring.members[name]?.zone).toBe(zoneOf(name));
      const zones = new Map(names.map((n) => [n, zoneOf(n)] as const));
      expect(
        zoneWindowViolations(
          ring.partitions.map((c) => c.owner),
          3,
          zones,
        ),
      ).toBeLessThanOrEqual(2);
      for (const list of sim.node.preferenceLists().primaries) expect(new Set(list.map(zoneOf)).size).toBe(3);
    }
  });

  it('a write while a primary is down lands on a fallback in that primary’s zone', () => {
    const world = zonedCluster(12);
    const coordinator = world.nodes.get('n1')!.node;
    const keys = Array.from({ length: 40 }, (_, i) => `kv/zoned${i}`);
    // Keys whose primaries include n0 (zone za) but not the coordinator.
    const mine = keys.filter((k) => {
      const list = coordinator.placement(k).primaries;
      return list.includes('n0') && !list.includes('n1');
    });
    expect(mine.length).toBeGreaterThan(3);
    world.crash('n0', true);
    world.run(3_000); // n0 is dead to everyone by now; no auto-down, so the ring does not change
    const outcomes: (string | null)[] = [];
    for (const key of mine) {
      const cb: Callback<WriteResult> = (err) => outcomes.push(err ? `${key}: ${err.kind}` : null);
      coordinator.put(key, `v-${key}`, {}, cb);
    }
    expect(
      runUntil(world, () => outcomes.length === mine.length, 10_000),
      'writes did not finish',
    ).toBe(true);
    expect(outcomes.filter((o) => o !== null)).toEqual([]);
    for (const key of mine) {
      const p = partitionOf(key, world.config.ringSize);
      const primaries = coordinator.placement(key).primaries;
      const holders = world
        .upNodes()
        .filter((s) => durableStateOf(s.node).store.get(p, key) !== undefined)
        .map((s) => s.name);
      const stand = holders.filter((h) => !primaries.includes(h));
      // n0's stand-in is n3, the other node of zone za: one copy per zone still.
      expect(stand, `${key}: primaries ${primaries.join(',')}, held by ${holders.join(',')}`).toEqual(['n3']);
    }
  });

  it('with fewer zones than N_VAL, placement is by distinct nodes, and the nodes say so', () => {
    const twoZones = (name: string): string => (Number(name.slice(1)) % 2 === 0 ? 'za' : 'zb');
    const world = zonedCluster(13, twoZones, true);
    const sim = world.nodes.get('n2')!;
    const owners = sim.node.ring().partitions.map((c) => c.owner);
    sim.node.preferenceLists().primaries.forEach((list, p) => expect(list).toEqual(walk(owners, p, 3)));
    const warnings = world.trace!.filter((l) => l.includes('members span fewer zones than N_VAL'));
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings[0]).toContain('"zones":2');
  });

  it('a restart with another ZONE keeps the zone the node joined with, and warns', () => {
    const moved = new Set<string>();
    const world = zonedCluster(14, (name) => (moved.has(name) ? 'zq' : zoneOf(name)), true);
    world.crash('n4', true);
    world.run(500);
    moved.add('n4');
    world.restart('n4');
    world.run(3_000);
    for (const sim of world.upNodes()) expect(sim.node.ring().members.n4?.zone).toBe('zb');
    expect(world.trace!.some((l) => l.includes('ZONE differs from the zone this node joined with'))).toBe(true);
  });
});
