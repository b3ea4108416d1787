// Tests for the zone-aware claim (ring/placement/zones.ts) and zone-aware preference lists:
// zone-distinct windows for 3..12 nodes over 3-4 zones, balance within every zone, bounded
// moves on joins, and the fallback to the claim without zones.
import { describe, expect, it } from 'vitest';
import { claimGuarantee, claimPartitions, countMoves, ownershipCounts } from '../../ring/placement/claim';
import { computePreferenceLists, walk } from '../../ring/placement/preference';
import { zoneLayout, zoneShortfall, zoneWindowViolations } from '../../ring/placement/zones';
import type { Member, RingState } from '../../ring/membership/ringState';

const ZONE_NAMES = ['za', 'zb', 'zc', 'zd'];

/** n nodes dealt round-robin over `zoneCount` zones: n1 in za, n2 in zb, ... */
function zoned(n: number, zoneCount: number): { members: string[]; zones: Record<string, string> } {
  const members = Array.from({ length: n }, (_, i) => `n${i + 1}`);
  const zones: Record<string, string> = {};
  members.forEach((m, i) => (zones[m] = ZONE_NAMES[i % zoneCount]!));
  return { members, zones };
}

function zoneMap(zones: Record<string, string>): Map<string, string> {
  return new Map(Object.entries(zones));
}

/** Every member within a zone owns floor or ceil of the zone's share; zones own floor/ceil of Q/Z. */
function expectBalancedWithinZones(owners: readonly string[], zones: Record<string, string>, members: string[]): void {
  const counts = ownershipCounts(owners);
  const zoneNames = [...new Set(members.map((m) => zones[m]!))];
  for (const z of zoneNames) {
    const inZone = members.filter((m) => zones[m] === z);
    const total = inZone.reduce((s, m) => s + (counts.get(m) ?? 0), 0);
    expect(total).toBeGreaterThanOrEqual(Math.floor(owners.length / zoneNames.length));
    expect(total).toBeLessThanOrEqual(Math.ceil(owners.length / zoneNames.length));
    for (const m of inZone) {
      expect(counts.get(m) ?? 0).toBeGreaterThanOrEqual(Math.floor(total / inZone.length));
      expect(counts.get(m) ?? 0).toBeLessThanOrEqual(Math.ceil(total / inZone.length));
    }
  }
}

/** Grow a ring by joins n1, n1..n2, ..., with zones dealt round-robin. */
function grow(q: number, nVal: number, upTo: number, zoneCount: number): string[] {
  let current: string[] | null = null;
  for (let k = 1; k <= upTo; k++) {
    const { members, zones } = zoned(k, zoneCount);
    current = claimPartitions({ ringSize: q, nVal, members, zones, current });
  }
  return current!;
}

function ringOf(owners: readonly string[], zones: Record<string, string | undefined>): RingState {
  const members: Record<string, Member> = {};
  for (const name of new Set(owners)) {
    const zone = zones[name];
    members[name] = { name, addr: name, gen: 1, status: 'valid', ...(zone !== undefined ? { zone } : {}) };
  }
  return {
    clusterId: 'c',
    ringSize: owners.length,
    members,
    partitions: owners.map((owner) => ({ owner, next: null, epoch: 1 })),
  };
}

