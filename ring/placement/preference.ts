// Preference lists: for a partition, the N distinct nodes found walking the ring clockwise
// from it (the primaries), then every other node in the order met (the fallbacks). They
// are computed once per ring change and shared by all requests until the next one.
import { isActive, type RingState } from '../membership/ringState';

export interface PreferenceLists {
  /** primaries[p]: the distinct owners met walking clockwise from p, at most nVal. */
  readonly primaries: readonly (readonly string[])[];
  /** fallbacks[p]: the remaining active nodes in clockwise order, then nodes owning nothing. */
  readonly fallbacks: readonly (readonly string[])[];
  /** planned[p]: the primaries once pending transfers complete (owner replaced by next). */
  readonly planned: readonly (readonly string[])[];
}

/** The first `limit` distinct owners met walking clockwise from partition `start`. */
export function walk(owners: readonly string[], start: number, limit: number): string[] {
  const out: string[] = [];
  const q = owners.length;
  for (let i = 0; i < q && out.length < limit; i++) {
    const o = owners[(start + i) % q]!;
    if (o !== '' && !out.includes(o)) out.push(o);
  }
  return out;
}

export function computePreferenceLists(ring: RingState, nVal: number): PreferenceLists {
  const owners = ring.partitions.map((c) => c.owner);
  const plannedOwners = ring.partitions.map((c) => c.next ?? c.owner);
  const active = Object.values(ring.members)
    .filter(isActive)
    .map((m) => m.name)
    .sort();
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
    const first = all.slice(0, nVal);
    primaries[p] = first;
    const seen = new Set(all);
    for (const name of active) if (!seen.has(name)) all.push(name);
    // Cut at the primaries actually found: with fewer than N owners, members owning nothing yet are fallbacks.
    fallbacks[p] = all.slice(first.length).filter((n) => isActive(ring.members[n]));
    planned[p] = walk(plannedOwners, p, nVal);
  }
  return { primaries, fallbacks, planned };
}
