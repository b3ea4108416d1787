// One member of the ring. It owns the node's state (ring view, vnode store, CAS acceptor
// state, failure detector) and runs the periodic protocols: gossip, probing, claim,
// handoff, anti-entropy, counter flushes, CAS catch-up and tombstone collection. Requests
// come in through the callback API below; server/ wraps it in promises. What happens to
// the node (ring and member changes, keys stored, handoffs, a completed leave) is told
// through `events`, to any number of listeners; its durable state through `journal`.
import { AntiEntropy } from '../antiEntropy/exchange';
import { CasAcceptorStore, CasEngine } from '../cas/caspaxos';
import type { RingConfig } from '../config';
import {
  exhaustiveGet,
  quorumGet,
  quorumGetMany,
  quorumMerge,
  quorumWrite,
  installQuorumHandlers,
  readResult,
  type ReadResult,
  type WriteResult,
} from '../coordinator/quorum';
import { Coverage, type CoverageQuery, type CoverageResult } from '../coverage/coverage';
import {
  IndexQueries,
  type IndexCount,
  type IndexFilter,
  type IndexPage,
  type IndexPageArgs,
  type IndexQueryArgs,
} from '../coverage/indexQuery';
import { CounterShipper } from '../crdt/counterShipper';
import { Emitter, type Events } from '../events';
import { Handoff, type HandoffStatus } from '../handoff/handoff';
import { hash64, partitionOf } from '../hash';
import { planRing } from '../membership/claimant';
import {
  bootstrapRing,
  emptyRing,
  isActive,
  isZoneName,
  memberZones,
  mergeRings,
  ringFingerprint,
  type Member,
  type RingState,
} from '../membership/ringState';
import { FailureDetector, type Liveness } from '../membership/swim';
import { computePreferenceLists, type PreferenceLists } from '../placement/preference';
import { zoneShortfall } from '../placement/zones';
import type { Runtime, WireMessage } from '../runtime';
import { typeOfKey, type DataTypeRegistry } from '../storage/datatype';
import { TombstoneReaper } from '../storage/reaper';
import type { VersionVector } from '../storage/versions';
import { VnodeStore, type StoreMutation } from '../storage/vnodeStore';
import { AppRegistry, type AppMessages } from './appMessages';
import { emptyStats, ringError, type Callback, type NodeContext, type NodeStats, type Quorum } from './context';
import { durableSnapshot, type DurableChange, type DurableJournal, type DurableState } from './durable';
import { Rpc } from './rpc';

export type { DurableState } from './durable';

export interface RingNodeOptions {
  name: string;
  /** How peers reach this node (host:port); the name in the simulator. */
  addr?: string;
  /**
   * This node's failure domain (ZONE): the claim puts a key's replicas in distinct zones
   * (placement/zones.ts). Recorded in the ring when the node joins; at most zoneCharsMax characters.
   */
  zone?: string;
  config: RingConfig;
  runtime: Runtime;
  types: DataTypeRegistry;
  /** Names (or addresses) of members to join through; empty starts a new cluster. */
  seeds: readonly string[];
  /** State restored from disk (restoreDurableState), if any. */
  durable?: DurableState;
  /** Where every change of the durable state is written as it happens (see DurableJournal). */
  journal?: DurableJournal;
  clusterId?: string;
}

export interface MemberView {
  readonly name: string;
  readonly addr: string;
  /** Absent: the member has no zone. */
  readonly zone?: string;
  readonly status: Member['status'];
  readonly liveness: Liveness;
}

/** A member as this node sees it now, and before the change (undefined: it just appeared). */
export interface MemberChange {
  readonly member: MemberView;
  readonly before: Pick<MemberView, 'status' | 'liveness'> | undefined;
}

/** What RingNode.events emits. Listeners run synchronously, in subscription order. */
export interface RingNodeEvents {
  /** This node's view of the ring changed: members, their status or generation, or partition claims. */
  ringChanged: RingState;
  /** A member appeared in this node's view, or its status, or its liveness as seen from here, changed. */
  memberChanged: MemberChange;
  /** A key's value changed in this node's store: a write, merge, repair or handoff stored here. */
  keyChanged: { readonly key: string; readonly partition: number };
  handoffStarted: HandoffStatus;
  /** After each chunk every receiver acknowledged. */
  handoffProgressed: HandoffStatus;
  /** ok false: it failed or a ring change overtook it; it starts again later if still needed. */
  handoffFinished: HandoffStatus & { readonly ok: boolean };
  /** This node finished a graceful leave (its data is handed off): its process may exit. */
  left: void;
  /** An operator removed this node from the cluster: it should stop. */
  removed: void;
}

const rpcInFlightMax = 10_000;
const joinRetryMs = 300;
/** How often drainCounters checks on its flushes. */
const drainPollMs = 10;