describe('zone layout', () => {
  it('applies with at least nVal zones and some member zoned, counting the unzoned as one zone', () => {
    expect(zoneLayout(['a', 'b', 'c'], { a: 'x', b: 'y', c: 'z' }, 3)?.zones).toEqual(['x', 'y', 'z']);
    expect(zoneLayout(['a', 'b', 'c'], { a: 'x', b: 'y' }, 3)?.zones).toEqual(['', 'x', 'y']);
    expect(zoneLayout(['a', 'b', 'c'], { a: 'x', b: 'y', c: 'y' }, 3)).toBeNull();
    expect(zoneLayout(['a', 'b', 'c'], {}, 3)).toBeNull();
    expect(zoneLayout(['a', 'b', 'c'], undefined, 3)).toBeNull();
    expect(zoneLayout(['a', 'b', 'c'], { a: 'x', b: 'y', c: 'z' }, 1)).toBeNull();
    expect(zoneShortfall(['a', 'b', 'c'], { a: 'x', b: 'y', c: 'y' }, 3)).toBe(2);
    expect(zoneShortfall(['a', 'b', 'c'], { a: 'x', b: 'y', c: 'z' }, 3)).toBeNull();
    expect(zoneShortfall(['a', 'b', 'c'], {}, 3)).toBeNull();
  });

  it('zoneWindowViolations counts windows whose zones repeat', () => {
    const z = new Map([
      ['a', 'x'],
      ['b', 'x'],
      ['c', 'y'],
    ]);
    expect(zoneWindowViolations(['a', 'c', 'b', 'c'], 2, z)).toBe(0);
    expect(zoneWindowViolations(['a', 'b', 'c', 'c'], 2, z)).toBe(2);
    expect(zoneWindowViolations(['a', null, 'b', 'c'], 2, z)).toBe(0);
  });
});

describe('zone-aware claim', () => {
  it('without zones, or with fewer zones than nVal, gives exactly the claim without zones', () => {
    for (const q of [64, 256]) {
      for (let n = 1; n <= 8; n++) {
        const { members, zones } = zoned(n, 2);
        const plain = claimPartitions({ ringSize: q, nVal: 3, members, current: null });
        expect(claimPartitions({ ringSize: q, nVal: 3, members, zones: {}, current: null })).toEqual(plain);
        expect(claimPartitions({ ringSize: q, nVal: 3, members, zones, current: null })).toEqual(plain);
      }
    }
  });

  it('n = 3..12 nodes over 3 and 4 zones, Q = 64 and 256: zone-distinct windows, balanced within zones', () => {
    for (const q of [64, 256]) {
      for (const zoneCount of [3, 4]) {
        for (let n = zoneCount; n <= 12; n++) {
          const { members, zones } = zoned(n, zoneCount);
          const g = claimGuarantee(q, 3, zoneCount);
          for (const current of [null, grow(q, 3, n - 1, zoneCount)]) {
            const owners = claimPartitions({ ringSize: q, nVal: 3, members, zones, current });
            expect(new Set(owners)).toEqual(new Set(members));
            const v = zoneWindowViolations(owners, 3, zoneMap(zones));
            expect(v).toBeLessThanOrEqual(g.maxViolations);
            if (g.feasible) expect(v).toBe(0);
            expectBalancedWithinZones(owners, zones, members);
            // A fixed point: claiming again with the same members moves nothing.
            expect(claimPartitions({ ringSize: q, nVal: 3, members, zones, current: owners })).toEqual(owners);
            // Preference lists are zone-distinct for every partition, seam included.
            const prefs = computePreferenceLists(ringOf(owners, zones), 3);
            for (const list of prefs.primaries) {
              expect(list).toHaveLength(3);
              expect(new Set(list.map((m) => zones[m])).size).toBe(3);
            }
          }
        }
      }
    }
  });

  it('a join into an existing zone moves only that zone’s partitions, about its share', () => {
    for (const q of [64, 256]) {
      for (const zoneCount of [3, 4]) {
        for (let n = zoneCount; n < 12; n++) {
          const before = grow(q, 3, n, zoneCount);
          const { members, zones } = zoned(n + 1, zoneCount);
          const after = claimPartitions({ ringSize: q, nVal: 3, members, zones, current: before });
          const joiner = members[n]!;
          const zone = zones[joiner]!;
          const zoneNodes = members.filter((m) => zones[m] === zone).length;
          let zonePartitions = 0;
          for (let p = 0; p < q; p++) {
            if (before[p] !== after[p]) {
              // No partition changes zone; only the joiner receives.
              expect(zones[before[p]!]).toBe(zone);
              expect(after[p]).toBe(joiner);
            }
            if (zones[after[p]!] === zone) zonePartitions++;
          }
          expect(countMoves(before, after)).toBe(Math.floor(zonePartitions / zoneNodes));
        }
      }
    }
  });

  it('the join that adds a zone moves about Q/(Z+1), within 1.5x', () => {
    for (const q of [64, 256]) {
      // 6 nodes over 3 zones, then a 7th node in a 4th zone.
      const before = grow(q, 3, 6, 3);
      const { members, zones } = zoned(6, 3);
      members.push('n7');
      zones.n7 = 'zd';
      const after = claimPartitions({ ringSize: q, nVal: 3, members, zones, current: before });
      expect(zoneWindowViolations(after, 3, zoneMap(zones))).toBe(0);
      expectBalancedWithinZones(after, zones, members);
      expect(countMoves(before, after)).toBeLessThanOrEqual(Math.ceil((1.5 * q) / 4));
    }
  });

  it('a leave moves the leaver’s partitions within its zone when the zone keeps nodes', () => {
    const before = grow(64, 3, 9, 3);
    const { members, zones } = zoned(9, 3);
    const rest = members.filter((m) => m !== 'n4');
    const after = claimPartitions({ ringSize: 64, nVal: 3, members: rest, zones, current: before });
    const owned = before.filter((o) => o === 'n4').length;
    expect(countMoves(before, after)).toBe(owned);
    for (let p = 0; p < 64; p++) if (before[p] !== after[p]) expect(zones[after[p]!]).toBe(zones.n4);
    expectBalancedWithinZones(after, zones, rest);
  });

  it('unequal zones: each zone owns an equal share, shared evenly by its nodes', () => {
    const members = ['a1', 'a2', 'a3', 'b1', 'c1', 'c2'];
    const zones: Record<string, string> = { a1: 'a', a2: 'a', a3: 'a', b1: 'b', c1: 'c', c2: 'c' };
    const owners = claimPartitions({ ringSize: 256, nVal: 3, members, zones, current: null });
    expectBalancedWithinZones(owners, zones, members);
    expect(zoneWindowViolations(owners, 3, zoneMap(zones))).toBeLessThanOrEqual(2);
  });
});

