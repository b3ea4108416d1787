// A node's wall clock in the simulator: the scheduler's virtual time plus a per-node
// offset that a scenario can change at any moment (skew, NTP steps forward or back).
// Virtual time starts at 0; pass a large offsetMs (e.g. 1_700_000_000_000) when code
// should see realistic epoch timestamps, so a backward jump never goes negative.
import type { Clock } from '../runtime';
import type { SimScheduler } from './scheduler';

export interface SimClock extends Clock {
  /** Virtual time + offset. */
  now(): number;
  /** Current offset against virtual time, in ms. */
  offset(): number;
  /** Set the offset against virtual time (absolute skew). */
  setOffset(ms: number): void;
  /** Step the clock by `ms` (negative: backwards), i.e. offset += ms. */
  jump(ms: number): void;
}

export function simClock(scheduler: SimScheduler, offsetMs = 0): SimClock {
  let offset = checked(offsetMs);
  return {
    now: () => scheduler.now() + offset,
    offset: () => offset,
    setOffset(ms: number) {
      offset = checked(ms);
    },
    jump(ms: number) {
      offset = checked(offset + ms);
    },
  };
}

function checked(ms: number): number {
  if (!Number.isFinite(ms)) throw new RangeError(`simClock: offset must be finite, got ${ms}`);
  return ms;
}