export class RingNode {
  readonly name: string;
  readonly stats: NodeStats = emptyStats();
  /** Subscribe here: `node.events.on('keyChanged', ...)` returns the function that unsubscribes. */
  readonly events: Events<RingNodeEvents>;
  /** Messages and requests between members for the layers above (see appMessages.ts). */
  readonly app: AppMessages;
  /**
   * The state that survives a restart. Inside ring/ only (the simulator carries it over a
   * durable crash, ring tests inspect the store); other layers use the journal, keyCount() and
   * durableSnapshot().
   */
  /** The node's whole durable state: ring-internal (durableStateOf), never handed out by the facade. */
  private readonly durable: DurableState;
  private readonly emitter: Emitter<RingNodeEvents>;
  private readonly appRegistry: AppRegistry;
  private readonly journal: DurableJournal | undefined;
  private readonly ctx: NodeContext;
  private readonly rt: Runtime;
  private readonly config: RingConfig;
  private readonly rpc: Rpc;
  private readonly detector: FailureDetector;
  private readonly casEngine: CasEngine;
  private readonly handoff: Handoff;
  private readonly antiEntropy: AntiEntropy;
  private readonly reaper: TombstoneReaper;
  private readonly counters: CounterShipper;
  private readonly coverage: Coverage;
  private readonly indexQueries: IndexQueries;
  private prefs: PreferenceLists;
  private ringPrint = '';
  /** A 64-bit hash of ringPrint: what gossip digests compare (the print itself grows with Q and n). */
  private ringDigest = '';
  private isRunning = false;
  private seedCursor = 0;
  private lastIdlePlan = '';
  private leftReported = false;
  /** A peer's gossip showed this node as 'exiting'. */
  private exitAcknowledged = false;
  /**
   * Started from a durable state in which this node had already left ('exiting'): it was
   * restarted on purpose, so it joins again (as a new generation, with no data: a completed
   * leave handed everything off) instead of reporting its old leave once more and stopping.
   */
  private rejoining = false;
  /** N_VAL clamped to the ring's active members (see Quorum). */
  private replicasPerKey: number;
  /** The clamped replica count last logged (reportClampedQuorums). */
  private quorumReported: number | undefined;
  /** The zone count last warned about as fewer than N_VAL (reportZoneShortfall); null: none. */
  private zoneShortfallReported: number | null = null;

  constructor(private readonly opts: RingNodeOptions) {
    this.name = opts.name;
    this.rt = opts.runtime;
    this.config = opts.config;
    this.emitter = new Emitter<RingNodeEvents>(this.rt.logger);
    this.events = this.emitter;
    this.journal = opts.journal;
    this.durable = opts.durable ?? {
      bootId: `${opts.name}@${this.rt.random.hex(4)}`,
      incarnation: 0,
      ring: emptyRing(opts.config.ringSize),
      store: new VnodeStore(opts.types, opts.config.antiEntropyBucketsPerPartition),
      cas: new CasAcceptorStore(),
    };
    this.durable.store.attach((m) => this.stored(m));
    this.durable.cas.attach((c) => this.journal?.record(c));
    this.rpc = new Rpc(this.rt, rpcInFlightMax, this.name);
    this.detector = new FailureDetector(this.name, this.rt, this.config, this.durable.incarnation, (name, now, was) => {
      const m = this.durable.ring.members[name];
      if (!m) return;
      const member = { ...memberView(m), liveness: now };
      this.emitter.emit('memberChanged', { member, before: { status: m.status, liveness: was } });
    });
    this.appRegistry = new AppRegistry({
      name: this.name,
      running: () => this.isRunning,
      send: (to, m) => this.rt.transport.send(to, m),
      peersUp: () => this.activeMembers().filter((n) => n !== this.name && this.detector.isUp(n)),
      rpc: this.rpc,
    });
    this.app = this.appRegistry;
    const ring = this.durable.ring;
    this.prefs = preferenceListsOf(ring, this.config.nVal, hash64(ringFingerprint(ring)).toString(36));
    this.replicasPerKey = replicasPerKey(this.durable.ring, this.config.nVal);
    this.ctx = {
      name: this.name,
      bootId: this.durable.bootId,
      rt: this.rt,
      config: this.config,
      types: opts.types,
      store: this.durable.store,
      rpc: this.rpc,
      detector: this.detector,
      stats: this.stats,
      ring: () => this.durable.ring,
      prefs: () => this.prefs,
      partitionOf: (key) => partitionOf(key, this.config.ringSize),
      targets: (p) => this.targets(p),
      quorum: (p) => this.quorum(p),
      isUp: (n) => n === this.name || this.detector.isUp(n),
      updateRing: (change) => this.setRing(change(this.durable.ring), true),
      running: () => this.isRunning,
      journalBatch: (fn) => (this.journal?.batch ? this.journal.batch(fn) : fn()),
    };
    installQuorumHandlers(this.ctx);
    this.casEngine = new CasEngine(this.ctx, this.durable.cas);
    this.handoff = new Handoff(this.ctx, this.casEngine, {
      started: (s) => this.emitter.emit('handoffStarted', s),
      progressed: (s) => this.emitter.emit('handoffProgressed', s),
      finished: (s, ok) => this.emitter.emit('handoffFinished', { ...s, ok }),
    });
    this.antiEntropy = new AntiEntropy(this.ctx);
    this.reaper = new TombstoneReaper(this.ctx);
    this.counters = new CounterShipper(this.ctx);
    this.coverage = new Coverage(this.ctx);
    this.indexQueries = new IndexQueries(this.ctx);
    this.rt.transport.onMessage((from, m) => this.receive(from, m));
  }

