// Simulated network between named nodes. Every message is a scheduler event; latency,
// loss and duplication are drawn from the network's own forked PRNG streams, so the
// whole run is a function of the seed. Reachability (crash, partitions, one-way blocks)
// is checked both when a message is sent and when it would be delivered.
import type { Transport, WireMessage } from '../runtime';
import type { SimRandom } from './prng';
import type { SimScheduler } from './scheduler';

export interface NetworkFaults {
  /** Probability that a message is lost. 0..1. */
  dropRate: number;
  /** Probability that a (not lost) message is delivered twice. 0..1. */
  duplicateRate: number;
  /** Latency is a uniform integer in [minDelayMs, maxDelayMs]. */
  minDelayMs: number;
  maxDelayMs: number;
  /**
   * true: each copy's delay is independent, so messages on one link can overtake each
   * other. false: a message is never scheduled before the previous one on the same
   * (from, to) link: per-pair FIFO, like a TCP connection.
   */
  reorder: boolean;
}

export const defaultFaults: Readonly<NetworkFaults> = {
  dropRate: 0,
  duplicateRate: 0,
  minDelayMs: 1,
  maxDelayMs: 5,
  reorder: false,
};

export interface NetworkStats {
  /** send() calls, including those dropped on the spot. */
  sent: number;
  /** Copies handed to a receive handler. */
  delivered: number;
  /** Copies lost, at send or at delivery time, for any reason. */
  dropped: number;
  /** Extra copies created by duplication. */
  duplicated: number;
  /** Copies scheduled and not yet delivered or dropped. Always sent + duplicated = delivered + dropped + inFlight. */
  inFlight: number;
  /** `dropped`, broken down by reason. */
  droppedBy: Record<DropReason, number>;
}

export type DropReason =
  /** The sender is down, or is a transport from a previous life. */
  | 'sender-down'
  /** The destination is down, or restarted since the message was sent. */
  | 'down'
  /** No node of that name was ever registered. */
  | 'unknown'
  /** A partition or one-way block separates the pair. */
  | 'partition'
  /** Random loss (dropRate). */
  | 'loss'
  /** The destination is up but has not installed a handler yet. */
  | 'no-handler';

export interface SimNetworkOptions {
  /** The network forks its own streams from this (`fork('network')`). */
  random: SimRandom;
  faults?: Partial<NetworkFaults>;
  /** Deep-clone each delivered copy with structuredClone, to catch aliasing bugs. Default false. */
  cloneMessages?: boolean;
}

type Handler = (from: string, message: WireMessage) => void;

/** Messages sent of one kind (`t`) and their size, while byte counting is on (see SimNetwork.countBytes). */
export interface KindBytes {
  messages: number;
  /** Sum of each message's JSON length: what the node's HTTP transport would carry, give or take framing. */
  bytes: number;
}

class NodeState {
  up = true;
  incarnation = 0;
  transport: SimTransport | null = null;
  /** Partition group; -1 = in no group. Nodes talk only within the same group value. */
  group = -1;
  /** Names this node may not send to (one-way blocks), or null. */
  blockedTo: Set<string> | null = null;
  /** Per destination node index, the latest delivery time scheduled on the link (for FIFO). */
  readonly lastAt: number[] = [];
  constructor(
    readonly name: string,
    /** Registration order; indexes `lastAt`. */
    readonly index: number,
  ) {}
}

class SimTransport implements Transport {
  handler: Handler | null = null;
  constructor(
    private readonly net: SimNetwork,
    private readonly node: NodeState,
    private readonly incarnation: number,
  ) {}

  send(to: string, message: WireMessage): void {
    this.net.sendFrom(this.node, this.incarnation, to, message);
  }

  onMessage(handler: Handler): void {
    this.handler = handler;
  }
}

class Envelope {
  constructor(
    readonly from: NodeState,
    readonly to: NodeState,
    readonly toIncarnation: number,
    readonly message: WireMessage,
  ) {}
}

