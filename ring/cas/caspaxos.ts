// Linearizable compare-and-set per key: CASPaxos (Rystsov 2018) over the key's N primaries.
// Each change is one Paxos round (prepare, then accept of change(current)); any node can
// propose. Three rules keep it safe while the ring changes underneath:
//  1. A vote carries the proposer's view of the key's primaries; an acceptor votes only
//     when its own view is the same (ringpop's membership checksum), so a quorum always
//     comes from one view.
//  2. An acceptor votes only when "ready" for the partition: it was the first owner, or
//     received the sealed state of the owner it replaced, or caught up: merged the
//     acceptor state of every other active member of the ring, each already sharing its
//     new view. Every member of every past quorum is asked (walk shifts can drop several
//     of them from a partition's view without a handoff), and none of them can still
//     vote in the old view.
//  3. An owner handing a partition off seals it (stops voting) before exporting its
//     state, so nothing it accepts afterwards can be missed by its successor.
import type { NodeContext, Callback } from '../node/context';
import { ringError } from '../node/context';
import { scatter } from '../node/scatter';
import { canonicalString } from '../storage/entry';

export type Ballot = readonly [counter: number, proposer: string];

export interface AcceptorState {
  promise: Ballot | null;
  accepted: Ballot | null;
  /** null means absent. */
  value: unknown;
}

