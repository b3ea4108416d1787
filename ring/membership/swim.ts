// SWIM failure detection (Das, Gupta, Motivala 2002) with the Lifeguard-style habits of
// memberlist: each round probes one peer directly, then through k others; a silent peer
// becomes suspect, and dead after a timeout unless it refutes by raising its incarnation.
// Liveness spreads as SWIM's piggybacked updates: each message carries the sender's own entry,
// the recipient's entry when the sender doubts it (so a suspected node learns of it from the
// very ping that doubts it), and a bounded number of recent changes, each sent about
// 4 * log10(n + 1) times (memberlist's retransmit limit), so a settled cluster's messages stay
// the same size whatever n. Every livenessFullSyncIntervalMs a probe carries the whole table
// and its ack answers with the peer's (memberlist's push-pull), which repairs whatever the
// piggybacking missed. Dead peers are still probed now and then, so a healed partition is
// noticed by both sides.
import type { RingConfig } from '../config';
import type { Runtime, WireMessage } from '../runtime';

export type Liveness = 'alive' | 'suspect' | 'dead';
const rank: Record<Liveness, number> = { alive: 0, suspect: 1, dead: 2 };
const byRank: Liveness[] = ['alive', 'suspect', 'dead'];

interface PeerState {
  state: Liveness;
  inc: number;
  /** Local clock when the state last changed. */
  since: number;
}

/** Wire form: name -> [rank, incarnation]. */
export type LivenessTable = Record<string, [number, number]>;

/** Every this many probe rounds, one probe goes to a peer believed dead. */
const deadProbeEveryRounds = 5;
/** A liveness change is piggybacked on this many messages per log10(n + 1) (memberlist's RetransmitMult). */
const retransmitMult = 4;

export class FailureDetector {
  private readonly peers = new Map<string, PeerState>();
  private order: string[] = [];
  private cursor = 0;
  private round = 0;
  private seq = 0;
  private readonly awaiting = new Map<number, { target: string; acked: boolean }>();
  /** Relayed probes: our seq -> whom to answer with which seq. */
  private readonly relays = new Map<number, { origin: string; seq: number }>();
  /** Recent changes of peers still to piggyback: name -> messages left to carry it on. At most one per peer. */
  private readonly recent = new Map<string, number>();
  incarnation: number;

  constructor(
    private readonly self: string,
    private readonly rt: Runtime,
    private readonly config: RingConfig,
    incarnation = 0,
    /** Its node, told when a peer's liveness changes (not when setPeers adds or drops one). */
    private readonly livenessChanged: (name: string, state: Liveness, before: Liveness) => void = () => {},
  ) {
    this.incarnation = incarnation;
  }

  /** Track exactly these peers (the ring's members other than self and the removed). */
  setPeers(names: readonly string[]): void {
    const wanted = new Set(names);
    wanted.delete(this.self);
    for (const name of [...this.peers.keys()]) {
      if (wanted.has(name)) continue;
      this.peers.delete(name);
      this.recent.delete(name);
    }
    for (const name of wanted)
      if (!this.peers.has(name)) this.peers.set(name, { state: 'alive', inc: 0, since: this.rt.clock.now() });
  }

  state(name: string): Liveness {
    if (name === this.self) return 'alive';
    return this.peers.get(name)?.state ?? 'dead';
  }

  /** Reachable enough to send requests to: alive or merely suspected. */
  isUp(name: string): boolean {
    return this.state(name) !== 'dead';
  }

  /** Local clock time since which `name` has been dead, or undefined. */
  deadSince(name: string): number | undefined {
    const p = this.peers.get(name);
    return p?.state === 'dead' ? p.since : undefined;
  }

  peerNames(): string[] {
    return [...this.peers.keys()];
  }

  /** The whole table: for the periodic full sync and the rare messages that carry the whole ring. */
  table(): LivenessTable {
    const t: LivenessTable = { [this.self]: [0, this.incarnation] };
    for (const [name, p] of this.peers) t[name] = [rank[p.state], p.inc];
    return t;
  }

  /**
   * What one message to `to` carries: this node's own entry, `to`'s entry when this node
   * doubts it, and up to livenessUpdatesPerMessageMax recent changes, those sent fewest
   * times first; each inclusion counts against the change's retransmit limit.
   */
  piggyback(to: string): LivenessTable {
    const t: LivenessTable = { [this.self]: [0, this.incarnation] };
    const them = this.peers.get(to);
    if (them && them.state !== 'alive') t[to] = [rank[them.state], them.inc];
    if (this.recent.size === 0) return t;
    const picked = [...this.recent].sort((a, b) => b[1] - a[1]).slice(0, this.config.livenessUpdatesPerMessageMax);
    for (const [name, left] of picked) {
      const p = this.peers.get(name);
      if (p) t[name] = [rank[p.state], p.inc];
      if (left <= 1 || !p) this.recent.delete(name);
      else this.recent.set(name, left - 1);
    }
    return t;
  }

  mergeTable(table: unknown): void {
    if (!table || typeof table !== 'object') return;
    for (const [name, v] of Object.entries(table as Record<string, unknown>)) {
      if (!Array.isArray(v) || typeof v[0] !== 'number' || typeof v[1] !== 'number') continue;
      const state = byRank[v[0]];
      if (state) this.observe(name, state, v[1]);
    }
  }

