// Progressive delays per key after repeated failures (the sign-in (address, username) pair):
// OWASP's advice for authentication throttling, held in memory by the key's owner. Bounded:
// at most `entriesMax` keys, the least recently failed forgotten first; a key is forgotten
// `memoryMs` after its last failure.
import type { DelayPolicy } from './policies';

interface Failures {
  count: number;
  /** No attempt is admitted before this time (ms); 0 when no delay applies. */
  until: number;
  lastAt: number;
}

export type AttemptResult = { ok: true } | { ok: false; retryMs: number };

export class FailureDelays {
  private readonly keys = new Map<string, Failures>();

  constructor(
    private readonly policy: DelayPolicy,
    private readonly now: () => number,
    private readonly entriesMax: number,
  ) {}

  /**
   * An attempt: refused while the key must wait, else counted as a failure up front (so
   * concurrent attempts cannot all slip through before their failures are known); a
   * success calls forget().
   */
  attempt(key: string): AttemptResult {
    const t = this.now();
    let f = this.keys.get(key);
    if (f !== undefined && t - f.lastAt > this.policy.memoryMs) f = undefined;
    if (f !== undefined && t < f.until) return { ok: false, retryMs: f.until - t };
    const count = (f?.count ?? 0) + 1;
    const over = count - this.policy.failuresBeforeDelay;
    const delayMs = Math.min(this.policy.delayBaseMs * 2 ** Math.min(over, 30), this.policy.delayMaxMs);
    const until = over >= 0 ? t + delayMs : 0;
    // Delete then set: Map order is then least recently failed first, for eviction.
    this.keys.delete(key);
    this.keys.set(key, { count, until, lastAt: t });
    if (this.keys.size > this.entriesMax) this.keys.delete(this.keys.keys().next().value!);
    return { ok: true };
  }

  forget(key: string): void {
    this.keys.delete(key);
  }

  size(): number {
    return this.keys.size;
  }
}
