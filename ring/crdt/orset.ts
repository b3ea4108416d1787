// Add-wins observed-remove set without tombstones (ORSWOT, as in riak_dt): a version
// vector of every add this replica has seen, plus, per present element, the dots
// (actor, counter) of the adds that put it there. A dot covered by the version vector but
// absent from the entries was removed; one not covered has simply not arrived yet. That
// distinction is all the merge needs, so removes leave nothing behind.
//
// Each actor id must be used by a single replica at a time, or dots would collide.
import {
  compareStrings,
  gcounterLeq,
  gcounterSlot,
  incrementGCounter,
  isGCounter,
  isPlainObject,
  mergeGCounter,
  sortedRecord,
} from './gcounter';
import type { GCounter } from './gcounter';

export type Dot = readonly [actor: string, counter: number];

export type OrSet = Readonly<{
  vv: GCounter;
  entries: Readonly<Record<string, readonly Dot[]>>;
}>;

export function emptyOrSet(): OrSet {
  return { vv: {}, entries: {} };
}

/**
 * The new dot replaces the element's earlier dots instead of joining them: they are all
 * covered by the new version vector, so every replica that merges this state learns they
 * are superseded, exactly as if they had been removed.
 */
export function orsetAdd(s: OrSet, actor: string, element: string): OrSet {
  const vv = incrementGCounter(s.vv, actor, 1).state;
  const dot: Dot = [actor, gcounterSlot(vv, actor)];
  return { vv, entries: sortedRecord([...entriesWithout(s, element), [element, [dot]]]) };
}

/** Removes only the dots seen here; an add this replica has not seen survives the merge. */
export function orsetRemove(s: OrSet, element: string): OrSet {
  if (!orsetHas(s, element)) return s;
  return { vv: s.vv, entries: sortedRecord(entriesWithout(s, element)) };
}

export function orsetHas(s: OrSet, element: string): boolean {
  return Object.hasOwn(s.entries, element);
}

export function orsetValues(s: OrSet): string[] {
  return Object.keys(s.entries).sort(compareStrings);
}

export function mergeOrSet(a: OrSet, b: OrSet): OrSet {
  const elements = new Set([...Object.keys(a.entries), ...Object.keys(b.entries)]);
  const entries: Array<[string, Dot[]]> = [];
  for (const element of elements) {
    const dots = mergeDots(dotsOf(a, element), a.vv, dotsOf(b, element), b.vv);
    if (dots.length > 0) entries.push([element, dots]);
  }
  return { vv: mergeGCounter(a.vv, b.vv), entries: sortedRecord(entries) };
}

/**
 * Lattice order (for valid states): a <= b iff b has seen every add a has, and b holds no
 * dot that a has seen yet dropped, i.e. merge(a, b) equals b.
 */
export function orsetLeq(a: OrSet, b: OrSet): boolean {
  return (
    gcounterLeq(a.vv, b.vv) &&
    Object.entries(b.entries).every(([element, dots]) =>
      dots.every((d) => !seen(a.vv, d) || hasDot(dotsOf(a, element), d)),
    )
  );
}

/**
 * Validates decoded wire data, including the invariants the merge relies on: every dot is
 * covered by the version vector, no element has an empty dot list, and no dot is used twice
 * (neither by two elements nor twice by one).
 */
export function isOrSet(x: unknown): x is OrSet {
  if (!isPlainObject(x) || !isGCounter(x['vv']) || !isPlainObject(x['entries'])) return false;
  const vv = x['vv'];
  const used = new Set<string>();
  return Object.values(x['entries']).every(
    (dots) =>
      Array.isArray(dots) &&
      dots.length > 0 &&
      dots.every((d: unknown) => isDot(d) && seen(vv, d) && claim(used, JSON.stringify(d))),
  );
}

/**
 * A dot survives if both sides hold it, or if the side lacking it has not seen it yet (it
 * is new there, not removed there).
 */
function mergeDots(da: readonly Dot[], vva: GCounter, db: readonly Dot[], vvb: GCounter): Dot[] {
  return [
    ...da.filter((d) => hasDot(db, d) || !seen(vvb, d)),
    ...db.filter((d) => !hasDot(da, d) && !seen(vva, d)),
  ].sort(compareDots);
}

function entriesWithout(s: OrSet, element: string): Array<[string, readonly Dot[]]> {
  return Object.entries(s.entries).filter(([e]) => e !== element);
}

function dotsOf(s: OrSet, element: string): readonly Dot[] {
  return Object.hasOwn(s.entries, element) ? (s.entries[element] ?? []) : [];
}

function seen(vv: GCounter, [actor, counter]: Dot): boolean {
  return counter <= gcounterSlot(vv, actor);
}

function hasDot(dots: readonly Dot[], [actor, counter]: Dot): boolean {
  return dots.some(([a, c]) => a === actor && c === counter);
}

function compareDots([a1, c1]: Dot, [a2, c2]: Dot): number {
  return compareStrings(a1, a2) || c1 - c2;
}

function isDot(d: unknown): d is Dot {
  return (
    Array.isArray(d) &&
    d.length === 2 &&
    typeof d[0] === 'string' &&
    Number.isSafeInteger(d[1]) &&
    (d[1] as number) >= 1
  );
}

function claim(used: Set<string>, key: string): boolean {
  if (used.has(key)) return false;
  used.add(key);
  return true;
}