export class SimNetwork {
  readonly stats: NetworkStats = {
    sent: 0,
    delivered: 0,
    dropped: 0,
    duplicated: 0,
    inFlight: 0,
    droppedBy: { 'sender-down': 0, down: 0, unknown: 0, partition: 0, loss: 0, 'no-handler': 0 },
  };
  cloneMessages: boolean;

  private readonly sched: SimScheduler;
  private readonly lossRng: SimRandom;
  private readonly dupRng: SimRandom;
  private readonly delayRng: SimRandom;
  private faults: NetworkFaults;
  private readonly nodes = new Map<string, NodeState>();
  /** Partition membership, kept for nodes registered after partition(). */
  private groupOf = new Map<string, number>();
  private blockCount = 0;
  private trace: ((line: string) => void) | null = null;
  private readonly deliverFn = (env: Envelope): void => this.deliver(env);
  /** Per message kind, while counting; null (the default) keeps the hot path free of it. */
  private byteCounts: Map<string, KindBytes> | null = null;
  /** A message object sent to several peers (a gossip digest) is measured once. */
  private sizeOf = new WeakMap<WireMessage, number>();

  constructor(scheduler: SimScheduler, options: SimNetworkOptions) {
    this.sched = scheduler;
    const rng = options.random.fork('network');
    // Separate streams: enabling loss does not change the latencies drawn, and so on.
    this.lossRng = rng.fork('loss');
    this.dupRng = rng.fork('duplicate');
    this.delayRng = rng.fork('delay');
    this.faults = { ...defaultFaults };
    if (options.faults) this.setFaults(options.faults);
    this.cloneMessages = options.cloneMessages ?? false;
  }

  // ---- nodes ----

  /**
   * The named node's Transport for its current life, registering the node (up) on first
   * use. Repeated calls in one life return the same object; after `restart(name)` a fresh
   * one, and only the handler installed on that one receives messages.
   */
  transportFor(name: string): Transport {
    const node = this.nodeOrRegister(name);
    if (node.transport === null) node.transport = new SimTransport(this, node, node.incarnation);
    return node.transport;
  }

  /** Register a node without taking its transport (so others can address it). */
  register(name: string): void {
    this.nodeOrRegister(name);
  }

  /** Registered node names, in registration order. */
  nodeNames(): string[] {
    return [...this.nodes.keys()];
  }

  isUp(name: string): boolean {
    return this.nodes.get(name)?.up ?? false;
  }

  /**
   * The node stops: everything it sends (through any of its transports) and everything
   * sent to it is dropped, including messages already in flight to it. Its timers are
   * not the network's business: cancel them with `scheduler.timersFor(name).cancelAll()`.
   */
  crash(name: string): void {
    const node = this.nodeOrThrow(name, 'crash');
    node.up = false;
    if (this.trace !== null) this.trace(`${this.stamp()} crash   ${name}`);
  }

  /**
   * The node comes back as a new process (restarting an up node crashes it first).
   * Messages sent to its previous life are dropped; messages it sent in its previous life
   * may still arrive at others. Call `transportFor(name)` for the new life's transport and
   * install a handler on it.
   */
  restart(name: string): void {
    const node = this.nodeOrThrow(name, 'restart');
    node.up = true;
    node.incarnation++;
    node.transport = null;
    if (this.trace !== null) this.trace(`${this.stamp()} restart ${name} (life ${node.incarnation})`);
  }

  // ---- faults ----

  setFaults(faults: Partial<NetworkFaults>): void {
    const f: NetworkFaults = { ...this.faults, ...faults };
    const rate = (x: number) => x >= 0 && x <= 1;
    if (!rate(f.dropRate)) throw new RangeError(`SimNetwork: dropRate must be in [0, 1], got ${f.dropRate}`);
    if (!rate(f.duplicateRate))
      throw new RangeError(`SimNetwork: duplicateRate must be in [0, 1], got ${f.duplicateRate}`);
    if (!(
      Number.isInteger(f.minDelayMs) &&
      Number.isInteger(f.maxDelayMs) &&
      f.minDelayMs >= 0 &&
      f.maxDelayMs >= f.minDelayMs
    )) {
      throw new RangeError(
        `SimNetwork: need integer 0 <= minDelayMs <= maxDelayMs, got [${f.minDelayMs}, ${f.maxDelayMs}]`,
      );
    }
    this.faults = f;
  }

