// One seed: form a cluster, run clients while a randomized fault schedule plays (message
// loss, duplication, reordering, partitions symmetric and one-way, crashes with and
// without disk, clock skew, a join and a graceful leave), then heal, let the cluster
// quiesce, and check the invariants.
import { checkCas, checkConvergence, checkCounters, checkPreferenceLists, checkRegisters, finalState, type Violation } from './checkers';
import { Workload } from './workload';
import { SimRandom } from './prng';
import { SimWorld, simRingConfig } from './world';

export interface ScenarioOptions {
  nodes: number;
  activeMs: number;
  quiesceMaxMs: number;
  verbose: boolean;
}

export const defaultScenario: ScenarioOptions = { nodes: 5, activeMs: 10_000, quiesceMaxMs: 30_000, verbose: false };

export interface SeedResult {
  seed: number;
  violations: Violation[];
  ops: number;
  acked: number;
  faults: string[];
  virtualMs: number;
  convergedAfterMs: number;
  lostIncrements: number;
  reaped: number;
  autoDownAfterMs: number;
  trace?: string[];
}

export function runSeed(seed: number, opts: ScenarioOptions = defaultScenario): SeedResult {
  const pre = new SimRandom(seed).fork('config');
  const autoDownAfterMs = pre.chance(0.4) ? 1_500 + pre.int(2_000) : 0;
  const world = new SimWorld(seed, simRingConfig({ autoDownAfterMs }), { verbose: opts.verbose });
  const rnd = world.random.fork('scenario');
  const faults: string[] = [];
  const note = (s: string) => {
    faults.push(`${world.now()}ms ${s}`);
    world.trace?.push(`${world.now()} FAULT ${s}`);
  };
  const names = Array.from({ length: opts.nodes }, (_, i) => `n${i}`);
  world.addNode(names[0]!, []);
  for (const name of names.slice(1)) world.scheduler.after(50 + rnd.int(400), () => world.addNode(name, [names[0]!]));
  world.run(3_000);

  world.net.setFaults({
    dropRate: rnd.chance(0.7) ? rnd.int(6) / 100 : 0,
    duplicateRate: rnd.chance(0.5) ? rnd.int(4) / 100 : 0,
    minDelayMs: 1,
    maxDelayMs: 2 + rnd.int(25),
    reorder: rnd.chance(0.5),
  });
  const workload = new Workload(world, rnd.fork('workload'), { clients: 6, keysPerClient: 6, casKeys: 4, counterKeys: 5, thinkMs: 25 });
  workload.start();

  const violations: Violation[] = [];
  const sampleEvery = 500;
  const end = world.now() + opts.activeMs;
  let amnesiaUsed = false;
  let joined = false;
  let left = false;
  let removed = false;
  const pendingRemovals: (() => void)[] = [];
  const retired = new Set<string>();
  let crashed: string | undefined;
  // A node that left or was removed exits, as its process would.
  world.onNodeExit = (name, why) => {
    retired.add(name);
    if (!world.nodes.get(name)?.up) return;
    world.scheduler.after(1, () => {
      world.crash(name, true);
      note(`${name} ${why} and exited`);
    });
  };
  let nextFault = world.now() + 500 + rnd.int(1500);
  while (world.now() < end) {
    world.run(sampleEvery);
    violations.push(...checkPreferenceLists(world));
    if (world.now() < nextFault) continue;
    nextFault = world.now() + 800 + rnd.int(2000);
    const live = world.upNodes().map((n) => n.name).filter((n) => !retired.has(n));
    const roll = rnd.next();
    if (roll < 0.25) {
      const shuffled = rnd.shuffle([...live]);
      const cut = 1 + rnd.int(Math.max(1, Math.floor(shuffled.length / 2)));
      world.net.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
      note(`partition [${shuffled.slice(0, cut)}] | [${shuffled.slice(cut)}]`);
      world.scheduler.after(1_000 + rnd.int(3_000), () => {
        world.net.heal();
        note('heal');
      });
    } else if (roll < 0.5 && !crashed) {
      const victim = rnd.pick(live);
      const keepDisk = amnesiaUsed || rnd.chance(0.6);
      if (!keepDisk) amnesiaUsed = true;
      world.crash(victim, keepDisk);
      crashed = victim;
      note(`crash ${victim} ${keepDisk ? 'with disk' : 'without disk'}`);
      // Now and then an operator gives up on the dead node and removes it for good.
      // Removal loses the node's data for good, like a crash without disk: the fault model
      // (W = 2 copies of every acknowledged write) survives one such loss at a time.
      const removeIt = keepDisk && !amnesiaUsed && !removed && live.length > world.config.nVal + 1 && rnd.chance(0.15);
      if (removeIt) amnesiaUsed = true;
      const removal = () => {
        removed = true;
        retired.add(victim);
        const by = world.upNodes().find((n) => n.name !== victim && !retired.has(n.name));
        by?.node.remove(victim);
        note(`remove ${victim} (by ${by?.name})`);
      };
      if (removeIt) pendingRemovals.push(removal);
      world.scheduler.after(1_000 + rnd.int(3_000), () => {
        crashed = undefined;
        if (removeIt) {
          if (pendingRemovals.includes(removal)) {
            pendingRemovals.splice(pendingRemovals.indexOf(removal), 1);
            removal();
          }
          return;
        }
        world.restart(victim);
        note(`restart ${victim}`);
      });
    } else if (roll < 0.6) {
      const a = rnd.pick(live);
      const b = rnd.pick(live.filter((n) => n !== a));
      world.net.blockOneWay(a, b);
      note(`block ${a} -> ${b}`);
      world.scheduler.after(1_000 + rnd.int(2_000), () => {
        world.net.unblockOneWay(a, b);
        note(`unblock ${a} -> ${b}`);
      });
    } else if (roll < 0.75) {
      const victim = rnd.pick(live);
      const jump = rnd.range(-1_000, 1_000);
      world.nodes.get(victim)!.clock.jump(jump);
      note(`clock ${victim} ${jump > 0 ? '+' : ''}${jump}ms`);
    } else if (roll < 0.87 && !joined) {
      joined = true;
      const name = `n${world.nodes.size}`;
      world.addNode(name, live);
      note(`join ${name}`);
    } else if (!left && live.length > world.config.nVal + 1) {
      left = true;
      const leaver = rnd.pick(live);
      world.nodes.get(leaver)!.node.leave();
      note(`leave ${leaver}`);
    }
  }
  workload.stop();

  // Heal everything and let the cluster converge.
  // Let scheduled heals and restarts fire, then heal whatever is left.
  world.run(3_000);
  // An operator's removal still pending happens now, before healing starts.
  for (const removal of pendingRemovals.splice(0)) removal();
  world.net.heal();
  world.net.setFaults({ dropRate: 0, duplicateRate: 0, reorder: false, minDelayMs: 1, maxDelayMs: 5 });
  for (const sim of world.nodes.values()) if (!sim.up && !retired.has(sim.name)) world.restart(sim.name);
  note('heal all');
  const healedAt = world.now();
  let convergedAfterMs = -1;
  while (world.now() - healedAt < opts.quiesceMaxMs) {
    world.run(500);
    if (quiet(world)) {
      convergedAfterMs = world.now() - healedAt;
      break;
    }
  }
  // A little more time, so that stragglers (hinted data on non-primaries) show up if stuck.
  world.run(1_000);
  if (convergedAfterMs < 0) {
    const statuses = world.upNodes().map((n) => `${n.name}:${n.node.ring().members[n.name]?.status ?? 'none'}`);
    violations.push({ invariant: 'converged', detail: `not quiet ${opts.quiesceMaxMs} ms after healing (members ${statuses.join(' ')})` });
  }
  const state = finalState(world);
  violations.push(...checkRegisters(workload, state));
  const counters = checkCounters(world, workload, state);
  violations.push(...counters.violations);
  violations.push(...checkCas(workload));
  violations.push(...checkConvergence(world, state));
  let reaped = 0;
  for (const sim of world.upNodes()) reaped += sim.node.stats.tombstonesReaped;
  return {
    seed,
    violations,
    reaped,
    autoDownAfterMs,
    ops: workload.stats.ops,
    acked: workload.stats.acked,
    faults,
    virtualMs: world.now(),
    convergedAfterMs,
    lostIncrements: counters.lost,
    ...(world.trace ? { trace: world.trace } : {}),
  };
}

function quiet(world: SimWorld): boolean {
  const up = world.upNodes();
  const first = up[0]?.node.ring();
  if (!first) return true;
  for (const sim of up) {
    const ring = sim.node.ring();
    if (ring.partitions.some((c, i) => c.next !== null || c.owner !== first.partitions[i]!.owner)) return false;
    if (sim.node.handoffs().length > 0 || sim.node.counterState().pending() > 0) return false;
    const me = ring.members[sim.name];
    if (me?.status !== 'valid') return false;
  }
  // Every partition's primaries hold identical data (equal bucket digests).
  const prefs = up[0]!.node.preferenceLists();
  const byName = new Map(up.map((s) => [s.name, s.node.durable.store]));
  for (let p = 0; p < prefs.primaries.length; p++) {
    let first: Uint32Array | undefined;
    for (const name of prefs.primaries[p]!) {
      const buckets = byName.get(name)?.partition(p)?.buckets ?? new Uint32Array(world.config.antiEntropyBucketsPerPartition);
      if (!first) first = buckets;
      else for (let b = 0; b < buckets.length; b++) if (buckets[b] !== first[b]) return false;
    }
  }
  return true;
}
