// A rate limit as GCRA, the generic cell rate algorithm (ITU-T I.371; what redis-cell and
// Stripe's limiters use): per key one number, the theoretical arrival time (TAT). A limit of
// `points` per `windowMs` admits one attempt every windowMs / points, with a burst of up to
// `points` from idle. Unlike a fixed window it has no boundary where a client gets the budget
// twice in a moment, and its retry-after is exact. Bounded: at most `entriesMax` keys; a key
// whose TAT has passed is idle and forgotten first, then the least recently used.
import type { WindowPolicy } from './policies';

export type GcraDecision = { ok: true } | { ok: false; retryMs: number };

export class Gcra {
  /** key → TAT (ms); Map order is least recently used first. */
  private readonly tat = new Map<string, number>();
  /** ms between admitted attempts at the sustained rate. */
  private readonly intervalMs: number;

  constructor(
    private readonly policy: Pick<WindowPolicy, 'points' | 'windowMs'>,
    private readonly now: () => number,
    private readonly entriesMax: number,
  ) {
    this.intervalMs = policy.windowMs / policy.points;
  }

  take(key: string): GcraDecision {
    const t = this.now();
    const tat = Math.max(this.tat.get(key) ?? t, t);
    const next = tat + this.intervalMs;
    // Admit while the attempts ahead of the sustained rate fit in one window (the burst).
    if (next - t > this.policy.windowMs)
      return { ok: false, retryMs: Math.max(1, Math.ceil(next - this.policy.windowMs - t)) };
    this.set(key, next, t);
    return { ok: true };
  }

  /** Give one attempt back (it turned out not to count); never credit beyond idle. */
  forgive(key: string): void {
    const t = this.now();
    const tat = this.tat.get(key);
    if (tat === undefined) return;
    if (tat - this.intervalMs <= t) this.tat.delete(key);
    else this.tat.set(key, tat - this.intervalMs);
  }

  size(): number {
    return this.tat.size;
  }

  private set(key: string, tat: number, t: number): void {
    this.tat.delete(key);
    if (this.tat.size >= this.entriesMax) {
      // From the least recently used: idle keys go; then, if none was idle, the oldest active
      // one (it loses at most its own history). Amortized O(1): each key is dropped once.
      let dropped = 0;
      for (const [k, v] of this.tat) {
        if (v > t) break;
        this.tat.delete(k);
        dropped++;
      }
      if (dropped === 0) this.tat.delete(this.tat.keys().next().value!);
    }
    this.tat.set(key, tat);
  }
}
