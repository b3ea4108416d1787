// Zone-aware claim: with ZONE set on the nodes, the N replicas of a key go to N distinct
// zones, as Cassandra's NetworkTopologyStrategy puts a data centre's replicas on distinct
// racks, so losing a whole zone (a power or network domain) loses at most one replica of
// every key.
//
// WHEN IT APPLIES: nVal >= 2, some member has a zone, and the members span at least nVal
// zones (members without a zone count as one implicit zone). Otherwise the claim is exactly
// the claim without zones (claim.ts): with fewer zones than replicas, some key must keep two
// replicas in one zone whatever the layout, and the node-distinct layout is the best
// available (the node logs it: see zoneShortfall).
//
// TWO LEVELS, each reusing the node claim of claim.ts:
//   1. Zones. The node claim run over the zones as if each zone were one member: every zone
//      gets floor(Q/Z) or ceil(Q/Z) partitions, any nVal consecutive partitions lie in distinct
//      zones whenever ceil(Q/Z) <= floor(Q/nVal) (otherwise at most nVal-1 windows at the seam,
//      claimGuarantee(Q, nVal, Z)), and few partitions change zone. Zones get equal shares
//      whatever their node counts: with Z == nVal this is forced (every key has one replica
//      in every zone), and it is what NetworkTopologyStrategy gives too; nodes in a smaller
//      zone then own more. Deploy the same number of nodes per zone for equal nodes.
//   2. Nodes within each zone. The zone's partitions are shared out among its nodes,
//      floor or ceil of (zone's partitions / zone's nodes) each, keeping current owners up to
//      their target (targets ceil for the nodes owning the most now), the rest dealt in ring
//      order to the node needing the most that owns no partition within nVal-1 (if any).
//   Since zone-distinct windows are node-distinct, the node claim's window guarantee holds too.
//
// MOVES: a node joining an existing zone changes no partition's zone (level 1 is a fixed
// point), and takes about (zone's partitions)/(zone's nodes + 1) partitions from its own zone's
// nodes only. A new zone takes about Q/(Z+1) partitions, from every zone.
//
// The walk (preference.ts) picks the first nVal owners in distinct zones, so preference lists
// stay zone-distinct even across the seam windows the claim could not make distinct.
import type { ClaimInput } from './claim';

/** The zone of members without one. */
export const implicitZone = '';

/** Zone of each member, and the distinct zones, when the zone-aware claim applies; else null. */
export interface ZoneLayout {
  readonly zoneOf: ReadonlyMap<string, string>;
  /** Distinct zones, sorted. */
  readonly zones: readonly string[];
}

/**
 * The zone layout the claim uses for these members, or null when zones do not apply (nVal < 2,
 * no member has a zone, or fewer than nVal zones).
 */
export function zoneLayout(
  members: readonly string[],
  zones: Readonly<Record<string, string | undefined>> | undefined,
  nVal: number,
): ZoneLayout | null {
  if (zones === undefined || nVal < 2) return null;
  const zoneOf = new Map<string, string>();
  let anyZone = false;
  for (const m of members) {
    const z = Object.hasOwn(zones, m) ? zones[m] : undefined;
    if (z !== undefined && z !== implicitZone) anyZone = true;
    zoneOf.set(m, z ?? implicitZone);
  }
  const distinct = [...new Set(zoneOf.values())].sort();
  if (!anyZone || distinct.length < nVal) return null;
  return { zoneOf, zones: distinct };
}

/**
 * Members have zones but fewer than nVal distinct ones: the claim ignores zones (some keys
 * keep two replicas in one zone). Returns the zone count then, else null.
 */
export function zoneShortfall(
  members: readonly string[],
  zones: Readonly<Record<string, string | undefined>>,
  nVal: number,
): number | null {
  if (nVal < 2) return null;
  const set = new Set(members.map((m) => zones[m] ?? implicitZone));
  const anyZone = members.some((m) => (zones[m] ?? implicitZone) !== implicitZone);
  return anyZone && set.size < nVal ? set.size : null;
}

/**
 * Start positions i whose nVal consecutive partitions (cyclically) are not in distinct zones.
 * Unowned partitions never make a window violate; owners missing from zoneOf are in the
 * implicit zone.
 */
export function zoneWindowViolations(
  owners: readonly (string | null)[],
  nVal: number,
  zoneOf: ReadonlyMap<string, string>,
): number {
  return windowRepeats(
    owners.map((o) => (o === null ? null : (zoneOf.get(o) ?? implicitZone))),
    nVal,
  );
}

