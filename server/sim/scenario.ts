// One shortener seed: a simulated 5-node ring (the real RingNode code of ring/sim) runs the
// shortener's real services on every node while browsers create links with colliding
// custom slugs and random ones, follow links with a maximum of clicks, and open and refresh
// sessions, under the same randomized faults as the ring's scenario (ring/sim/faults.ts:
// loss, duplication, partitions, one-way blocks, crashes with and without disk, skew, a
// join, a leave). Then the faults heal, the cluster quiesces, the clients use up every
// link's clicks, and the invariants of checkers.ts are checked.
import { DataTypeRegistry, liveSiblingValues } from '../../ring';
import {
  FaultSchedule,
  finalState,
  quiet,
  SimRandom,
  SimWorld,
  simRingConfig,
  type RunOptions,
  type SeedSummary,
  type SimKind,
} from '../../ring/sim';
import { registerShortenerTypes as registerLinkTypes } from '../datatypes';
import { botsKey, budgetKey, viewsKey } from '../datatypes/keys';
import type { BudgetState } from '../links/clickBudget';
import { linkType, type LinkDoc } from '../links/linkDoc';
import {
  checkMaxClicks,
  checkSessionsKept,
  checkSlugsGrantedOnce,
  checkViewTotals,
  type BudgetFinal,
  type BudgetRecord,
  type ShortenerViolation,
  type ViewRecord,
} from './checkers';
import { runFor, runUntilSettled, watchingPromises } from './drive';
import { bootShortener, humanAgent, simBudgetLimits, type ShortenerNode } from './services';
import { ShortenerWorkload, type ShortenerHistory } from './workload';

export interface ShortenerScenarioOptions {
  nodes: number;
  /** Virtual ms for the nodes to join and claim partitions before the clients start. */
  formMs: number;
  /** Clients and faults run this long. */
  activeMs: number;
  /** Then scheduled heals and restarts may fire for this long before everything heals. */
  settleMs: number;
  quiesceMaxMs: number;
  clients: number;
  thinkMs: number;
  verbose: boolean;
  /** Tests only: replace a part of each node's services with a broken one, to see a checker fail. */
  sabotage?: ((sn: ShortenerNode) => void) | undefined;
}

export const defaultShortenerScenario: ShortenerScenarioOptions = {
  nodes: 5,
  formMs: 2_000,
  activeMs: 5_000,
  settleMs: 1_500,
  quiesceMaxMs: 30_000,
  clients: 4,
  thinkMs: 50,
  verbose: false,
};

export interface ShortenerSeedResult extends SeedSummary {
  faults: string[];
  stats: ShortenerHistory['stats'] & { maxLinks: number; exhausted: boolean };
  trace?: string[];
}

function shortenerTypes(): DataTypeRegistry {
  const types = new DataTypeRegistry();
  registerLinkTypes(types);
  return types;
}

export function runShortenerSeed(
  seed: number,
  opts: ShortenerScenarioOptions = defaultShortenerScenario,
): Promise<ShortenerSeedResult> {
  return watchingPromises(() => shortenerSeed(seed, opts));
}