  // ---- lifecycle ----

  start(): void {
    this.isRunning = true;
    const ring = this.durable.ring;
    if (this.opts.seeds.length === 0 && Object.keys(ring.members).length === 0) {
      this.setRing(
        bootstrapRing(this.opts.clusterId ?? this.rt.random.hex(8), this.config.ringSize, {
          name: this.name,
          addr: this.addr(),
          ...this.zone(),
        }),
        false,
      );
      this.casEngine.bootstrap(this.config.ringSize);
    } else {
      this.applyRing(ring);
      const recorded = ring.members[this.name];
      if (recorded && recorded.status !== 'exiting' && recorded.zone !== this.opts.zone) {
        // The ring keeps the zone a member joined with: changing it would move data under a
        // running cluster's feet. A node moved to another zone leaves and joins again.
        this.rt.logger.warn('ZONE differs from the zone this node joined with: the ring keeps the old one', {
          node: this.name,
          zone: this.opts.zone ?? null,
          recorded: recorded.zone ?? null,
        });
      }
      if (ring.members[this.name]?.status === 'exiting') {
        this.rejoining = true;
        this.rt.logger.info('this node left the cluster before it stopped: joining again', {
          node: this.name,
          keys: this.durable.store.keyCount(),
        });
      }
    }
    const c = this.config;
    this.every(c.probeIntervalMs, () => this.detector.tick());
    this.every(c.gossipIntervalMs, () => this.gossipRound());
    this.every(c.claimIntervalMs, () => this.claimRound());
    this.every(c.handoffIntervalMs, () => {
      this.handoff.tick();
      this.casEngine.catchUp(4, this.activeMembers());
      this.checkLeft();
    });
    this.every(c.antiEntropyIntervalMs, () => this.antiEntropy.tick());
    this.every(c.counterFlushIntervalMs, () => this.counters.flush());
    this.every(c.antiEntropyIntervalMs * 2, () => {
      this.reaper.tick(this.tombstoneWitnesses());
      this.reaper.sweepExpired();
    });
    this.every(joinRetryMs, () => this.joinRound());
  }

  /** Stop all activity now (process exit or simulated crash); in-flight requests fail. */
  stop(): void {
    this.isRunning = false;
    this.rpc.failAll('node stopped');
  }

  running(): boolean {
    return this.isRunning;
  }

  /**
   * Before a stop without leaving: ship every counter increment this node still holds and
   * wait for the write quorums' acknowledgements, flushing again as batches settle, until
   * none is left or `timeoutMs` passes. `done(true)` when everything was acknowledged.
   */
  drainCounters(timeoutMs: number, done: (drained: boolean) => void): void {
    const deadline = this.rt.clock.now() + timeoutMs;
    const step = () => {
      if (this.counters.idle()) return done(true);
      if (!this.isRunning || this.rt.clock.now() >= deadline) return done(false);
      this.counters.flush();
      this.rt.timers.setTimeout(step, drainPollMs);
    };
    step();
  }

  /** Graceful leave: hand off every partition, then emit 'left'. */
  leave(): void {
    this.updateMember(this.name, (m) =>
      m.status === 'valid' || m.status === 'joining' ? { ...m, status: 'leaving' } : m,
    );
  }

  /** Ask a member (this node or another) to leave gracefully: it hands everything off, then exits. */
  requestLeave(name: string): boolean {
    if (name === this.name) {
      this.leave();
      return true;
    }
    const m = this.durable.ring.members[name];
    if (!m || !isActive(m)) return false;
    this.updateMember(name, (x) => (x.status === 'valid' ? { ...x, status: 'leaving' } : x));
    return true;
  }

  /** Operator removal of another member: its partitions are reassigned and re-replicated from survivors. */
  remove(name: string): boolean {
    const m = this.durable.ring.members[name];
    if (!m || m.status === 'removed') return false;
    this.updateMember(name, (x) => ({ ...x, status: 'removed' }));
    return true;
  }

  // ---- data API ----

  get(key: string, done: Callback<ReadResult>): void {
    if (!this.guard(done)) return;
    quorumGet(this.ctx, key, done);
  }

  /** Many keys, each read from R replicas, in one message per replica (quorumGetMany). */
  getMany(keys: readonly string[], done: Callback<ReadResult[]>): void {
    if (!this.guard(done)) return;
    quorumGetMany(this.ctx, keys, done);
  }