  getFaults(): Readonly<NetworkFaults> {
    return { ...this.faults };
  }

  /**
   * Symmetric partition, replacing any previous one: nodes in different groups cannot
   * talk; nodes listed in no group talk only among themselves. One-way blocks are kept.
   */
  partition(groups: readonly (readonly string[])[]): void {
    const groupOf = new Map<string, number>();
    groups.forEach((g, i) => {
      for (const name of g) {
        if (groupOf.has(name)) throw new Error(`SimNetwork.partition: ${name} is in two groups`);
        groupOf.set(name, i);
      }
    });
    this.groupOf = groupOf;
    for (const node of this.nodes.values()) node.group = groupOf.get(node.name) ?? -1;
    if (this.trace !== null) this.trace(`${this.stamp()} partition ${groups.map((g) => `[${g.join(',')}]`).join(' ')}`);
  }

  /** Messages from `from` to `to` are dropped (the reverse direction is unaffected). */
  blockOneWay(from: string, to: string): void {
    const node = this.nodeOrRegister(from);
    node.blockedTo ??= new Set();
    if (!node.blockedTo.has(to)) {
      node.blockedTo.add(to);
      this.blockCount++;
    }
    if (this.trace !== null) this.trace(`${this.stamp()} block   ${from} -> ${to}`);
  }

  unblockOneWay(from: string, to: string): void {
    const node = this.nodes.get(from);
    if (node?.blockedTo?.delete(to)) this.blockCount--;
    if (this.trace !== null) this.trace(`${this.stamp()} unblock ${from} -> ${to}`);
  }

  /** Remove every partition and one-way block. */
  heal(): void {
    this.groupOf = new Map();
    for (const node of this.nodes.values()) {
      node.group = -1;
      node.blockedTo = null;
    }
    this.blockCount = 0;
    if (this.trace !== null) this.trace(`${this.stamp()} heal`);
  }

  /** Whether a message sent now from `from` to `to` would pass partitions and blocks (ignores crashes and loss). */
  linkOpen(from: string, to: string): boolean {
    const a = this.nodes.get(from);
    const b = this.nodes.get(to);
    const ga = a ? a.group : (this.groupOf.get(from) ?? -1);
    const gb = b ? b.group : (this.groupOf.get(to) ?? -1);
    return ga === gb && !(a?.blockedTo?.has(to) ?? false);
  }

  /** Print every send / deliver / drop (and fault change) with virtual time. null to stop. */
  onTrace(hook: ((line: string) => void) | null): void {
    this.trace = hook;
  }

  // ---- byte accounting ----

  /**
   * Start (from zero) or stop counting every send() by message kind: its count and JSON length.
   * Off by default: measuring stringifies every message, which the checkers' runs do not need.
   */
  countBytes(on: boolean): void {
    this.byteCounts = on ? new Map() : null;
    this.sizeOf = new WeakMap();
  }

  /** What was sent since countBytes(true), by message kind (empty when not counting). */
  bytesByKind(): Map<string, KindBytes> {
    return new Map([...(this.byteCounts ?? [])].map(([k, v]) => [k, { ...v }]));
  }

