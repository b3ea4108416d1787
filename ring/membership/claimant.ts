// The claimant: one member, the lowest-named active member this node sees up, plans every
// ring transition (riak_core's claimant). It promotes joiners, downs members that stayed
// dead past the auto-down timeout, and assigns partitions with the balanced claim. It acts
// only while it sees a majority of the active members, so the two sides of a partition
// never both reassign. Members' zones (ZONE) come from the ring, so every claimant sees
// the same ones. Moves start as pending transfers (owner stays, `next` set); only
// the partitions of members that are gone are reassigned at once.
import { claimPartitions } from '../placement/claim';
import { isActive, memberZones, withClaims, type Member, type RingState } from './ringState';

export interface ClaimantView {
  self: string;
  nVal: number;
  now: number;
  isUp(name: string): boolean;
  deadSince(name: string): number | undefined;
  /** 0 disables auto-down. */
  autoDownAfterMs: number;
}

export function claimantOf(ring: RingState, isUp: (name: string) => boolean): string | undefined {
  const candidates = Object.values(ring.members)
    .filter((m) => isActive(m) && isUp(m.name))
    .map((m) => m.name)
    .sort();
  return candidates[0];
}

export function hasMajority(ring: RingState, isUp: (name: string) => boolean): boolean {
  const active = Object.values(ring.members).filter(isActive);
  const up = active.filter((m) => isUp(m.name)).length;
  return up >= Math.floor(active.length / 2) + 1;
}

/** The next ring, or the same object when nothing needs to change. */
export function planRing(ring: RingState, view: ClaimantView): RingState {
  if (claimantOf(ring, view.isUp) !== view.self || !hasMajority(ring, view.isUp)) return ring;
  let next = ring;
  const setStatus = (m: Member, status: Member['status']) => {
    next = { ...next, members: { ...next.members, [m.name]: { ...m, status } } };
  };
  for (const m of Object.values(ring.members)) if (m.status === 'joining' && view.isUp(m.name)) setStatus(m, 'valid');
  // Auto-down one member at a time, and none while a downed member has not come back:
  // replacing two of a partition's N primaries in one step could lose a compare-and-set
  // value only they held (Paxos cannot survive losing a majority of its acceptors).
  const anyDowned = Object.values(ring.members).some((m) => m.status === 'downed');
  if (view.autoDownAfterMs > 0 && !anyDowned) {
    const overdue = Object.values(ring.members)
      .filter((m) => isActive(m) && m.name !== view.self)
      .filter((m) => {
        const since = view.deadSince(m.name);
        return since !== undefined && view.now - since >= view.autoDownAfterMs;
      })
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    if (overdue[0]) setStatus(overdue[0], 'downed');
  }
  const eligible = Object.values(next.members)
    .filter((m) => m.status === 'valid')
    .map((m) => m.name);
  if (eligible.length === 0) return next;
  const planned = next.partitions.map((c) => (isActive(next.members[c.owner]) ? (c.next ?? c.owner) : null));
  const target = claimPartitions({
    ringSize: next.ringSize,
    nVal: view.nVal,
    members: eligible,
    current: planned,
    zones: memberZones(next),
  });
  const changes = new Map<number, { owner: string; next: string | null }>();
  next.partitions.forEach((c, q) => {
    const t = target[q]!;
    if (!isActive(next.members[c.owner])) changes.set(q, { owner: t, next: null });
    else if (t === c.owner) {
      if (c.next !== null) changes.set(q, { owner: c.owner, next: null });
    } else if (c.next !== t) changes.set(q, { owner: c.owner, next: t });
  });
  return withClaims(next, changes);
}
