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

/**
 * A 53-bit string hash in plain JavaScript (cyrb53: two 32-bit multiply-xorshift lanes),
 * for hot paths where crossing into WebAssembly and building a BigInt costs more than the
 * hashing itself. Not for placement: partitions stay on xxhash64. `seed` (a 32-bit integer)
 * makes independent hash functions, or chains a hash of one string into the next.
 */
export function hash53(input: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < input.length; i++) {
    const ch = input.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
