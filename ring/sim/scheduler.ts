// Virtual time for the simulator. Events run in (time, sequence number) order: events at
// the same virtual time run in the order they were scheduled, so a run is a pure
// function of the seed.
//
// The queue is a binary min-heap of the *distinct* pending times, plus one FIFO bucket
// of events per time (a Map from time to bucket). Simulated time is mostly whole
// milliseconds and a busy simulation has many events per millisecond, so this does one
// heap operation per distinct time instead of one O(log n) sift per event, and FIFO order
// inside a bucket is exactly sequence order. Cancellation is lazy (a flag, or an owner
// generation bump for `cancelAll`): dead events are skipped when their bucket is run,
// and the buckets are compacted if dead events ever dominate.
import type { TimerHandle, Timers } from '../runtime';

const PENDING = 0;
const RAN = 1;
const CANCELLED = 2;

/** Node's setTimeout clamps delays outside [1, 2^31-1] to 1 ms; Timers here do the same. */
const TIMEOUT_MAX = 2147483647;

/** Compaction kicks in only above this many stored events, and only when over half are dead. */
const COMPACT_MIN = 4096;

/** A scheduled event, as handed back by `at`/`after`/`setTimeout`. */
export interface SimHandle extends TimerHandle {
  /** Virtual time (ms) the event is due. */
  readonly time: number;
}

class SimEvent implements SimHandle {
  state = PENDING;
  constructor(
    readonly id: number,
    readonly time: number,
    public fn: ((arg: any) => void) | null,
    public arg: unknown,
    readonly owner: OwnerTimers | null,
    readonly gen: number,
  ) {}
}

/** `Timers` bound to one owner (a simulated node). */
export type OwnedTimers = Timers & {
  /** The owner name this was created for. */
  readonly owner: string;
  /** Cancel every pending timer of this owner (e.g. the node crashed). O(1). */
  cancelAll(): void;
  /** Number of this owner's pending timers. */
  pending(): number;
};

class OwnerTimers implements OwnedTimers {
  /** Bumped by cancelAll: events stamped with an older generation are dead. */
  gen = 0;
  /** Pending events of the current generation. */
  live = 0;
  constructor(
    private readonly sched: SimScheduler,
    readonly owner: string,
  ) {}

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    if (!(delayMs >= 1 && delayMs <= TIMEOUT_MAX)) delayMs = 1;
    return this.sched.schedule(this.sched.now() + delayMs, fn, undefined, this);
  }

  clearTimeout(handle: TimerHandle): void {
    this.sched.cancel(handle);
  }

  cancelAll(): void {
    this.sched.cancelOwner(this);
  }

  pending(): number {
    return this.live;
  }
}

export interface SimSchedulerOptions {
  /**
   * Livelock guard: a single run call (runUntil / runUntilIdle) throws once it has run
   * this many events. Default 50 million.
   */
  maxEvents?: number;
  /**
   * Livelock guard: a run call throws once more than this many events ran at one virtual
   * instant, i.e. without time advancing (zero-delay loops). Default 1 million.
   */
  maxEventsPerInstant?: number;
}

export class SimSchedulerLivelockError extends Error {
  override name = 'SimSchedulerLivelockError';
}

export class SimScheduler {
  maxEvents: number;
  maxEventsPerInstant: number;

  private _now = 0;
  private seq = 0;
  /** Min-heap of the distinct times that have a bucket. */
  private readonly times: number[] = [];
  private readonly buckets = new Map<number, Bucket>();
  private readonly spare: Bucket[] = [];
  /** Events stored in buckets and not yet consumed, dead or alive. */
  private stored = 0;
  /** Pending, not cancelled events. */
  private live = 0;
  private running = false;
  private _eventsRun = 0;
  private readonly owners = new Map<string, OwnerTimers>();

  constructor(options: SimSchedulerOptions = {}) {
    this.maxEvents = options.maxEvents ?? 50_000_000;
    this.maxEventsPerInstant = options.maxEventsPerInstant ?? 1_000_000;
  }

  /** Current virtual time in ms (starts at 0). */
  now(): number {
    return this._now;
  }

  /** Number of pending (scheduled, not yet run, not cancelled) events. */
  pending(): number {
    return this.live;
  }

  /** Total events run over this scheduler's lifetime. */
  get eventsRun(): number {
    return this._eventsRun;
  }

  /** Virtual time of the next pending event, or undefined if idle. */
  nextTime(): number | undefined {
    if (!this.running) return this.front()?.time;
    // Inside an event the front bucket is in use by the run loop: look without tidying.
    let best: number | undefined;
    for (const b of this.buckets.values()) {
      if (best !== undefined && b.time >= best) continue;
      for (let i = b.head; i < b.events.length; i++) {
        const ev = b.events[i]!;
        if (ev.state === PENDING && (ev.owner === null || ev.gen === ev.owner.gen)) {
          best = b.time;
          break;
        }
      }
    }
    return best;
  }

