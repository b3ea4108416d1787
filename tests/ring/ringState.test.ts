// Property tests for ring/membership/ringState (the gossiped ring as a join-semilattice:
// members by generation, then status rank, then address; partition claims by epoch) and
// ring/placement/preference (primaries, fallbacks and planned primaries per partition).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bootstrapRing,
  compareClaims,
  compareMembers,
  emptyRing,
  isActive,
  mergeRings,
  ringFingerprint,
  withClaims,
} from '../../ring/membership/ringState';
import type { Member, MemberStatus, PartitionClaim, RingState } from '../../ring/membership/ringState';
import { computePreferenceLists } from '../../ring/placement/preference';

const RUNS = { numRuns: 300 };
/** Preference-list cases are bigger (up to 64 partitions, each checked). */
const PREF_RUNS = { numRuns: 100 };
const NAMES = ['n1', 'n2', 'n3', 'n4'] as const;
const ADDRS = ['10.0.0.1:1', '10.0.0.2:1', '10.0.0.3:1'] as const;
/** In rank order: a later status wins at equal generation. */
const STATUSES: readonly MemberStatus[] = ['joining', 'valid', 'leaving', 'exiting', 'downed', 'removed'];

// ---------------------------------------------------------------- generators

const memberArb = (name: string): fc.Arbitrary<Member> =>
  fc.record({
    name: fc.constant(name),
    addr: fc.constantFrom(...ADDRS),
    gen: fc.integer({ min: 0, max: 2 }),
    status: fc.constantFrom(...STATUSES),
  });

const claimArb: fc.Arbitrary<PartitionClaim> = fc.record({
  owner: fc.constantFrom('', ...NAMES),
  next: fc.option(fc.constantFrom(...NAMES), { nil: null }),
  epoch: fc.integer({ min: 0, max: 3 }),
});

/** Rings of one size with small value spaces, so that concurrent rings often collide. */
function ringArb(ringSize: number, clusterIds: readonly string[] = ['c', '']): fc.Arbitrary<RingState> {
  return fc
    .record({
      clusterId: fc.constantFrom(...clusterIds),
      members: fc.subarray([...NAMES]).chain((names) => fc.tuple(...names.map(memberArb))),
      partitions: fc.array(claimArb, { minLength: ringSize, maxLength: ringSize }),
    })
    .map(({ clusterId, members, partitions }) => ({
      clusterId,
      ringSize,
      members: Object.fromEntries(members.map((m) => [m.name, m])),
      partitions,
    }));
}

const sizeArb = fc.constantFrom(1, 4, 8);
const rings = (k: number, clusterIds?: readonly string[]) =>
  sizeArb.chain((size) => fc.array(ringArb(size, clusterIds), { minLength: k, maxLength: k }));

const fp = ringFingerprint;

function deepFreeze<T>(x: T): T {
  if (typeof x === 'object' && x !== null) {
    Object.values(x).forEach(deepFreeze);
    Object.freeze(x);
  }
  return x;
}

/** -1, 0 or 1 (never -0, so that toBe compares cleanly). */
const sign = (x: number) => (x > 0 ? 1 : x < 0 ? -1 : 0);
const antisymmetric = (xy: number, yx: number) => sign(xy) + sign(yx) === 0;

// ---------------------------------------------------------------- mergeRings lattice laws

