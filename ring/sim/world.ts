// A simulated cluster: real RingNode code on a seeded scheduler, network and clocks. The
// world can crash a node (keeping or losing its durable state), restart it, partition the
// network, skew clocks, add and remove members. Everything is a function of the seed.
import { ringConfig, type RingConfig } from '../config';
import { gcounterType, pncounterType } from '../crdt/counterShipper';
import { durableStateOf, RingNode, type DurableState } from '../node/ringNode';
import type { DurableJournal } from '../node/durable';
import type { Logger } from '../runtime';
import { DataTypeRegistry, type RegisterType } from '../storage/datatype';
import { simClock, type SimClock } from './clock';
import { SimNetwork } from './network';
import { SimRandom } from './prng';
import { SimScheduler, type OwnedTimers } from './scheduler';

export const kvType: RegisterType<string> = {
  name: 'kv',
  kind: 'register',
  encode: (v) => v,
  decode: (w) => {
    if (typeof w !== 'string') throw new Error('kv: value must be a string');
    return w;
  },
};

export function simTypes(): DataTypeRegistry {
  const types = new DataTypeRegistry();
  types.register(kvType);
  types.register(gcounterType('ctr'));
  types.register(pncounterType('pn'));
  return types;
}

/** Protocol timings scaled for simulation: same code, tighter loops, so runs converge in seconds of virtual time. */
export function simRingConfig(overrides: Partial<RingConfig> = {}): RingConfig {
  return ringConfig({
    ringSize: 32,
    gossipIntervalMs: 100,
    probeIntervalMs: 100,
    probeTimeoutMs: 60,
    suspectTimeoutMs: 500,
    claimIntervalMs: 100,
    requestTimeoutMs: 300,
    indexQueryTimeoutMs: 1_000,
    handoffIntervalMs: 100,
    handoffChunkTimeoutMs: 1_000,
    antiEntropyIntervalMs: 100,
    counterFlushIntervalMs: 50,
    tombstoneGraceMs: 5_000,
    casBackoffMs: 10,
    ...overrides,
  });
}

export interface SimNode {
  readonly name: string;
  node: RingNode;
  clock: SimClock;
  timers: OwnedTimers;
  up: boolean;
  life: number;
  /** Kept across a durable crash; undefined after an amnesia crash. */
  durable: DurableState | undefined;
}

/** What a crash destroyed, for the counter checker: per slot, the totals at crash time. */
export interface LostSlot {
  readonly slot: string;
  readonly totals: ReadonlyMap<string, { total: number; acked: number; neg: number; ackedNeg: number }>;
}

export class SimWorld {
  readonly scheduler = new SimScheduler({ maxEvents: 20_000_000 });
  readonly random: SimRandom;
  readonly net: SimNetwork;
  readonly config: RingConfig;
  readonly nodes = new Map<string, SimNode>();
  readonly lostSlots: LostSlot[] = [];
  readonly trace: string[] | undefined;
  /** Called when a node finished a graceful leave or learned an operator removed it; its process would exit. */
  onNodeExit: ((name: string, why: 'left' | 'removed') => void) | undefined;
  /**
   * Called after every boot (first start and each restart) with the node's new life: a
   * workload that runs services of its own on each node (server/sim/) builds them here, on
   * that life's clock and timers, so a crash stops them with the node.
   */
  onBoot: ((sim: SimNode) => void) | undefined;
  private readonly logger: Logger;
  private readonly types: () => DataTypeRegistry;
  /** Each node's ZONE (undefined: none), also for nodes the fault schedule adds. */
  readonly zoneOf: (name: string) => string | undefined;