  /** Run `fn` at virtual time `time` (>= now, finite). */
  at(time: number, fn: () => void): SimHandle {
    return this.schedule(time, fn, undefined, null);
  }

  /** Run `fn` after `delayMs` (>= 0) of virtual time. Zero runs it later at the current instant. */
  after(delayMs: number, fn: () => void): SimHandle {
    if (!(delayMs >= 0)) throw new RangeError(`SimScheduler.after: delay must be >= 0, got ${delayMs}`);
    return this.schedule(this._now + delayMs, fn, undefined, null);
  }

  /**
   * Allocation-light form for hot paths: runs `fn(arg)` at `time`, so a caller can pass
   * one long-lived function plus a per-event payload instead of a fresh closure.
   */
  atWith<A>(time: number, fn: (arg: A) => void, arg: A): SimHandle {
    return this.schedule(time, fn, arg, null);
  }

  /** @internal shared by at/after/atWith/Timers. */
  schedule(time: number, fn: (arg: any) => void, arg: unknown, owner: OwnerTimers | null): SimHandle {
    if (!(time >= this._now && time < Infinity)) {
      throw new RangeError(
        `SimScheduler: cannot schedule at ${time} (now ${this._now}); time must be finite and not in the past`,
      );
    }
    const ev = new SimEvent(this.seq++, time, fn, arg, owner, owner === null ? 0 : owner.gen);
    this.live++;
    this.stored++;
    if (owner !== null) owner.live++;
    let b = this.buckets.get(time);
    if (b === undefined) b = this.newBucket(time);
    b.events.push(ev);
    return ev;
  }

  /** Cancel a pending event. Cancelling one that already ran or was cancelled is a no-op. */
  cancel(handle: TimerHandle | null | undefined): void {
    if (handle == null) return;
    if (!(handle instanceof SimEvent)) throw new TypeError('SimScheduler.cancel: not a handle from a SimScheduler');
    if (handle.state !== PENDING) return;
    const owner = handle.owner;
    if (owner !== null) {
      if (handle.gen !== owner.gen) return; // already dead through cancelAll
      owner.live--;
    }
    handle.state = CANCELLED;
    handle.fn = null;
    handle.arg = undefined;
    this.live--;
    this.maybeCompact();
  }

  /**
   * A Timers implementation bound to `owner`. Every call with the same owner shares one
   * timer set, so `timersFor(name).cancelAll()` cancels all of that node's timers,
   * whichever Timers object created them. Delays follow Node: outside [1, 2^31-1] ms (or
   * NaN) they become 1 ms.
   */
  timersFor(owner: string): OwnedTimers {
    let t = this.owners.get(owner);
    if (t === undefined) {
      t = new OwnerTimers(this, owner);
      this.owners.set(owner, t);
    }
    return t;
  }

  /** @internal */
  cancelOwner(owner: OwnerTimers): void {
    this.live -= owner.live;
    owner.live = 0;
    owner.gen++;
    this.maybeCompact();
  }

  /**
   * Run every event due at or before `time`, then advance the clock to `time`.
   * Returns the number of events run.
   */
  runUntil(time: number): number {
    if (!(time >= this._now)) throw new RangeError(`SimScheduler.runUntil: ${time} is before now (${this._now})`);
    const n = this.run(time);
    if (time < Infinity && this._now < time) this._now = time;
    return n;
  }

  /**
   * Run events until none are pending or the next one is due after `maxTime`. Returns
   * true if the queue drained (the clock then stays at the last event's time), false if
   * it stopped at `maxTime` (the clock is then advanced to `maxTime`).
   */
  runUntilIdle(maxTime = Infinity): boolean {
    this.run(maxTime);
    if (this.live === 0) return true;
    if (maxTime < Infinity && this._now < maxTime) this._now = maxTime;
    return false;
  }

  /** Run the next pending event, if any. Returns false when idle. */
  step(): boolean {
    if (this.running) throw new Error('SimScheduler.step: called from inside an event');
    const b = this.front();
    if (b === undefined) return false;
    this.running = true;
    try {
      this.runAt(b);
    } finally {
      this.running = false;
    }
    return true;
  }