  private countSend(message: WireMessage): void {
    let size = this.sizeOf.get(message);
    if (size === undefined) {
      size = JSON.stringify(message, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)).length;
      this.sizeOf.set(message, size);
    }
    let c = this.byteCounts!.get(message.t);
    if (c === undefined) this.byteCounts!.set(message.t, (c = { messages: 0, bytes: 0 }));
    c.messages++;
    c.bytes += size;
  }

  // ---- hot path ----

  /** @internal called by SimTransport.send */
  sendFrom(src: NodeState, incarnation: number, toName: string, message: WireMessage): void {
    const stats = this.stats;
    stats.sent++;
    if (this.byteCounts !== null) this.countSend(message);
    if (!src.up || src.incarnation !== incarnation) return this.dropAtSend(src.name, toName, message, 'sender-down');
    const dst = this.nodes.get(toName);
    if (dst === undefined) return this.dropAtSend(src.name, toName, message, 'unknown');
    if (!dst.up) return this.dropAtSend(src.name, toName, message, 'down');
    if (src.group !== dst.group || (this.blockCount > 0 && src.blockedTo !== null && src.blockedTo.has(toName))) {
      return this.dropAtSend(src.name, toName, message, 'partition');
    }
    const f = this.faults;
    if (f.dropRate > 0 && this.lossRng.next() < f.dropRate) return this.dropAtSend(src.name, toName, message, 'loss');
    this.schedule(src, dst, message, false);
    if (f.duplicateRate > 0 && this.dupRng.next() < f.duplicateRate) {
      stats.duplicated++;
      this.schedule(src, dst, message, true);
    }
  }

  private schedule(src: NodeState, dst: NodeState, message: WireMessage, dup: boolean): void {
    const f = this.faults;
    const spread = f.maxDelayMs - f.minDelayMs;
    const now = this.sched.now();
    let time = now + f.minDelayMs + (spread > 0 ? this.delayRng.int(spread + 1) : 0);
    const last = src.lastAt[dst.index]!;
    if (time > last) src.lastAt[dst.index] = time;
    else if (!f.reorder) time = last; // same time, later sequence number: still FIFO
    const msg = this.cloneMessages ? structuredClone(message) : message;
    this.stats.inFlight++;
    this.sched.atWith(time, this.deliverFn, new Envelope(src, dst, dst.incarnation, msg));
    if (this.trace !== null)
      this.trace(`${this.stamp()} ${dup ? 'dup    ' : 'send   '} ${src.name} -> ${dst.name} ${msg.t} (due ${time})`);
  }

  private deliver(env: Envelope): void {
    const stats = this.stats;
    stats.inFlight--;
    const dst = env.to;
    const src = env.from;
    let reason: DropReason | null = null;
    let handler: Handler | null = null;
    if (!dst.up || dst.incarnation !== env.toIncarnation) reason = 'down';
    else if (
      src.group !== dst.group ||
      (this.blockCount > 0 && src.blockedTo !== null && src.blockedTo.has(dst.name))
    ) {
      reason = 'partition';
    } else {
      handler = dst.transport === null ? null : dst.transport.handler;
      if (handler === null) reason = 'no-handler';
    }
    if (reason !== null) {
      stats.dropped++;
      stats.droppedBy[reason]++;
      if (this.trace !== null)
        this.trace(`${this.stamp()} drop    ${src.name} -> ${dst.name} ${env.message.t} (${reason}, in flight)`);
      return;
    }
    stats.delivered++;
    if (this.trace !== null) this.trace(`${this.stamp()} deliver ${src.name} -> ${dst.name} ${env.message.t}`);
    handler!(src.name, env.message);
  }

  private dropAtSend(from: string, to: string, message: WireMessage, reason: DropReason): void {
    this.stats.dropped++;
    this.stats.droppedBy[reason]++;
    if (this.trace !== null) this.trace(`${this.stamp()} drop    ${from} -> ${to} ${message.t} (${reason})`);
  }

  private stamp(): string {
    return `[${String(this.sched.now()).padStart(8)}ms]`;
  }

  private nodeOrRegister(name: string): NodeState {
    let node = this.nodes.get(name);
    if (node === undefined) {
      node = new NodeState(name, this.nodes.size);
      node.group = this.groupOf.get(name) ?? -1;
      this.nodes.set(name, node);
      // Virtual time is >= 0, so 0 means "nothing sent on this link yet".
      for (const other of this.nodes.values()) {
        while (other.lastAt.length < this.nodes.size) other.lastAt.push(0);
      }
    }
    return node;
  }

  private nodeOrThrow(name: string, op: string): NodeState {
    const node = this.nodes.get(name);
    if (node === undefined) throw new Error(`SimNetwork.${op}: unknown node ${name}`);
    return node;
  }
}