  constructor(
    readonly seed: number,
    config: RingConfig,
    opts: { verbose?: boolean; types?: () => DataTypeRegistry; zoneOf?: (name: string) => string | undefined } = {},
  ) {
    this.types = opts.types ?? simTypes;
    this.zoneOf = opts.zoneOf ?? (() => undefined);
    this.random = new SimRandom(seed);
    this.config = config;
    this.net = new SimNetwork(this.scheduler, { random: this.random.fork('network') });
    this.trace = opts.verbose ? [] : undefined;
    const trace = this.trace;
    if (trace) this.net.onTrace((line) => trace.push(line));
    const now = () => this.scheduler.now();
    const log = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
      trace?.push(`${now()} ${level} ${msg} ${fields ? JSON.stringify(fields) : ''}`);
    this.logger = { debug: trace ? log('debug') : () => {}, info: log('info'), warn: log('warn'), error: log('error') };
  }

  now(): number {
    return this.scheduler.now();
  }

  /**
   * Start a node; with no seeds it founds the cluster. With `durable` it starts from that
   * state, as a restart from disk would (the scale benchmark starts settled clusters so).
   */
  addNode(name: string, seeds: readonly string[], durable?: DurableState): SimNode {
    const sim: SimNode = {
      name,
      node: undefined as unknown as RingNode,
      clock: simClock(this.scheduler, 1_700_000_000_000),
      timers: this.scheduler.timersFor(`${name}#0`),
      up: true,
      life: 0,
      durable,
    };
    this.nodes.set(name, sim);
    this.boot(sim, seeds);
    return sim;
  }

  private boot(sim: SimNode, seeds: readonly string[]): void {
    // SIM_TRACE_KEY=<key> with --verbose: log every change of that key in every store.
    const traceKey = process.env.SIM_TRACE_KEY;
    const trace = this.trace;
    const journal: DurableJournal | undefined =
      traceKey && trace
        ? {
            record: (c) => {
              if (c.kind !== 'entry' || c.key !== traceKey) return;
              const entry = c.entry ? JSON.stringify(c.entry) : 'REMOVED';
              trace.push(`${this.now()} STORE ${sim.name} p${c.partition} ${entry}`);
            },
          }
        : undefined;
    const zone = this.zoneOf(sim.name);
    const node = new RingNode({
      name: sim.name,
      ...(zone !== undefined ? { zone } : {}),
      config: this.config,
      runtime: {
        clock: sim.clock,
        timers: sim.timers,
        random: this.random.fork(`${sim.name}#${sim.life}`),
        transport: this.net.transportFor(sim.name),
        logger: this.logger,
      },
      types: this.types(),
      seeds,
      clusterId: 'sim',
      ...(sim.durable ? { durable: sim.durable } : {}),
      ...(journal ? { journal } : {}),
    });
    sim.node = node;
    sim.durable = durableStateOf(node);
    node.events.on('left', () => this.onNodeExit?.(sim.name, 'left'));
    node.events.on('removed', () => this.onNodeExit?.(sim.name, 'removed'));
    sim.up = true;
    node.start();
    this.onBoot?.(sim);
  }

  crash(name: string, keepDisk: boolean): void {
    const sim = this.nodes.get(name)!;
    if (!sim.up) return;
    const shipper = sim.node.counterState();
    this.lostSlots.push({
      slot: shipper.slotId(),
      totals: new Map([...shipper.slotTotals()].map(([k, t]) => [k, { ...t }])),
    });
    sim.node.stop();
    sim.timers.cancelAll();
    this.net.crash(name);
    sim.up = false;
    if (!keepDisk) sim.durable = undefined;
    this.trace?.push(`${this.now()} CRASH ${name} ${keepDisk ? 'durable' : 'amnesia'}`);
  }

  restart(name: string): void {
    const sim = this.nodes.get(name)!;
    if (sim.up) return;
    this.net.restart(name);
    sim.life++;
    sim.timers = this.scheduler.timersFor(`${name}#${sim.life}`);
    const seeds = [...this.nodes.keys()].filter((n) => n !== name);
    this.trace?.push(`${this.now()} RESTART ${name}`);
    this.boot(sim, seeds);
  }

  upNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.up);
  }

  run(forMs: number): void {
    this.scheduler.runUntil(this.scheduler.now() + forMs);
  }
}
