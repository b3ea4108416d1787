// HyperLogLog (Flajolet et al. 2007) over caller-supplied 64-bit hashes; mergeable by
// per-register max, so it is a state-based CRDT for distinct counts.
//
// Registers are a Uint8Array, which cannot be frozen: every function here copies before
// writing, and callers must treat `registers` as read-only too.
import { hash64 } from '../hash';
import { isPlainObject } from './gcounter';

export type Hll = Readonly<{ p: number; registers: Uint8Array }>;

export const HLL_MIN_PRECISION = 4;
export const HLL_MAX_PRECISION = 16;

export function emptyHll(p = 12): Hll {
  if (!isPrecision(p)) {
    throw new RangeError(
      `emptyHll: precision must be an integer in ${HLL_MIN_PRECISION}..${HLL_MAX_PRECISION}, got ${String(p)}`,
    );
  }
  return { p, registers: new Uint8Array(1 << p) };
}

/** Returns `h` itself when the hash raises no register, which is the common case once warm. */
export function hllAddHash(h: Hll, hash: bigint): Hll {
  const x = BigInt.asUintN(64, hash);
  return raise(h, Number(x >> 32n), Number(x & 0xffff_ffffn), 64);
}

/**
 * The same for a 53-bit hash (a non-negative safe integer, such as ring/hash's hash53),
 * taken as the top 53 bits of a 64-bit one: no BigInt on the way. Ranks then stop at
 * 53 - p + 1, which only matters beyond 2^43 distinct items per register.
 */
export function hllAddHash53(h: Hll, hash: number): Hll {
  return raise(h, Math.floor(hash / 2 ** 21) >>> 0, ((hash % 2 ** 21) * 2 ** 11) >>> 0, 53);
}

function raise(h: Hll, hi: number, lo: number, bits: number): Hll {
  const index = hi >>> (32 - h.p);
  const rank = rankOf(h.p, hi, lo, bits);
  if ((h.registers[index] ?? 0) >= rank) return h;
  const registers = new Uint8Array(h.registers);
  registers[index] = rank;
  return { p: h.p, registers };
}

/** Adds many hashes with a single copy of the registers (bulk loads, tests, rebuilds). */
export function hllAddHashes(h: Hll, hashes: Iterable<bigint>): Hll {
  const registers = new Uint8Array(h.registers);
  for (const hash of hashes) {
    const [index, rank] = registerOf(h.p, hash);
    if ((registers[index] ?? 0) < rank) registers[index] = rank;
  }
  return { p: h.p, registers };
}

/** Requires `await initHash()` from ring/hash beforehand. */
export function hllAdd(h: Hll, item: string): Hll {
  return hllAddHash(h, hash64(item));
}

/**
 * Raw HLL estimate with the small-range (linear counting) correction. With 64-bit hashes
 * collisions are negligible at any realistic cardinality, so there is no large-range
 * correction. Note the estimate is not strictly monotone across the switch between the two
 * estimators; the register state (the CRDT) is.
 */
export function hllEstimate(h: Hll): number {
  const m = h.registers.length;
  let sum = 0;
  let zeros = 0;
  for (const r of h.registers) {
    sum += 2 ** -r;
    if (r === 0) zeros++;
  }
  const raw = (alpha(m) * m * m) / sum;
  return raw <= 2.5 * m && zeros > 0 ? m * Math.log(m / zeros) : raw;
}

export function mergeHll(a: Hll, b: Hll): Hll {
  assertSamePrecision(a, b);
  const registers = new Uint8Array(a.registers);
  b.registers.forEach((r, i) => {
    if (r > (registers[i] ?? 0)) registers[i] = r;
  });
  return { p: a.p, registers };
}

/** Lattice order. HLLs of different precision are incomparable, hence false. */
export function hllLeq(a: Hll, b: Hll): boolean {
  return a.p === b.p && a.registers.every((r, i) => r <= (b.registers[i] ?? 0));
}

/** Validates decoded wire data (a Node Buffer passes, being a Uint8Array). */
export function isHll(x: unknown): x is Hll {
  if (!isPlainObject(x) || !isPrecision(x['p'])) return false;
  const p = x['p'];
  const registers = x['registers'];
  return registers instanceof Uint8Array && registers.length === 1 << p && registers.every((r) => r <= maxRank(p));
}

/**
 * The top p bits pick the register; the rank is 1 + the number of leading zeros in the
 * remaining 64 - p bits (so 64 - p + 1 when they are all zero). Worked on two 32-bit halves
 * because Math.clz32 is far cheaper than BigInt arithmetic on the hot path.
 */
function registerOf(p: number, hash: bigint): [index: number, rank: number] {
  const x = BigInt.asUintN(64, hash);
  const hi = Number(x >> 32n);
  return [hi >>> (32 - p), rankOf(p, hi, Number(x & 0xffff_ffffn), 64)];
}

/** 1 + the leading zeros of the hash's bits after the top p, counting at most `bits` - p. */
function rankOf(p: number, hi: number, lo: number, bits: number): number {
  const rest = (hi << p) >>> 0;
  const zeros = rest !== 0 ? Math.clz32(rest) : 32 - p + Math.clz32(lo);
  return Math.min(zeros, bits - p) + 1;
}

function maxRank(p: number): number {
  return 64 - p + 1;
}

function isPrecision(p: unknown): p is number {
  return Number.isInteger(p) && (p as number) >= HLL_MIN_PRECISION && (p as number) <= HLL_MAX_PRECISION;
}

/** Bias correction constants from the HLL paper. */
function alpha(m: number): number {
  if (m === 16) return 0.673;
  if (m === 32) return 0.697;
  if (m === 64) return 0.709;
  return 0.7213 / (1 + 1.079 / m);
}

function assertSamePrecision(a: Hll, b: Hll): void {
  if (a.p !== b.p || a.registers.length !== b.registers.length) {
    throw new RangeError(`mergeHll: precision mismatch (${a.p} vs ${b.p})`);
  }
}
