// Dotted version vectors in the "causal container" form (Riak's DVVSet idea, the
// optimized OR-set shape): a key holds a version vector of every event it has seen and
// a list of siblings, each tagged with the unique dot (actor, counter) of the write that
// produced it. Merging is a join: commutative, associative, idempotent. A write that
// carries the context of a read supersedes exactly what that read saw; concurrent writes
// survive as siblings, never silently dropped (Jepsen's lesson on last-write-wins).

export type VersionVector = Readonly<Record<string, number>>;
export type Dot = readonly [actor: string, counter: number];

export interface Sibling {
  readonly dot: Dot;
  /** Opaque value of the key's data type; absent on a tombstone. */
  readonly value?: unknown;
  readonly deleted?: true;
  /** Writer's clock when written; used for tombstone grace and to order true siblings, never for causality. */
  readonly at: number;
}

export interface Versioned {
  readonly vv: VersionVector;
  readonly siblings: readonly Sibling[];
}

export const emptyVersioned: Versioned = { vv: {}, siblings: [] };

export function covers(vv: VersionVector, dot: Dot): boolean {
  return (vv[dot[0]] ?? 0) >= dot[1];
}

export function mergeVV(a: VersionVector, b: VersionVector): VersionVector {
  let out: Record<string, number> | undefined;
  for (const actor in b) {
    const bv = b[actor]!;
    if ((a[actor] ?? 0) < bv) {
      out ??= { ...a };
      out[actor] = bv;
    }
  }
  return out ?? a;
}

/** a <= b in the causal order. */
export function vvLeq(a: VersionVector, b: VersionVector): boolean {
  for (const actor in a) if (a[actor]! > (b[actor] ?? 0)) return false;
  return true;
}

function hasDot(siblings: readonly Sibling[], dot: Dot): boolean {
  for (const s of siblings) if (s.dot[0] === dot[0] && s.dot[1] === dot[1]) return true;
  return false;
}

/** The join of two versions of a key. */
export function mergeVersioned(a: Versioned, b: Versioned): Versioned {
  if (a === b) return a;
  const siblings: Sibling[] = [];
  for (const s of a.siblings) if (hasDot(b.siblings, s.dot) || !covers(b.vv, s.dot)) siblings.push(s);
  for (const s of b.siblings) if (!hasDot(a.siblings, s.dot) && !covers(a.vv, s.dot)) siblings.push(s);
  siblings.sort(compareSiblings);
  return { vv: mergeVV(a.vv, b.vv), siblings };
}

/**
 * A new write by `actor` on top of `local` (what the coordinator holds) with the client's
 * causal `context`: siblings the context has seen are superseded, others stay.
 */
export function writeVersioned(
  local: Versioned,
  context: VersionVector,
  actor: string,
  write: { value?: unknown; deleted?: true; at: number },
): Versioned {
  const counter = Math.max(local.vv[actor] ?? 0, context[actor] ?? 0) + 1;
  const dot: Dot = [actor, counter];
  const kept = local.siblings.filter((s) => !covers(context, s.dot));
  const sibling: Sibling = write.deleted
    ? { dot, deleted: true, at: write.at }
    : { dot, value: write.value, at: write.at };
  const vv = mergeVV(mergeVV(local.vv, context), { [actor]: counter });
  return { vv, siblings: [...kept, sibling].sort(compareSiblings) };
}

/** Deterministic order of siblings: newest write first, then by dot. */
export function compareSiblings(x: Sibling, y: Sibling): number {
  if (x.at !== y.at) return y.at - x.at;
  if (x.dot[0] !== y.dot[0]) return x.dot[0] < y.dot[0] ? -1 : 1;
  return y.dot[1] - x.dot[1];
}

export function isDeleted(v: Versioned): boolean {
  return v.siblings.length > 0 && v.siblings.every((s) => s.deleted === true);
}

/** True when merging `b` into `a` changes nothing: mergeVersioned(a, b) is a. */
export function dominates(a: Versioned, b: Versioned): boolean {
  if (!vvLeq(b.vv, a.vv)) return false;
  for (const s of b.siblings) if (!hasDot(a.siblings, s.dot) && !covers(a.vv, s.dot)) return false;
  for (const s of a.siblings) if (!hasDot(b.siblings, s.dot) && covers(b.vv, s.dot)) return false;
  return true;
}

/** A stable string of the version (for digests): the vv and the sibling dots. */
export function versionFingerprint(v: Versioned): string {
  const actors = Object.keys(v.vv).sort();
  let out = '';
  for (const a of actors) out += `${a}:${v.vv[a]},`;
  out += '|';
  for (const s of v.siblings) out += `${s.dot[0]}:${s.dot[1]}${s.deleted ? 'x' : ''},`;
  return out;
}
