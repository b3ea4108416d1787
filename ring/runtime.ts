// The ring's only contact with the outside world. Everything in ring/ that needs time,
// randomness or the network receives these interfaces; production passes real ones
// (server/), the simulator passes seeded, deterministic ones (ring/sim/). No module in
// ring/ may call Date.now(), Math.random(), setTimeout or open a socket directly.

/** Milliseconds on this node's clock. May be skewed against other nodes; never used for ordering versions. */
export interface Clock {
  now(): number;
}

export type TimerHandle = { readonly id: number };

export interface Timers {
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** A seeded or cryptographic source of randomness. */
export interface Random {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** `n` random bytes as lowercase hex (2n characters). */
  hex(n: number): string;
}

/**
 * Unreliable, unordered datagram-style delivery between nodes, addressed by node name.
 * A message may be dropped, delayed, duplicated or reordered; the ring's protocols are
 * written to tolerate all four. Messages are plain data (msgpack-encodable: objects,
 * arrays, strings, numbers, booleans, null, Uint8Array).
 */
export interface Transport {
  send(to: string, message: WireMessage): void;
  /** Install the single receive handler. */
  onMessage(handler: (from: string, message: WireMessage) => void): void;
}

export type WireMessage = { readonly t: string } & Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** The bundle of injected effects a ring node runs on. */
export interface Runtime {
  clock: Clock;
  timers: Timers;
  random: Random;
  transport: Transport;
  logger: Logger;
}
