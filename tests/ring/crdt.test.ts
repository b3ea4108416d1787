// Property tests for ring/crdt: lattice laws (merge commutative, associative, idempotent,
// an upper bound consistent with the order), delta delivery for the counters, HLL accuracy,
// and OR-set semantics checked step by step against a naive tombstone OR-set model.
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { hash53, hash64, initHash } from '../../ring/hash';
import {
  emptyGCounter,
  emptyHll,
  emptyOrSet,
  emptyPNCounter,
  gcounterLeq,
  gcounterSlot,
  gcounterValue,
  hllAdd,
  hllAddHash,
  hllAddHash53,
  hllAddHashes,
  hllEstimate,
  hllLeq,
  incrementGCounter,
  incrementPNCounter,
  isGCounter,
  isHll,
  isOrSet,
  isPNCounter,
  mergeGCounter,
  mergeHll,
  mergeOrSet,
  mergePNCounter,
  orsetAdd,
  orsetHas,
  orsetLeq,
  orsetRemove,
  orsetValues,
  pncounterLeq,
  pncounterValue,
} from '../../ring/crdt';
import type { GCounter, Hll, OrSet, PNCounter } from '../../ring/crdt';

const RUNS = { numRuns: 300 };

// Ids that would break a naive `obj[key]` implementation are in every pool on purpose.
const ACTORS = ['a', 'b', '__proto__'] as const;
const SLOTS = [...ACTORS, 'constructor', 'toString', '1'];
const ELEMENTS = ['x', 'y', 'z', '', '__proto__', 'constructor', 'hasOwnProperty'];

/** Freezes generated states so that any mutation inside the library throws. */
function deepFreeze<T>(x: T): T {
  if (typeof x === 'object' && x !== null && !ArrayBuffer.isView(x)) {
    Object.values(x).forEach(deepFreeze);
    Object.freeze(x);
  }
  return x;
}

/**
 * Equal as values (prototypes and typed arrays included) and byte-identical once serialized
 * (canonical key order). Not toStrictEqual: vitest compares the `.constructor` of objects,
 * which is wrong for a state whose own key is "constructor".
 */
function expectSame(x: unknown, y: unknown): void {
  if (!isDeepStrictEqual(x, y)) expect.fail(`${show(x)}\n  differs from\n${show(y)}`);
  expect(JSON.stringify(x)).toBe(JSON.stringify(y));
}

function show(x: unknown): string {
  return JSON.stringify(x, (_, v: unknown) => (v instanceof Uint8Array ? `Uint8Array[${v.join(',')}]` : v));
}

/** Every item at least once, some again, in a random order: an at-least-once network. */
function deliveries<T>(g: fc.GeneratorValue, items: readonly T[]): T[] {
  if (items.length === 0) return [];
  const extra = g(fc.array, fc.nat({ max: items.length - 1 }), { maxLength: items.length });
  return shuffle(g, [...items, ...extra.map((i) => items[i] as T)]);
}

