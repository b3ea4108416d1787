// Counts views on the redirect path. Totals (humans and bots apart) are the ring's own
// G-counters, incremented in memory and shipped as batched deltas by the ring. The finer
// stats (series, referrers, devices, uniques) are this node's slot of the link's stats
// CRDT, built up in memory and merged into the link's replicas every flush interval.
import type { RingNode, TimerHandle, Timers } from '../../ring';
import { LocalStats, type LinkStats, type ViewEvent } from './stats';
import { botsKey, statsKey, viewsKey } from '../datatypes/keys';

export interface ViewRecorderLimits {
  flushIntervalMs: number;
  /** Links whose stats one flush ships. */
  flushLinksMax: number;
  /** Stats merges in flight at once. */
  mergesInFlightMax: number;
  /** A link's local stats are dropped after this long without views (once shipped). */
  idleEvictMs: number;
}

export const defaultViewRecorderLimits: ViewRecorderLimits = {
  flushIntervalMs: 200,
  flushLinksMax: 2_000,
  mergesInFlightMax: 256,
  idleEvictMs: 10 * 60_000,
};

/** A link's local stats slot, with its view counter's key built once. */
class LinkTally extends LocalStats {
  constructor(
    slot: string,
    readonly viewsKey: string,
  ) {
    super(slot);
  }
}

export class ViewRecorder {
  private readonly locals = new Map<string, LinkTally>();
  /**
   * Bumped whenever local stats are evicted: a link seen again gets a fresh slot, so its new counts never hide under
   * the old slot's max.
   */
  private rotation = 0;
  private inFlight = 0;
  private timer: TimerHandle | undefined;
  private lastSweep = 0;

  constructor(
    private readonly node: RingNode,
    private readonly life: string,
    private readonly timers: Timers,
    private readonly now: () => number,
    private readonly limits: ViewRecorderLimits = defaultViewRecorderLimits,
  ) {}

  start(): void {
    const tick = () => {
      this.flush();
      this.timer = this.timers.setTimeout(tick, this.limits.flushIntervalMs);
    };
    this.timer = this.timers.setTimeout(tick, this.limits.flushIntervalMs);
  }

  stop(): void {
    if (this.timer) this.timers.clearTimeout(this.timer);
  }

  /** The hot path: a few Map updates. Bots count apart and feed no stats. */
  record(slug: string, human: boolean, event: ViewEvent): void {
    if (!human) return this.node.increment(botsKey(slug), 1);
    let local = this.locals.get(slug);
    if (!local) this.locals.set(slug, (local = new LinkTally(`${this.life}~${this.rotation}`, viewsKey(slug))));
    // The same key string every time: its hash is computed once, not per view.
    this.node.increment(local.viewsKey, 1);
    local.add(event);
  }

  /** This node's unshipped contribution, merged into reads so a viewer sees their own clicks at once. */
  localStats(slug: string): LinkStats | undefined {
    return this.locals.get(slug)?.state();
  }

  /** Every local stats slot shipped and acknowledged (what a graceful stop waits for). */
  idle(): boolean {
    return this.inFlight === 0 && this.pending() === 0;
  }

  pending(): number {
    let n = 0;
    for (const l of this.locals.values()) if (l.dirty) n++;
    return n;
  }

  flush(): void {
    let shipped = 0;
    for (const [slug, local] of this.locals) {
      if (shipped >= this.limits.flushLinksMax || this.inFlight >= this.limits.mergesInFlightMax) break;
      if (!local.dirty) continue;
      local.dirty = false;
      shipped++;
      this.inFlight++;
      this.node.merge(statsKey(slug), local.state(), (err) => {
        this.inFlight--;
        if (err) local.dirty = true;
      });
    }
    this.sweep();
  }

  private sweep(): void {
    const now = this.now();
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    let evicted = false;
    for (const [slug, local] of this.locals) {
      if (!local.dirty && now - local.touchedAt > this.limits.idleEvictMs) {
        this.locals.delete(slug);
        evicted = true;
      }
    }
    if (evicted) this.rotation++;
  }
}
