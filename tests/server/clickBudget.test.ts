// ClickBudget against a scripted compare-and-set register: the test decides when each
// round is chosen and in which order, so the two races the shortener simulation found
// (server/sim; regression seeds in tests/sim/shortener.test.ts) play out exactly.
import { describe, expect, it } from 'vitest';
import { SimScheduler } from '../../ring/sim';
import { ClickBudget, type BudgetState } from '../../server/links/clickBudget';
import type { RingClient } from '../../server/ringClient';

type Change = (cur: unknown) => { next: unknown; result: unknown };

/** One register; every casRetrying call waits in `queue` until the test chooses it. */
class ScriptedRegister {
  state: BudgetState | undefined;
  readonly queue: { change: Change; resolve: (r: unknown) => void }[] = [];
  /** When set, a round whose first attempt was chosen is run again on the new state (a retried round). */
  retryAfterLanding = false;

  readonly ring = {
    casRetrying: (_key: string, change: Change) => new Promise((resolve) => this.queue.push({ change, resolve })),
  } as unknown as RingClient;

  /** Choose the round at `index` of the queue (default: the oldest). */
  choose(index = 0): void {
    const [round] = this.queue.splice(index, 1);
    if (!round) throw new Error('no round waiting');
    let r = round.change(this.state);
    this.state = r.next as BudgetState | undefined;
    if (this.retryAfterLanding) {
      r = round.change(this.state);
      this.state = r.next as BudgetState | undefined;
    }
    round.resolve(r.result);
  }
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
const limits = { leaseClicksMax: 4, idleReturnMs: 100, waitersPerLinkMax: 10 };

function budgetOn(register: ScriptedRegister, sched: SimScheduler, holder = 'h1') {
  return new ClickBudget(
    register.ring,
    holder,
    () => 1,
    sched.timersFor(holder),
    () => sched.now(),
    limits,
  );
}

describe('ClickBudget', () => {
  it('a lease round retried after its first attempt was chosen serves the click it was granted (not "used up")', async () => {
    const sched = new SimScheduler();
    const register = new ScriptedRegister();
    register.state = { max: 1, granted: 0, holders: {} };
    register.retryAfterLanding = true;
    const budget = budgetOn(register, sched);
    const spent = budget.spend('s', 1);
    await settle();
    register.choose();
    // Before the fix the second run of the round found no click left and answered 0: the
    // visitor got "used up" while the register held the click for this node.
    expect(await spent).toBe('ok');
    expect(register.state).toMatchObject({ granted: 1, holders: { h1: 1 } });
  });

  it('a hand-back still in flight holds back the next lease, so it cannot undo a grant chosen after it', async () => {
    const sched = new SimScheduler();
    const register = new ScriptedRegister();
    register.state = { max: 3, granted: 0, holders: {} };
    const budget = budgetOn(register, sched);
    budget.start();
    const first = budget.spend('s', 3);
    await settle();
    register.choose();
    expect(await first).toBe('ok');
    // Idle: the tick hands the lease back (1 granted, 1 spent) with a round that is slow to be chosen.
    sched.runUntil(sched.now() + 3 * limits.idleReturnMs);
    expect(register.queue).toHaveLength(1);
    const second = budget.spend('s', 3);
    await settle();
    // Choose the newest round first, as the CAS engine may: before the fix that was a new
    // lease's grant, which the older hand-back then undid by setting an absolute value.
    while (register.queue.length > 0) {
      register.choose(register.queue.length - 1);
      await settle();
    }
    expect(await second).toBe('ok');
    // Two clicks served by this holder, and the register says it was granted at least those two.
    expect(register.state!.holders.h1).toBeGreaterThanOrEqual(2);
    expect(register.state!.granted).toBe(register.state!.holders.h1);
    budget.stop();
  });
});