  /**
   * Read a key from every member this node believes up (see exhaustiveGet): for rare reads where a false "not found"
   * is costly.
   */
  getEverywhere(key: string, done: Callback<ReadResult>): void {
    if (!this.guard(done)) return;
    const up = Object.values(this.durable.ring.members)
      .filter((m) => m.status !== 'removed' && m.status !== 'exiting' && this.isUp(m.name))
      .map((m) => m.name);
    exhaustiveGet(this.ctx, key, up, done);
  }

  put(key: string, value: unknown, context: VersionVector, done: Callback<WriteResult>): void {
    if (!this.guard(done)) return;
    quorumWrite(this.ctx, key, { value, context }, done);
  }

  delete(key: string, context: VersionVector, done: Callback<WriteResult>): void {
    if (!this.guard(done)) return;
    quorumWrite(this.ctx, key, { deleted: true, context }, done);
  }

  /** Merge a CRDT state into a key (idempotent). */
  merge(key: string, value: unknown, done: Callback<true>): void {
    if (!this.guard(done)) return;
    quorumMerge(this.ctx, key, value, done);
  }

  /** Count locally; shipped to the key's replicas in the next flush. */
  increment(key: string, by: number, done?: Callback<true>): void {
    if (!this.isRunning) return done?.(ringError('stopped', 'node is not running'));
    this.counters.increment(key, by, done);
  }

  /** A counter's state (G or PN, per its type): R replicas merged with this node's unshipped increments. */
  readCounter<T = unknown>(key: string, done: Callback<{ value: T }>): void {
    const type = this.durable.store.typeOf(key);
    if (type.kind !== 'crdt' || !type.counter) return done(ringError('invalid', `type ${type.name} is not a counter`));
    this.get(key, (err, res) => {
      if (err) return done(err);
      let value = res?.found ? res.value : type.empty();
      const local = this.counters.localDelta(key);
      if (local) value = type.merge(value, local);
      done(null, { value: value as T });
    });
  }

  /** Many counters' states, as readCounter reads each, in one batched read (getMany). */
  readCounters<T = unknown>(keys: readonly string[], done: Callback<{ values: T[] }>): void {
    const types = keys.map((key) => this.durable.store.typeOf(key));
    const bad = types.findIndex((type) => type.kind !== 'crdt' || !type.counter);
    if (bad >= 0) return done(ringError('invalid', `type ${types[bad]!.name} is not a counter`));
    this.getMany(keys, (err, res) => {
      if (err) return done(err);
      const values = res!.map((r, i) => {
        const type = types[i]!;
        let value = r.found ? r.value : type.kind === 'crdt' ? type.empty() : undefined;
        const local = this.counters.localDelta(keys[i]!);
        if (local && type.kind === 'crdt') value = type.merge(value, local);
        return value as T;
      });
      done(null, { values });
    });
  }

  cas<R>(key: string, change: (current: unknown) => { next: unknown; result: R }, done: Callback<R>): void {
    if (!this.guard(done)) return;
    this.casEngine.propose(key, change, done);
  }

  /**
   * This node's own replica of a key, when it is one of the key's primaries and holds it:
   * the read fast path (no messages). Fresh to within one write's propagation; a caller
   * that needs the quorum view uses get().
   */
  localRead(key: string): ReadResult | undefined {
    if (!this.isRunning) return undefined;
    const p = partitionOf(key, this.config.ringSize);
    if (!this.prefs.primaries[p]?.includes(this.name)) return undefined;
    const stored = this.durable.store.get(p, key);
    return readResult(this.durable.store.typeOf(key), stored?.entry ?? null, this.rt.clock.now());
  }

  /** The key's partition and its preference list (primaries, then fallbacks) with liveness. */
  placement(key: string): { partition: number; primaries: string[]; fallbacks: string[] } {
    const p = partitionOf(key, this.config.ringSize);
    return {
      partition: p,
      primaries: [...(this.prefs.primaries[p] ?? [])],
      fallbacks: [...(this.prefs.fallbacks[p] ?? [])],
    };
  }

  /** A member this node can currently send requests to (itself, alive or suspected). */
  isUp(name: string): boolean {
    return name === this.name || this.detector.isUp(name);
  }

  registerCoverage(query: CoverageQuery<unknown>): void {
    this.coverage.register(query);
  }

  coverageQuery<A>(name: string, args: unknown, done: Callback<CoverageResult<A>>): void {
    if (!this.guard(done)) return;
    this.coverage.run(name, args, done);
  }

  /** A predicate index queries may narrow a term by; register it on every node. */
  registerIndexFilter(filter: IndexFilter): void {
    this.indexQueries.registerFilter(filter);
  }

