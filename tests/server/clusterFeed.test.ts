// The `cluster` channel's feed (server/live/clusterFeed.ts) over real ring nodes on the
// simulated network: it pushes when the node reports a change (RingNode.events), coalesced,
// and never on a timer of its own. Nothing is polled: an idle cluster gets no pushes at all.
import { beforeAll, describe, expect, it } from 'vitest';
import { initHash, type RingNode } from '../../ring';
import { SimWorld, simRingConfig } from '../../ring/sim';
import { ClusterFeed, pushGapMinMs, type ClusterEvent } from '../../server/live/clusterFeed';

beforeAll(async () => {
  await initHash();
});

function runUntil(world: SimWorld, pred: () => boolean, maxMs: number, stepMs = 50): boolean {
  const end = world.now() + maxMs;
  while (!pred()) {
    if (world.now() >= end) return false;
    world.run(stepMs);
  }
  return true;
}

function node(world: SimWorld, name: string): RingNode {
  return world.nodes.get(name)!.node;
}

function allAlive(world: SimWorld): boolean {
  const fine = (n: RingNode) => n.ready() && n.members().every((m) => m.liveness === 'alive' && m.status === 'valid');
  return world.upNodes().every((s) => fine(s.node));
}

interface Push {
  at: number;
  members: { name: string; liveness: string; status: string }[];
  events: ClusterEvent[];
}

describe('ClusterFeed', () => {
  it('pushes on member changes only, coalesced, with no periodic push or polling', () => {
    const world = new SimWorld(8101, simRingConfig());
    world.addNode('n0', []);
    world.addNode('n1', ['n0']);
    world.addNode('n2', ['n0']);
    expect(runUntil(world, () => allAlive(world) && node(world, 'n0').handoffs().length === 0, 30_000)).toBe(true);
    world.run(5_000);
    const n0 = node(world, 'n0');
    const pushes: Push[] = [];
    const feed = new ClusterFeed(
      n0,
      () => ({ node: n0.name, members: n0.members(), ring: {} }),
      (s) => pushes.push({ ...(s as Omit<Push, 'at'>), events: [...(s.events as ClusterEvent[])], at: world.now() }),
      world.scheduler.timersFor('feed'),
      () => world.now(),
    );
    feed.start();
    world.run(1_000);
    // One push at start, with the members the node already knew.
    expect(pushes).toHaveLength(1);
    expect(pushes[0]!.events.map((e) => e.message)).toEqual([
      'n0 (n0) is a member, valid',
      'n1 (n1) is a member, valid',
      'n2 (n2) is a member, valid',
    ]);

    // Nothing changes: nothing is pushed (the old feed checked every 250 ms and pushed every 2 s).
    world.run(20_000);
    expect(pushes).toHaveLength(1);

    // A crash: pushed as soon as n0 suspects, then declares n2 dead.
    world.crash('n2', true);
    const n2Dead = () => pushes.at(-1)!.members.find((m) => m.name === 'n2')?.liveness === 'dead';
    expect(runUntil(world, n2Dead, 20_000)).toBe(true);
    const messages = pushes.at(-1)!.events.map((e) => e.message);
    expect(messages).toContain('n2 is suspect (seen from n0)');
    expect(messages).toContain('n2 is dead (seen from n0)');
    // Bursts coalesce: never two pushes closer than pushGapMinMs.
    for (let i = 1; i < pushes.length; i++) {
      expect(pushes[i]!.at - pushes[i - 1]!.at).toBeGreaterThanOrEqual(pushGapMinMs);
    }
    const afterCrash = pushes.length;
    expect(afterCrash).toBeLessThanOrEqual(4);

    // Stopped: it listens no more.
    feed.stop();
    world.restart('n2');
    expect(runUntil(world, () => allAlive(world), 30_000)).toBe(true);
    world.run(2_000);
    expect(pushes).toHaveLength(afterCrash);
  });
});