  private run(limit: number): number {
    if (this.running) throw new Error('SimScheduler: run called from inside an event (not reentrant)');
    this.running = true;
    const times = this.times;
    const maxEvents = this.maxEvents;
    const maxInstant = this.maxEventsPerInstant;
    let count = 0;
    try {
      while (times.length > 0) {
        const time = times[0]!;
        if (time > limit) break;
        const b = this.buckets.get(time)!;
        const events = b.events;
        let instant = 0;
        // Events scheduled at this same time while the bucket runs are appended to it.
        while (b.head < events.length) {
          const ev = events[b.head]!;
          if (ev.state !== PENDING || (ev.owner !== null && ev.gen !== ev.owner.gen)) {
            events[b.head++] = DEAD;
            this.stored--;
            continue;
          }
          if (count >= maxEvents) {
            throw new SimSchedulerLivelockError(
              `SimScheduler: livelock guard: more than ${maxEvents} events in one run call ` +
                `(virtual time ${this._now} ms, ${this.live} pending); raise maxEvents if this load is intended`,
            );
          }
          if (++instant > maxInstant) {
            throw new SimSchedulerLivelockError(
              `SimScheduler: livelock guard: more than ${maxInstant} events at virtual time ${time} ms ` +
                `without time advancing (a zero-delay loop?); raise maxEventsPerInstant if intended`,
            );
          }
          count++;
          this.runAt(b);
        }
        this.dropFront(b);
        // Compaction waits for bucket boundaries: the running bucket must stay put.
        if (this.stored >= COMPACT_MIN && this.live * 2 < this.stored) this.compact();
      }
    } finally {
      this.running = false;
    }
    return count;
  }

  /** Run the (live) event at the head of bucket `b`, which is the front bucket. */
  private runAt(b: Bucket): void {
    const ev = b.events[b.head]!;
    b.events[b.head++] = DEAD;
    this.stored--;
    this._now = ev.time;
    ev.state = RAN;
    this.live--;
    if (ev.owner !== null) ev.owner.live--;
    this._eventsRun++;
    const fn = ev.fn!;
    const arg = ev.arg;
    ev.fn = null;
    ev.arg = undefined;
    fn(arg);
  }

  /** The front bucket with a live event at its head, discarding dead events and empty buckets. */
  private front(): Bucket | undefined {
    const times = this.times;
    while (times.length > 0) {
      const b = this.buckets.get(times[0]!)!;
      const events = b.events;
      while (b.head < events.length) {
        const ev = events[b.head]!;
        if (ev.state === PENDING && (ev.owner === null || ev.gen === ev.owner.gen)) return b;
        events[b.head++] = DEAD;
        this.stored--;
      }
      this.dropFront(b);
    }
    return undefined;
  }

  private newBucket(time: number): Bucket {
    const b = this.spare.pop() ?? new Bucket();
    b.time = time;
    this.buckets.set(time, b);
    // Sift the new time up the heap.
    const times = this.times;
    let i = times.length;
    times.push(time);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = times[p]!;
      if (pt <= time) break;
      times[i] = pt;
      i = p;
    }
    times[i] = time;
    return b;
  }

  /** Remove the exhausted front bucket `b` (whose time is times[0]). */
  private dropFront(b: Bucket): void {
    this.buckets.delete(b.time);
    b.events.length = 0;
    b.head = 0;
    if (this.spare.length < 1024) this.spare.push(b);
    const times = this.times;
    const last = times.pop()!;
    const n = times.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      let ct = times[c]!;
      const r = c + 1;
      if (r < n) {
        const rt = times[r]!;
        if (rt < ct) {
          c = r;
          ct = rt;
        }
      }
      if (last <= ct) break;
      times[i] = ct;
      i = c;
    }
    times[i] = last;
  }

  private maybeCompact(): void {
    // While an event runs, its bucket is in use: the run loop compacts between buckets.
    if (!this.running && this.stored >= COMPACT_MIN && this.live * 2 < this.stored) this.compact();
  }

  /** Drop dead events from every bucket and empty buckets; rebuild the time heap. */
  private compact(): void {
    const times = this.times;
    let w = 0;
    for (let k = 0; k < times.length; k++) {
      const time = times[k]!;
      const b = this.buckets.get(time)!;
      const events = b.events;
      let j = 0;
      for (let r = b.head; r < events.length; r++) {
        const ev = events[r]!;
        if (ev.state === PENDING && (ev.owner === null || ev.gen === ev.owner.gen)) events[j++] = ev;
      }
      events.length = j;
      b.head = 0;
      if (j > 0) times[w++] = time;
      else {
        this.buckets.delete(time);
        if (this.spare.length < 1024) this.spare.push(b);
      }
    }
    times.length = w;
    this.stored = this.live;
    // Any order of distinct numbers sorted ascending is a valid heap; sorting keeps this simple.
    times.sort((x, y) => x - y);
  }
}

class Bucket {
  time = 0;
  head = 0;
  readonly events: SimEvent[] = [];
}

/** Placeholder written over consumed bucket slots so finished events can be collected. */
const DEAD = new SimEvent(-1, 0, null, undefined, null, 0);
DEAD.state = RAN;
