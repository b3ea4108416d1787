// The owner's local decisions (server/limits): progressive sign-in delays per key, reset by a
// success and bounded in memory; windows (GCRA) with a fallback's divided budget; forgiving an attempt.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Gcra } from '../../server/limits/gcra';
import { FailureDelays, LocalLimits, limitPolicies, type DelayPolicy, type LimitPolicy } from '../../server/limits';

const delay: DelayPolicy = {
  kind: 'delay',
  name: 'pair',
  failuresBeforeDelay: 3,
  delayBaseMs: 1_000,
  delayMaxMs: 8_000,
  memoryMs: 60_000,
  what: 'failed attempts',
};

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('FailureDelays', () => {
  it('after failuresBeforeDelay failures, each further one doubles the wait, capped at delayMaxMs', () => {
    const c = clock();
    const d = new FailureDelays(delay, c.now, 100);
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      expect(d.attempt('a|bob')).toEqual({ ok: true });
      const refused = d.attempt('a|bob');
      waits.push(refused.ok ? 0 : refused.retryMs);
      c.t += refused.ok ? 0 : refused.retryMs;
    }
    // Failures 1 and 2 wait nothing; after the 3rd the next attempt waits 1 s, then 2, 4, 8 s, and 8 s from then on.
    expect(waits).toEqual([0, 1_000, 2_000, 4_000, 8_000, 8_000, 8_000, 8_000]);
  });

  it('a success (forget) resets the pair, and other pairs of the same username are never delayed by it', () => {
    const c = clock();
    const d = new FailureDelays(delay, c.now, 100);
    for (let i = 0; i < 3; i++) d.attempt('attacker|bob');
    expect(d.attempt('attacker|bob').ok).toBe(false);
    expect(d.attempt('owner|bob')).toEqual({ ok: true });
    d.forget('attacker|bob');
    expect(d.attempt('attacker|bob')).toEqual({ ok: true });
  });

  it('forgets a pair memoryMs after its last failure, and keeps at most entriesMax pairs', () => {
    const c = clock();
    const d = new FailureDelays(delay, c.now, 10);
    for (let i = 0; i < 3; i++) d.attempt('x');
    c.t += delay.memoryMs + 1;
    expect(d.attempt('x')).toEqual({ ok: true });
    for (let i = 0; i < 50; i++) d.attempt(`k${i}`);
    expect(d.size()).toBe(10);
  });
});

describe('LocalLimits', () => {
  const window: LimitPolicy = { kind: 'window', name: 'w', points: 6, windowMs: 60_000, what: 'things' };

  it('an owner admits the window budget, a fallback its share (rounded up); forgiving gives one back', async () => {
    const owner = new LocalLimits(Date.now);
    const fallback = new LocalLimits(Date.now, 4);
    const admitted = async (l: LocalLimits, n: number) => {
      let ok = 0;
      for (let i = 0; i < n; i++) if ((await l.decide({ policy: window, key: 'k', op: 'take' })).ok) ok++;
      return ok;
    };
    expect(await admitted(owner, 10)).toBe(6);
    expect(await admitted(fallback, 10)).toBe(2);
    const refused = await owner.decide({ policy: window, key: 'k', op: 'take' });
    expect(refused.ok === false && refused.retryMs > 0 && refused.retryMs <= 60_000).toBe(true);

    const other = new LocalLimits(Date.now);
    expect(await admitted(other, 6)).toBe(6);
    await other.decide({ policy: window, key: 'k', op: 'forgive' });
    expect(await admitted(other, 3)).toBe(1);
    // Forgiving a key with no attempt in its window gives no extra budget.
    await other.decide({ policy: window, key: 'fresh', op: 'forgive' });
    let ok = 0;
    for (let i = 0; i < 8; i++) if ((await other.decide({ policy: window, key: 'fresh', op: 'take' })).ok) ok++;
    expect(ok).toBe(6);
  });

  it('never keys a sign-in limit on the username alone, and 0 turns the create and write limits off', () => {
    const on = limitPolicies({ createsPerMin: 30, writesPerMin: 60 });
    const all = ['create-addr', 'create-owner', 'guess', 'signin-addr', 'signin-pair', 'signup-addr'];
    all.push('write-addr', 'write-owner');
    expect([...on.keys()].sort()).toEqual(all);
    const off = limitPolicies({ createsPerMin: 0, writesPerMin: 0 });
    expect([...off.keys()].sort()).toEqual(['guess', 'signin-addr', 'signin-pair', 'signup-addr']);
  });
});

describe('Gcra (window policies)', () => {
  const policy = { points: 6, windowMs: 60_000 };

  it('admits the whole budget at once from idle, then one per windowMs / points, with an exact retry-after', () => {
    const c = clock();
    const g = new Gcra(policy, c.now, 100);
    for (let i = 0; i < 6; i++) expect(g.take('k')).toEqual({ ok: true });
    const refused = g.take('k');
    expect(refused).toEqual({ ok: false, retryMs: 10_000 });
    c.t += 9_999;
    expect(g.take('k').ok).toBe(false);
    c.t += 1;
    expect(g.take('k')).toEqual({ ok: true });
    expect(g.take('k').ok).toBe(false);
  });

  it('never admits more than the budget plus the steady rate over any span (no fixed-window boundary doubling)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(20_000), { minLength: 1, maxLength: 200 }), (gaps) => {
        const c = clock();
        const g = new Gcra(policy, c.now, 100);
        const admitted: number[] = [];
        for (const gap of gaps) {
          c.t += gap;
          if (g.take('k').ok) admitted.push(c.t);
        }
        // In any span of length L from an admitted attempt: at most points + floor(L / interval).
        for (let i = 0; i < admitted.length; i++) {
          for (let j = i; j < admitted.length; j++) {
            const span = admitted[j]! - admitted[i]!;
            expect(j - i + 1).toBeLessThanOrEqual(policy.points + Math.floor(span / (policy.windowMs / policy.points)));
          }
        }
      }),
    );
  });

  it('forgive gives one attempt back but never credit beyond idle; memory is bounded, idle keys forgotten first', () => {
    const c = clock();
    const g = new Gcra(policy, c.now, 3);
    for (let i = 0; i < 6; i++) g.take('k');
    g.forgive('k');
    expect(g.take('k')).toEqual({ ok: true });
    expect(g.take('k').ok).toBe(false);
    g.forgive('fresh');
    for (let i = 0; i < 6; i++) expect(g.take('fresh').ok).toBe(true);
    expect(g.take('fresh').ok).toBe(false);
    c.t += 60_000; // both idle now
    g.take('a');
    g.take('b');
    expect(g.size()).toBeLessThanOrEqual(3);
    g.take('c');
    g.take('d');
    expect(g.size()).toBe(3);
  });
});
