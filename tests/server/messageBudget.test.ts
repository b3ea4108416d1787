// The per-socket message budget is a token bucket: a quiet socket may send a burst, then the
// refill rate; excess is refused, and a socket that keeps sending through many refusals is
// told to go (flooding). Driven by a fake clock, so every count is exact.
import { describe, expect, it } from 'vitest';
import { MessageBudget, type MessageBudgetLimits } from '../../server/live/messageBudget';

const limits: MessageBudgetLimits = {
  messagesPerSecondMax: 20,
  messageBurstMax: 50,
  refusedPerFloodWindowMax: 100,
  floodWindowMs: 10_000,
};

function budgetAt(start = 1_000_000) {
  const clock = { t: start };
  return { clock, budget: new MessageBudget(limits, () => clock.t) };
}

describe('MessageBudget', () => {
  it('serves a burst of messageBurstMax at once, then refuses', () => {
    const { budget } = budgetAt();
    const verdicts = Array.from({ length: 60 }, () => budget.take());
    expect(verdicts.filter((v) => v === 'ok')).toHaveLength(50);
    expect(verdicts.slice(50).every((v) => v === 'refused')).toBe(true);
  });

  it('refills at messagesPerSecondMax and never beyond the burst', () => {
    const { clock, budget } = budgetAt();
    for (let i = 0; i < 50; i++) budget.take();
    clock.t += 1_000;
    const served = Array.from({ length: 30 }, () => budget.take()).filter((v) => v === 'ok').length;
    expect(served).toBe(20);
    clock.t += 3_600_000;
    expect(Array.from({ length: 60 }, () => budget.take()).filter((v) => v === 'ok')).toHaveLength(50);
  });

  it('of 1,000 messages in one instant, serves 50, refuses 100, then calls it a flood', () => {
    const { budget } = budgetAt();
    const verdicts = Array.from({ length: 1_000 }, () => budget.take());
    expect(verdicts.filter((v) => v === 'ok')).toHaveLength(50);
    expect(verdicts.filter((v) => v === 'refused')).toHaveLength(100);
    expect(verdicts[150]).toBe('flooding');
  });

  it('a socket that only bursts now and then is never called a flood', () => {
    const { clock, budget } = budgetAt();
    for (let burst = 0; burst < 100; burst++) {
      const verdicts = Array.from({ length: 60 }, () => budget.take());
      expect(verdicts).not.toContain('flooding');
      clock.t += 5_000;
    }
  });

  it('a clock that goes back refills nothing', () => {
    const { clock, budget } = budgetAt();
    for (let i = 0; i < 50; i++) budget.take();
    clock.t -= 60_000;
    expect(budget.take()).toBe('refused');
  });
});
