// Grow-only counter, state- and delta-based: one slot per actor, merged by per-slot max.
//
// Slot ids are arbitrary strings, "__proto__" and "constructor" included, so reads go
// through Object.hasOwn and records are built with Object.fromEntries (which defines own
// properties) rather than `obj[key] = v` (which would hit the prototype setter).

export type GCounter = Readonly<Record<string, number>>;

export function emptyGCounter(): GCounter {
  return {};
}

/** The count held by one slot (0 when the slot is absent). */
export function gcounterSlot(c: GCounter, slot: string): number {
  return Object.hasOwn(c, slot) ? (c[slot] ?? 0) : 0;
}

export function gcounterValue(c: GCounter): number {
  let sum = 0;
  for (const v of Object.values(c)) sum += v;
  return sum;
}

/** Zero slots are dropped: they mean the same as absent ones, and equal states should encode alike. */
export function mergeGCounter(a: GCounter, b: GCounter): GCounter {
  const merged = new Map(Object.entries(a));
  for (const [slot, v] of Object.entries(b)) merged.set(slot, Math.max(v, merged.get(slot) ?? 0));
  return sortedRecord([...merged].filter(([, v]) => v > 0));
}

/**
 * Adds `by` to `slot`. The delta carries the slot's new absolute value, not the increment:
 * that is what makes redelivery and reordering harmless under a max-merge.
 */
export function incrementGCounter(c: GCounter, slot: string, by: number): { state: GCounter; delta: GCounter } {
  if (!Number.isSafeInteger(by) || by <= 0) {
    throw new RangeError(`incrementGCounter: by must be a positive safe integer, got ${String(by)}`);
  }
  const next = gcounterSlot(c, slot) + by;
  if (!Number.isSafeInteger(next)) {
    throw new RangeError(`incrementGCounter: slot ${JSON.stringify(slot)} would exceed Number.MAX_SAFE_INTEGER`);
  }
  const delta: GCounter = { [slot]: next };
  return { state: mergeGCounter(c, delta), delta };
}

/** Lattice order: a <= b iff no slot of a is ahead of b (equivalently merge(a, b) equals b). */
export function gcounterLeq(a: GCounter, b: GCounter): boolean {
  return Object.entries(a).every(([slot, v]) => v <= gcounterSlot(b, slot));
}

/** Validates decoded wire data. */
export function isGCounter(x: unknown): x is GCounter {
  return isPlainObject(x) && Object.values(x).every(isCount);
}

function isCount(v: unknown): boolean {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

/** @internal Shared by the other CRDT modules; not part of the public API. */
export function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null) return false;
  const proto: unknown = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/**
 * @internal Builds a record with keys in a canonical order, so that equal states (e.g.
 * merge(a, b) and merge(b, a)) serialize to identical bytes, which digests used by
 * anti-entropy rely on. Integer-like keys still come first, as the engine always orders
 * them that way, but the result stays deterministic.
 */
export function sortedRecord<V>(entries: Iterable<readonly [string, V]>): Record<string, V> {
  return Object.fromEntries([...entries].sort(([x], [y]) => compareStrings(x, y)));
}

/** @internal Code-unit order, independent of locale. */
export function compareStrings(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}
