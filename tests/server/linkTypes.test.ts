// The shortener's own data types: the link-stats CRDT and the two-phase set are joins
// (commutative, associative, idempotent), slots built up by different nodes add up exactly,
// a wire round trip is lossless, and sibling links resolve deterministically with deletes final.
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { Packr, Unpackr } from 'msgpackr';
import { beforeAll, describe, expect, it } from 'vitest';
import { hash53, initHash } from '../../ring';
import {
  LocalStats,
  mergeStats,
  seriesRetentionMinutes,
  statsType,
  summarizeStats,
  type LinkStats,
} from '../../server/links/stats';
import { mergeTwoPhase, twoPhaseMembers, type TwoPhaseSet } from '../../server/datatypes/twoPhaseSet';
import { linkType, resolveLink, type LinkDoc } from '../../server/links/linkDoc';

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

function slotState(
  slot: string,
  views: readonly { minute: number; referrer: string; device: string; visitor: number }[],
): LinkStats {
  const l = new LocalStats(slot);
  for (const v of views)
    l.add({ at: t0 + v.minute * 60_000, referrer: v.referrer, device: v.device, visitor: v.visitor });
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
        const total = (rec: Readonly<Record<string, Readonly<Record<string, number>>>>) =>
          Object.values(rec).reduce((a, c) => a + Object.values(c).reduce((x, y) => x + y, 0), 0);
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
    for (let i = 0; i < 500; i++)
      l.add({
        at: t0 - (i % 3) * 60_000,
        referrer: '(direct)',
        device: 'mobile',
        visitor: hash53(`203.0.113.${i % 100}`, 12345),
      });
    const s = summarizeStats(l.state(), t0 + 1_000);
    expect(s.series).toHaveLength(60);
    expect(s.series.slice(-3).map((p) => p.n)).toEqual([166, 167, 167]);
    expect(s.series[0]!.n).toBe(0);
    expect(s.uniques).toBeGreaterThan(90);
    expect(s.uniques).toBeLessThan(110);
    expect(s.devices).toEqual([{ device: 'mobile', n: 500 }]);
  });
});

/** Property names a key from a visitor or a peer may collide with. */
const hostileKeys = [
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  'valueOf',
  '__defineGetter__',
];
// The ring transport's and the disk log's encoding (server/transport/wsTransport.ts).
const packr = new Packr({ useRecords: false, moreTypes: true });
const unpackr = new Unpackr({ useRecords: false, moreTypes: true, mapsAsObjects: true, copyBuffers: true });
const overTheWire = (s: LinkStats) => statsType.decode(unpackr.unpack(packr.pack(statsType.encode(s))));
const counts = (rec: Readonly<Record<string, Readonly<Record<string, number>>>>) =>
  Object.fromEntries(Object.entries(rec).map(([k, c]) => [k, Object.values(c).reduce((a, b) => a + b, 0)]));

