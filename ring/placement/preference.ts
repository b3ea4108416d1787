// Preference lists: for a partition, the N distinct nodes found walking the ring clockwise
// from it (the primaries), then every other node in the order met (the fallbacks). They
// are computed once per ring change and shared by all requests until the next one. With
// zones (see zones.ts) the primaries are the first N owners met in N distinct zones.
import { isActive, type RingState } from '../membership/ringState';
import { implicitZone } from './zones';

export interface PreferenceLists {
  /** primaries[p]: the distinct owners met walking clockwise from p, at most nVal (in distinct zones: zoneOf). */
  readonly primaries: readonly (readonly string[])[];
  /** fallbacks[p]: the remaining active nodes in clockwise order, then nodes owning nothing. */
  readonly fallbacks: readonly (readonly string[])[];
  /** planned[p]: the primaries once pending transfers complete (owner replaced by next). */
  readonly planned: readonly (readonly string[])[];
  /**
   * Zone of every member when the lists are zone-aware (placementZones), else undefined. A
   * coordinator replacing an unreachable primary takes a fallback in that primary's zone first.
   */
  readonly zoneOf: ReadonlyMap<string, string> | undefined;
}

/**
 * The first `limit` distinct owners met walking clockwise from partition `start`. With
 * zoneOf, owners in a zone already picked are skipped (nodes missing from it are in the
 * implicit zone); if the ring has fewer zones than `limit`, distinct nodes fill the rest.
 */
export function walk(
  owners: readonly string[],
  start: number,
  limit: number,
  zoneOf?: ReadonlyMap<string, string>,
): string[] {
  const out: string[] = [];
  const q = owners.length;
  if (zoneOf !== undefined) {
    const zones = new Set<string>();
    for (let i = 0; i < q && out.length < limit; i++) {
      const o = owners[(start + i) % q]!;
      if (o === '' || out.includes(o)) continue;
      const z = zoneOf.get(o) ?? implicitZone;
      if (zones.has(z)) continue;
      zones.add(z);
      out.push(o);
    }
  }
  for (let i = 0; i < q && out.length < limit; i++) {
    const o = owners[(start + i) % q]!;
    if (o !== '' && !out.includes(o)) out.push(o);
  }
  return out;
}

/**
 * Zone of every member, when preference lists spread over zones: nVal >= 2, some member has
 * a zone, and the partition owners span at least nVal zones (the same rule as the claim's,
 * zoneLayout, applied to the owners). Otherwise undefined: the plain walk.
 */
export function placementZones(ring: RingState, nVal: number): ReadonlyMap<string, string> | undefined {
  if (nVal < 2) return undefined;
  const members = Object.values(ring.members);
  if (!members.some((m) => m.zone !== undefined && m.zone !== implicitZone)) return undefined;
  const zoneOf = new Map(members.map((m) => [m.name, m.zone ?? implicitZone] as const));
  const zones = new Set<string>();
  for (const c of ring.partitions) if (c.owner !== '') zones.add(zoneOf.get(c.owner) ?? implicitZone);
  return zones.size >= nVal ? zoneOf : undefined;
}

export function computePreferenceLists(ring: RingState, nVal: number): PreferenceLists {
  const owners = ring.partitions.map((c) => c.owner);
  const plannedOwners = ring.partitions.map((c) => c.next ?? c.owner);
  const active = Object.values(ring.members)
    .filter(isActive)
    .map((m) => m.name)
    .sort();
  const zoneOf = placementZones(ring, nVal);
  const q = ring.partitions.length;
  const primaries: string[][] = new Array<string[]>(q);
  const fallbacks: string[][] = new Array<string[]>(q);
  const planned: string[][] = new Array<string[]>(q);
  // The distinct owners met walking clockwise from p (walk(owners, p, q)) for every p in
  // O(Q * n), not O(Q^2 * n): walking p backwards, the order from p is owners[p] followed by
  // the order from p + 1 without it (the order from Q is the order from 0).
  let order = walk(owners, 0, q);
  for (let p = q - 1; p >= 0; p--) {
    const o = owners[p]!;
    if (o !== '' && order[0] !== o) order = [o, ...order.filter((n) => n !== o)];
    const all = [...order];
    const first = zoneOf === undefined ? all.slice(0, nVal) : walk(owners, p, nVal, zoneOf);
    primaries[p] = first;
    const seen = new Set(all);
    for (const name of active) if (!seen.has(name)) all.push(name);
    // Without the primaries actually found: with fewer than N owners, members owning nothing yet are fallbacks.
    fallbacks[p] = all.filter((n) => !first.includes(n) && isActive(ring.members[n]));
    planned[p] = walk(plannedOwners, p, nVal, zoneOf);
  }
  return { primaries, fallbacks, planned, zoneOf };
}
