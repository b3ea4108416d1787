// Tests for ring/placement/claim: balance, window spread (zero violations when feasible, the
// documented bound otherwise), determinism, fixed points and move counts for joins and
// leaves. The feasibility rule itself is checked against an exhaustive search on small rings.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  claimGuarantee,
  claimPartitions,
  countMoves,
  ownershipCounts,
  windowViolations,
} from '../../ring/placement/claim';

const RING_SIZES = [8, 16, 32, 64, 128, 256] as const;
const ALL_NODES = Array.from({ length: 12 }, (_, i) => `n${i + 1}`);

function nodes(count: number): string[] {
  return ALL_NODES.slice(0, count);
}

/** Deterministic Fisher-Yates shuffle (LCG seeded by `seed`). */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = items.slice();
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Asserts every requirement that must hold for any claim; returns the violations. */
function expectValidClaim(
  owners: readonly string[],
  ringSize: number,
  nVal: number,
  members: readonly string[],
): number {
  const set = new Set(members);
  const n = set.size;
  expect(owners).toHaveLength(ringSize);
  for (const o of owners) expect(set.has(o)).toBe(true);
  const counts = ownershipCounts(owners);
  const lo = Math.floor(ringSize / n);
  const hi = Math.ceil(ringSize / n);
  for (const m of set) {
    const c = counts.get(m) ?? 0;
    expect(c).toBeGreaterThanOrEqual(lo);
    expect(c).toBeLessThanOrEqual(hi);
  }
  const g = claimGuarantee(ringSize, nVal, n);
  const v = windowViolations(owners, nVal);
  expect(v).toBeLessThanOrEqual(g.maxViolations);
  if (g.feasible) expect(v).toBe(0);
  return v;
}

/** Ring built by successive joins n1, n1..n2, ..., n1..nCount. */
function grow(ringSize: number, nVal: number, count: number): string[] {
  let current: string[] | null = null;
  for (let k = 1; k <= count; k++) {
    current = claimPartitions({ ringSize, nVal, members: nodes(k), current });
  }
  return current!;
}

describe('helpers', () => {
  it('windowViolations counts cyclic windows with a repeated owner', () => {
    expect(windowViolations(['a', 'b', 'a', 'b'], 2)).toBe(0);
    expect(windowViolations(['a', 'b', 'a', 'b'], 3)).toBe(4);
    expect(windowViolations(['a', 'a', 'b', 'b'], 2)).toBe(2);
    // Windows (a,b,b) and (b,b,c) repeat; (b,c,a) and (c,a,b), across the seam, do not.
    expect(windowViolations(['a', 'b', 'b', 'c'], 3)).toBe(2);
    expect(windowViolations(['a', 'b', 'c', 'a', 'b', 'c', 'a'], 3)).toBe(2); // seam a|a
    expect(windowViolations(['a', null, 'a', 'b'], 2)).toBe(0);
    expect(windowViolations(['a', null, 'a', 'b'], 3)).toBe(2);
    expect(windowViolations(['a', 'a'], 1)).toBe(0);
    expect(windowViolations(['a', 'b'], 3)).toBe(2); // longer than the ring
  });

  it('countMoves and ownershipCounts', () => {
    expect(countMoves(['a', 'b', null], ['a', 'c', 'c'])).toBe(2);
    expect(() => countMoves(['a'], ['a', 'b'])).toThrow(RangeError);
    expect([...ownershipCounts(['b', 'a', null, 'b']).entries()]).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
  });

  it('claimGuarantee follows the documented rule', () => {
    expect(claimGuarantee(64, 1, 1)).toEqual({ feasible: true, maxViolations: 0 });
    expect(claimGuarantee(64, 3, 2)).toEqual({ feasible: false, maxViolations: 64 });
    expect(claimGuarantee(64, 3, 3)).toEqual({ feasible: false, maxViolations: 2 }); // 22 > 21
    expect(claimGuarantee(64, 3, 4)).toEqual({ feasible: true, maxViolations: 0 });
    expect(claimGuarantee(64, 4, 4)).toEqual({ feasible: true, maxViolations: 0 }); // 4 | 64
    expect(claimGuarantee(63, 3, 3).feasible).toBe(true);
    expect(claimGuarantee(8, 3, 4)).toEqual({ feasible: true, maxViolations: 0 });
    expect(claimGuarantee(7, 3, 3)).toEqual({ feasible: false, maxViolations: 2 });
  });

  it('rejects bad input', () => {
    expect(() => claimPartitions({ ringSize: 0, nVal: 3, members: ['a'], current: null })).toThrow(RangeError);
    expect(() => claimPartitions({ ringSize: 8, nVal: 0, members: ['a'], current: null })).toThrow(RangeError);
    expect(() => claimPartitions({ ringSize: 8, nVal: 3, members: [], current: null })).toThrow(RangeError);
    expect(() => claimPartitions({ ringSize: 8, nVal: 3, members: ['a'], current: ['a'] })).toThrow(RangeError);
  });
});

