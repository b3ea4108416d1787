// The scale benchmark's harness (ring/sim/scale.ts) at a small size point: the same code
// `npm run bench:ring-scale` runs at 5 to 256 nodes. Structure only, never timing: every ring
// change reaches every node, joins move about Q/(n+1) partitions, bytes are counted, a crash is
// detected by every observer. Also: the O(Q * n) preference lists equal the plain clockwise walk.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { initHash } from '../../ring/hash';
import { isActive, type RingState } from '../../ring/membership/ringState';
import { computePreferenceLists, walk } from '../../ring/placement/preference';
import { measureRingScale, type ScalePoint } from '../../ring/sim';

beforeAll(async () => {
  await initHash();
});

describe('ring scale harness, n=10, Q=256', () => {
  let point: ScalePoint;
  beforeAll(() => {
    point = measureRingScale({ nodes: 10, ringSize: 256, steadyMs: 3_000, joins: 2, lossMs: 10_000 });
  });

  it('counts the bytes of membership messages at steady state, and no ring is sent while settled', () => {
    const b = point.steady.bytesPerNodePerSec;
    expect(b.gossip).toBeGreaterThan(0);
    expect(b.liveness).toBeGreaterThan(0);
    expect(b.membership).toBe(Math.round((b.gossip + b.liveness) * 10) / 10);
    expect(b.total).toBeGreaterThanOrEqual(b.membership);
    expect(point.steady.byKind.ping!.messages).toBeGreaterThan(0);
    expect(point.steady.byKind.gossip!.messages).toBeGreaterThan(0);
    // A settled cluster's digests match: a digest is a hash, far smaller than the ring of 256 claims.
    const perGossip = point.steady.byKind.gossip!.bytes / point.steady.byKind.gossip!.messages;
    expect(perGossip).toBeLessThan(256);
  });

  it('every ring change reaches every node', () => {
    // Two joins (joiner known, joiner valid with claims) and a leave (leaving, its plan).
    expect(point.propagation.changes).toBe(6);
    expect(point.propagation.missing).toBe(0);
    expect(point.propagation.samples).toBeGreaterThanOrEqual(6 * 10);
  });

  it('joins move about Q/(n+1) partitions, a leave about what the leaver owned, and every step settles', () => {
    expect(point.changes.map((c) => c.step)).toEqual(['join n10', 'join n11', 'leave n1']);
    for (const c of point.changes) {
      expect(c.settleMs).not.toBeNull();
      expect(c.moved).toBeGreaterThan(0);
      expect(c.ratio).toBeLessThanOrEqual(1.5);
      expect(c.planTransfers).toBeGreaterThan(0);
      expect(c.replicaCopies).toBeGreaterThanOrEqual(c.planTransfers);
    }
  });

  it('a crash is declared dead by every observer, and a healed partition ends with everyone alive', () => {
    expect(point.crashToDead.missing).toBe(0);
    expect(point.crashToDead.samples).toBeGreaterThanOrEqual(9);
    expect(point.crashToDead.p50Ms).toBeGreaterThan(0);
    expect(point.partition.allAliveAfterHealMs).not.toBeNull();
    expect(point.loss.falseSuspect).toBeGreaterThanOrEqual(point.loss.falseDead);
  });
});

/** The plain definition: the distinct owners clockwise from p, then the active members owning nothing. */
function referenceLists(ring: RingState, nVal: number) {
  const owners = ring.partitions.map((c) => c.owner);
  const active = Object.values(ring.members)
    .filter(isActive)
    .map((m) => m.name)
    .sort();
  const q = owners.length;
  return owners.map((_, p) => {
    const all = walk(owners, p, q);
    const first = all.slice(0, nVal);
    for (const name of active) if (!all.includes(name)) all.push(name);
    return { first, fallbacks: all.slice(first.length).filter((n) => isActive(ring.members[n])) };
  });
}

it('preference lists equal the plain clockwise walk, for any ring', () => {
  const names = ['a', 'b', 'c', 'd', 'e', 'f'];
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom('', ...names), { minLength: 8, maxLength: 8 }),
      fc.array(fc.constantFrom('valid', 'leaving', 'joining', 'downed'), { minLength: 6, maxLength: 6 }),
      fc.integer({ min: 1, max: 4 }),
      (owners, statuses, nVal) => {
        const ring: RingState = {
          clusterId: 'c',
          ringSize: owners.length,
          members: Object.fromEntries(
            names.map((name, i) => [name, { name, addr: name, gen: 1, status: statuses[i] as 'valid' }]),
          ),
          partitions: owners.map((owner, i) => ({ owner, next: i % 3 === 0 ? 'a' : null, epoch: 1 })),
        };
        const fast = computePreferenceLists(ring, nVal);
        const ref = referenceLists(ring, nVal);
        ref.forEach((r, p) => {
          expect(fast.primaries[p]).toEqual(r.first);
          expect(fast.fallbacks[p]).toEqual(r.fallbacks);
        });
      },
    ),
    { numRuns: 300 },
  );
});
