// The shortener's own data types: the link-stats CRDT and the two-phase set are joins
// (commutative, associative, idempotent), slots built up by different nodes add up exactly,
// a wire round trip is lossless, and sibling links resolve deterministically with deletes final.
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { hash53, initHash } from '../../ring/hash';
import { LocalStats, mergeStats, seriesRetentionMinutes, statsType, summarizeStats, type LinkStats } from '../../server/links/stats';
import { mergeTwoPhase, resolveLink, twoPhaseMembers, type LinkDoc, type TwoPhaseSet } from '../../server/links/types';

beforeAll(async () => {
  await initHash();
});

const t0 = Date.UTC(2026, 10, 23, 10, 0);
const view = fc.record({
  minute: fc.integer({ min: 0, max: seriesRetentionMinutes + 30 }),
  referrer: fc.constantFrom('(direct)', 'a.example', 'b.example'),
  device: fc.constantFrom('desktop', 'mobile'),
  visitor: fc.maxSafeNat(),
});
/** One node's slot: a list of views it recorded. */
const slotViews = fc.array(view, { maxLength: 30 });

function slotState(slot: string, views: readonly { minute: number; referrer: string; device: string; visitor: number }[]): LinkStats {
  const l = new LocalStats(slot);
  for (const v of views) l.add({ at: t0 + v.minute * 60_000, referrer: v.referrer, device: v.device, visitor: v.visitor });
  return l.state();
}

const roundTrip = (s: LinkStats) => statsType.decode(JSON.parse(JSON.stringify(statsType.encode(s))));
const same = (a: LinkStats, b: LinkStats) => isDeepStrictEqual(statsType.encode(a), statsType.encode(b));

describe('link stats CRDT', () => {
  const state = fc.tuple(fc.constantFrom('n1', 'n2', 'n3'), slotViews).map(([slot, views]) => slotState(slot, views));

  it('merge is commutative, associative and idempotent', () => {
    fc.assert(
      fc.property(state, state, state, (a, b, c) => {
        expect(same(mergeStats(a, b), mergeStats(b, a))).toBe(true);
        expect(same(mergeStats(mergeStats(a, b), c), mergeStats(a, mergeStats(b, c)))).toBe(true);
        expect(same(mergeStats(a, a), mergeStats(a, statsType.empty()))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('slots from different nodes add up to exactly the views recorded (within the retention window)', () => {
    fc.assert(
      fc.property(fc.array(slotViews, { minLength: 1, maxLength: 4 }), (perNode) => {
        const merged = perNode.map((views, i) => slotState(`node${i}`, views)).reduce(mergeStats, statsType.empty());
        const all = perNode.flat();
        const newest = Math.max(...all.map((v) => v.minute), -Infinity);
        const kept = all.filter((v) => v.minute > newest - seriesRetentionMinutes);
        const total = (rec: Readonly<Record<string, Readonly<Record<string, number>>>>) => Object.values(rec).reduce((a, c) => a + Object.values(c).reduce((x, y) => x + y, 0), 0);
        expect(total(merged.m)).toBe(kept.length);
        expect(total(merged.r)).toBe(all.length);
        expect(total(merged.d)).toBe(all.length);
      }),
      { numRuns: 200 },
    );
  });

  it('resending a slot (a duplicated or retried flush) changes nothing', () => {
    fc.assert(
      fc.property(slotViews, slotViews, (earlier, later) => {
        const first = slotState('n1', earlier);
        const second = slotState('n1', [...earlier, ...later]);
        expect(same(mergeStats(mergeStats(first, second), first), mergeStats(second, first))).toBe(true);
        expect(same(mergeStats(second, first), mergeStats(statsType.empty(), second))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('survives the wire and disk encoding unchanged, and rejects garbage', () => {
    fc.assert(
      fc.property(state, (s) => {
        expect(same(roundTrip(s), s)).toBe(true);
      }),
      { numRuns: 100 },
    );
    expect(() => statsType.decode({ m: {}, r: {}, d: {}, u: { p: 10, b: 'AAAA' } })).toThrow();
    expect(() => statsType.decode(null)).toThrow();
  });

  it('summarizes the last hour per minute, zeros included, and estimates unique visitors', () => {
    const l = new LocalStats('n1');
    for (let i = 0; i < 500; i++) l.add({ at: t0 - (i % 3) * 60_000, referrer: '(direct)', device: 'mobile', visitor: hash53(`203.0.113.${i % 100}`, 12345) });
    const s = summarizeStats(l.state(), t0 + 1_000);
    expect(s.series).toHaveLength(60);
    expect(s.series.slice(-3).map((p) => p.n)).toEqual([166, 167, 167]);
    expect(s.series[0]!.n).toBe(0);
    expect(s.uniques).toBeGreaterThan(90);
    expect(s.uniques).toBeLessThan(110);
    expect(s.devices).toEqual([{ device: 'mobile', n: 500 }]);
  });
});

describe('two-phase set (owner indexes)', () => {
  const set = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.constantFrom<0 | 1>(0, 1)) as fc.Arbitrary<TwoPhaseSet>;
  it('is a join, and a removed element never comes back', () => {
    fc.assert(
      fc.property(set, set, set, (a, b, c) => {
        expect(mergeTwoPhase(a, b)).toEqual(mergeTwoPhase(b, a));
        expect(mergeTwoPhase(mergeTwoPhase(a, b), c)).toEqual(mergeTwoPhase(a, mergeTwoPhase(b, c)));
        expect(mergeTwoPhase(a, a)).toEqual(a);
        for (const [k, v] of Object.entries(a)) if (v === 1) expect(twoPhaseMembers(mergeTwoPhase(a, b))).not.toContain(k);
      }),
    );
  });
});

describe('link siblings', () => {
  const base: LinkDoc = { slug: 'abc', url: 'https://a.example/', owner: 's:x', createdAt: 1, updatedAt: 1, expiresAt: null, maxClicks: null, redirectStatus: 302, password: null, deletedAt: null };
  it('resolve deterministically: a delete wins, else the latest edit, else by content', () => {
    const edit = { ...base, url: 'https://b.example/', updatedAt: 5 };
    const later = { ...base, url: 'https://c.example/', updatedAt: 6 };
    const deleted = { ...base, deletedAt: 3, updatedAt: 3 };
    expect(resolveLink([edit, later]).url).toBe('https://c.example/');
    expect(resolveLink([later, edit]).url).toBe('https://c.example/');
    expect(resolveLink([later, deleted, edit]).deletedAt).toBe(3);
    const tie1 = { ...base, url: 'https://x.example/', updatedAt: 9 };
    const tie2 = { ...base, url: 'https://y.example/', updatedAt: 9 };
    expect(resolveLink([tie1, tie2])).toEqual(resolveLink([tie2, tie1]));
  });
});