  /** One protocol round: probe the next peer. */
  tick(): void {
    this.round++;
    this.expireSuspects();
    const target = this.nextTarget();
    if (!target) return;
    const seq = ++this.seq;
    this.awaiting.set(seq, { target, acked: false });
    const syncEvery = Math.max(1, Math.round(this.config.livenessFullSyncIntervalMs / this.config.probeIntervalMs));
    const live = this.round % syncEvery === 0 ? { live: this.table(), full: true } : { live: this.piggyback(target) };
    this.rt.transport.send(target, { t: 'ping', seq, ...live });
    this.rt.timers.setTimeout(() => this.afterDirectProbe(seq), this.config.probeTimeoutMs);
  }

  /** Handles SWIM messages; returns false for messages that are not SWIM's. */
  handle(from: string, m: WireMessage): boolean {
    switch (m.t) {
      case 'ping':
        this.mergeTable(m.live);
        this.observe(from, 'alive', this.incOf(m.live, from));
        this.rt.transport.send(from, {
          t: 'ack',
          seq: m.seq,
          live: m.full === true ? this.table() : this.piggyback(from),
        });
        return true;
      case 'ack':
        this.mergeTable(m.live);
        this.onAck(from, m.seq as number);
        return true;
      case 'pingreq': {
        const seq = ++this.seq;
        this.relays.set(seq, { origin: from, seq: m.seq as number });
        this.rt.transport.send(m.target as string, { t: 'ping', seq, live: this.piggyback(m.target as string) });
        this.rt.timers.setTimeout(() => this.relays.delete(seq), this.config.probeTimeoutMs * 2);
        return true;
      }
      default:
        return false;
    }
  }

  private incOf(table: unknown, name: string): number {
    const v = (table as LivenessTable | undefined)?.[name];
    return Array.isArray(v) && typeof v[1] === 'number' ? v[1] : 0;
  }

  private onAck(from: string, seq: number): void {
    const relay = this.relays.get(seq);
    if (relay) {
      this.relays.delete(seq);
      this.rt.transport.send(relay.origin, { t: 'ack', seq: relay.seq, live: this.piggyback(relay.origin) });
      return;
    }
    const probe = this.awaiting.get(seq);
    if (probe) probe.acked = true;
    // An ack proves the peer alive at the incarnation it reports for itself.
    void from;
  }

  private afterDirectProbe(seq: number): void {
    const probe = this.awaiting.get(seq);
    if (!probe || probe.acked) {
      this.awaiting.delete(seq);
      return;
    }
    const helpers = this.pickHelpers(probe.target, this.config.indirectProbeCount);
    for (const h of helpers) this.rt.transport.send(h, { t: 'pingreq', seq, target: probe.target });
    this.rt.timers.setTimeout(() => this.afterIndirectProbe(seq), this.config.probeTimeoutMs);
  }

  private afterIndirectProbe(seq: number): void {
    const probe = this.awaiting.get(seq);
    this.awaiting.delete(seq);
    if (!probe || probe.acked) return;
    const p = this.peers.get(probe.target);
    if (p && p.state === 'alive') this.set(probe.target, p, 'suspect', p.inc);
  }

  private expireSuspects(): void {
    const now = this.rt.clock.now();
    for (const [name, p] of this.peers) {
      if (p.state === 'suspect' && now - p.since >= this.config.suspectTimeoutMs) this.set(name, p, 'dead', p.inc);
    }
  }

  private observe(name: string, state: Liveness, inc: number): void {
    if (name === this.self) {
      // The refutation rides on this node's own entry, which every message carries.
      if (state !== 'alive' && inc >= this.incarnation) this.incarnation = inc + 1;
      return;
    }
    const p = this.peers.get(name);
    if (!p) return;
    if (inc > p.inc || (inc === p.inc && rank[state] > rank[p.state])) this.set(name, p, state, inc);
  }

  private set(name: string, p: PeerState, state: Liveness, inc: number): void {
    const before = p.state;
    if (before !== state || p.inc !== inc) this.recent.set(name, this.retransmits());
    p.inc = inc;
    if (before !== state) {
      p.state = state;
      p.since = this.rt.clock.now();
      this.livenessChanged(name, state, before);
    }
  }

  /** Messages a change rides on: retransmitMult * ceil(log10(n + 1)), n counting this node. */
  private retransmits(): number {
    return retransmitMult * Math.max(1, Math.ceil(Math.log10(this.peers.size + 2)));
  }

  private nextTarget(): string | undefined {
    if (this.round % deadProbeEveryRounds === 0) {
      const dead = [...this.peers].filter(([, p]) => p.state === 'dead').map(([n]) => n);
      if (dead.length > 0) return dead[this.rt.random.int(dead.length)];
    }
    const live = [...this.peers].filter(([, p]) => p.state !== 'dead').map(([n]) => n);
    if (live.length === 0) return undefined;
    if (this.cursor >= this.order.length) {
      this.order = shuffle(live, this.rt.random);
      this.cursor = 0;
    }
    const name = this.order[this.cursor++]!;
    return this.peers.has(name) ? name : live[0];
  }

  private pickHelpers(target: string, k: number): string[] {
    const candidates = [...this.peers].filter(([n, p]) => n !== target && p.state === 'alive').map(([n]) => n);
    return shuffle(candidates, this.rt.random).slice(0, k);
  }
}

function shuffle<T>(items: T[], random: { int(n: number): number }): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