/**
 * Minimum violating nVal-windows over all balanced cyclic layouts of q partitions on n
 * members (exhaustive; member ids introduced in order to skip relabellings).
 */
function bruteMinViolations(q: number, n: number, nVal: number): number {
  const base = Math.floor(q / n);
  const extra = q % n;
  const seq = new Array<number>(q).fill(-1);
  const count = new Array<number>(n).fill(0);
  let ceilUsed = 0;
  let best = Infinity;
  const bad = (s: number): boolean => {
    const seen = new Set<number>();
    for (let j = 0; j < nVal; j++) {
      const o = seq[(s + j) % q]!;
      if (seen.has(o)) return true;
      seen.add(o);
    }
    return false;
  };
  const rec = (i: number, used: number, v: number): void => {
    if (v >= best) return;
    if (i === q) {
      let total = v;
      for (let s = Math.max(0, q - nVal + 1); s < q; s++) if (bad(s)) total++;
      best = Math.min(best, total);
      return;
    }
    for (let m = 0; m <= Math.min(n - 1, used); m++) {
      const becomesCeil = count[m]! + 1 === base + 1;
      if (count[m]! + 1 > base + 1 || (becomesCeil && ceilUsed >= extra)) continue;
      seq[i] = m;
      count[m] = count[m]! + 1;
      if (becomesCeil) ceilUsed++;
      const add = i - nVal + 1 >= 0 && bad(i - nVal + 1) ? 1 : 0;
      rec(i + 1, Math.max(used, m + 1), v + add);
      seq[i] = -1;
      count[m] = count[m]! - 1;
      if (becomesCeil) ceilUsed--;
    }
  };
  rec(0, 0, 0);
  return best;
}

describe('feasibility rule', () => {
  it('matches exhaustive search on small rings, and the claim meets the bound', () => {
    for (let q = 2; q <= 12; q++) {
      for (let nVal = 2; nVal <= 4; nVal++) {
        for (let n = nVal; n <= 6; n++) {
          const g = claimGuarantee(q, nVal, n);
          const min = bruteMinViolations(q, n, nVal);
          expect({ q, nVal, n, feasible: min === 0 }).toEqual({ q, nVal, n, feasible: g.feasible });
          expect(min).toBeLessThanOrEqual(g.maxViolations);
          const owners = claimPartitions({ ringSize: q, nVal, members: nodes(n), current: null });
          expectValidClaim(owners, q, nVal, nodes(n));
        }
      }
    }
  });
});

describe('claimPartitions properties', () => {
  const step = fc.record({ join: fc.boolean(), pick: fc.nat(1000) });
  it('stays balanced, spread and deterministic through joins and leaves', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...RING_SIZES),
        fc.integer({ min: 1, max: 4 }),
        fc.subarray(ALL_NODES, { minLength: 1, maxLength: 8 }),
        fc.array(step, { minLength: 1, maxLength: 6 }),
        fc.nat(),
        (ringSize, nVal, initial, steps, seed) => {
          let members = initial.slice();
          let current: string[] | null = null;
          for (let i = 0; i <= steps.length; i++) {
            if (i > 0) {
              const s = steps[i - 1]!;
              const outside = ALL_NODES.filter((m) => !members.includes(m));
              if ((s.join && outside.length > 0) || members.length === 1) {
                members = [...members, outside[s.pick % outside.length]!];
              } else {
                members = members.filter((_, j) => j !== s.pick % members.length);
              }
            }
            const input = { ringSize, nVal, members, current };
            const owners = claimPartitions(input);
            expectValidClaim(owners, ringSize, nVal, members);
            // Same input twice, and the member set in another order (with a duplicate).
            expect(claimPartitions(input)).toEqual(owners);
            const reordered = [...shuffled(members, seed + i), members[0]!];
            expect(claimPartitions({ ...input, members: reordered })).toEqual(owners);
            // A departed member's partitions must move; nothing else has to.
            if (current !== null) {
              const departed = current.filter((o) => !members.includes(o)).length;
              expect(countMoves(current, owners)).toBeGreaterThanOrEqual(departed);
            }
            // Fixed point: claiming again with the same members moves nothing.
            expect(claimPartitions({ ringSize, nVal, members, current: owners })).toEqual(owners);
            current = owners;
          }
        },
      ),
      { numRuns: 60, seed: 20240611 },
    );
  });

  it('repairs an arbitrary (unbalanced, partly unowned) current assignment', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(16, 32, 64),
        fc.integer({ min: 2, max: 4 }),
        fc.integer({ min: 1, max: 9 }),
        fc.array(fc.option(fc.constantFrom(...ALL_NODES), { nil: null }), { minLength: 64, maxLength: 64 }),
        (ringSize, nVal, count, raw) => {
          const members = nodes(count);
          const current = raw.slice(0, ringSize);
          const owners = claimPartitions({ ringSize, nVal, members, current });
          expectValidClaim(owners, ringSize, nVal, members);
        },
      ),
      { numRuns: 60, seed: 7 },
    );
  });
});