function shuffle<T>(g: fc.GeneratorValue, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = g(fc.nat, { max: i });
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function lawsOfMerge<S>(arb: fc.Arbitrary<[S, S, S]>, merge: (a: S, b: S) => S, same = expectSame): void {
  it('merge is commutative', () => {
    fc.assert(
      fc.property(arb, ([a, b]) => {
        same(merge(a, b), merge(b, a));
      }),
      RUNS,
    );
  });
  it('merge is associative', () => {
    fc.assert(
      fc.property(arb, ([a, b, c]) => {
        same(merge(merge(a, b), c), merge(a, merge(b, c)));
      }),
      RUNS,
    );
  });
  it('merge is idempotent', () => {
    fc.assert(
      fc.property(arb, ([a, b]) => {
        const m = merge(a, b);
        same(merge(m, m), m);
        same(merge(m, a), m);
        same(merge(m, b), m);
      }),
      RUNS,
    );
  });
}

function orderOfMerge<S>(arb: fc.Arbitrary<[S, S, S]>, merge: (a: S, b: S) => S, leq: (a: S, b: S) => boolean): void {
  it('merge is an upper bound of its inputs', () => {
    fc.assert(
      fc.property(arb, ([a, b]) => {
        const m = merge(a, b);
        expect(leq(a, m)).toBe(true);
        expect(leq(b, m)).toBe(true);
      }),
      RUNS,
    );
  });
  // merge(y, y) is y in normal form (zero slots dropped, keys sorted, plain prototype).
  it('a <= b exactly when merge(a, b) equals b', () => {
    fc.assert(
      fc.property(arb, ([a, b, c]) => {
        const bigger = merge(a, c);
        for (const [x, y] of [
          [a, b],
          [a, bigger],
          [bigger, a],
          [b, c],
          [c, c],
        ] as const) {
          expect(leq(x, y)).toBe(isDeepStrictEqual(merge(x, y), merge(y, y)));
        }
      }),
      RUNS,
    );
  });
}

// ---------------------------------------------------------------------------------------
// G-counter and PN-counter

const gcounterArb: fc.Arbitrary<GCounter> = fc
  .array(fc.tuple(fc.constantFrom(...SLOTS), fc.oneof(fc.nat(50), fc.maxSafeNat())), { maxLength: 6 })
  .map((entries) => deepFreeze(Object.fromEntries(entries)));
const pncounterArb: fc.Arbitrary<PNCounter> = fc.record({ p: gcounterArb, n: gcounterArb }).map((c) => deepFreeze(c));

const incrementsArb = (by: fc.Arbitrary<number>) =>
  fc.array(fc.record({ replica: fc.nat({ max: ACTORS.length - 1 }), by }), { maxLength: 30 });

/**
 * Replicas increment their own slot and ship deltas; every replica, and one fresh observer,
 * then receives every delta (own ones included) in a random order with duplicates.
 */
function checkDeltaDelivery<S>(
  ops: ReadonlyArray<{ replica: number; by: number }>,
  g: fc.GeneratorValue,
  api: {
    empty: () => S;
    increment: (s: S, slot: string, by: number) => { state: S; delta: S };
    merge: (a: S, b: S) => S;
    value: (s: S) => number;
    leq: (a: S, b: S) => boolean;
  },
): void {
  const replicas = ACTORS.map(() => api.empty());
  const deltas: S[] = [];
  for (const { replica, by } of ops) {
    const before = deepFreeze(replicas[replica] as S);
    const { state, delta } = api.increment(before, ACTORS[replica] as string, by);
    expect(api.value(state)).toBe(api.value(before) + by);
    expectSame(api.merge(before, delta), state);
    replicas[replica] = state;
    deltas.push(deepFreeze(delta));
  }
  const finals = [...replicas, api.empty()].map((start) =>
    deliveries(g, deltas).reduce((s, d) => {
      const next = api.merge(s, d);
      expect(api.leq(s, next)).toBe(true);
      return next;
    }, start),
  );
  const total = ops.reduce((sum, op) => sum + op.by, 0);
  for (const f of finals) {
    expectSame(f, finals[0]);
    expect(api.value(f)).toBe(total);
  }
}

describe('G-counter', () => {
  const triples = fc.tuple(gcounterArb, gcounterArb, gcounterArb);
  lawsOfMerge(triples, mergeGCounter);
  orderOfMerge(triples, mergeGCounter, gcounterLeq);

  it('no slot ever decreases through merge', () => {
    fc.assert(
      fc.property(triples, ([a, b]) => {
        const m = mergeGCounter(a, b);
        for (const slot of SLOTS) {
          expect(gcounterSlot(m, slot)).toBe(Math.max(gcounterSlot(a, slot), gcounterSlot(b, slot)));
        }
      }),
      RUNS,
    );
  });

  it('deltas delivered out of order and duplicated sum exactly to the increments', () => {
    const api = {
      empty: emptyGCounter,
      increment: incrementGCounter,
      merge: mergeGCounter,
      value: gcounterValue,
      leq: gcounterLeq,
    };
    fc.assert(
      fc.property(incrementsArb(fc.integer({ min: 1, max: 1000 })), fc.gen(), (ops, g) =>
        checkDeltaDelivery(ops, g, api),
      ),
      RUNS,
    );
  });

  it('a delta merged into any replica that saw the old state yields the new state', () => {
    fc.assert(
      fc.property(
        gcounterArb,
        gcounterArb,
        fc.constantFrom(...SLOTS),
        fc.integer({ min: 1, max: 99 }),
        (c, other, slot, by) => {
          fc.pre(gcounterSlot(c, slot) + by <= Number.MAX_SAFE_INTEGER);
          const { state, delta } = incrementGCounter(c, slot, by);
          expectSame(mergeGCounter(mergeGCounter(other, c), delta), mergeGCounter(other, state));
          expectSame(delta, { [slot]: gcounterSlot(c, slot) + by });
        },
      ),
      RUNS,
    );
  });

  it('handles slot ids that collide with Object.prototype', () => {
    const { state } = incrementGCounter(emptyGCounter(), '__proto__', 2);
    const again = incrementGCounter(state, 'constructor', 3).state;
    expect(Object.getPrototypeOf(again)).toBe(Object.prototype);
    expect(Object.keys(again)).toEqual(['__proto__', 'constructor']);
    expect(gcounterValue(again)).toBe(5);
    expect(gcounterSlot(emptyGCounter(), 'toString')).toBe(0);
    expect(gcounterSlot(JSON.parse(JSON.stringify(again)) as GCounter, '__proto__')).toBe(2);
  });

  it('rejects bad increments', () => {
    for (const by of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      expect(() => incrementGCounter(emptyGCounter(), 'a', by)).toThrow(RangeError);
    }
    const full = incrementGCounter(emptyGCounter(), 'a', Number.MAX_SAFE_INTEGER).state;
    expect(() => incrementGCounter(full, 'a', 1)).toThrow(/MAX_SAFE_INTEGER/);
  });

  it('isGCounter accepts generated states and rejects malformed ones', () => {
    fc.assert(
      fc.property(gcounterArb, (c) => isGCounter(c)),
      RUNS,
    );
    expect(isGCounter(Object.create(null))).toBe(true);
    for (const bad of [
      null,
      undefined,
      3,
      'a',
      [],
      [1],
      { a: -1 },
      { a: 1.5 },
      { a: '1' },
      { a: 2 ** 53 },
      { a: Number.NaN },
      new Map(),
    ]) {
      expect(isGCounter(bad)).toBe(false);
    }
  });
});

describe('PN-counter', () => {
  const triples = fc.tuple(pncounterArb, pncounterArb, pncounterArb);
  lawsOfMerge(triples, mergePNCounter);
  orderOfMerge(triples, mergePNCounter, pncounterLeq);

  it('deltas delivered out of order and duplicated sum exactly to the increments', () => {
    const api = {
      empty: emptyPNCounter,
      increment: incrementPNCounter,
      merge: mergePNCounter,
      value: pncounterValue,
      leq: pncounterLeq,
    };
    const by = fc.integer({ min: -1000, max: 1000 }).filter((n) => n !== 0);
    fc.assert(
      fc.property(incrementsArb(by), fc.gen(), (ops, g) => checkDeltaDelivery(ops, g, api)),
      RUNS,
    );
  });

  it('rejects bad increments and malformed states', () => {
    for (const by of [0, 0.5, Number.NaN, -(2 ** 53)]) {
      expect(() => incrementPNCounter(emptyPNCounter(), 'a', by)).toThrow(RangeError);
    }
    fc.assert(
      fc.property(pncounterArb, (c) => isPNCounter(c)),
      RUNS,
    );
    for (const bad of [null, {}, { p: {} }, { p: {}, n: { a: -1 } }, { p: [], n: {} }]) {
      expect(isPNCounter(bad)).toBe(false);
    }
  });
});

// ---------------------------------------------------------------------------------------
// HyperLogLog

const hashArb = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  fc.bigInt({ min: 0n, max: 2n ** 40n }), // long zero runs, i.e. high ranks
);
const hllArb = (p: number): fc.Arbitrary<Hll> =>
  fc.array(hashArb, { maxLength: 60 }).map((hs) => hllAddHashes(emptyHll(p), hs));