describe('mergeRings is a join-semilattice (up to ringFingerprint)', () => {
  it('is commutative', () => {
    fc.assert(
      fc.property(rings(2), ([a, b]) => {
        expect(fp(mergeRings(a!, b!))).toBe(fp(mergeRings(b!, a!)));
      }),
      RUNS,
    );
  });

  it('is associative', () => {
    fc.assert(
      fc.property(rings(3), ([a, b, c]) => {
        expect(fp(mergeRings(mergeRings(a!, b!), c!))).toBe(fp(mergeRings(a!, mergeRings(b!, c!))));
      }),
      RUNS,
    );
  });

  it('is idempotent: merge(a, a) and merge(a, deep copy of a) return a itself', () => {
    fc.assert(
      fc.property(rings(1), ([a]) => {
        expect(mergeRings(a!, a!)).toBe(a);
        expect(mergeRings(a!, structuredClone(a!))).toBe(a);
      }),
      RUNS,
    );
  });

  it('does not mutate its inputs (frozen rings merge fine)', () => {
    fc.assert(
      fc.property(rings(2), ([a, b]) => {
        const before = [fp(a!), fp(b!)];
        mergeRings(deepFreeze(a!), deepFreeze(b!));
        expect([fp(a!), fp(b!)]).toEqual(before);
      }),
      RUNS,
    );
  });

  it('returns its first argument (same object) exactly when the second adds nothing', () => {
    fc.assert(
      fc.property(rings(2), ([a, b]) => {
        const m = mergeRings(a!, b!);
        expect(m === a).toBe(fp(m) === fp(a!));
        // The join absorbs either input: merging one again adds nothing.
        expect(mergeRings(m, b!)).toBe(m);
        expect(mergeRings(m, a!)).toBe(m);
      }),
      RUNS,
    );
  });

  it('the merge is the pointwise max: every member the greatest under compareMembers, every claim the greatest under compareClaims', () => {
    fc.assert(
      fc.property(rings(2), ([a, b]) => {
        const m = mergeRings(a!, b!);
        expect(Object.keys(m.members).sort()).toEqual(
          [...new Set([...Object.keys(a!.members), ...Object.keys(b!.members)])].sort(),
        );
        for (const [name, mm] of Object.entries(m.members)) {
          for (const side of [a!, b!]) {
            const other = side.members[name];
            if (other) expect(compareMembers(mm, other)).toBeGreaterThanOrEqual(0);
          }
          expect(mm === a!.members[name] || mm === b!.members[name]).toBe(true);
        }
        m.partitions.forEach((c, i) => {
          expect(compareClaims(c, a!.partitions[i]!)).toBeGreaterThanOrEqual(0);
          expect(compareClaims(c, b!.partitions[i]!)).toBeGreaterThanOrEqual(0);
        });
        expect(m.clusterId).toBe(a!.clusterId || b!.clusterId);
        expect(m.ringSize).toBe(a!.ringSize);
      }),
      RUNS,
    );
  });

  it('gossip in any order, with duplicates, converges to the same ring', () => {
    fc.assert(
      fc.property(
        sizeArb.chain((size) => fc.array(ringArb(size), { minLength: 1, maxLength: 5 })),
        fc.array(fc.nat(), { maxLength: 20 }),
        (rs, extra) => {
          const forward = rs.reduce((x, y) => mergeRings(x, y));
          const order = [...rs].reverse().concat(extra.map((i) => rs[i % rs.length]!));
          const shuffled = order.reduce((x, y) => mergeRings(x, y));
          expect(fp(shuffled)).toBe(fp(forward));
        },
      ),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------- orders

describe('member and claim orders', () => {
  it('compareMembers is a total order: antisymmetric, transitive, zero only for identical gen/status/addr', () => {
    const m = memberArb('n1');
    fc.assert(
      fc.property(m, m, m, (x, y, z) => {
        expect(antisymmetric(compareMembers(x, y), compareMembers(y, x))).toBe(true);
        expect(compareMembers(x, y) === 0).toBe(x.gen === y.gen && x.status === y.status && x.addr === y.addr);
        if (compareMembers(x, y) <= 0 && compareMembers(y, z) <= 0) expect(compareMembers(x, z)).toBeLessThanOrEqual(0);
      }),
      RUNS,
    );
  });

  it('a member with a higher generation always wins the merge, whatever the statuses and addresses', () => {
    fc.assert(
      fc.property(memberArb('n1'), memberArb('n1'), fc.boolean(), (x, y, swap) => {
        fc.pre(x.gen !== y.gen);
        const hi = x.gen > y.gen ? x : y;
        const ra: RingState = { ...emptyRing(4), clusterId: 'c', members: { n1: swap ? x : y } };
        const rb: RingState = { ...emptyRing(4), clusterId: 'c', members: { n1: swap ? y : x } };
        expect(mergeRings(ra, rb).members.n1).toEqual(hi);
        expect(mergeRings(rb, ra).members.n1).toEqual(hi);
      }),
      RUNS,
    );
  });

  it('at equal generation the status rank joining < valid < leaving < exiting < downed < removed decides', () => {
    for (let i = 0; i < STATUSES.length; i++) {
      for (let j = 0; j < STATUSES.length; j++) {
        for (const [addrI, addrJ] of [
          [ADDRS[0], ADDRS[1]],
          [ADDRS[1], ADDRS[0]],
        ] as const) {
          const mi: Member = { name: 'n1', addr: addrI, gen: 3, status: STATUSES[i]! };
          const mj: Member = { name: 'n1', addr: addrJ, gen: 3, status: STATUSES[j]! };
          const ri: RingState = { ...emptyRing(2), members: { n1: mi } };
          const rj: RingState = { ...emptyRing(2), members: { n1: mj } };
          const want = i > j ? mi : j > i ? mj : addrI > addrJ ? mi : mj;
          expect(mergeRings(ri, rj).members.n1, `${STATUSES[i]} vs ${STATUSES[j]}`).toBe(want);
          expect(mergeRings(rj, ri).members.n1, `${STATUSES[j]} vs ${STATUSES[i]}`).toBe(want);
          expect(sign(compareMembers(mi, mj))).toBe(i === j ? sign(addrI < addrJ ? -1 : 1) : sign(i - j));
        }
      }
    }
  });

  it('compareClaims is a total order in which a higher epoch always wins', () => {
    fc.assert(
      fc.property(claimArb, claimArb, claimArb, (x, y, z) => {
        expect(antisymmetric(compareClaims(x, y), compareClaims(y, x))).toBe(true);
        if (x.epoch !== y.epoch) expect(sign(compareClaims(x, y))).toBe(sign(x.epoch - y.epoch));
        if (compareClaims(x, y) <= 0 && compareClaims(y, z) <= 0) expect(compareClaims(x, z)).toBeLessThanOrEqual(0);
        expect(compareClaims(x, y) === 0).toBe(x.epoch === y.epoch && x.owner === y.owner && x.next === y.next);
      }),
      RUNS,
    );
  });

  it('partition claims with a higher epoch win the merge, in either argument order', () => {
    fc.assert(
      fc.property(rings(2), ([a, b]) => {
        for (const m of [mergeRings(a!, b!), mergeRings(b!, a!)]) {
          m.partitions.forEach((c, i) => {
            const ca = a!.partitions[i]!;
            const cb = b!.partitions[i]!;
            if (ca.epoch > cb.epoch) expect(c).toBe(ca);
            if (cb.epoch > ca.epoch) expect(c).toBe(cb);
          });
        }
      }),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------- constructors and claims

describe('emptyRing, bootstrapRing, withClaims', () => {
  it('an emptyRing merged into any ring changes nothing (and returns that ring)', () => {
    fc.assert(
      fc.property(rings(1), ([a]) => {
        const e = emptyRing(a!.ringSize);
        expect(mergeRings(a!, e)).toBe(a);
        expect(fp(mergeRings(e, a!))).toBe(fp(a!));
      }),
      RUNS,
    );
  });

  it('a joining node (emptyRing) adopts the cluster id, members and claims of the ring it hears', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.constantFrom(...NAMES), (size, name) => {
        const boot = bootstrapRing('cluster-x', size, { name, addr: `${name}:1` });
        expect(boot.members[name]).toEqual({ name, addr: `${name}:1`, gen: 1, status: 'valid' });
        expect(boot.partitions).toHaveLength(size);
        for (const c of boot.partitions) expect(c).toEqual({ owner: name, next: null, epoch: 1 });
        const joined = mergeRings(emptyRing(size), boot);
        expect(fp(joined)).toBe(fp(boot));
        expect(joined.clusterId).toBe('cluster-x');
      }),
      { numRuns: 100 },
    );
  });

  it('mergeRings throws on a cluster id mismatch between two non-empty ids, and on a ring size mismatch', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (x, y) => {
        fc.pre(x !== y);
        const a = bootstrapRing(x, 8, { name: 'n1', addr: 'a' });
        const b = bootstrapRing(y, 8, { name: 'n2', addr: 'b' });
        expect(() => mergeRings(a, b)).toThrow(/cluster id mismatch/);
        expect(() => mergeRings(b, a)).toThrow(/cluster id mismatch/);
        // Empty ids merge with anything.
        expect(() => mergeRings(a, { ...b, clusterId: '' })).not.toThrow();
        expect(() => mergeRings({ ...a, clusterId: '' }, b)).not.toThrow();
      }),
      { numRuns: 100 },
    );
    expect(() => mergeRings(emptyRing(8), emptyRing(16))).toThrow(/ring size mismatch/);
  });

  it('withClaims bumps the epoch of exactly the changed partitions, so the change wins any merge with the ring it was made from', () => {
    fc.assert(
      fc.property(
        rings(1),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(...NAMES), fc.option(fc.constantFrom(...NAMES), { nil: null })), {
          maxLength: 6,
        }),
        ([r], raw) => {
          const ring = r!;
          const changes = new Map(raw.map(([i, owner, next]) => [i % ring.ringSize, { owner, next }] as const));
          const next = withClaims(ring, changes);
          if (changes.size === 0) expect(next).toBe(ring);
          next.partitions.forEach((c, i) => {
            const ch = changes.get(i);
            if (ch) expect(c).toEqual({ owner: ch.owner, next: ch.next, epoch: ring.partitions[i]!.epoch + 1 });
            else expect(c).toBe(ring.partitions[i]);
          });
          expect(fp(mergeRings(ring, next))).toBe(fp(next));
          expect(fp(mergeRings(next, ring))).toBe(fp(next));
          expect(mergeRings(next, ring)).toBe(next);
          expect(next.members).toBe(ring.members);
        },
      ),
      RUNS,
    );
  });

  it('ringFingerprint is equal exactly for rings with equal cluster id, members and claims', () => {
    fc.assert(
      fc.property(rings(2, ['c']), ([a, b]) => {
        const norm = (r: RingState) =>
          JSON.stringify([
            r.clusterId,
            Object.keys(r.members)
              .sort()
              .map((k) => r.members[k]),
            r.partitions.map((c) => [c.owner, c.next, c.epoch]),
          ]);
        expect(fp(a!) === fp(b!)).toBe(norm(a!) === norm(b!));
      }),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------- preference lists

/** A ring whose owners are drawn from the first `owning` of `valid` members; some non-active members own nothing. */
const prefCaseArb = fc
  .record({
    ringSize: fc.integer({ min: 8, max: 64 }),
    valid: fc.integer({ min: 1, max: 8 }),
    owningFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    inactive: fc.subarray(['joining', 'exiting', 'downed', 'removed'] as const),
    nVal: fc.integer({ min: 1, max: 5 }),
    seed: fc.nat(),
  })
  .chain((c) => {
    const owning = Math.max(1, Math.round(c.owningFrac * c.valid));
    const names = Array.from({ length: c.valid }, (_, i) => `m${i}`);
    return fc
      .tuple(
        fc.array(fc.constantFrom(...names.slice(0, owning)), { minLength: c.ringSize, maxLength: c.ringSize }),
        fc.array(fc.option(fc.constantFrom(...names), { nil: null, freq: 2 }), {
          minLength: c.ringSize,
          maxLength: c.ringSize,
        }),
      )
      .map(([owners, nexts]) => {
        const members: Record<string, Member> = {};
        for (const n of names) members[n] = { name: n, addr: n, gen: 1, status: 'valid' };
        c.inactive.forEach((status, i) => (members[`x${i}`] = { name: `x${i}`, addr: `x${i}`, gen: 1, status }));
        const ring: RingState = {
          clusterId: 'c',
          ringSize: c.ringSize,
          members,
          partitions: owners.map((owner, i) => ({ owner, next: nexts[i]!, epoch: 1 })),
        };
        return { ring, nVal: c.nVal };
      });
  });

/** Reference: distinct values met walking clockwise from p, at most `limit`. */
function clockwiseDistinct(values: readonly string[], p: number, limit: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[(p + i) % values.length]!;
    if (v !== '' && !out.includes(v) && out.length < limit) out.push(v);
  }
  return out;
}

describe('computePreferenceLists', () => {
  it('primaries[p] has min(nVal, distinct owners) distinct nodes, starts with the owner of p and follows clockwise order', () => {
    fc.assert(
      fc.property(prefCaseArb, ({ ring, nVal }) => {
        const prefs = computePreferenceLists(ring, nVal);
        const owners = ring.partitions.map((c) => c.owner);
        const distinct = new Set(owners).size;
        const q = ring.ringSize;
        expect(prefs.primaries).toHaveLength(q);
        const errs: string[] = [];
        for (let p = 0; p < q; p++) {
          const prim = prefs.primaries[p]!;
          if (prim.length !== Math.min(nVal, distinct)) errs.push(`p${p}: ${prim.length} primaries`);
          if (new Set(prim).size !== prim.length) errs.push(`p${p}: duplicate primary`);
          if (prim[0] !== owners[p]) errs.push(`p${p}: starts with ${prim[0]}, owner is ${owners[p]}`);
          // Clockwise: each primary is first met after the previous one, and every node met
          // before the last primary is a primary.
          const firstAt = prim.map((n) => {
            for (let i = 0; i < q; i++) if (owners[(p + i) % q] === n) return i;
            return -1;
          });
          for (let k = 1; k < firstAt.length; k++)
            if (!(firstAt[k]! > firstAt[k - 1]!)) errs.push(`p${p}: ${prim[k]} not clockwise after ${prim[k - 1]}`);
          const last = firstAt[firstAt.length - 1] ?? -1;
          for (let i = 0; i <= last; i++)
            if (!prim.includes(owners[(p + i) % q]!)) errs.push(`p${p}: skipped ${owners[(p + i) % q]}`);
          if (prim.join() !== clockwiseDistinct(owners, p, nVal).join())
            errs.push(`p${p}: ${prim.join()} differs from the reference`);
        }
        expect(errs).toEqual([]);
      }),
      PREF_RUNS,
    );
  });

  it('fallbacks[p] contains no primary of p, no non-active member and no duplicate', () => {
    fc.assert(
      fc.property(prefCaseArb, ({ ring, nVal }) => {
        const prefs = computePreferenceLists(ring, nVal);
        const errs: string[] = [];
        for (let p = 0; p < ring.ringSize; p++) {
          const fb = prefs.fallbacks[p]!;
          if (new Set(fb).size !== fb.length) errs.push(`p${p}: duplicate fallback`);
          for (const n of fb) {
            if (prefs.primaries[p]!.includes(n)) errs.push(`p${p}: primary ${n} is also a fallback`);
            if (!isActive(ring.members[n])) errs.push(`p${p}: fallback ${n} is not active`);
          }
        }
        expect(errs).toEqual([]);
      }),
      PREF_RUNS,
    );
  });

  it('fallbacks[p] excludes a non-active member even when it still owns partitions (a downed owner)', () => {
    fc.assert(
      fc.property(prefCaseArb, fc.nat(), ({ ring, nVal }, k) => {
        const names = Object.keys(ring.members).filter((n) => ring.members[n]!.status === 'valid');
        const victim = names[k % names.length]!;
        const downed: RingState = {
          ...ring,
          members: { ...ring.members, [victim]: { ...ring.members[victim]!, status: 'downed' } },
        };
        const prefs = computePreferenceLists(downed, nVal);
        const owners = ring.partitions.map((c) => c.owner);
        const errs: string[] = [];
        for (let p = 0; p < ring.ringSize; p++) {
          if (prefs.fallbacks[p]!.includes(victim)) errs.push(`p${p}: downed ${victim} is a fallback`);
          // Primaries are about ownership, not status.
          if (prefs.primaries[p]!.join() !== clockwiseDistinct(owners, p, nVal).join())
            errs.push(`p${p}: primaries changed`);
        }
        expect(errs).toEqual([]);
      }),
      PREF_RUNS,
    );
  });

  it('with at least nVal distinct owners, primaries then fallbacks list every owner and every active member exactly once', () => {
    fc.assert(
      fc.property(prefCaseArb, ({ ring, nVal }) => {
        fc.pre(new Set(ring.partitions.map((c) => c.owner)).size >= nVal);
        const prefs = computePreferenceLists(ring, nVal);
        const everyone = new Set([
          ...ring.partitions.map((c) => c.owner),
          ...Object.keys(ring.members).filter((n) => isActive(ring.members[n])),
        ]);
        for (let p = 0; p < ring.ringSize; p++) {
          const list = [...prefs.primaries[p]!, ...prefs.fallbacks[p]!];
          expect(new Set(list).size).toBe(list.length);
          expect(new Set(list)).toEqual(everyone);
        }
      }),
      PREF_RUNS,
    );
  });

  // Regression: fallbacks were cut at nVal, so with fewer than nVal owners the first
  // active non-owners (joiners just promoted) were in neither list.
  it('every active member is in primaries[p] or fallbacks[p], also with fewer distinct owners than nVal', () => {
    fc.assert(
      fc.property(prefCaseArb, ({ ring, nVal }) => {
        const prefs = computePreferenceLists(ring, nVal);
        const active = Object.keys(ring.members).filter((n) => isActive(ring.members[n]));
        for (let p = 0; p < ring.ringSize; p++) {
          const list = [...prefs.primaries[p]!, ...prefs.fallbacks[p]!];
          for (const n of active) expect(list, `partition ${p}`).toContain(n);
        }
      }),
      { ...PREF_RUNS, seed: 42 },
    );
  });

  it('right after two joiners are promoted to valid (transfers still pending), they are fallbacks of every partition', () => {
    // One founder owns everything; n2 and n3 were just made valid, with moves planned via `next`.
    let ring = bootstrapRing('c', 8, { name: 'n1', addr: 'n1' });
    ring = {
      ...ring,
      members: {
        ...ring.members,
        n2: { name: 'n2', addr: 'n2', gen: 1, status: 'valid' },
        n3: { name: 'n3', addr: 'n3', gen: 1, status: 'valid' },
      },
    };
    const prefs = computePreferenceLists(ring, 3);
    expect(prefs.primaries[0]).toEqual(['n1']);
    // Sloppy quorum targets are primaries then fallbacks: with n1 down nothing is reachable.
    expect(prefs.fallbacks[0]).toEqual(['n2', 'n3']); // actually []
  });

  it('planned[p] is the primaries computed with next in place of owner wherever next is set', () => {
    fc.assert(
      fc.property(prefCaseArb, ({ ring, nVal }) => {
        const prefs = computePreferenceLists(ring, nVal);
        const planned = ring.partitions.map((c) => c.next ?? c.owner);
        for (let p = 0; p < ring.ringSize; p++) {
          expect(prefs.planned[p]).toEqual(clockwiseDistinct(planned, p, nVal));
          if (ring.partitions[p]!.next !== null) expect(prefs.planned[p]![0]).toBe(ring.partitions[p]!.next);
        }
      }),
      PREF_RUNS,
    );
  });

  it('with no pending transfers planned equals primaries', () => {
    fc.assert(
      fc.property(prefCaseArb, ({ ring, nVal }) => {
        const settled: RingState = { ...ring, partitions: ring.partitions.map((c) => ({ ...c, next: null })) };
        const prefs = computePreferenceLists(settled, nVal);
        expect(prefs.planned).toEqual(prefs.primaries);
      }),
      PREF_RUNS,
    );
  });

  it('unowned partitions (emptyRing) have no primaries', () => {
    const prefs = computePreferenceLists(emptyRing(8), 3);
    for (let p = 0; p < 8; p++) expect(prefs.primaries[p]).toEqual([]);
  });
});
