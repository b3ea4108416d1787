// The ring as gossiped state: members and the owner of every partition. It is a
// join-semilattice (every field merges by a max under a total order), so gossip converges
// whatever order states arrive in, and two claimants acting at once cannot wedge the
// cluster: the deterministic winner stands and the loser re-plans from it.

// joining: asked to join, owns nothing yet; valid: owns partitions; leaving: handing
// everything off before exiting; exiting: left cleanly; downed: removed by the auto-down
// timeout (it joins again by itself when it comes back); removed: removed by an operator.
export type MemberStatus = 'joining' | 'valid' | 'leaving' | 'exiting' | 'downed' | 'removed';

const statusRank: Record<MemberStatus, number> = {
  joining: 0,
  valid: 1,
  leaving: 2,
  exiting: 3,
  downed: 4,
  removed: 5,
};

export interface Member {
  readonly name: string;
  readonly addr: string;
  /** Bumped when a removed node joins again, so its new life outranks the old "removed". */
  readonly gen: number;
  readonly status: MemberStatus;
  /**
   * The node's failure domain (ZONE), as it joined; absent: none (such members form one
   * implicit zone). The claim and the preference lists spread replicas over zones (zones.ts).
   */
  readonly zone?: string;
}

export interface PartitionClaim {
  readonly owner: string;
  /** The node this partition is being handed to, or null. */
  readonly next: string | null;
  /** Bumped by every change of owner or next. */
  readonly epoch: number;
}

export interface RingState {
  readonly clusterId: string;
  readonly ringSize: number;
  readonly members: Readonly<Record<string, Member>>;
  readonly partitions: readonly PartitionClaim[];
}

const noClaim: PartitionClaim = { owner: '', next: null, epoch: 0 };

/** A ring a joining node holds before it hears from the cluster: it owns nothing. */
export function emptyRing(ringSize: number): RingState {
  return { clusterId: '', ringSize, members: {}, partitions: Array.from({ length: ringSize }, () => noClaim) };
}

/** The first node of a new cluster owns every partition. */
export function bootstrapRing(
  clusterId: string,
  ringSize: number,
  self: { name: string; addr: string; zone?: string },
): RingState {
  const zone = self.zone !== undefined ? { zone: self.zone } : {};
  return {
    clusterId,
    ringSize,
    members: { [self.name]: { name: self.name, addr: self.addr, gen: 1, status: 'valid', ...zone } },
    partitions: Array.from({ length: ringSize }, () => ({ owner: self.name, next: null, epoch: 1 })),
  };
}

export function compareMembers(a: Member, b: Member): number {
  if (a.gen !== b.gen) return a.gen - b.gen;
  if (a.status !== b.status) return statusRank[a.status] - statusRank[b.status];
  if (a.addr !== b.addr) return a.addr < b.addr ? -1 : 1;
  // Last, so the order stays total (gossip converges) once members carry zones.
  const az = a.zone ?? '';
  const bz = b.zone ?? '';
  return az < bz ? -1 : az > bz ? 1 : 0;
}

export function compareClaims(a: PartitionClaim, b: PartitionClaim): number {
  if (a.epoch !== b.epoch) return a.epoch - b.epoch;
  if (a.owner !== b.owner) return a.owner < b.owner ? -1 : 1;
  const an = a.next ?? '';
  const bn = b.next ?? '';
  return an < bn ? -1 : an > bn ? 1 : 0;
}

/** The join of two rings. Returns `a` itself when `b` adds nothing, so callers can test `merged === a`. */
export function mergeRings(a: RingState, b: RingState): RingState {
  if (a === b) return a;
  if (a.ringSize !== b.ringSize) throw new Error(`ring size mismatch: ${a.ringSize} vs ${b.ringSize}`);
  if (a.clusterId !== b.clusterId && a.clusterId !== '' && b.clusterId !== '')
    throw new Error(`cluster id mismatch: ${a.clusterId} vs ${b.clusterId}`);
  let members: Record<string, Member> | undefined;
  for (const name in b.members) {
    const theirs = b.members[name]!;
    const ours = Object.hasOwn(a.members, name) ? a.members[name] : undefined;
    if (!ours || compareMembers(theirs, ours) > 0) {
      members ??= { ...a.members };
      members[name] = theirs;
    }
  }
  let partitions: PartitionClaim[] | undefined;
  for (let i = 0; i < a.partitions.length; i++) {
    if (compareClaims(b.partitions[i]!, a.partitions[i]!) > 0) {
      partitions ??= [...a.partitions];
      partitions[i] = b.partitions[i]!;
    }
  }
  const clusterId = a.clusterId || b.clusterId;
  if (!members && !partitions && clusterId === a.clusterId) return a;
  return { clusterId, ringSize: a.ringSize, members: members ?? a.members, partitions: partitions ?? a.partitions };
}

export function withMember(ring: RingState, member: Member): RingState {
  return { ...ring, members: { ...ring.members, [member.name]: member } };
}

export function withClaims(
  ring: RingState,
  changes: ReadonlyMap<number, { owner: string; next: string | null }>,
): RingState {
  if (changes.size === 0) return ring;
  const partitions = [...ring.partitions];
  for (const [i, c] of changes) partitions[i] = { owner: c.owner, next: c.next, epoch: ring.partitions[i]!.epoch + 1 };
  return { ...ring, partitions };
}

/** Longest zone name (ZONE) a node may join with. */
export const zoneCharsMax = 64;

/** A zone name: 1..zoneCharsMax letters, digits, '.', '_' or '-' (e.g. "eu-west-1a"). */
export function isZoneName(v: unknown): v is string {
  return typeof v === 'string' && v.length >= 1 && v.length <= zoneCharsMax && /^[A-Za-z0-9._-]+$/.test(v);
}

/** Each member's zone, for the claim (ClaimInput.zones); members without one are left out. */
export function memberZones(ring: RingState): Record<string, string> {
  const zones: Record<string, string> = {};
  for (const m of Object.values(ring.members)) if (m.zone !== undefined) zones[m.name] = m.zone;
  return zones;
}

/** Members that take part in the ring (may own partitions or be handing them off). */
export function isActive(m: Member | undefined): boolean {
  return m !== undefined && (m.status === 'valid' || m.status === 'leaving');
}

export function ownersOf(ring: RingState): string[] {
  return ring.partitions.map((c) => c.owner);
}

export function ownedBy(ring: RingState, node: string): number[] {
  const out: number[] = [];
  ring.partitions.forEach((c, i) => {
    if (c.owner === node) out.push(i);
  });
  return out;
}

/** A short fingerprint to skip merging rings that are already equal. */
export function ringFingerprint(ring: RingState): string {
  let s = ring.clusterId;
  for (const name of Object.keys(ring.members).sort()) {
    const m = ring.members[name]!;
    s += `|${name}:${m.gen}:${m.status}:${m.addr}`;
    if (m.zone !== undefined) s += `@${m.zone}`;
  }
  for (const c of ring.partitions) s += `|${c.epoch}:${c.owner}:${c.next ?? ''}`;
  return s;
}