async function shortenerSeed(seed: number, opts: ShortenerScenarioOptions): Promise<ShortenerSeedResult> {
  const pre = new SimRandom(seed).fork('config');
  const autoDownAfterMs = pre.chance(0.4) ? 1_500 + pre.int(2_000) : 0;
  const config = simRingConfig({ autoDownAfterMs });
  const world = new SimWorld(seed, config, { verbose: opts.verbose, types: shortenerTypes });
  const services = new Map<string, ShortenerNode>();
  /** Node lives that ended (crash, leave, removal): their unspent leases are stranded. */
  const deadLives = new Set<string>();
  world.onBoot = (sim) => {
    const prior = services.get(sim.name);
    if (prior) deadLives.add(prior.life);
    const sn = bootShortener(sim, world.random.fork(`${sim.name}#${sim.life}/shortener`));
    opts.sabotage?.(sn);
    services.set(sim.name, sn);
  };
  const rnd = world.random.fork('shortener');
  const faults = new FaultSchedule(world, rnd);
  const names = Array.from({ length: opts.nodes }, (_, i) => `n${i}`);
  world.addNode(names[0]!, []);
  for (const name of names.slice(1)) world.scheduler.after(50 + rnd.int(400), () => world.addNode(name, [names[0]!]));
  await runFor(world, opts.formMs);

  faults.start();
  const workload = new ShortenerWorkload(world, services, faults, rnd.fork('workload'), {
    clients: opts.clients,
    thinkMs: opts.thinkMs,
    requestTimeoutMs: 6_000,
  });
  const { history } = workload;
  workload.start();
  const end = world.now() + opts.activeMs;
  while (world.now() < end) {
    await runFor(world, 500);
    faults.tick();
  }
  workload.stop();

  // Let scheduled heals and restarts fire (and the clients' last requests end), then heal
  // whatever is left and let the cluster converge.
  await runFor(world, opts.settleMs);
  faults.healAll();
  const violations: ShortenerViolation[] = [];
  const converged = await quiesce(world, opts.quiesceMaxMs);
  while (workload.pending() > 0) await runFor(world, 500);
  for (const sim of world.nodes.values()) if (!sim.up) deadLives.add(services.get(sim.name)!.life);

  // Use up every link's clicks (exhaust), so that "exact once idle" can be checked.
  const links = liveLinks(world, finalState(world));
  const capped = [...links.values()].filter((d) => d.maxClicks !== null && d.deletedAt === null);
  const exhausted = await exhaust(world, services, history, capped);
  const settled = converged >= 0 && (await quiesce(world, opts.quiesceMaxMs)) >= 0;
  if (converged < 0 || !settled) {
    const statuses = world.upNodes().map((n) => `${n.name}:${n.node.ring().members[n.name]?.status ?? 'none'}`);
    const detail = `not quiet ${opts.quiesceMaxMs} ms after healing (members ${statuses.join(' ')})`;
    violations.push({ invariant: 'converged', detail });
  }

  violations.push(...checkSlugsGrantedOnce(history.creates, links));
  const budgets: BudgetRecord[] = capped.map((d) => ({
    slug: d.slug,
    max: d.maxClicks!,
    servedByLife: history.served.get(d.slug) ?? new Map(),
  }));
  const finals = await readBudgets(world, services, capped);
  violations.push(...checkMaxClicks(budgets, finals, deadLives, exhausted && settled));
  violations.push(...checkViewTotals(await viewRecords(world, services, history)));
  violations.push(...checkSessionsKept(history.ensures));

  return {
    seed,
    kind: 'shortener',
    violations,
    ops: history.stats.ops,
    acked: history.stats.ok,
    virtualMs: world.now(),
    convergedAfterMs: converged,
    faults: faults.faults,
    stats: { ...history.stats, maxLinks: capped.length, exhausted },
    ...(world.trace ? { trace: world.trace } : {}),
  };
}

/** Run until the cluster is quiet (ring/sim/scenario.ts quiet()); the virtual ms it took, or -1. */
async function quiesce(world: SimWorld, maxMs: number): Promise<number> {
  const from = world.now();
  while (world.now() - from < maxMs) {
    await runFor(world, 500);
    if (quiet(world)) return world.now() - from;
  }
  return -1;
}

/** Every link document the live replicas hold, merged and resolved as a reader would see it. */
function liveLinks(world: SimWorld, state: ReturnType<typeof finalState>): Map<string, LinkDoc> {
  const out = new Map<string, LinkDoc>();
  for (const [key, { entry }] of state) {
    if (!key.startsWith('link/') || entry.kind !== 'register') continue;
    const values = liveSiblingValues(linkType, entry, world.now()) as LinkDoc[];
    if (values.length > 0) out.set(key.slice('link/'.length), linkType.resolve!(values));
  }
  return out;
}

/**
 * Click every capped link until no click is left: bursts in which two nodes click each link
 * at once, each until it answers something other than a redirect (the last clicks are
 * contended, as on a popular link), then a pause long enough for every node to hand its
 * idle leases back, so that the clicking nodes can lease them in turn. Done after two
 * bursts in a row in which every click answered "used up".
 */
async function exhaust(
  world: SimWorld,
  services: ReadonlyMap<string, ShortenerNode>,
  history: ShortenerHistory,
  capped: readonly LinkDoc[],
): Promise<boolean> {
  const up = world.upNodes().map((n) => services.get(n.name)!);
  const clickUntilRefused = async (sn: ShortenerNode, d: LinkDoc) => {
    for (let n = 0; n <= d.maxClicks!; n++) {
      const status = await sn.redirect(d.slug, 'exhaust', humanAgent);
      if (status < 300 || status >= 400) return status;
      history.redirected(sn, d.slug, humanAgent);
    }
    return 0;
  };
  let usedUp = 0;
  for (let burst = 0; burst < 30 && usedUp < 2 && capped.length > 0; burst++) {
    const clicks = capped.flatMap((d, i) => [0, 1].map((k) => clickUntilRefused(up[(i + burst + k) % up.length]!, d)));
    const settled = await runUntilSettled(world, Promise.all(clicks), 10_000);
    if (!settled || !('value' in settled)) return false;
    usedUp = settled.value.every((status) => status === 410) ? usedUp + 1 : 0;
    await runFor(world, simBudgetLimits.idleReturnMs * 2);
  }
  return usedUp >= 2 || capped.length === 0;
}

