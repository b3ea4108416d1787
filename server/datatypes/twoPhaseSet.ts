// A two-phase set as a ring data type (an owner's links, an account's API keys).
import type { CrdtType } from '../../ring';

/**
 * A two-phase set as a map element → 0 (added) | 1 (removed), merged by max: a removed
 * element never comes back. That is exactly what an owner's index needs (a slug moves from
 * a session to an account once, and a deleted link stays deleted), and unlike an OR-set it
 * needs no actor bookkeeping.
 */
export type TwoPhaseSet = Readonly<Record<string, 0 | 1>>;

/**
 * Elements are slugs and key ids, so the result is a null-prototype record read through
 * Object.hasOwn: on a plain object "__proto__" would hit the prototype setter, and an
 * element "constructor" would look present before it was ever added.
 */
export function mergeTwoPhase(a: TwoPhaseSet, b: TwoPhaseSet): TwoPhaseSet {
  const out = Object.create(null) as Record<string, 0 | 1>;
  for (const [k, v] of Object.entries(a)) out[k] = v;
  for (const [k, v] of Object.entries(b)) if (v === 1 || !Object.hasOwn(out, k)) out[k] = v;
  return out;
}

export const twoPhaseMembers = (s: TwoPhaseSet): string[] =>
  Object.entries(s).flatMap(([k, v]) => (v === 0 ? [k] : []));

export function twoPhaseSetType(name: string): CrdtType<TwoPhaseSet> {
  return {
    name,
    kind: 'crdt',
    empty: () => ({}),
    merge: mergeTwoPhase,
    encode: (v) => v,
    decode: (w) => {
      if (
        typeof w !== 'object' ||
        w === null ||
        Array.isArray(w) ||
        !Object.values(w).every((v) => v === 0 || v === 1)
      ) {
        throw new Error(`${name}: not a two-phase set`);
      }
      return mergeTwoPhase(w as TwoPhaseSet, {});
    },
  };
}
