// Positive-negative counter: two grow-only counters, increments in p and decrements in n.
import {
  emptyGCounter,
  gcounterLeq,
  gcounterValue,
  incrementGCounter,
  isGCounter,
  isPlainObject,
  mergeGCounter,
} from './gcounter';
import type { GCounter } from './gcounter';

export type PNCounter = Readonly<{ p: GCounter; n: GCounter }>;

export function emptyPNCounter(): PNCounter {
  return { p: emptyGCounter(), n: emptyGCounter() };
}

export function pncounterValue(c: PNCounter): number {
  return gcounterValue(c.p) - gcounterValue(c.n);
}

export function mergePNCounter(a: PNCounter, b: PNCounter): PNCounter {
  return { p: mergeGCounter(a.p, b.p), n: mergeGCounter(a.n, b.n) };
}

/** Adds `by` (a non-zero safe integer, negative to decrement) on behalf of `slot`. */
export function incrementPNCounter(c: PNCounter, slot: string, by: number): { state: PNCounter; delta: PNCounter } {
  if (!Number.isSafeInteger(by) || by === 0) {
    throw new RangeError(`incrementPNCounter: by must be a non-zero safe integer, got ${String(by)}`);
  }
  const delta: PNCounter =
    by > 0
      ? { p: incrementGCounter(c.p, slot, by).delta, n: emptyGCounter() }
      : { p: emptyGCounter(), n: incrementGCounter(c.n, slot, -by).delta };
  return { state: mergePNCounter(c, delta), delta };
}

export function pncounterLeq(a: PNCounter, b: PNCounter): boolean {
  return gcounterLeq(a.p, b.p) && gcounterLeq(a.n, b.n);
}

/** Validates decoded wire data. */
export function isPNCounter(x: unknown): x is PNCounter {
  return isPlainObject(x) && isGCounter(x['p']) && isGCounter(x['n']);
}