describe('zone-aware preference lists', () => {
  it('the walk skips owners in a zone already used, and fills with distinct nodes when zones run out', () => {
    const z = new Map([
      ['a', 'x'],
      ['b', 'x'],
      ['c', 'y'],
      ['d', 'z'],
    ]);
    expect(walk(['a', 'b', 'c', 'd'], 0, 3)).toEqual(['a', 'b', 'c']);
    expect(walk(['a', 'b', 'c', 'd'], 0, 3, z)).toEqual(['a', 'c', 'd']);
    expect(walk(['a', 'b', 'c', 'a'], 0, 3, z)).toEqual(['a', 'c', 'b']);
  });

  it('without zones on the members, preference lists are the plain walk', () => {
    const owners = claimPartitions({ ringSize: 64, nVal: 3, members: ['a', 'b', 'c', 'd'], current: null });
    const prefs = computePreferenceLists(ringOf(owners, {}), 3);
    for (let p = 0; p < 64; p++) expect(prefs.primaries[p]).toEqual(walk(owners, p, 3));
  });

  it('with fewer zones than nVal, preference lists are the plain walk', () => {
    const owners = claimPartitions({ ringSize: 64, nVal: 3, members: ['a', 'b', 'c', 'd'], current: null });
    const prefs = computePreferenceLists(ringOf(owners, { a: 'x', b: 'x', c: 'y', d: 'y' }), 3);
    for (let p = 0; p < 64; p++) expect(prefs.primaries[p]).toEqual(walk(owners, p, 3));
  });
});