describe('link stats CRDT with keys that are property names', () => {
  const hostileView = fc.record({
    referrer: fc.constantFrom(...hostileKeys, 'a.example'),
    device: fc.constantFrom(...hostileKeys, 'desktop'),
    visitor: fc.maxSafeNat(),
  });
  const slotViewsHostile = fc.array(hostileView, { maxLength: 20 });
  const slotOf = (slot: string, views: readonly { referrer: string; device: string; visitor: number }[]) => {
    const l = new LocalStats(slot);
    for (const v of views) l.add({ at: t0, ...v });
    return l.state();
  };
  /** Views per key, counted in a Map (no property names involved). */
  const tally = (views: readonly string[]) => {
    const m = new Map<string, number>();
    for (const k of views) m.set(k, (m.get(k) ?? 0) + 1);
    return [...m].sort(([x], [y]) => (x < y ? -1 : 1));
  };
  const sortedCounts = (rec: Readonly<Record<string, Readonly<Record<string, number>>>>) =>
    Object.entries(counts(rec)).sort(([x], [y]) => (x < y ? -1 : 1));

  it('counts every view under its own key, through merges, the ring wire (msgpackr) and JSON', () => {
    fc.assert(
      fc.property(fc.array(slotViewsHostile, { minLength: 1, maxLength: 4 }), (perNode) => {
        const merged = perNode.map((views, i) => slotOf(`n${i}`, views)).reduce(mergeStats, statsType.empty());
        const all = perNode.flat();
        for (const s of [merged, overTheWire(merged), roundTrip(merged)]) {
          expect(sortedCounts(s.r)).toEqual(tally(all.map((v) => v.referrer)));
          expect(sortedCounts(s.d)).toEqual(tally(all.map((v) => v.device)));
          expect(Object.getPrototypeOf(s.r)).toBe(null);
        }
        expect(same(overTheWire(merged), merged)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('merge stays a join with such keys', () => {
    const state = fc
      .tuple(fc.constantFrom('n1', 'n2', 'n3'), slotViewsHostile)
      .map(([slot, views]) => slotOf(slot, views));
    fc.assert(
      fc.property(state, state, state, (a, b, c) => {
        expect(same(mergeStats(a, b), mergeStats(b, a))).toBe(true);
        expect(same(mergeStats(mergeStats(a, b), c), mergeStats(a, mergeStats(b, c)))).toBe(true);
        expect(same(mergeStats(a, a), mergeStats(a, statsType.empty()))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  // The cause of "message handler threw ... stats: not a link stats state": the "__proto__"
  // referrer set the prototype of the merged referrer record to a counter, and with a
  // "hasOwnProperty" referrer msgpackr also sent that prototype's slots as referrers.
  it('a replica that merged "__proto__" and "hasOwnProperty" referrers ships a state its peers accept', () => {
    const l = new LocalStats('n1~0');
    for (const referrer of ['__proto__', 'hasOwnProperty', 'a.example'])
      l.add({ at: t0, referrer, device: 'desktop', visitor: 1 });
    const stored = mergeStats(statsType.empty(), l.state());
    const peer = overTheWire(stored);
    expect(counts(peer.r)).toEqual(
      Object.fromEntries([
        ['__proto__', 1],
        ['a.example', 1],
        ['hasOwnProperty', 1],
      ]),
    );
    expect(
      summarizeStats(peer, t0)
        .referrers.map((r) => r.host)
        .sort(),
    ).toEqual(['__proto__', 'a.example', 'hasOwnProperty']);
  });

  it('decodes the record form states had before pairs, and says what is wrong with garbage', () => {
    const l = new LocalStats('n1');
    l.add({ at: t0, referrer: 'a.example', device: 'mobile', visitor: 7 });
    const pairs = statsType.encode(l.state()) as {
      m: [string, unknown][];
      r: [string, unknown][];
      d: [string, unknown][];
      u: unknown;
    };
    const older = {
      m: Object.fromEntries(pairs.m),
      r: Object.fromEntries(pairs.r),
      d: Object.fromEntries(pairs.d),
      u: pairs.u,
    };
    expect(same(statsType.decode(older), l.state())).toBe(true);
    expect(() => statsType.decode({ ...older, r: { x: 5 } })).toThrow(/invalid fields: r/);
    expect(() => statsType.decode({ ...older, m: [['1', { n: -1 }]] })).toThrow(/invalid fields: m/);
    expect(() => statsType.decode([])).toThrow(/not an object/);
  });
});

describe('two-phase set (owner indexes)', () => {
  const set = fc.dictionary(
    fc.constantFrom('a', 'b', 'c', 'd', 'e'),
    fc.constantFrom<0 | 1>(0, 1),
  ) as fc.Arbitrary<TwoPhaseSet>;
  it('is a join, and a removed element never comes back', () => {
    fc.assert(
      fc.property(set, set, set, (a, b, c) => {
        expect(mergeTwoPhase(a, b)).toEqual(mergeTwoPhase(b, a));
        expect(mergeTwoPhase(mergeTwoPhase(a, b), c)).toEqual(mergeTwoPhase(a, mergeTwoPhase(b, c)));
        expect(mergeTwoPhase(a, a)).toEqual(a);
        for (const [k, v] of Object.entries(a))
          if (v === 1) expect(twoPhaseMembers(mergeTwoPhase(a, b))).not.toContain(k);
      }),
    );
  });

  it('keeps elements named like object properties ("constructor" used to look present before it was added)', () => {
    const hostile = fc.dictionary(
      fc.constantFrom(...hostileKeys, 'a'),
      fc.constantFrom<0 | 1>(0, 1),
    ) as fc.Arbitrary<TwoPhaseSet>;
    fc.assert(
      fc.property(hostile, hostile, (a, b) => {
        const merged = mergeTwoPhase(a, b);
        const all = new Set([...Object.keys(a), ...Object.keys(b)]);
        const removed = (k: string) => (Object.hasOwn(a, k) && a[k] === 1) || (Object.hasOwn(b, k) && b[k] === 1);
        expect(twoPhaseMembers(merged).sort()).toEqual([...all].filter((k) => !removed(k)).sort());
      }),
    );
    expect(
      twoPhaseMembers(
        mergeTwoPhase(
          {},
          Object.fromEntries([
            ['constructor', 0],
            ['__proto__', 0],
          ]),
        ),
      ),
    ).toEqual(['constructor', '__proto__']);
  });
});

describe('link siblings', () => {
  const base: LinkDoc = {
    slug: 'abc',
    url: 'https://a.example/',
    owner: 's:x',
    createdAt: 1,
    updatedAt: 1,
    expiresAt: null,
    maxClicks: null,
    redirectStatus: 302,
    password: null,
    deletedAt: null,
  };
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

describe('cluster totals shown to a person', () => {
  it('never go down: a node answers the larger of each total it ever computed (they only grow)', async () => {
    const { MonotoneTotals, linkSummaryQuery } = await import('../../server/links/summary');
    fc.assert(
      fc.property(
        fc.array(fc.record({ views: fc.nat(1_000), bots: fc.nat(1_000) }), { minLength: 1, maxLength: 30 }),
        (readings) => {
          const shown = new MonotoneTotals();
          let prev = { views: 0, bots: 0 };
          for (const r of readings) {
            const now = shown.raise(r);
            expect(now.views).toBeGreaterThanOrEqual(Math.max(prev.views, r.views));
            expect(now.bots).toBeGreaterThanOrEqual(Math.max(prev.bots, r.bots));
            prev = now;
          }
          expect(prev.views).toBe(Math.max(...readings.map((r) => r.views)));
        },
      ),
    );
    // Two replicas of one partition: the fresher (larger) figures win, per link too.
    expect(linkSummaryQuery.replicas).toBe(2);
    const a = {
      links: 3,
      views: 10,
      bots: 1,
      top: [
        ['x', 7],
        ['y', 3],
      ] as [string, number][],
    };
    const b = {
      links: 3,
      views: 12,
      bots: 0,
      top: [
        ['x', 9],
        ['z', 2],
      ] as [string, number][],
    };
    expect(linkSummaryQuery.reconcile!(a, b, {})).toEqual({
      links: 3,
      views: 12,
      bots: 1,
      top: [
        ['x', 9],
        ['y', 3],
        ['z', 2],
      ],
    });
  });
});

describe('link document decoding', () => {
  const doc: LinkDoc = {
    slug: 'abc1234',
    url: 'https://example.com/a?b=1',
    owner: 'a:someone',
    createdAt: t0,
    updatedAt: t0 + 1,
    expiresAt: null,
    maxClicks: 5,
    redirectStatus: 301,
    password: null,
    deletedAt: null,
  };
  const wire = (v: unknown) => new Unpackr({ useRecords: false }).unpack(new Packr({ useRecords: false }).pack(v));

  it('gives back the document from the wire, field for field and in the same order (resolveLink compares JSON)', () => {
    const got = linkType.decode(wire(linkType.encode(doc)));
    expect(got).toEqual(doc);
    expect(JSON.stringify(got)).toBe(JSON.stringify(doc));
  });

  it('keeps fields it does not know, and does without ones an older document lacks', () => {
    const newer = { ...doc, note: 'from a newer version' };
    expect(linkType.decode(wire(newer))).toEqual(newer);
    const { maxClicks: _, ...older } = doc;
    expect(linkType.decode(wire(older))).toEqual(older);
  });
});
