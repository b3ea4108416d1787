// Seeded PRNG for the simulator: sfc32 (Chris Doty-Humphrey's Small Fast Counting
// generator, 128-bit state, passes PractRand to many TB) seeded through splitmix32.
// Pure 32-bit integer arithmetic, no allocation per draw.
//
// Streams are split by `fork(label)`: a child's seed depends only on its parent's seed
// (and fork path) and the label, never on how many numbers the parent has drawn. So a
// component that draws one more number does not shift any other component's stream.
import type { Random } from '../runtime';

const TWO_POW_32 = 4294967296;
const INV_TWO_POW_32 = 1 / TWO_POW_32;
const INV_TWO_POW_53 = 1 / 9007199254740992;

const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** murmur3 fmix32: a good 32-bit avalanche. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Hash a label into a 32-bit key under a 64-bit parent key and a salt. */
function hashLabel(k0: number, k1: number, salt: number, label: string): number {
  let h = fmix32((k0 ^ Math.imul(salt, 0x9e3779b1)) >>> 0) ^ fmix32((k1 + salt) >>> 0);
  for (let i = 0; i < label.length; i++) {
    h = Math.imul(h ^ label.charCodeAt(i), 0x01000193); // FNV-1a step
  }
  return fmix32((h ^ label.length) >>> 0);
}

export class SimRandom implements Random {
  /** The seed this root generator was built from (forks inherit their root's seed). */
  readonly seed: number;
  /** Fork path from the root, for diagnostics: '' for the root, 'network/latency' etc. */
  readonly path: string;
  // 64-bit identity key, used only to derive forks.
  private readonly k0: number;
  private readonly k1: number;
  // sfc32 state.
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;

  /**
   * `seed`: any integer up to 2^53 (the low and high 32-bit halves both matter).
   * Non-integers are rejected so that `--seed 1.5` can not silently alias `--seed 1`.
   */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`SimRandom: seed must be a safe integer, got ${seed}`);
    this.seed = seed;
    this.path = '';
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    this.k0 = fmix32((lo ^ 0x5bd1e995) >>> 0);
    this.k1 = fmix32((hi + 0x27d4eb2f + Math.imul(lo, 0x165667b1)) >>> 0);
    this.init();
  }

  private static child(parent: SimRandom, label: string): SimRandom {
    const r: SimRandom = Object.create(SimRandom.prototype);
    // Assign in the constructor's field order so all instances share one hidden class.
    const w = r as unknown as {
      seed: number;
      path: string;
      k0: number;
      k1: number;
      a: number;
      b: number;
      c: number;
      d: number;
    };
    w.seed = parent.seed;
    w.path = parent.path === '' ? label : `${parent.path}/${label}`;
    w.k0 = hashLabel(parent.k0, parent.k1, 0x3c6ef372, label);
    w.k1 = hashLabel(parent.k1, parent.k0, 0xa54ff53a, label);
    w.a = 0;
    w.b = 0;
    w.c = 0;
    w.d = 0;
    r.init();
    return r;
  }

  private init(): void {
    // splitmix32 over the key expands it into the four sfc32 state words.
    let s = (this.k0 ^ Math.imul(this.k1, 0x9e3779b9)) | 0;
    const sm = (): number => {
      s = (s + 0x9e3779b9) | 0;
      return fmix32(s >>> 0) | 0;
    };
    this.a = sm() ^ this.k1;
    this.b = sm();
    this.c = sm() ^ this.k0;
    this.d = 1; // sfc32's counter; any start works, 1 is conventional
    for (let i = 0; i < 15; i++) this.u32(); // warm up: the first outputs are weakly mixed
  }

  /** Uniform unsigned 32-bit integer. */
  u32(): number {
    const a = this.a;
    const b = this.b;
    const c = this.c;
    const d = this.d;
    const t = (((a + b) | 0) + d) | 0;
    this.d = (d + 1) | 0;
    this.a = b ^ (b >>> 9);
    this.b = (c + (c << 3)) | 0;
    const cr = (c << 21) | (c >>> 11);
    this.c = (cr + t) | 0;
    return t >>> 0;
  }

  /** Uniform float in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.u32() * INV_TWO_POW_32;
  }

  /** Uniform float in [0, 1) with 53 bits of resolution (two draws). */
  next53(): number {
    const hi = this.u32() >>> 5; // 27 bits
    const lo = this.u32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) * INV_TWO_POW_53;
  }

  /**
   * Uniform integer in [0, n), n a positive integer. One draw for n <= 2^32 (bias at most
   * n / 2^32, irrelevant for simulation), two draws above.
   */
  int(n: number): number {
    if (n <= TWO_POW_32 && n >= 1) {
      if (n !== Math.floor(n)) throw new RangeError(`SimRandom.int: n must be an integer, got ${n}`);
      return Math.floor(this.u32() * INV_TWO_POW_32 * n);
    }
    if (!Number.isSafeInteger(n) || n < 1)
      throw new RangeError(`SimRandom.int: n must be a positive safe integer, got ${n}`);
    return Math.floor(this.next53() * n);
  }

  /** `n` random bytes as lowercase hex (2n characters). */
  hex(n: number): string {
    let out = '';
    let word = 0;
    for (let i = 0; i < n; i++) {
      if ((i & 3) === 0) word = this.u32();
      out += HEX_BYTE[word & 0xff]!;
      word >>>= 8;
    }
    return out;
  }

  /** True with probability p. Always consumes exactly one draw, whatever p is. */
  chance(p: number): boolean {
    return this.u32() * INV_TWO_POW_32 < p;
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(arr: readonly T[]): T {
    if (arr.length === 0) throw new RangeError('SimRandom.pick: empty array');
    return arr[this.int(arr.length)] as T;
  }

  /** Uniform integer in [lo, hi], both ends inclusive (integers, lo <= hi). */
  range(lo: number, hi: number): number {
    if (!(hi >= lo)) throw new RangeError(`SimRandom.range: need lo <= hi, got [${lo}, ${hi}]`);
    return lo + this.int(hi - lo + 1);
  }

  /** Fisher-Yates shuffle in place; returns the array. */
  shuffle<T>(arr: T[]): T[] {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = arr[i] as T;
      arr[i] = arr[j] as T;
      arr[j] = tmp;
    }
    return arr;
  }

  /**
   * An independent deterministic stream named `label`. Depends only on this generator's
   * seed and fork path and on `label`, not on how much this generator has been used:
   * `fork('x')` twice yields two identical streams. Forks nest: `root.fork('a').fork('b')`,
   * `root.fork('b').fork('a')` and `root.fork('a/b')` are three different streams (`path`
   * is for display only).
   */
  fork(label: string): SimRandom {
    return SimRandom.child(this, label);
  }
}

/** Shorthand for `new SimRandom(seed)`. */
export function simRandom(seed: number): SimRandom {
  return new SimRandom(seed);
}
