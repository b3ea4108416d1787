// Public surface of the CRDT library. The @internal helpers in gcounter.ts stay private.
export type { GCounter } from './gcounter';
export {
  emptyGCounter,
  gcounterLeq,
  gcounterSlot,
  gcounterValue,
  incrementGCounter,
  isGCounter,
  mergeGCounter,
} from './gcounter';

export type { PNCounter } from './pncounter';
export {
  emptyPNCounter,
  incrementPNCounter,
  isPNCounter,
  mergePNCounter,
  pncounterLeq,
  pncounterValue,
} from './pncounter';

export type { Hll } from './hll';
export {
  HLL_MAX_PRECISION,
  HLL_MIN_PRECISION,
  emptyHll,
  hllAdd,
  hllAddHash,
  hllAddHash53,
  hllAddHashes,
  hllEstimate,
  hllLeq,
  isHll,
  mergeHll,
} from './hll';

export type { Dot, OrSet } from './orset';
export { emptyOrSet, isOrSet, mergeOrSet, orsetAdd, orsetHas, orsetLeq, orsetRemove, orsetValues } from './orset';
