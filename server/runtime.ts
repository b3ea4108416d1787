// The real effects behind ring/runtime.ts: wall clock, Node timers, CSPRNG-backed randomness.
import { randomBytes } from 'node:crypto';
import type { Clock, Random, Runtime, TimerHandle, Timers } from '../ring';

/**
 * What the shortener's stateful services (server/links, server/auth/sessions.ts, server/live,
 * the RingClient's retries) take from the world: the ring's clock, timers and randomness.
 * Production passes the node's real ones (below); the shortener simulation (server/sim/)
 * passes the simulated node's, so every delay and random draw is a function of the seed.
 */
export type ServiceRuntime = Pick<Runtime, 'clock' | 'timers' | 'random'>;

export const wallClock: Clock = { now: () => Date.now() };

/**
 * Node timers behind the ring's Timers. A 0 ms delay (the RPC layer's turn for a call to the
 * node's own name) runs on setImmediate: Node's setTimeout rounds 0 up to 1 ms, which would add a
 * millisecond to every local step of a quorum read, a CAS round or a write.
 */
export function nodeTimers(): Timers {
  let nextId = 1;
  const live = new Map<number, NodeJS.Timeout>();
  const immediate = new Map<number, NodeJS.Immediate>();
  return {
    setTimeout(fn, delayMs) {
      const id = nextId++;
      if (delayMs <= 0) {
        immediate.set(
          id,
          setImmediate(() => {
            immediate.delete(id);
            fn();
          }),
        );
        return { id };
      }
      live.set(
        id,
        setTimeout(() => {
          live.delete(id);
          fn();
        }, delayMs),
      );
      return { id };
    },
    clearTimeout(handle: TimerHandle) {
      const t = live.get(handle.id);
      if (t) clearTimeout(t);
      live.delete(handle.id);
      const i = immediate.get(handle.id);
      if (i) clearImmediate(i);
      immediate.delete(handle.id);
    },
  };
}

/** Randomness from the OS CSPRNG, drawn in 4 KiB blocks to keep the per-call cost low. */
export function cryptoRandom(): Random {
  let pool = randomBytes(4096);
  let offset = 0;
  const u32 = () => {
    if (offset + 4 > pool.length) {
      pool = randomBytes(4096);
      offset = 0;
    }
    const v = pool.readUInt32LE(offset);
    offset += 4;
    return v;
  };
  return {
    next: () => u32() / 2 ** 32,
    int: (n) => Math.floor((u32() / 2 ** 32) * n),
    hex: (n) => randomBytes(n).toString('hex'),
  };
}

/** `n` bytes from a runtime's randomness (crypto-strength with cryptoRandom()). */
export function randomBytesOf(random: Random, n: number): Buffer {
  return Buffer.from(random.hex(n), 'hex');
}