  /** A page of the keys a secondary index lists under one term, highest sort first (ring/coverage/indexQuery.ts). */
  indexPage(args: IndexPageArgs, done: Callback<IndexPage>): void {
    if (!this.guard(done)) return;
    this.indexQueries.page(args, done);
  }

  /** How many live keys a secondary index lists under one term (matching the filter when given), exactly. */
  indexCount(args: IndexQueryArgs, done: Callback<IndexCount>): void {
    if (!this.guard(done)) return;
    this.indexQueries.count(args, done);
  }

  // ---- introspection ----

  /** Unique per durable identity: a restart with the same data keeps it. */
  get bootId(): string {
    return this.durable.bootId;
  }

  /** Keys stored on this node (as a replica, fallback or handoff sender). */
  keyCount(): number {
    return this.durable.store.keyCount();
  }

  /**
   * What this node holds, by key namespace (the data type's name, or a CAS key's prefix): stored
   * keys and CASPaxos acceptor states. O(keys); for tests and benchmarks that compare two ways of
   * loading data.
   */
  storageCounts(): { keys: Record<string, number>; cas: Record<string, number> } {
    const keys: Record<string, number> = {};
    const cas: Record<string, number> = {};
    for (const [, key] of this.durable.store.entries()) keys[typeOfKey(key)] = (keys[typeOfKey(key)] ?? 0) + 1;
    for (const states of this.durable.cas.states.values())
      for (const key of states.keys()) cas[typeOfKey(key)] = (cas[typeOfKey(key)] ?? 0) + 1;
    return { keys, cas };
  }

  /** The whole durable state as changes, for a journal's compaction (see DurableJournal). */
  durableSnapshot(): Iterable<DurableChange> {
    return durableSnapshot(this.durable);
  }

  ring(): RingState {
    return this.durable.ring;
  }

  preferenceLists(): PreferenceLists {
    return this.prefs;
  }

