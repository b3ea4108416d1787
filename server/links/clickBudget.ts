// Max clicks, exact and never exceeded across nodes: a bounded counter (Balegas et al.,
// "Putting consistency back into eventual consistency"). The budget lives in a CAS
// register; a node leases a few clicks at a time through CAS and spends them locally with
// no messages, so only one CAS round per lease sits on the redirect path.
//   - granted never exceeds max, so the clicks served never do;
//   - a node hands back a lease it has not used for `idleReturnMs`, so another node can
//     spend it: served clicks reach max exactly while nodes stay up;
//   - a node that dies holding a lease strands at most `leaseClicksMax` clicks (fewer than
//     max get served; never more).
import type { Timers, TimerHandle } from '../../ring';
import type { RingClient } from '../ringClient';
import { budgetKey } from '../datatypes/keys';

export interface BudgetState {
  readonly max: number;
  /** Clicks granted to holders (spent or still held); never above max. */
  readonly granted: number;
  readonly holders: Readonly<Record<string, number>>;
}

export interface ClickBudgetLimits {
  leaseClicksMax: number;
  idleReturnMs: number;
  /** Redirects waiting on one link's lease request; more get "try again". */
  waitersPerLinkMax: number;
}

export const defaultClickBudgetLimits: ClickBudgetLimits = { leaseClicksMax: 100, idleReturnMs: 2_000, waitersPerLinkMax: 1_000 };

interface Lease {
  available: number;
  lastUse: number;
  acquiring: Promise<number> | undefined;
  waiters: number;
}

export type SpendResult = 'ok' | 'used_up' | 'busy';

export class ClickBudget {
  private readonly leases = new Map<string, Lease>();
  /** Clicks this holder spent per link, over its life: what it keeps when it hands a lease back. */
  private readonly spent = new Map<string, number>();
  private timer: TimerHandle | undefined;

  constructor(
    private readonly ring: RingClient,
    /** Names this process life: a restarted node never spends an earlier life's lease. */
    private readonly holder: string,
    private readonly members: () => number,
    private readonly timers: Timers,
    private readonly now: () => number,
    private readonly limits: ClickBudgetLimits = defaultClickBudgetLimits,
  ) {}

  start(): void {
    const tick = () => {
      this.returnIdle();
      this.timer = this.timers.setTimeout(tick, this.limits.idleReturnMs / 2);
    };
    this.timer = this.timers.setTimeout(tick, this.limits.idleReturnMs / 2);
  }

  stop(): void {
    if (this.timer) this.timers.clearTimeout(this.timer);
  }

  /** Spend one click of the link's budget; synchronous while this node holds a lease. */
  trySpendLocal(slug: string): boolean {
    const lease = this.leases.get(slug);
    if (!lease || lease.available <= 0) return false;
    lease.available--;
    lease.lastUse = this.now();
    this.spent.set(slug, (this.spent.get(slug) ?? 0) + 1);
    return true;
  }

  async spend(slug: string, max: number): Promise<SpendResult> {
    if (this.trySpendLocal(slug)) return 'ok';
    let lease = this.leases.get(slug);
    if (!lease) this.leases.set(slug, (lease = { available: 0, lastUse: this.now(), acquiring: undefined, waiters: 0 }));
    if (lease.waiters >= this.limits.waitersPerLinkMax) return 'busy';
    lease.waiters++;
    try {
      for (;;) {
        if (this.trySpendLocal(slug)) return 'ok';
        if (!lease.acquiring) {
          const l = lease;
          l.acquiring = this.acquire(slug, max).finally(() => (l.acquiring = undefined));
        }
        const got = await lease.acquiring;
        if (got === 0 && lease.available <= 0) return 'used_up';
      }
    } finally {
      lease.waiters--;
    }
  }

  /** Set a link's limit (create or edit). Lowering it below what was granted ends the link's clicks. */
  async setMax(slug: string, max: number): Promise<void> {
    await this.ring.casRetrying(budgetKey(slug), (cur) => {
      const s = (cur as BudgetState | undefined) ?? { max, granted: 0, holders: {} };
      return { next: { ...s, max }, result: true };
    });
  }


  private async acquire(slug: string, max: number): Promise<number> {
    const want = (s: BudgetState) => Math.min(this.limits.leaseClicksMax, Math.max(1, Math.floor((s.max - s.granted) / (4 * Math.max(1, this.members())))), s.max - s.granted);
    // Not idempotent on purpose: a retried round whose first attempt landed grants twice;
    // the surplus sits in holders[this.holder] and goes back with the next return.
    const got = await this.ring.casRetrying(budgetKey(slug), (cur) => {
      const s = (cur as BudgetState | undefined) ?? { max, granted: 0, holders: {} };
      const g = Math.max(0, want(s));
      if (g === 0) return { next: s, result: 0 };
      return { next: { ...s, granted: s.granted + g, holders: { ...s.holders, [this.holder]: (s.holders[this.holder] ?? 0) + g } }, result: g };
    });
    const lease = this.leases.get(slug);
    if (lease && got > 0) lease.available += got;
    return got;
  }

  /**
   * Hand idle leases back: everything granted to this holder beyond what it spent. The
   * clicks leave this node before the CAS, so they cannot be spent twice; the change sets
   * the holder's grant to an absolute value, so a retried round is harmless.
   */
  private returnIdle(): void {
    const now = this.now();
    for (const [slug, lease] of this.leases) {
      if (lease.acquiring || lease.waiters > 0 || now - lease.lastUse < this.limits.idleReturnMs) continue;
      this.leases.delete(slug);
      const spent = this.spent.get(slug) ?? 0;
      void this.ring
        .casRetrying(budgetKey(slug), (cur) => {
          const s = cur as BudgetState | undefined;
          const held = s?.holders[this.holder] ?? 0;
          if (!s || held <= spent) return { next: s, result: true };
          return { next: { ...s, granted: s.granted - (held - spent), holders: { ...s.holders, [this.holder]: spent } }, result: true };
        })
        .catch(() => {});
    }
  }
}