const hllTriples = fc.integer({ min: 4, max: 7 }).chain((p) => fc.tuple(hllArb(p), hllArb(p), hllArb(p)));

describe('HyperLogLog', () => {
  const N = 100_000;
  let hashes: bigint[] = [];
  beforeAll(async () => {
    await initHash();
    hashes = Array.from({ length: N }, (_, i) => hash64(`visitor:${i}`));
  });

  const mergeChecked = (a: Hll, b: Hll): Hll => {
    const before = [a.registers.slice(), b.registers.slice()];
    const m = mergeHll(a, b);
    expect(isDeepStrictEqual([a.registers, b.registers], before)).toBe(true);
    return m;
  };
  lawsOfMerge(hllTriples, mergeChecked);
  orderOfMerge(hllTriples, mergeHll, hllLeq);

  it('puts a hash in the register named by its top p bits, ranked by the zeros after them', () => {
    const arb = fc.integer({ min: 4, max: 16 }).chain((p) =>
      fc.record({
        p: fc.constant(p),
        index: fc.nat({ max: 2 ** p - 1 }),
        rank: fc.integer({ min: 1, max: 64 - p + 1 }),
        noise: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      }),
    );
    fc.assert(
      fc.property(arb, ({ p, index, rank, noise }) => {
        const restBits = BigInt(64 - p);
        const oneAt = restBits - BigInt(rank); // position of the first 1 after the index
        const rest = oneAt >= 0n ? (1n << oneAt) | (noise & ((1n << oneAt) - 1n)) : 0n;
        const h = hllAddHash(emptyHll(p), (BigInt(index) << restBits) | rest);
        expect(h.registers[index]).toBe(rank);
        expect(h.registers.filter((r) => r !== 0)).toHaveLength(1);
        expect(isHll(h)).toBe(true);
      }),
      RUNS,
    );
  });

  it('adding one at a time equals the bulk add, never mutates, and skips the copy when nothing changes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 8 }), fc.array(hashArb, { maxLength: 40 }), (p, hs) => {
        let h = emptyHll(p);
        for (const hash of hs) {
          const before = h.registers.slice();
          const next = hllAddHash(h, hash);
          expect(isDeepStrictEqual(h.registers, before)).toBe(true);
          expect(next === h).toBe(isDeepStrictEqual(next.registers, before));
          h = next;
        }
        expectSame(h, hllAddHashes(emptyHll(p), hs));
        expect(hllAddHash(h, hs[0] ?? 0n) === h).toBe(hs.length > 0);
      }),
      RUNS,
    );
  });

  for (const p of [10, 12, 14]) {
    it(`estimates ${N} distinct items within 3 standard errors at p=${p}`, () => {
      const bound = 3 * (1.04 / Math.sqrt(2 ** p));
      const h = hllAddHashes(emptyHll(p), hashes);
      expect(Math.abs(hllEstimate(h) / N - 1)).toBeLessThan(bound);
    });
  }

  it('takes a 53-bit hash as the top 53 bits of a 64-bit one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 16 }), fc.maxSafeNat(), (p, x) => {
        const h53 = hllAddHash53(emptyHll(p), x);
        // Equal to the 64-bit add, except that ranks stop at 53 - p + 1 (all remaining bits zero).
        const h64 = hllAddHash(emptyHll(p), BigInt(x) << 11n);
        expectSame(h53, { p, registers: h64.registers.map((r) => Math.min(r, 53 - p + 1)) });
        expect(isHll(h53)).toBe(true);
        expect(hllAddHash53(h53, x) === h53).toBe(true);
      }),
      RUNS,
    );
  });

  for (const p of [10, 12]) {
    it(`estimates ${N} distinct items hashed with the 53-bit JS hash within 3 standard errors at p=${p}`, () => {
      const bound = 3 * (1.04 / Math.sqrt(2 ** p));
      let h = emptyHll(p);
      // What the redirect path does: the client address hashed with its user agent's hash as the seed.
      for (let i = 0; i < N; i++)
        h = hllAddHash53(h, hash53(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, (i % 7) * 0x9e3779b1));
      expect(Math.abs(hllEstimate(h) / N - 1)).toBeLessThan(bound);
    });
  }

  it('hash53 is a deterministic safe integer that every input bit and the seed change', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 64 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), (s, seed) => {
        const x = hash53(s, seed);
        expect(Number.isSafeInteger(x) && x >= 0).toBe(true);
        expect(hash53(s, seed)).toBe(x);
        expect(hash53(`${s}.`, seed)).not.toBe(x);
        expect(hash53(s, (seed + 1) >>> 0)).not.toBe(x);
      }),
      RUNS,
    );
  });

  it('is accurate in the small range (linear counting) and exact at zero', () => {
    expect(hllEstimate(emptyHll())).toBe(0);
    const bound = 3 * (1.04 / Math.sqrt(4096));
    for (const n of [10, 100, 1000, 5000, 10_000]) {
      const h = hllAddHashes(emptyHll(12), hashes.slice(0, n));
      expect(Math.abs(hllEstimate(h) / n - 1)).toBeLessThan(bound);
    }
  });

  it('merging two disjoint halves equals the whole and estimates the union', () => {
    const bound = 3 * (1.04 / Math.sqrt(4096));
    const left = hllAddHashes(emptyHll(), hashes.slice(0, N / 2));
    const right = hllAddHashes(emptyHll(), hashes.slice(N / 2));
    const union = mergeHll(left, right);
    expectSame(union, hllAddHashes(emptyHll(), hashes));
    expect(Math.abs(hllEstimate(union) / N - 1)).toBeLessThan(bound);
    expect(Math.abs(hllEstimate(left) / (N / 2) - 1)).toBeLessThan(bound);
  });

  it('hllAdd hashes strings with ring/hash, duplicates do not count', () => {
    let h = emptyHll();
    for (let i = 0; i < 3000; i++) h = hllAdd(h, `item:${i % 1000}`);
    expect(Math.abs(hllEstimate(h) / 1000 - 1)).toBeLessThan(3 * (1.04 / 64));
    expect(hllAdd(h, 'item:7')).toBe(h);
  });

  it('rejects precision mismatches and malformed states', () => {
    expect(() => mergeHll(emptyHll(10), emptyHll(12))).toThrow(/precision/);
    expect(hllLeq(emptyHll(10), emptyHll(12))).toBe(false);
    for (const p of [3, 17, 12.5, Number.NaN]) expect(() => emptyHll(p)).toThrow(RangeError);
    expect(isHll(emptyHll(4))).toBe(true);
    expect(isHll({ p: 4, registers: Buffer.alloc(16) })).toBe(true);
    const tooHigh = new Uint8Array(16);
    tooHigh[3] = 62; // max rank at p=4 is 61
    for (const bad of [
      null,
      {},
      { p: 4, registers: [0] },
      { p: 4, registers: new Uint8Array(8) },
      { p: 3, registers: new Uint8Array(8) },
      { p: 4, registers: tooHigh },
    ]) {
      expect(isHll(bad)).toBe(false);
    }
  });
});