describe('claimPartitions examples', () => {
  it('a fresh ring of 5 nodes at Q=64, nVal=3 has no violating window', () => {
    const owners = claimPartitions({ ringSize: 64, nVal: 3, members: nodes(5), current: null });
    expectValidClaim(owners, 64, 3, nodes(5));
    expect(windowViolations(owners, 3)).toBe(0);
  });

  it('3 nodes at Q=64, nVal=3 is infeasible; the claim stays within nVal-1 violations', () => {
    const owners = grow(64, 3, 3);
    const v = expectValidClaim(owners, 64, 3, nodes(3));
    expect(v).toBeGreaterThan(0);
    expect(v).toBeLessThanOrEqual(2);
  });

  it('joins 3->4 and 4->5 at Q=64, nVal=3 move at most 1.5x the minimum', () => {
    for (const n of [3, 4]) {
      const before = grow(64, 3, n);
      const after = claimPartitions({ ringSize: 64, nVal: 3, members: nodes(n + 1), current: before });
      expectValidClaim(after, 64, 3, nodes(n + 1));
      expect(countMoves(before, after)).toBeLessThanOrEqual(Math.ceil((1.5 * 64) / (n + 1)));
    }
  });

  it('joins from 3 to 8 nodes at Q=64 and 256, nVal=3 move at most 1.5x the minimum', () => {
    for (const q of [64, 256]) {
      let current = grow(q, 3, 3);
      for (let n = 3; n < 8; n++) {
        const next = claimPartitions({ ringSize: q, nVal: 3, members: nodes(n + 1), current });
        expectValidClaim(next, q, 3, nodes(n + 1));
        expect(countMoves(current, next)).toBeLessThanOrEqual(Math.ceil((1.5 * q) / (n + 1)));
        current = next;
      }
    }
  });

  it('joins while n < nVal stay near Q/(n+1), including the join that reaches nVal', () => {
    for (const nVal of [3, 4]) {
      let current = grow(64, nVal, 1);
      for (let n = 1; n <= nVal; n++) {
        const next = claimPartitions({ ringSize: 64, nVal, members: nodes(n + 1), current });
        expectValidClaim(next, 64, nVal, nodes(n + 1));
        expect(countMoves(current, next)).toBeLessThanOrEqual(Math.ceil((1.25 * 64) / (n + 1)));
        current = next;
      }
    }
  });

  it('nVal=1 joins move exactly the minimum', () => {
    let current = grow(64, 1, 1);
    for (let n = 1; n < 8; n++) {
      const next = claimPartitions({ ringSize: 64, nVal: 1, members: nodes(n + 1), current });
      expectValidClaim(next, 64, 1, nodes(n + 1));
      // The joiner takes floor(64/(n+1)) (ceil goes to those that already own the most).
      expect(countMoves(current, next)).toBe(Math.floor(64 / (n + 1)));
      current = next;
    }
  });

  it('a leave from 6..9 nodes at nVal=3 moves close to what the leaver owned', () => {
    for (const q of [64, 256]) {
      for (const n of [6, 7, 8, 9]) {
        const before = grow(q, 3, n);
        for (const gone of nodes(n)) {
          const members = nodes(n).filter((m) => m !== gone);
          const after = claimPartitions({ ringSize: q, nVal: 3, members, current: before });
          expectValidClaim(after, q, 3, members);
          const departed = before.filter((o) => o === gone).length;
          const moves = countMoves(before, after);
          expect(moves).toBeGreaterThanOrEqual(departed);
          expect(moves).toBeLessThanOrEqual(Math.ceil(1.25 * departed));
        }
      }
    }
  });

  it('a node that left and rejoins gets a valid claim and the ring stays balanced', () => {
    const before = grow(64, 3, 6);
    const without = claimPartitions({ ringSize: 64, nVal: 3, members: nodes(5), current: before });
    const back = claimPartitions({ ringSize: 64, nVal: 3, members: nodes(6), current: without });
    expectValidClaim(back, 64, 3, nodes(6));
  });
});