  members(): MemberView[] {
    return Object.values(this.durable.ring.members)
      .map((m) => ({ ...memberView(m), liveness: this.detector.state(m.name) }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  handoffs(): HandoffStatus[] {
    return this.handoff.status();
  }

  counterState(): CounterShipper {
    return this.counters;
  }

  casReady(p: number): boolean {
    return this.casEngine.isReady(p);
  }

  /** Partitions this node is a primary of whose CAS acceptor is not ready yet (catching up after a ring change). */
  casPendingPartitions(): number {
    let n = 0;
    this.prefs.primaries.forEach((list, p) => {
      if (list.includes(this.name) && !this.casEngine.isReady(p)) n++;
    });
    return n;
  }

  /** Joined and serving: a valid member of the ring. */
  ready(): boolean {
    const me = this.durable.ring.members[this.name];
    return this.isRunning && me?.status === 'valid';
  }

  // ---- internals ----

  private guard(done: Callback<never>): boolean {
    if (this.isRunning) return true;
    done(ringError('stopped', 'node is not running'));
    return false;
  }

  private addr(): string {
    return this.opts.addr ?? this.name;
  }

  /** This node's zone as a member field: empty when it has none. */
  private zone(): { zone?: string } {
    return this.opts.zone !== undefined ? { zone: this.opts.zone } : {};
  }

  private every(intervalMs: number, fn: () => void): void {
    const schedule = () => {
      const jittered = intervalMs * (0.9 + 0.2 * this.rt.random.next());
      this.rt.timers.setTimeout(() => {
        if (!this.isRunning) return;
        fn();
        schedule();
      }, jittered);
    };
    schedule();
  }

  /**
   * The up primaries, then fallbacks up to N. With zones, an unreachable primary is replaced
   * by the first up fallback in its own zone when there is one, and only then by any other:
   * the key's copies stay one per zone, so a second zone failing while the hint waits still
   * leaves a quorum of copies elsewhere (a fallback in a zone that already holds a primary
   * would put two copies where one failure takes both), and the hint later travels back
   * within the zone. If the whole zone is out (the zone-loss case), another zone takes it.
   */
  private targets(p: number): string[] {
    const out: string[] = [];
    const n = this.config.nVal;
    const zoneOf = this.prefs.zoneOf;
    const lostZones: string[] = [];
    for (const node of this.prefs.primaries[p]!) {
      if (out.length >= n) break;
      if (this.ctx.isUp(node)) out.push(node);
      else if (zoneOf !== undefined) lostZones.push(zoneOf.get(node) ?? '');
    }
    const fallbacks = this.prefs.fallbacks[p]!;
    for (const zone of lostZones) {
      const same = fallbacks.find((f) => !out.includes(f) && (zoneOf!.get(f) ?? '') === zone && this.ctx.isUp(f));
      if (same !== undefined && out.length < n) out.push(same);
    }
    for (const node of fallbacks) if (out.length < n && !out.includes(node) && this.ctx.isUp(node)) out.push(node);
    return out;
  }

  /**
   * Clamped by the ring's active members, not by a partition's current owners: while a
   * joiner's partitions are still moving, the owners can be one node, and that node must
   * not take writes alone while the other members are cut off from it.
   */
  private quorum(_p: number): Quorum {
    const n = this.replicasPerKey;
    return { n, r: Math.min(this.config.r, n), w: Math.min(this.config.w, n) };
  }

  /** Log once per change when the ring has fewer active members than N_VAL (see Quorum). */
  private reportClampedQuorums(): void {
    const clamped = this.replicasPerKey;
    if (clamped === this.quorumReported) return;
    const first = this.quorumReported === undefined;
    this.quorumReported = clamped;
    const { nVal, r, w } = this.config;
    if (clamped < nVal) {
      const msg = `the ring has fewer members than N_VAL: keys are kept on ${clamped} node(s), quorums clamped`;
      this.rt.logger.warn(msg, { nVal, n: clamped, r: Math.min(r, clamped), w: Math.min(w, clamped) });
    } else if (!first) {
      this.rt.logger.info('the ring has N_VAL members again: quorums are back to R and W', {
        nVal: this.config.nVal,
        r: this.config.r,
        w: this.config.w,
      });
    }
  }

  /**
   * Log once per change when members have zones but span fewer than N_VAL of them: the claim
   * then ignores zones (distinct nodes only), so some keys keep two replicas in one zone.
   */
  private reportZoneShortfall(): void {
    const ring = this.durable.ring;
    const valid = Object.values(ring.members)
      .filter((m) => m.status === 'valid')
      .map((m) => m.name);
    // Fewer members than N_VAL is reported as such (reportClampedQuorums).
    const zones = valid.length < this.config.nVal ? null : zoneShortfall(valid, memberZones(ring), this.config.nVal);
    if (zones === this.zoneShortfallReported) return;
    this.zoneShortfallReported = zones;
    if (zones !== null) {
      const msg = 'members span fewer zones than N_VAL: replicas are placed on distinct nodes, not distinct zones';
      this.rt.logger.warn(msg, { zones, nVal: this.config.nVal });
    }
  }

  private activeMembers(): string[] {
    return Object.values(this.durable.ring.members)
      .filter(isActive)
      .map((m) => m.name);
  }

  /**
   * Nodes that must confirm before a tombstone goes: every member, including downed ones (they come back with
   * old data).
   */
  private tombstoneWitnesses(): string[] {
    return Object.values(this.durable.ring.members)
      .filter((m) => isActive(m) || m.status === 'joining' || m.status === 'downed')
      .map((m) => m.name);
  }

  private receive(from: string, m: WireMessage): void {
    if (!this.isRunning) return;
    if (!this.admits(from, m)) {
      this.stats.strangerMessagesDropped++;
      return;
    }
    if (this.rpc.handle(from, m)) return;
    if (this.detector.handle(from, m)) return;
    if (m.t === 'app') this.appRegistry.dispatch(from, m);
    else if (m.t === 'gossip') this.onGossip(from, m);
    else if (m.t === 'join') this.onJoin(from, m);
  }

  /**
   * A peer that authenticated (it knows the cluster secret) is still a stranger until the ring
   * lists it: a stranger may only ask to join, under the name it authenticated as, and can
   * neither read, write, gossip nor probe. A node that is not a member itself yet (it is
   * joining through a seed) hears its seed's answers.
   */
  private admits(from: string, m: WireMessage): boolean {
    const members = this.durable.ring.members;
    if (members[from] !== undefined || members[this.name] === undefined) return true;
    return m.t === 'join' && m.name === from;
  }

  private gossipMessage(reply: boolean): WireMessage {
    return { t: 'gossip', ring: this.durable.ring, print: this.ringDigest, live: this.detector.table(), reply };
  }

  /**
   * A round's gossip is a digest: a hash of the ring's fingerprint and the failure detector's
   * piggybacked liveness changes, not the ring. A peer whose ring differs answers with its whole
   * ring, which this node merges and, if its own still differs, answers with its own (the
   * push-pull exchange below). In a settled cluster no ring state is encoded or decoded at all,
   * and a digest's size does not grow with Q or n.
   */
  private gossipRound(): void {
    const peers = this.detector.peerNames().filter((n) => this.detector.isUp(n));
    for (let i = 0; i < this.config.gossipFanout && peers.length > 0; i++) {
      const j = this.rt.random.int(peers.length);
      const peer = peers[j]!;
      this.rt.transport.send(peer, {
        t: 'gossip',
        print: this.ringDigest,
        live: this.detector.piggyback(peer),
        reply: false,
      });
      peers.splice(j, 1);
    }
  }

  private onGossip(from: string, m: WireMessage): void {
    this.detector.mergeTable(m.live);
    const theirs = m.ring as RingState | undefined;
    if (theirs?.members?.[this.name]?.status === 'exiting') this.exitAcknowledged = true;
    if (m.print !== this.ringDigest) {
      if (!theirs) {
        // A digest from a peer whose ring differs: send ours whole, and it answers with its own if they still differ.
        this.rt.transport.send(from, this.gossipMessage(false));
        return;
      }
      if (theirs.clusterId && this.durable.ring.clusterId && theirs.clusterId !== this.durable.ring.clusterId) {
        this.rt.logger.warn('ignoring gossip from another cluster', { from, clusterId: theirs.clusterId });
        return;
      }
      this.setRing(mergeRings(this.durable.ring, theirs), false);
      if (!m.reply && this.ringDigest !== m.print) this.rt.transport.send(from, this.gossipMessage(true));
    }
    // A leaver waits to hear its 'exiting' back before it stops; nobody else gossips to it any more.
    if (!m.reply && this.durable.ring.members[from]?.status === 'exiting')
      this.rt.transport.send(from, this.gossipMessage(true));
  }

  private onJoin(from: string, m: WireMessage): void {
    // A peer joins under the name it authenticated as, never on another's behalf.
    if (m.name !== from || typeof m.addr !== 'string') return;
    if (m.zone !== undefined && !isZoneName(m.zone)) return;
    const name = from;
    const existing = this.durable.ring.members[name];
    if (Object.keys(this.durable.ring.members).length === 0) return;
    if (!existing || existing.status === 'downed' || existing.status === 'removed' || existing.status === 'exiting') {
      const gen = Math.max(existing ? existing.gen + 1 : 1, (m.gen as number) ?? 1);
      this.setRing(
        {
          ...this.durable.ring,
          members: {
            ...this.durable.ring.members,
            [name]: {
              name,
              addr: m.addr as string,
              gen,
              status: 'joining',
              ...(m.zone !== undefined ? { zone: m.zone } : {}),
            },
          },
        },
        true,
      );
    }
    this.rt.transport.send(from, this.gossipMessage(true));
  }

  private joinRound(): void {
    // Join when not a member yet, again after being downed, or when restarted after a
    // completed leave (not after a removal, and not while leaving).
    const me = this.durable.ring.members[this.name];
    if (me && me.status !== 'downed' && !(this.rejoining && me.status === 'exiting')) return;
    // Configured seeds may be gone by now; any active member this node knows of can take it back.
    const known = Object.values(this.durable.ring.members)
      .filter((m) => isActive(m) && m.name !== this.name)
      .map((m) => m.name);
    const seeds = [...new Set([...this.opts.seeds, ...known])];
    if (seeds.length === 0) return;
    const seed = seeds[this.seedCursor++ % seeds.length]!;
    const join = { t: 'join', name: this.name, addr: this.addr(), gen: (me?.gen ?? 0) + 1, ...this.zone() };
    this.rt.transport.send(seed, join);
  }

  private claimRound(): void {
    const ring = this.durable.ring;
    if (!isActive(ring.members[this.name])) return;
    // Planning is a pure function of the ring and who is up (and, with auto-down, of time
    // while someone is dead): skip it when none of that changed since a plan that changed nothing.
    const members = Object.keys(ring.members);
    const timeMatters =
      this.config.autoDownAfterMs > 0 && members.some((n) => this.detector.deadSince(n) !== undefined);
    const planKey = `${this.ringPrint}|${members.map((n) => (this.ctx.isUp(n) ? 1 : 0)).join('')}`;
    if (!timeMatters && planKey === this.lastIdlePlan) return;
    const next = planRing(ring, {
      self: this.name,
      nVal: this.config.nVal,
      now: this.rt.clock.now(),
      isUp: this.ctx.isUp,
      deadSince: (n) => this.detector.deadSince(n),
      autoDownAfterMs: this.config.autoDownAfterMs,
    });
    if (next !== ring) this.setRing(next, true);
    else this.lastIdlePlan = planKey;
  }

  private updateMember(name: string, change: (m: Member) => Member): void {
    const m = this.durable.ring.members[name];
    if (!m) return;
    const updated = change(m);
    if (updated !== m)
      this.setRing({ ...this.durable.ring, members: { ...this.durable.ring.members, [name]: updated } }, true);
  }

  private setRing(ring: RingState, announce: boolean): void {
    if (ring === this.durable.ring && this.ringPrint !== '') return;
    const before = this.durable.ring.members[this.name];
    this.applyRing(ring);
    const after = ring.members[this.name];
    if (before && after && (after.status === 'downed' || after.status === 'removed') && before.status !== after.status)
      this.onSelfRemoved(after.status);
    if (announce) this.gossipRound();
  }

  private applyRing(ring: RingState): void {
    const print = ringFingerprint(ring);
    if (print === this.ringPrint) return;
    const membersBefore = this.members();
    this.durable.ring = ring;
    this.ringPrint = print;
    this.ringDigest = hash64(print).toString(36);
    this.prefs = preferenceListsOf(ring, this.config.nVal, this.ringDigest);
    this.replicasPerKey = replicasPerKey(ring, this.config.nVal);
    // Reported by members only: a joiner's first view of the ring it joins is not news.
    if (ring.members[this.name]?.status === 'valid') {
      this.reportClampedQuorums();
      this.reportZoneShortfall();
    }
    this.detector.setPeers(
      Object.values(ring.members)
        .filter((m) => m.status !== 'removed' && m.status !== 'exiting')
        .map((m) => m.name),
    );
    this.casEngine.onRingChanged();
    this.journal?.record({ kind: 'ring', ring });
    this.emitter.emit('ringChanged', ring);
    this.reportMemberChanges(membersBefore);
  }

  private reportMemberChanges(before: readonly MemberView[]): void {
    if (this.emitter.listenerCount('memberChanged') === 0) return;
    const was = new Map(before.map((m) => [m.name, m]));
    for (const member of this.members()) {
      const b = was.get(member.name);
      if (b && b.status === member.status && b.liveness === member.liveness) continue;
      this.emitter.emit('memberChanged', { member, before: b && { status: b.status, liveness: b.liveness } });
    }
  }

  /** Every change of the store, in order: to the journal first (a throw stops here), then to listeners. */
  private stored(m: StoreMutation): void {
    const since = m.since !== undefined ? { since: m.since } : {};
    this.journal?.record({ kind: 'entry', partition: m.partition, key: m.key, entry: m.entry, ...since });
    if (m.entry) this.emitter.emit('keyChanged', { key: m.key, partition: m.partition });
  }

  /**
   * Downed (by the auto-down timeout): keep the data. Tombstones are not collected while
   * any member is downed, so whatever this node pushes back merges under them; it joins
   * again by itself. Removed by an operator: the operator declared this node gone, and
   * tombstones may have been collected since, so drop the data rather than resurrect it.
   */
  private onSelfRemoved(status: Member['status']): void {
    this.rt.logger.warn(`this node was ${status} by the cluster`, {
      node: this.name,
      keys: this.durable.store.keyCount(),
    });
    if (status === 'removed') this.durable.store.clear();
    this.durable.cas.readiness.clear();
    if (status === 'removed') this.emitter.emit('removed');
  }

  private checkLeft(): void {
    const me = this.durable.ring.members[this.name];
    if (this.rejoining) {
      // Until the cluster takes it back (a newer generation, 'joining'), this is not a leave.
      if (me?.status !== 'exiting') this.rejoining = false;
      return;
    }
    if (me?.status !== 'leaving' && me?.status !== 'exiting') return;
    const ring = this.durable.ring;
    const stillOwns = ring.partitions.some((c) => c.owner === this.name || c.next === this.name);
    if (stillOwns || this.durable.store.keyCount() > 0 || this.handoff.busy() || this.counters.pending() > 0) return;
    this.updateMember(this.name, (m) => (m.status === 'leaving' ? { ...m, status: 'exiting' } : m));
    // Only this node knows its data is all handed off, so only it may declare the leave
    // done; it stays up, gossiping 'exiting', until a peer's ring shows it. (If it exited
    // first and that gossip were lost, the others would keep waiting for it forever.)
    if (!this.exitAcknowledged || this.leftReported) return;
    this.leftReported = true;
    this.emitter.emit('left');
  }
}

function memberView(m: Member): Omit<MemberView, 'liveness'> {
  return { name: m.name, addr: m.addr, ...(m.zone !== undefined ? { zone: m.zone } : {}), status: m.status };
}

/** Rings whose preference lists are kept, shared by the nodes of one process. */
const prefsCacheRingsMax = 8;
const prefsCache = new Map<string, PreferenceLists>();

/**
 * The preference lists of a ring, by its digest: computing them is O(Q * n) time and memory, and
 * the simulator runs hundreds of nodes holding the same few rings in one process (a deployed
 * process holds one node: the cache costs it one ring's lists). The lists are read-only.
 */
function preferenceListsOf(ring: RingState, nVal: number, digest: string): PreferenceLists {
  const key = `${nVal}:${digest}`;
  let prefs = prefsCache.get(key);
  if (prefs) prefsCache.delete(key);
  else prefs = computePreferenceLists(ring, nVal);
  prefsCache.set(key, prefs);
  if (prefsCache.size > prefsCacheRingsMax) prefsCache.delete(prefsCache.keys().next().value!);
  return prefs;
}

/** N_VAL clamped to the ring's active members, at least 1 (see Quorum). */
function replicasPerKey(ring: RingState, nVal: number): number {
  return Math.max(1, Math.min(nVal, Object.values(ring.members).filter(isActive).length));
}

/**
 * A node's whole durable state, for the simulator's checkers and the ring's own tests. Not
 * exported from ring/index.ts, and outside ring/ a lint rule forbids importing this module:
 * code above the ring uses the facade (keyCount, durableSnapshot, events, the journal port).
 */
export function durableStateOf(node: RingNode): DurableState {
  return node['durable'];
}