// ---------------------------------------------------------------------------------------
// OR-set, against a reference model: the naive OR-set with unique tags and tombstones

type OrOp =
  | { kind: 'add'; at: number; element: string }
  | { kind: 'remove'; at: number; element: string }
  | { kind: 'merge'; at: number; from: number };

type Model = { adds: ReadonlyMap<string, string>; removed: ReadonlySet<string> };
type Replica = { s: OrSet; m: Model };

const replicaArb = fc.nat({ max: ACTORS.length - 1 });
const elementArb = fc.constantFrom(...ELEMENTS);
const orOpArb: fc.Arbitrary<OrOp> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), at: replicaArb, element: elementArb }),
  fc.record({ kind: fc.constant('remove' as const), at: replicaArb, element: elementArb }),
  fc.record({ kind: fc.constant('merge' as const), at: replicaArb, from: replicaArb }),
);
const historyArb = fc.array(orOpArb, { maxLength: 40 });

function modelValues(m: Model): string[] {
  const live = [...m.adds].filter(([tag]) => !m.removed.has(tag)).map(([, e]) => e);
  return [...new Set(live)].sort();
}

function applyOp(replicas: Replica[], op: OrOp, tag: string): void {
  const { s, m } = replicas[op.at] as Replica;
  let next: Replica;
  if (op.kind === 'add') {
    next = {
      s: orsetAdd(s, ACTORS[op.at] as string, op.element),
      m: { adds: new Map([...m.adds, [tag, op.element]]), removed: m.removed },
    };
  } else if (op.kind === 'remove') {
    const observed = [...m.adds].filter(([, e]) => e === op.element).map(([t]) => t);
    next = { s: orsetRemove(s, op.element), m: { adds: m.adds, removed: new Set([...m.removed, ...observed]) } };
  } else {
    const other = replicas[op.from] as Replica;
    next = {
      s: mergeOrSet(s, other.s),
      m: { adds: new Map([...m.adds, ...other.m.adds]), removed: new Set([...m.removed, ...other.m.removed]) },
    };
  }
  deepFreeze(next.s);
  expect(isOrSet(next.s)).toBe(true);
  expect(orsetLeq(s, next.s)).toBe(true); // every operation is an inflation
  expect(orsetValues(next.s)).toEqual(modelValues(next.m));
  replicas[op.at] = next;
}

