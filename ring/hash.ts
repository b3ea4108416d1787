// Key hashing: xxhash64 (WebAssembly, no native addon to break on new Node versions).
// The WASM module loads asynchronously once; the ring's core stays synchronous by
// requiring `initHash()` to have resolved before any node starts.
import xxhash, { type XXHashAPI } from 'xxhash-wasm';

let api: XXHashAPI | undefined;
let loading: Promise<void> | undefined;

export function initHash(): Promise<void> {
  loading ??= xxhash().then((loaded) => {
    api = loaded;
  });
  return loading;
}

function hasher(): XXHashAPI {
  if (!api) throw new Error('ring/hash: call and await initHash() before hashing');
  return api;
}

/** 64-bit xxhash of a UTF-8 string. */
export function hash64(input: string): bigint {
  return hasher().h64(input);
}

/** Upper 32 bits of the 64-bit hash, as an unsigned integer. */
export function hashHigh32(input: string): number {
  return Number(hasher().h64(input) >> 32n);
}

/** 32-bit xxhash, for digests where 64 bits are not needed. */
export function hash32(input: string, seed = 0): number {
  return hasher().h32(input, seed);
}

/** The partition (0..ringSize-1) a key belongs to: the top log2(ringSize) bits of its hash. */
export function partitionOf(key: string, ringSize: number): number {
  const bits = Math.log2(ringSize);
  return bits === 0 ? 0 : hashHigh32(key) >>> (32 - bits);
}