function cmpBallot(a: Ballot | null, b: Ballot | null): number {
  if (!a || !b) return a ? 1 : b ? -1 : 0;
  if (a[0] !== b[0]) return a[0] - b[0];
  return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

/** Merge acceptor states: the higher promise and the higher accepted ballot (with its value). */
export function mergeAcceptorStates(a: AcceptorState, b: AcceptorState): AcceptorState {
  const accepted = cmpBallot(a.accepted, b.accepted) >= 0 ? a : b;
  return {
    promise: cmpBallot(a.promise, b.promise) >= 0 ? a.promise : b.promise,
    accepted: accepted.accepted,
    value: accepted.value,
  };
}

export type Readiness = 'active' | { pendingView: string } | { sealed: { q: number; epoch: number } };

export type CasChange =
  | { kind: 'cas'; p: number; key: string; state: AcceptorState }
  | { kind: 'casReadiness'; p: number; readiness: Readiness | undefined }
  | { kind: 'casBallot'; counter: number };

/** A Map that reports every change to its owner (acceptor readiness must survive restarts). */
class ObservedMap<K, V> extends Map<K, V> {
  constructor(private readonly changed: (key: K, value: V | undefined) => void) {
    super();
  }
  override set(key: K, value: V): this {
    super.set(key, value);
    this.changed(key, value);
    return this;
  }
  override delete(key: K): boolean {
    const had = super.delete(key);
    if (had) this.changed(key, undefined);
    return had;
  }
  override clear(): void {
    for (const key of [...this.keys()]) this.delete(key);
  }
}

/**
 * Durable acceptor state of one node. Paxos needs a promise or acceptance to be durable
 * before it is acknowledged: with DATA_DIR, every change goes to the log synchronously.
 */
export class CasAcceptorStore {
  readonly states = new Map<number, Map<string, AcceptorState>>();
  readonly readiness = new ObservedMap<number, Readiness>((p, readiness) => {
    this.observer?.({ kind: 'casReadiness', p, readiness });
  });
  private counter = 0;
  private observer: ((change: CasChange) => void) | undefined;

  /** The node that owns these acceptors: told of every change, in order, before it is acknowledged. */
  attach(observer: (change: CasChange) => void): void {
    this.observer = observer;
  }

  /** Highest ballot counter seen or used, so new proposals outrank old ones. */
  get ballotCounter(): number {
    return this.counter;
  }

  set ballotCounter(n: number) {
    if (n === this.counter) return;
    this.counter = n;
    this.observer?.({ kind: 'casBallot', counter: n });
  }

  get(p: number, key: string): AcceptorState {
    return this.states.get(p)?.get(key) ?? { promise: null, accepted: null, value: null };
  }

  set(p: number, key: string, s: AcceptorState): void {
    let m = this.states.get(p);
    if (!m) this.states.set(p, (m = new Map()));
    m.set(key, s);
    this.observer?.({ kind: 'cas', p, key, state: s });
  }

  merge(p: number, key: string, s: AcceptorState): void {
    this.set(p, key, mergeAcceptorStates(this.get(p, key), s));
    this.ballotCounter = Math.max(this.ballotCounter, s.promise?.[0] ?? 0, s.accepted?.[0] ?? 0);
  }

  export(p: number): [string, AcceptorState][] {
    return [...(this.states.get(p) ?? new Map<string, AcceptorState>())];
  }
}

export function viewOf(ctx: NodeContext, p: number): string {
  return ctx.prefs().primaries[p]!.join(',');
}

export class CasEngine {
  private readonly syncing = new Set<number>();

  constructor(
    private readonly ctx: NodeContext,
    readonly acceptors: CasAcceptorStore,
  ) {
    ctx.rpc.on('cas-prepare', (_f, b: { p: number; key: string; ballot: Ballot; view: string }, reply) =>
      reply(this.onPrepare(b)),
    );
    ctx.rpc.on('cas-accept', (_f, b: { p: number; key: string; ballot: Ballot; value: unknown; view: string }, reply) =>
      reply(this.onAccept(b)),
    );
    // Catch-up: any member answers with whatever acceptor state it holds for the
    // partition, ready or not, once it shares the asker's view of the partition.
    ctx.rpc.on('cas-sync', (_f, b: { p: number; view: string }, reply) => {
      reply(viewOf(ctx, b.p) === b.view ? { ok: true, states: this.acceptors.export(b.p) } : { ok: false });
    });
    ctx.rpc.on('cas-import', (_f, b: { parts: [number, string, [string, AcceptorState][]][] }, reply) => {
      for (const [p, view, states] of b.parts) {
        for (const [key, s] of states) this.acceptors.merge(p, key, s);
        if (!this.isReady(p)) this.acceptors.readiness.set(p, { pendingView: view });
      }
      ctx.rt.logger.debug('cas import', {
        node: ctx.name,
        from: _f,
        parts: b.parts.map(([p, view, st]) => [p, view, st.length]),
      });
      this.onRingChanged();
      reply(true);
    });
  }

  /** The first node of a cluster is the acceptor of every partition. */
  bootstrap(ringSize: number): void {
    for (let p = 0; p < ringSize; p++) this.acceptors.readiness.set(p, 'active');
  }

  isReady(p: number): boolean {
    return this.acceptors.readiness.get(p) === 'active';
  }

  /** Re-evaluate readiness after the ring changed. */
  onRingChanged(): void {
    const ring = this.ctx.ring();
    for (const [p, r] of [...this.acceptors.readiness]) {
      const view = viewOf(this.ctx, p);
      const primary = this.ctx.prefs().primaries[p]!.includes(this.ctx.name);
      if (r === 'active') {
        if (!primary) this.acceptors.readiness.delete(p);
      } else if ('pendingView' in r) {
        if (primary && r.pendingView === view) {
          this.acceptors.readiness.set(p, 'active');
          this.ctx.rt.logger.debug('cas active by transfer', { node: this.ctx.name, p, view });
        } else if (primary) this.acceptors.readiness.delete(p);
      } else if (!primary || ring.partitions[r.sealed.q]!.epoch !== r.sealed.epoch) {
        this.acceptors.readiness.delete(p);
      }
    }
  }

  /** Stop voting for partitions this node is handing off, and export their state. */
  sealAndExport(
    parts: readonly number[],
    q: number,
    views: ReadonlyMap<number, string>,
  ): [number, string, [string, AcceptorState][]][] {
    const epoch = this.ctx.ring().partitions[q]!.epoch;
    for (const p of parts) this.acceptors.readiness.set(p, { sealed: { q, epoch } });
    this.ctx.rt.logger.debug('cas seal', { node: this.ctx.name, q, parts });
    return parts.map((p) => [p, views.get(p)!, this.acceptors.export(p)]);
  }

  /** Catch up partitions where this node is a primary but not ready, from every other active member. */
  catchUp(maxPartitions: number, members: readonly string[]): void {
    const prefs = this.ctx.prefs();
    const others = members.filter((n) => n !== this.ctx.name);
    if (!others.every((n) => this.ctx.isUp(n))) return;
    let started = 0;
    for (let p = 0; p < prefs.primaries.length && started < maxPartitions; p++) {
      const primaries = prefs.primaries[p]!;
      const r = this.acceptors.readiness.get(p);
      if (!primaries.includes(this.ctx.name) || r !== undefined || this.syncing.has(p)) continue;
      started++;
      this.syncFrom(p, others, primaries.join(','));
    }
  }

  private syncFrom(p: number, others: string[], view: string): void {
    this.syncing.add(p);
    scatter(
      this.ctx.rpc,
      others,
      'cas-sync',
      { p, view },
      {
        timeoutMs: this.ctx.config.requestTimeoutMs,
        accept: (res) => Boolean((res as { ok?: boolean } | undefined)?.ok),
        allAnswered: (got) => {
          this.syncing.delete(p);
          if (!got.met || viewOf(this.ctx, p) !== view || this.acceptors.readiness.has(p)) return;
          for (const res of got.accepted.values()) {
            for (const [key, s] of (res as { states: [string, AcceptorState][] }).states)
              this.acceptors.merge(p, key, s);
          }
          this.acceptors.readiness.set(p, 'active');
          this.ctx.rt.logger.debug('cas caught up', { node: this.ctx.name, p, view, from: others });
        },
      },
    );
  }

  private refusal(p: number, view: string): { ok: false; reason: string } | null {
    if (!this.isReady(p)) return { ok: false, reason: 'not-ready' };
    if (viewOf(this.ctx, p) !== view) return { ok: false, reason: 'view' };
    return null;
  }

  private onPrepare(b: { p: number; key: string; ballot: Ballot; view: string }): unknown {
    const refused = this.refusal(b.p, b.view);
    if (refused) return refused;
    const s = this.acceptors.get(b.p, b.key);
    this.acceptors.ballotCounter = Math.max(this.acceptors.ballotCounter, b.ballot[0]);
    if (cmpBallot(b.ballot, s.promise) <= 0 || cmpBallot(b.ballot, s.accepted) <= 0)
      return { ok: false, reason: 'promised', counter: Math.max(s.promise?.[0] ?? 0, s.accepted?.[0] ?? 0) };
    this.acceptors.set(b.p, b.key, { ...s, promise: b.ballot });
    return { ok: true, accepted: s.accepted, value: s.value };
  }

  private onAccept(b: { p: number; key: string; ballot: Ballot; value: unknown; view: string }): unknown {
    const refused = this.refusal(b.p, b.view);
    if (refused) return refused;
    const s = this.acceptors.get(b.p, b.key);
    if (cmpBallot(b.ballot, s.promise) < 0 || cmpBallot(b.ballot, s.accepted) <= 0)
      return { ok: false, reason: 'promised', counter: s.promise?.[0] ?? 0 };
    this.acceptors.set(b.p, b.key, { promise: b.ballot, accepted: b.ballot, value: b.value });
    return { ok: true };
  }

  /**
   * Apply `change` to the key's current value (null when absent) atomically. `change`
   * may run more than once (on retries) and must be pure; it returns the next value and
   * the result to report. Values must be plain data.
   */
  propose<R>(key: string, change: (current: unknown) => { next: unknown; result: R }, done: Callback<R>): void {
    this.ctx.stats.casProposals++;
    this.attempt(key, change, 0, done);
  }

  private attempt<R>(
    key: string,
    change: (current: unknown) => { next: unknown; result: R },
    n: number,
    done: Callback<R>,
  ): void {
    const ctx = this.ctx;
    if (!ctx.running()) return done(ringError('stopped', 'node is stopping'));
    const p = ctx.partitionOf(key);
    const acceptors = ctx.prefs().primaries[p]!;
    const view = acceptors.join(',');
    const quorum = Math.floor(acceptors.length / 2) + 1;
    const ballot: Ballot = [++this.acceptors.ballotCounter, ctx.bootId];
    const retry = (why: string) => {
      if (n + 1 >= ctx.config.casRetriesMax)
        return done(ringError('unavailable', `compare-and-set of ${key} gave up after ${n + 1} attempts: ${why}`));
      ctx.stats.casRetries++;
      const backoff = ctx.config.casBackoffMs * (1 + ctx.rt.random.next()) * Math.min(2 ** n, 16);
      ctx.rt.timers.setTimeout(() => this.attempt(key, change, n + 1, done), backoff);
    };
    const log = ctx.rt.logger;
    this.round(acceptors, 'cas-prepare', { p, key, ballot, view }, quorum, (oks, why) => {
      if (!oks) return retry(why);
      let best: { accepted: Ballot | null; value: unknown } = { accepted: null, value: null };
      for (const r of oks as { accepted: Ballot | null; value: unknown }[])
        if (cmpBallot(r.accepted, best.accepted) > 0) best = r;
      const { next, result } = change(best.value);
      log.debug('cas prepared', { key, attempt: n, ballot, view, seen: best, next });
      this.round(acceptors, 'cas-accept', { p, key, ballot, value: next, view }, quorum, (accepted, why2) => {
        log.debug('cas accept', { key, ballot, ok: accepted !== null, why: why2 });
        if (accepted) return done(null, result);
        // A change that some acceptors may have taken can still be chosen by the next
        // proposer, so a retry would judge the change against a state that may already
        // include it. Only no-op rounds (reads, failed preconditions) are safe to repeat.
        if (canonicalString(next) !== canonicalString(best.value))
          return done(ringError('timeout', `compare-and-set of ${key}: outcome unknown, ${why2}`));
        retry(why2);
      });
    });
  }

  /** Send to every acceptor; call back with the ok replies once a quorum said ok, or null once it cannot. */
  private round(
    acceptors: readonly string[],
    method: string,
    body: { p: number; key: string; [field: string]: unknown },
    quorum: number,
    done: (oks: unknown[] | null, why: string) => void,
  ): void {
    type Vote = { ok: boolean; reason?: string; counter?: number } | undefined;
    scatter(this.ctx.rpc, acceptors, method, body, {
      need: quorum,
      timeoutMs: this.ctx.config.requestTimeoutMs,
      accept: (res) => Boolean((res as Vote)?.ok),
      onAnswer: (a) => {
        const counter = a.accepted ? undefined : (a.body as Vote)?.counter;
        if (counter) this.acceptors.ballotCounter = Math.max(this.acceptors.ballotCounter, counter);
      },
      settled: (got) => {
        if (got.met) return done([...got.accepted.values()], '');
        const reasons = got.answers.filter((a) => !a.accepted).map((a) => (a.body as Vote)?.reason ?? 'no answer');
        done(null, `${method} reached ${got.accepted.size} of ${quorum} (${reasons.join(', ')})`);
      },
    });
  }
}