function runHistory(ops: readonly OrOp[]): Replica[] {
  const replicas: Replica[] = ACTORS.map(() => ({ s: emptyOrSet(), m: { adds: new Map(), removed: new Set() } }));
  ops.forEach((op, i) => applyOp(replicas, op, `t${i}`));
  return replicas;
}

const orsetTriples: fc.Arbitrary<[OrSet, OrSet, OrSet]> = historyArb.map((ops) => {
  const [a, b, c] = runHistory(ops);
  return [(a as Replica).s, (b as Replica).s, (c as Replica).s];
});

describe('OR-set (ORSWOT)', () => {
  lawsOfMerge(orsetTriples, mergeOrSet);
  orderOfMerge(orsetTriples, mergeOrSet, orsetLeq);

  it('matches the naive tombstone OR-set after every operation on every replica', () => {
    fc.assert(
      fc.property(historyArb, (ops) => void runHistory(ops)),
      RUNS,
    );
  });

  it('add wins over a concurrent remove of the same element', () => {
    fc.assert(
      fc.property(orsetTriples, elementArb, ([s1, s2], e) => {
        const removed = orsetRemove(s1, e);
        const added = orsetAdd(s2, ACTORS[1], e);
        expect(orsetHas(mergeOrSet(removed, added), e)).toBe(true);
        expect(orsetHas(mergeOrSet(added, removed), e)).toBe(true);
      }),
      RUNS,
    );
  });

  it('a remove after an observed add removes it for good', () => {
    fc.assert(
      fc.property(orsetTriples, elementArb, ([s1, s2, s3], e) => {
        const added = orsetAdd(s2, ACTORS[1], e);
        const removed = orsetRemove(mergeOrSet(s1, added), e);
        expect(orsetHas(removed, e)).toBe(false);
        expect(orsetHas(mergeOrSet(removed, added), e)).toBe(false);
        expect(orsetHas(mergeOrSet(added, removed), e)).toBe(false);
        // ...unless someone adds it again without having seen the remove
        expect(orsetHas(mergeOrSet(removed, orsetAdd(s3, ACTORS[2], e)), e)).toBe(true);
      }),
      RUNS,
    );
  });

  it('replicas converge whatever order they merge in', () => {
    fc.assert(
      fc.property(historyArb, fc.gen(), (ops, g) => {
        const replicas = runHistory(ops);
        const expected = modelValues({
          adds: new Map(replicas.flatMap((r) => [...r.m.adds])),
          removed: new Set(replicas.flatMap((r) => [...r.m.removed])),
        });
        const converged = replicas.map(() =>
          shuffle(g, replicas).reduce((acc, r) => mergeOrSet(acc, r.s), emptyOrSet()),
        );
        for (const c of converged) {
          expectSame(c, converged[0]);
          expect(orsetValues(c)).toEqual(expected);
        }
      }),
      RUNS,
    );
  });

  it('the classic scenario, spelled out', () => {
    const a1 = orsetAdd(emptyOrSet(), 'a', 'x');
    const b1 = mergeOrSet(emptyOrSet(), a1);
    const b2 = orsetRemove(b1, 'x');
    const a2 = orsetAdd(a1, 'a', 'x'); // concurrent with the remove
    expect(orsetValues(mergeOrSet(a2, b2))).toEqual(['x']);
    expect(orsetValues(mergeOrSet(a1, b2))).toEqual([]);
    expectSame(orsetAdd(emptyOrSet(), '__proto__', '__proto__'), {
      vv: { ['__proto__']: 1 },
      entries: { ['__proto__']: [['__proto__', 1]] },
    });
    expect(orsetValues(orsetAdd(orsetAdd(emptyOrSet(), 'a', 'b'), 'a', 'a'))).toEqual(['a', 'b']);
  });

  it('isOrSet rejects states that break the merge invariants', () => {
    const bad: unknown[] = [
      null,
      { vv: {}, entries: [] },
      { vv: { a: -1 }, entries: {} },
      { vv: { a: 1 }, entries: { x: [] } },
      { vv: { a: 1 }, entries: { x: [['a', 2]] } }, // dot not covered by vv
      { vv: { a: 1 }, entries: { x: [['a', 0]] } },
      { vv: { a: 1 }, entries: { x: [['a', 1]], y: [['a', 1]] } }, // dot reused
      {
        vv: { a: 1 },
        entries: {
          x: [
            ['a', 1],
            ['a', 1],
          ],
        },
      },
      { vv: { a: 1 }, entries: { x: [[1, 1]] } },
      { vv: { a: 1 }, entries: { x: [['a', 1, 2]] } },
    ];
    for (const x of bad) expect(isOrSet(x)).toBe(false);
    expect(
      isOrSet({
        vv: { a: 2, b: 1 },
        entries: {
          x: [
            ['a', 2],
            ['b', 1],
          ],
        },
      }),
    ).toBe(true);
  });
});
