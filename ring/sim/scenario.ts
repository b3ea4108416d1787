// One seed: form a cluster, run clients while a randomized fault schedule plays (message
// loss, duplication, reordering, partitions symmetric and one-way, crashes with and
// without disk, clock skew, a join and a graceful leave), then heal, let the cluster
// quiesce, and check the invariants.
import {
  checkCas,
  checkConvergence,
  checkCounters,
  checkPreferenceLists,
  checkRegisters,
  finalState,
  type Violation,
} from './checkers';
import { durableStateOf } from '../node/ringNode';
import { FaultSchedule } from './faults';
import type { RunOptions, SeedSummary, SimKind } from './runner';
import { Workload } from './workload';
import { SimRandom } from './prng';
import { SimWorld, simRingConfig } from './world';

export interface ScenarioOptions {
  nodes: number;
  activeMs: number;
  quiesceMaxMs: number;
  verbose: boolean;
  /** 0: no ZONE. Otherwise node n<i> is in zone z<i mod zones> (joiners the schedule adds too). */
  zones?: number;
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
  const zones = opts.zones ?? 0;
  const zoneOf = (name: string): string | undefined => (zones > 0 ? `z${Number(name.slice(1)) % zones}` : undefined);
  const world = new SimWorld(seed, simRingConfig({ autoDownAfterMs }), { verbose: opts.verbose, zoneOf });
  const rnd = world.random.fork('scenario');
  const schedule = new FaultSchedule(world, rnd);
  const names = Array.from({ length: opts.nodes }, (_, i) => `n${i}`);
  world.addNode(names[0]!, []);
  for (const name of names.slice(1)) world.scheduler.after(50 + rnd.int(400), () => world.addNode(name, [names[0]!]));
  world.run(3_000);

  schedule.start();
  const workload = new Workload(world, rnd.fork('workload'), {
    clients: 6,
    keysPerClient: 6,
    casKeys: 4,
    counterKeys: 5,
    thinkMs: 25,
  });
  workload.start();

  const violations: Violation[] = [];
  const sampleEvery = 500;
  const end = world.now() + opts.activeMs;
  while (world.now() < end) {
    world.run(sampleEvery);
    violations.push(...checkPreferenceLists(world));
    schedule.tick();
  }
  workload.stop();

  // Heal everything and let the cluster converge.
  // Let scheduled heals and restarts fire, then heal whatever is left.
  world.run(3_000);
  schedule.healAll();
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
    violations.push({
      invariant: 'converged',
      detail: `not quiet ${opts.quiesceMaxMs} ms after healing (members ${statuses.join(' ')})`,
    });
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
    faults: schedule.faults,
    virtualMs: world.now(),
    convergedAfterMs,
    lostIncrements: counters.lost,
    ...(world.trace ? { trace: world.trace } : {}),
  };
}

/** Membership settled, no handoff or counter delta pending, and every partition's primaries hold identical data. */
export function quiet(world: SimWorld): boolean {
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
  const byName = new Map(up.map((s) => [s.name, durableStateOf(s.node).store]));
  for (let p = 0; p < prefs.primaries.length; p++) {
    let first: Uint32Array | undefined;
    for (const name of prefs.primaries[p]!) {
      const buckets =
        byName.get(name)?.partition(p)?.buckets ?? new Uint32Array(world.config.antiEntropyBucketsPerPartition);
      if (!first) first = buckets;
      else for (let b = 0; b < buckets.length; b++) if (buckets[b] !== first[b]) return false;
    }
  }
  return true;
}

function scenarioOptions(opts: RunOptions, zones = 0): ScenarioOptions {
  const { nodes, activeMs } = defaultScenario;
  const base = { ...defaultScenario, zones, verbose: opts.verbose };
  return { ...base, nodes: opts.nodes ?? nodes, activeMs: opts.activeMs ?? activeMs };
}

/** The ring's own workload: registers, counters and CAS under the fault schedule (scenario.ts). */
export const ringSim: SimKind = ringKind('ring', 0);

/**
 * The same with ZONE set: nodes dealt over 3 zones (5 nodes: 2, 2, 1), so preference lists
 * must span 3 zones (checkPreferenceLists, e-zones) and balance holds within each zone.
 */
export const ringZonesSim: SimKind = ringKind('ring-zones', 3);

function ringKind(name: string, zones: number): SimKind {
  return {
    name,
    run(seed, opts): SeedSummary {
      const { trace: _trace, faults: _faults, ...rest } = runSeed(seed, scenarioOptions(opts, zones));
      return { ...rest, kind: name };
    },
    replay(seed, opts): SeedSummary {
      return replaySeed(seed, scenarioOptions(opts, zones), name);
    },
  };
}

function replaySeed(seed: number, opts: ScenarioOptions, kind: string): SeedSummary {
  const r = runSeed(seed, opts);
  for (const line of r.trace ?? []) console.log(line);
  console.log(`faults: ${r.faults.join('; ')}`);
  console.log(
    `ops ${r.ops}, acked ${r.acked}, converged after heal in ${r.convergedAfterMs} ms, ` +
      `increments lost in crashes ${r.lostIncrements}, tombstones reaped ${r.reaped}, ` +
      `auto-down ${r.autoDownAfterMs || 'off'}`,
  );
  const { trace: _trace, faults: _faults, ...rest } = r;
  return { ...rest, kind };
}