/** Each capped link's budget register, read through compare-and-set (linearizable) on some live node. */
async function readBudgets(
  world: SimWorld,
  services: ReadonlyMap<string, ShortenerNode>,
  capped: readonly LinkDoc[],
): Promise<Map<string, BudgetFinal | undefined>> {
  const out = new Map<string, BudgetFinal | undefined>();
  const reader = services.get(world.upNodes()[0]!.name)!;
  const read = (slug: string) =>
    reader.ring.cas(budgetKey(slug), (cur) => ({ next: cur, result: cur as BudgetState | undefined }));
  const reads = capped.map((d) => read(d.slug));
  const settled = await runUntilSettled(world, Promise.allSettled(reads), 10_000);
  capped.forEach((d, i) => {
    const r = settled && 'value' in settled ? settled.value[i] : undefined;
    out.set(d.slug, r?.status === 'fulfilled' ? r.value : undefined);
  });
  return out;
}

/** Per link and counter (views, bots): what each slot counted, what the replicas hold, what each node reports. */
async function viewRecords(
  world: SimWorld,
  services: ReadonlyMap<string, ShortenerNode>,
  history: ShortenerHistory,
): Promise<ViewRecord[]> {
  const state = finalState(world);
  const lost = new Map(world.lostSlots.map((s) => [s.slot, s.totals]));
  const slugs = new Set<string>();
  for (const key of history.counted.keys()) slugs.add(key.slice(key.indexOf('/') + 1));
  const up = world.upNodes().map((n) => services.get(n.name)!);
  const asks = [...slugs].flatMap((slug) => up.map((sn) => ({ slug, node: sn.name, totals: sn.links.totals(slug) })));
  const answered = await runUntilSettled(world, Promise.allSettled(asks.map((a) => a.totals)), 10_000);
  const reported = new Map<string, Map<string, number | undefined>>();
  asks.forEach(({ slug, node }, i) => {
    const r = answered && 'value' in answered ? answered.value[i] : undefined;
    const totals = r?.status === 'fulfilled' ? r.value : undefined;
    for (const [key, n] of [
      [viewsKey(slug), totals?.total],
      [botsKey(slug), totals?.bots],
    ] as const) {
      let m = reported.get(key);
      if (!m) reported.set(key, (m = new Map()));
      m.set(node, n);
    }
  });
  const out: ViewRecord[] = [];
  for (const slug of slugs) {
    for (const key of [viewsKey(slug), botsKey(slug)]) {
      const entry = state.get(key)?.entry;
      const held = (entry?.kind === 'crdt' ? entry.value : {}) as Record<string, number>;
      const counted = history.counted.get(key) ?? new Map<string, number>();
      const slots = new Set([...Object.keys(held), ...counted.keys()]);
      out.push({
        key,
        slots: [...slots].map((slot) => ({
          slot,
          counted: counted.get(slot) ?? 0,
          held: held[slot] ?? 0,
          ackedAtCrash: lost.has(slot) ? (lost.get(slot)!.get(key)?.acked ?? 0) : undefined,
        })),
        reported: reported.get(key) ?? new Map(),
      });
    }
  }
  return out;
}

function shortenerOptions(opts: RunOptions): ShortenerScenarioOptions {
  const d = defaultShortenerScenario;
  return { ...d, nodes: opts.nodes ?? d.nodes, activeMs: opts.activeMs ?? d.activeMs, verbose: opts.verbose };
}

function summary(r: ShortenerSeedResult): SeedSummary {
  const { trace: _trace, faults: _faults, stats: _stats, ...rest } = r;
  return rest;
}

/** The shortener's workload for the simulator's command line (server/sim/cli.ts). */
export const shortenerSim: SimKind = {
  name: 'shortener',
  async run(seed, opts) {
    return summary(await runShortenerSeed(seed, shortenerOptions(opts)));
  },
  async replay(seed, opts) {
    const r = await runShortenerSeed(seed, shortenerOptions(opts));
    for (const line of r.trace ?? []) console.log(line);
    console.log(`faults: ${r.faults.join('; ')}`);
    console.log(`shortener: ${JSON.stringify(r.stats)}, converged after heal in ${r.convergedAfterMs} ms`);
    return summary(r);
  },
};