/** Start positions whose window of `w` labels (mod Q) repeats a non-null label (claim.ts windowViolations). */
export function windowRepeats(labels: readonly (string | null)[], w: number): number {
  const q = labels.length;
  if (w <= 1 || q === 0) return 0;
  let bad = 0;
  const seen = new Set<string>();
  for (let i = 0; i < q; i++) {
    seen.clear();
    for (let j = 0; j < w; j++) {
      const o = labels[(i + j) % q] ?? null;
      if (o === null) continue;
      if (seen.has(o)) {
        bad++;
        break;
      }
      seen.add(o);
    }
  }
  return bad;
}

/** The zone-aware claim (see the top of this file); claimNodes is the claim without zones. */
export function claimByZone(
  input: ClaimInput,
  layout: ZoneLayout,
  claimNodes: (input: ClaimInput) => string[],
): string[] {
  const { ringSize: q, nVal } = input;
  if (!Number.isInteger(q) || q < 1) throw new RangeError(`claimPartitions: bad ringSize ${q}`);
  const current = input.current;
  if (current !== null && current.length !== q) {
    throw new RangeError(`claimPartitions: current has ${current.length} partitions, ringSize is ${q}`);
  }
  const { zoneOf, zones } = layout;
  const ownerNow = (p: number): string | null => {
    const o = current?.[p] ?? null;
    return o !== null && zoneOf.has(o) ? o : null;
  };
  // Level 1: a zone per partition.
  const zoneNow = Array.from({ length: q }, (_, p) => {
    const o = ownerNow(p);
    return o === null ? null : zoneOf.get(o)!;
  });
  const zoneSeq = claimNodes({ ringSize: q, nVal, members: zones, current: current === null ? null : zoneNow });
  // Level 2: the nodes of each zone share its partitions.
  const out = new Array<string>(q);
  const nodesIn = new Map<string, string[]>(zones.map((z) => [z, []]));
  for (const m of [...zoneOf.keys()].sort()) nodesIn.get(zoneOf.get(m)!)!.push(m);
  for (const z of zones) {
    const nodes = nodesIn.get(z)!;
    const parts: number[] = [];
    for (let p = 0; p < q; p++) if (zoneSeq[p] === z) parts.push(p);
    shareWithinZone(parts, nodes, ownerNow, nVal, out);
  }
  return out;
}

/**
 * Assign `parts` (ascending) to `nodes` (sorted), balanced, keeping current owners up to
 * their targets, into out; the rest go in ring order to the node with the largest remaining
 * need that owns no partition closer than nVal (lowest index on ties; any node if none is free).
 */
function shareWithinZone(
  parts: readonly number[],
  nodes: readonly string[],
  ownerNow: (p: number) => string | null,
  nVal: number,
  out: string[],
): void {
  const k = nodes.length;
  const index = new Map(nodes.map((m, i) => [m, i] as const));
  const held = new Int32Array(k);
  const indexNow = (p: number): number | undefined => {
    const o = ownerNow(p);
    return o === null ? undefined : index.get(o);
  };
  for (const p of parts) {
    const i = indexNow(p);
    if (i !== undefined) held[i] = held[i]! + 1;
  }
  const base = Math.floor(parts.length / k);
  const order = Array.from({ length: k }, (_, i) => i).sort((a, b) => held[b]! - held[a]! || a - b);
  const need = new Int32Array(k).fill(base);
  for (let j = 0; j < parts.length % k; j++) need[order[j]!] = base + 1;
  const open: number[] = [];
  for (const p of parts) {
    const i = indexNow(p);
    if (i !== undefined && need[i]! > 0) {
      out[p] = nodes[i]!;
      need[i] = need[i]! - 1;
    } else open.push(p);
  }
  const q = out.length;
  const reach = Math.min(nVal - 1, Math.floor(q / 2));
  const nearby = (p: number, m: string): boolean => {
    for (let d = 1; d <= reach; d++) {
      if (out[(p + d) % q] === m || out[(((p - d) % q) + q) % q] === m) return true;
    }
    return false;
  };
  for (const p of open) {
    let best = -1;
    let bestFree = false;
    for (let i = 0; i < k; i++) {
      if (need[i]! <= 0) continue;
      const free = !nearby(p, nodes[i]!);
      if (best < 0 || (free && !bestFree) || (free === bestFree && need[i]! > need[best]!)) {
        best = i;
        bestFree = free;
      }
    }
    out[p] = nodes[best]!;
    need[best] = need[best]! - 1;
  }
}
