// Partition claim: which member owns each of the Q partitions of the ring.
//
// Requirements, in priority order:
//   a. Balance: every member owns floor(Q/n) or ceil(Q/n) partitions. Always.
//   b. Spread: any nVal consecutive partitions (cyclically) have distinct owners whenever that
//      is feasible, so the nVal primaries of a key are nVal different nodes.
//   c. Few moves: a join moves about Q/(n+1) partitions, a leave about what the leavers owned.
//
// FEASIBILITY AND GUARANTEE (Q = ringSize, n = number of members):
//   * nVal == 1: always feasible (no constraint).
//   * n >= nVal >= 2: a balanced assignment whose every nVal-window is distinct exists iff
//         ceil(Q/n) <= floor(Q/nVal).
//     Necessity: the partitions of one member are pairwise >= nVal apart on a cycle of Q, so a
//     member owns at most floor(Q/nVal) of them, and balance gives some member ceil(Q/n).
//     Sufficiency: the column construction in stripedPattern() is valid whenever it holds.
//     Consequences: n == nVal is feasible iff nVal divides Q (the ring must be periodic);
//     Q=64 or 256 with nVal=3 is infeasible for n=3 (e.g. 22 > 21) and feasible for all n >= 4.
//     Guarantee: zero violating windows when feasible; otherwise at most nVal-1 (the stripe
//     p mod n repeats owners only across the seam between partition Q-1 and 0, and at most
//     nVal-1 windows cover the seam; the search below may do better, never worse).
//   * n < nVal: every nVal-window holds a repeat (pigeonhole): all Q windows violate, and a
//     key's preference list holds all n nodes whatever the layout. The layout then prepares
//     for growth instead: it is the stripe layout the ring would have with nVal members, each
//     member owning one stripe and the stripes of the missing members shared out, so each
//     join up to nVal members moves about Q/(n+1) partitions and the nVal-th join lands on a
//     valid layout. (Fallback when Q < nVal: the rules above with window n.)
//   claimGuarantee() returns this bound; windowViolations() counts it.
//
// ALGORITHM (pure and deterministic: members are sorted, every tie is broken by index):
//   0. Fixed point: a `current` that is complete, balanced and within the guarantee is
//      returned unchanged, so re-running the claim with the same members moves nothing.
//   Otherwise candidates, each balanced by construction; the valid ones (violations within
//   the guarantee) compete on moves, then violations. (For n < nVal: the growth layout.)
//   1. Incremental. Owners not in `members` become holes. Targets: ceil(Q/n) for the
//      (Q mod n) members owning the most, floor(Q/n) otherwise. Greedy: under-target members
//      take holes first, then partitions of over-target members, only where the taker has no
//      partition within nVal-1 (most constrained partition and taker first, then spreading
//      each member's partitions); if no such hand-over exists, an ejection chain (below) ends
//      at a taker. Repair: ejection chains remove remaining repeats.
//   2. Dynamic program (only when 1 is invalid or moves well above the minimum, and the state
//      space n!/(n-nVal+1)! is small, i.e. small clusters where claims are hard): the cheapest
//      sequence with every window distinct under per-member prices tuned towards balance,
//      then rebalanced by step 1 with moves still counted against `current`.
//   3. Striped: the valid-by-construction stripe layout, rotated and relabelled (greedy
//      matching of stripes to members by overlap) to keep as many owners as possible.
//   Every loop is bounded (greedy: exactly the number of partitions that must change hands;
//   repair: 2Q chains; Dijkstra: Q+n states; DP: 24 price rounds).

import { claimByZone, windowRepeats, zoneLayout } from './zones';

export interface ClaimInput {
  /** Number of partitions Q (>= 1). */
  ringSize: number;
  /** Replicas per key: consecutive partitions that should have distinct owners (>= 1). */
  nVal: number;
  /** Nodes that must own partitions; a set (order and duplicates are ignored). Non-empty. */
  members: readonly string[];
  /** Current owner per partition (length ringSize), or null for a fresh ring. */
  current: readonly (string | null)[] | null;
  /**
   * Zone (ZONE) per member; members missing here or without one form one implicit zone. With
   * at least nVal zones the claim is zone-aware (see zones.ts); otherwise, or when omitted,
   * zones are ignored and the result is exactly the claim without them.
   */
  zones?: Readonly<Record<string, string | undefined>>;
}

export interface ClaimGuarantee {
  /** Whether a balanced layout with no violating nVal-window exists. */
  feasible: boolean;
  /** Upper bound on windowViolations(claimPartitions(...), nVal). */
  maxViolations: number;
}

/** What claimPartitions promises about violating nVal-windows for (Q, nVal, n). */
export function claimGuarantee(ringSize: number, nVal: number, memberCount: number): ClaimGuarantee {
  if (nVal <= 1) return { feasible: true, maxViolations: 0 };
  if (memberCount < nVal) return { feasible: false, maxViolations: ringSize };
  const feasible = Math.ceil(ringSize / memberCount) <= Math.floor(ringSize / nVal);
  return { feasible, maxViolations: feasible ? 0 : Math.min(ringSize, nVal - 1) };
}

/** Partitions whose owner differs between two assignments of the same ring. */
export function countMoves(before: readonly (string | null)[], after: readonly (string | null)[]): number {
  if (before.length !== after.length) {
    throw new RangeError(`countMoves: lengths differ (${before.length} vs ${after.length})`);
  }
  let moves = 0;
  for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) moves++;
  return moves;
}

/**
 * Start positions i such that the owners of partitions i, i+1, ..., i+nVal-1 (mod Q) are not
 * all distinct. Unowned (null) partitions never make a window violate. A window longer than
 * the ring meets some partition twice and so violates if that partition is owned.
 */
export function windowViolations(owners: readonly (string | null)[], nVal: number): number {
  return windowRepeats(owners, nVal);
}

/** Partitions owned per node (null entries skipped), keys in sorted order. */
export function ownershipCounts(owners: readonly (string | null)[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const o of owners) if (o !== null) counts.set(o, (counts.get(o) ?? 0) + 1);
  return new Map([...counts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

/**
 * A balanced owner per partition for `members`, keeping nVal consecutive partitions on
 * distinct nodes when feasible and moving few partitions away from `current`. Pure and
 * deterministic: the result depends only on the member set, ringSize, nVal and current.
 */
export function claimPartitions(input: ClaimInput): string[] {
  const zoned = zoneLayout(input.members, input.zones, input.nVal);
  if (zoned !== null) return claimByZone(input, zoned, claimNodes);
  return claimNodes(input);
}

/** claimPartitions without zones: every member is its own failure domain. */
function claimNodes(input: ClaimInput): string[] {
  const { ringSize: q, nVal, current } = input;
  if (!Number.isInteger(q) || q < 1) throw new RangeError(`claimPartitions: bad ringSize ${q}`);
  if (!Number.isInteger(nVal) || nVal < 1) throw new RangeError(`claimPartitions: bad nVal ${nVal}`);
  const names = [...new Set(input.members)].sort();
  const n = names.length;
  if (n === 0) throw new RangeError('claimPartitions: no members');
  if (current !== null && current.length !== q) {
    throw new RangeError(`claimPartitions: current has ${current.length} partitions, ringSize is ${q}`);
  }
  const idOf = new Map(names.map((name, i) => [name, i] as const));
  const orig = new Int32Array(q).fill(HOLE);
  if (current !== null) {
    for (let p = 0; p < q; p++) {
      const o = current[p];
      orig[p] = o === null || o === undefined ? HOLE : (idOf.get(o) ?? HOLE);
    }
  }
  const toNames = (owners: Int32Array): string[] => Array.from(owners, (id) => names[id]!);

  // Effective window: nVal, or n for n < nVal (only used by the fallback when Q < nVal).
  const w = Math.min(nVal, n);
  const feasible = w <= 1 || Math.ceil(q / n) <= Math.floor(q / w);
  const bound = feasible ? 0 : Math.min(q, w - 1);
  // Already balanced and within the guarantee: keep it, so a claim is a fixed point and an
  // unchanged membership never moves data.
  const floorMoves = minimumMoves(q, n, orig);
  if (floorMoves === 0 && (n < nVal || new Layout(q, w, n, orig).totalViolations() <= bound)) {
    return toNames(orig);
  }
  if (n < nVal) {
    const grown = growthLayout(q, nVal, n, orig);
    if (grown !== null) return toNames(grown);
  }

  const pattern = stripedPattern(q, n, w, feasible);
  if (!orig.some((o) => o >= 0)) return toNames(relabel(pattern, n, n, orig).owners);

  const inc = incremental(q, w, n, orig, orig);
  const incValid = new Layout(q, w, n, inc).totalViolations() <= bound;
  // No balanced layout moves fewer than floorMoves partitions: nothing can beat that.
  if (incValid && movesOf(orig, inc) === floorMoves) return toNames(inc);

  const candidates: Int32Array[] = [inc];
  const incCheap = movesOf(orig, inc) <= floorMoves + Math.max(2, floorMoves / 8);
  if ((!incValid || !incCheap) && dpWork(q, w, n) <= DP_WORK_MAX) {
    const dp = dpCandidate(q, w, n, orig);
    if (dp !== null) candidates.push(incremental(q, w, n, dp, orig));
  }
  const stripe = relabel(pattern, n, n, orig).owners;
  candidates.push(stripe);
  let chosen = stripe;
  let chosenKey = [Infinity, Infinity];
  for (const c of candidates) {
    const v = new Layout(q, w, n, c).totalViolations();
    if (v > bound) continue;
    const key = [movesOf(orig, c), v];
    if (cmpTuple(key, chosenKey) < 0) {
      chosen = c;
      chosenKey = key;
    }
  }
  return toNames(chosen);
}

// ---------------------------------------------------------------------------------------------
// Internal representation: member i of the sorted member list is id i; -1 is a hole.

const HOLE = -1;

/** Bound on Q * states * successors for the dynamic program (about 20 ms per price round). */
const DP_WORK_MAX = 2_000_000;

function mod(a: number, q: number): number {
  return ((a % q) + q) % q;
}

function cmpTuple(a: ArrayLike<number>, b: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

function movesOf(orig: Int32Array, owners: Int32Array): number {
  let m = 0;
  for (let p = 0; p < orig.length; p++) if (orig[p] !== owners[p]) m++;
  return m;
}

/** Per-member targets: ceil(Q/n) for the (Q mod n) members owning the most now, else floor. */
function targetsFor(q: number, counts: Int32Array): Int32Array {
  const n = counts.length;
  const base = Math.floor(q / n);
  const extra = q % n;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => counts[b]! - counts[a]! || a - b);
  const target = new Int32Array(n).fill(base);
  for (let k = 0; k < extra; k++) target[order[k]!] = base + 1;
  return target;
}

/** Partitions that must change owner for balance alone (a lower bound on moves). */
function minimumMoves(q: number, n: number, orig: Int32Array): number {
  const counts = new Int32Array(n);
  for (const o of orig) if (o >= 0) counts[o] = counts[o]! + 1;
  const target = targetsFor(q, counts);
  let moves = 0;
  for (let m = 0; m < n; m++) moves += Math.max(0, target[m]! - counts[m]!);
  return moves;
}

/** Owners over a ring of q partitions, with window checks for window w (holes ignored). */
class Layout {
  readonly q: number;
  readonly w: number;
  readonly owners: Int32Array;
  readonly counts: Int32Array;
  private readonly stamp: Int32Array;
  private epoch = 0;
  /** Reach of a repeat: owners closer than w on either side, at most half the ring. */
  private readonly reach: number;

  constructor(q: number, w: number, n: number, owners: Int32Array) {
    this.q = q;
    this.w = w;
    this.owners = owners;
    this.counts = new Int32Array(n);
    for (const o of owners) if (o >= 0) this.counts[o] = this.counts[o]! + 1;
    this.stamp = new Int32Array(n);
    this.reach = Math.min(w - 1, Math.floor(q / 2));
  }

  at(p: number): number {
    return this.owners[mod(p, this.q)]!;
  }

  set(p: number, owner: number): void {
    const old = this.owners[p]!;
    if (old >= 0) this.counts[old] = this.counts[old]! - 1;
    if (owner >= 0) this.counts[owner] = this.counts[owner]! + 1;
    this.owners[p] = owner;
  }

  /** Repeated owners in the window starting at s: entries minus distinct owners. */
  windowExcess(s: number): number {
    if (this.w <= 1) return 0;
    this.epoch++;
    const e = this.epoch;
    let excess = 0;
    for (let j = 0; j < this.w; j++) {
      const o = this.at(s + j);
      if (o < 0) continue;
      if (this.stamp[o] === e) excess++;
      else this.stamp[o] = e;
    }
    return excess;
  }

  totalViolations(): number {
    let bad = 0;
    for (let s = 0; s < this.q; s++) if (this.windowExcess(s) > 0) bad++;
    return bad;
  }

  /**
   * Change in summed window excess (zero iff no window violates) from setting partitions ps
   * to owners os; the layout is restored afterwards.
   */
  delta(ps: readonly number[], os: readonly number[]): number {
    const starts: number[] = [];
    const span = Math.min(this.w, this.q);
    for (const p of ps) {
      for (let j = 0; j < span; j++) {
        const s = mod(p - j, this.q);
        if (!starts.includes(s)) starts.push(s);
      }
    }
    let before = 0;
    for (const s of starts) before += this.windowExcess(s);
    const saved = ps.map((p) => this.owners[p]!);
    for (let i = 0; i < ps.length; i++) this.owners[ps[i]!] = os[i]!;
    let after = 0;
    for (const s of starts) after += this.windowExcess(s);
    for (let i = ps.length - 1; i >= 0; i--) this.owners[ps[i]!] = saved[i]!;
    return after - before;
  }

  /** Partitions of `owner` closer than w to p, other than p and `except`, into out. */
  near(p: number, owner: number, except: number, out: number[]): void {
    out.length = 0;
    for (let d = 1; d <= this.reach; d++) {
      const a = mod(p + d, this.q);
      const b = mod(p - d, this.q);
      if (a !== p && a !== except && this.owners[a] === owner && !out.includes(a)) out.push(a);
      if (b !== p && b !== except && this.owners[b] === owner && !out.includes(b)) out.push(b);
    }
  }

  /** Whether `owner` has no partition other than p closer than w to p. */
  free(p: number, owner: number): boolean {
    for (let d = 1; d <= this.reach; d++) {
      if (this.at(p + d) === owner || this.at(p - d) === owner) return false;
    }
    return true;
  }

  /** Partitions whose owner owns another partition closer than w: the repeats. */
  hotPartitions(): number[] {
    const hot: number[] = [];
    for (let p = 0; p < this.q; p++) {
      const o = this.owners[p]!;
      if (o >= 0 && !this.free(p, o)) hot.push(p);
    }
    return hot;
  }

  /** Partitions of each member, ascending. */
  partitionsByMember(): number[][] {
    const by: number[][] = Array.from({ length: this.counts.length }, () => []);
    for (let p = 0; p < this.q; p++) {
      const o = this.owners[p]!;
      if (o >= 0) by[o]!.push(p);
    }
    return by;
  }

  /**
   * d[m * q + p]: cyclic distance from p to the nearest partition of member m other than p
   * (q when there is none), for every member and partition, in O(q * n).
   */
  distances(): Int32Array {
    const { q } = this;
    const n = this.counts.length;
    const d = new Int32Array(n * q).fill(q);
    const last = new Int32Array(n).fill(-1);
    // Forward sweep over two turns: distance back to the previous partition of m.
    for (let i = 0; i < 2 * q; i++) {
      const p = i % q;
      for (let m = 0; m < n; m++) {
        const l = last[m]!;
        if (l >= 0 && i - l < q && i - l < d[m * q + p]!) d[m * q + p] = i - l;
      }
      const o = this.owners[p]!;
      if (o >= 0) last[o] = i;
    }
    // Backward sweep: distance ahead to the next partition of m.
    last.fill(-1);
    for (let i = 2 * q - 1; i >= 0; i--) {
      const p = i % q;
      for (let m = 0; m < n; m++) {
        const l = last[m]!;
        if (l >= 0 && l - i < q && l - i < d[m * q + p]!) d[m * q + p] = l - i;
      }
      const o = this.owners[p]!;
      if (o >= 0) last[o] = i;
    }
    return d;
  }
}

// ---------------------------------------------------------------------------------------------
// Candidate 1: incremental greedy plus ejection-chain repair.

function incremental(q: number, w: number, n: number, start: Int32Array, orig: Int32Array): Int32Array {
  const lay = new Layout(q, w, n, Int32Array.from(start));
  const target = targetsFor(q, lay.counts);
  const moved = (p: number, o: number): number => (o === orig[p] ? 0 : 1);
  const deficitOf = (m: number): number => target[m]! - lay.counts[m]!;

  // Each step hands one partition (a hole, or one of an over-target member) to an
  // under-target member. Sum of deficits = holes + surpluses, so exactly that many steps.
  let steps = 0;
  for (let m = 0; m < n; m++) steps += Math.max(0, deficitOf(m));
  for (let step = 0; step < steps; step++) {
    const open: number[] = [];
    for (let p = 0; p < q; p++) {
      const x = lay.owners[p]!;
      if (x < 0 || lay.counts[x]! > target[x]!) open.push(p);
    }
    const takers: number[] = [];
    for (let t = 0; t < n; t++) if (deficitOf(t) > 0) takers.push(t);

    // Direct hand-overs to a taker with no partition closer than w (adds no repeat).
    const dist = lay.distances();
    const freeAt: [number, number[]][] = [];
    const options = new Int32Array(n);
    for (const p of open) {
      const f: number[] = [];
      for (const t of takers) if (dist[t * q + p]! >= w) f.push(t);
      if (f.length === 0) continue;
      freeAt.push([p, f]);
      for (const t of f) options[t] = options[t]! + 1;
    }
    let bestP = -1;
    let bestT = -1;
    const best = new Float64Array(5);
    const cand = new Float64Array(5);
    for (const [p, f] of freeAt) {
      const x = lay.owners[p]!;
      const giverGap = x >= 0 ? dist[x * q + p]! : q;
      for (const t of f) {
        const cap = Math.max(w, Math.floor(q / Math.max(1, target[t]!)));
        cand[0] = x >= 0 ? 1 : 0; // holes first: they must be filled anyway
        cand[1] = f.length; // the most constrained partition first
        cand[2] = options[t]! - deficitOf(t); // then the taker with the least room to spare
        cand[3] = -Math.min(cap, dist[t * q + p]!); // spread each member's partitions
        cand[4] = giverGap; // relieve the giver where it is most crowded
        // Ties: lowest partition, then lowest member (the iteration order).
        if (bestP < 0 || cmpTuple(cand, best) < 0) {
          best.set(cand);
          bestP = p;
          bestT = t;
        }
      }
    }
    if (bestP >= 0) {
      lay.set(bestP, bestT);
      continue;
    }

    // No direct hand-over: the cheapest ejection chain from an open partition to a taker.
    const chain = findChain(lay, open, moved, (m) => deficitOf(m) > 0);
    if (chain !== null && lay.delta(chain.ps, chain.os) <= 0) {
      for (let i = 0; i < chain.ps.length; i++) lay.set(chain.ps[i]!, chain.os[i]!);
      continue;
    }

    // Last resort: the hand-over adding the least repetition; repair deals with it.
    let last: number[] | null = null;
    for (const p of open) {
      for (const t of takers) {
        const score = [lay.delta([p], [t]), lay.owners[p]! >= 0 ? 1 : 0, p, t];
        if (last === null || cmpTuple(score, last) < 0) {
          last = score;
          bestP = p;
          bestT = t;
        }
      }
    }
    if (bestP < 0) break; // Unreachable: a deficit implies a hole or a surplus.
    lay.set(bestP, bestT);
  }

  repair(lay, moved);
  return lay.owners;
}

interface Chain {
  /** Partitions handed over, in order from the end of the chain back to its start. */
  ps: number[];
  /** New owner of each. */
  os: number[];
}

function chainMoves(lay: Layout, chain: Chain, moved: (p: number, o: number) => number): number {
  let dm = 0;
  for (let i = 0; i < chain.ps.length; i++) {
    const p = chain.ps[i]!;
    dm += moved(p, chain.os[i]!) - moved(p, lay.owners[p]!);
  }
  return dm;
}

/**
 * Ejection chains. A partition h whose owner X also owns a partition closer than w is handed
 * to another member Y1; Y1 now holds one too many, so it hands on a partition: its own that
 * now sits closer than w to h if there is one, otherwise any of its partitions; and so on,
 * until a partition reaches X with no other partition of X nearby (the loop closes: counts
 * unchanged), or, when Q mod n > 0 and X was at ceil(Q/n), the chain ends at a member at
 * floor(Q/n). A receiver may have at most one partition near what it receives, and it hands
 * that one on, so a chain removes X's repeat at h without adding one (checked exactly before
 * applying, since the search checks each hand-over against the layout before the chain).
 * Each applied chain lowers the summed window excess; at most 2Q chains.
 */
function repair(lay: Layout, moved: (p: number, o: number) => number): void {
  const { q } = lay;
  const n = lay.counts.length;
  const base = Math.floor(q / n);
  for (let iter = 0; iter < 2 * q; iter++) {
    const hot = lay.hotPartitions();
    if (hot.length === 0) return;
    let best: (Chain & { score: number[] }) | null = null;
    for (const h of hot) {
      const x = lay.owners[h]!;
      const xCanShrink = q % n !== 0 && lay.counts[x]! === base + 1;
      const chain = findChain(lay, [h], moved, (m) => m === x || (xCanShrink && lay.counts[m]! === base));
      if (chain === null) continue;
      const dv = lay.delta(chain.ps, chain.os);
      if (dv >= 0) continue;
      const score = [chainMoves(lay, chain, moved), dv, chain.ps.length, h];
      if (best === null || cmpTuple(score, best.score) < 0) best = { ...chain, score };
    }
    if (best === null) return;
    for (let i = 0; i < best.ps.length; i++) lay.set(best.ps[i]!, best.os[i]!);
  }
}

/** Min-heap of (key, id) pairs, ties by id, for Dijkstra. */
class Heap {
  private readonly keys: number[] = [];
  private readonly ids: number[] = [];

  get size(): number {
    return this.ids.length;
  }

  private less(i: number, j: number): boolean {
    const d = this.keys[i]! - this.keys[j]!;
    return d < 0 || (d === 0 && this.ids[i]! < this.ids[j]!);
  }

  private swap(i: number, j: number): void {
    const k = this.keys[i]!;
    this.keys[i] = this.keys[j]!;
    this.keys[j] = k;
    const d = this.ids[i]!;
    this.ids[i] = this.ids[j]!;
    this.ids[j] = d;
  }

  push(key: number, id: number): void {
    this.keys.push(key);
    this.ids.push(id);
    let i = this.ids.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): [number, number] {
    const top: [number, number] = [this.keys[0]!, this.ids[0]!];
    const lastK = this.keys.pop()!;
    const lastI = this.ids.pop()!;
    if (this.ids.length > 0) {
      this.keys[0] = lastK;
      this.ids[0] = lastI;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.ids.length && this.less(l, m)) m = l;
        if (r < this.ids.length && this.less(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}

/**
 * The cheapest ejection chain handing one of the partitions `sources` away from its owner (a
 * member, or a hole) and ending at a member for which isGoal holds. States: id r < Q means
 * "the owner of r holds one too many and must hand on r"; id Q+m means "member m holds one
 * too many and may hand on any of its partitions" (goal states). Cost per hand-over: 1 +
 * newly moved partitions - partitions restored to their current owner, which is >= 0, so
 * Dijkstra applies. With one source h, its owner may receive next to h (h is leaving it).
 */
function findChain(
  lay: Layout,
  sources: readonly number[],
  moved: (p: number, o: number) => number,
  isGoal: (m: number) => boolean,
): Chain | null {
  const { q } = lay;
  const n = lay.counts.length;
  const h = sources.length === 1 ? sources[0]! : HOLE;
  const x = h >= 0 ? lay.owners[h]! : HOLE;
  const states = q + n;
  const dist = new Float64Array(states).fill(Infinity);
  const prev = new Int32Array(states).fill(-1);
  const handed = new Int32Array(states).fill(-1); // the partition this state received
  const done = new Uint8Array(states);
  const byMember = lay.partitionsByMember();
  const heap = new Heap();
  const near: number[] = [];
  for (const src of sources) {
    dist[src] = 0;
    heap.push(0, src);
  }
  const relax = (from: number, pa: number, giver: number): void => {
    const base = dist[from]! + 1 - moved(pa, giver);
    for (let b = 0; b < n; b++) {
      if (b === giver) continue;
      lay.near(pa, b, b === x ? h : HOLE, near);
      if (near.length > 1) continue;
      const to = near.length === 0 ? q + b : near[0]!;
      if (done[to]) continue;
      const cost = base + moved(pa, b);
      if (cost < dist[to]!) {
        dist[to] = cost;
        prev[to] = from;
        handed[to] = pa;
        heap.push(cost, to);
      }
    }
  };
  for (let guard = 0; guard < states * (n + 1) && heap.size > 0; guard++) {
    const [d, s] = heap.pop();
    if (done[s] || d !== dist[s]) continue;
    done[s] = 1;
    if (s >= q) {
      const m = s - q;
      if (isGoal(m)) return unwindChain(s, q, prev, handed, lay.owners);
      for (const pa of byMember[m]!) if (pa !== h) relax(s, pa, m);
    } else {
      relax(s, s, lay.owners[s]!);
    }
  }
  return null;
}

function unwindChain(end: number, q: number, prev: Int32Array, handed: Int32Array, owners: Int32Array): Chain | null {
  const ps: number[] = [];
  const os: number[] = [];
  let s = end;
  for (let guard = 0; guard <= prev.length && prev[s]! >= 0; guard++) {
    const p = handed[s]!;
    if (ps.includes(p)) return null; // a partition handed twice: not a simple chain
    ps.push(p);
    os.push(s >= q ? s - q : owners[s]!);
    s = prev[s]!;
  }
  return { ps, os };
}

// ---------------------------------------------------------------------------------------------
// Candidate 2: dynamic program over windows with balance prices.

/** Work of one dpCandidate round: Q * states * successors. */
function dpWork(q: number, w: number, n: number): number {
  let states = 1;
  for (let i = 0; i < w - 1; i++) states *= n - i;
  return q * states * (n - w + 1);
}

/**
 * Among all sequences whose every w-window is distinct, the one minimising moves plus a price
 * per partition for each member (a Lagrangian relaxation of balance); prices rise for members
 * above ceil(Q/n) and fall for those below floor(Q/n), for at most 24 rounds. States are the
 * last w-1 owners. The ring is cut where `orig` holds w-1 distinct owners, which are kept.
 * Returns the most balanced sequence found (the caller rebalances it), or null.
 */
function dpCandidate(q: number, w: number, n: number, orig: Int32Array): Int32Array | null {
  const k = w - 1;
  if (k < 1 || q < 2 * w) return null;
  const tuples: number[][] = []; // ordered tuples of k distinct members; [0] is the oldest
  const build = (t: number[]): void => {
    if (t.length === k) {
      tuples.push(t.slice());
      return;
    }
    for (let m = 0; m < n; m++) {
      if (t.includes(m)) continue;
      t.push(m);
      build(t);
      t.pop();
    }
  };
  build([]);
  const S = tuples.length;
  const codeOf = (t: readonly number[]): number => t.reduce((acc, m) => acc * n + m, 0);
  const index = new Map<number, number>();
  tuples.forEach((t, i) => index.set(codeOf(t), i));
  const next = new Int32Array(S * n).fill(-1);
  for (let i = 0; i < S; i++) {
    const t = tuples[i]!;
    for (let b = 0; b < n; b++) if (!t.includes(b)) next[i * n + b] = index.get(codeOf([...t.slice(1), b]))!;
  }
  let offset = 0;
  let seed: number[] = tuples[0]!;
  for (let o = 0; o < q; o++) {
    const t = Array.from({ length: k }, (_, i) => orig[(o + i) % q]!);
    if (t.every((m) => m >= 0) && new Set(t).size === k) {
      offset = o;
      seed = t;
      break;
    }
  }
  const startState = index.get(codeOf(seed))!;
  // End states whose k owners followed by the seed keep every window across the cut distinct.
  const endOk = new Uint8Array(S);
  for (let i = 0; i < S; i++) {
    const seq = [...tuples[i]!, ...seed];
    let ok = true;
    for (let j = 0; j < k && ok; j++) ok = new Set(seq.slice(j, j + w)).size === w;
    endOk[i] = ok ? 1 : 0;
  }
  const base = Math.floor(q / n);
  const ceil = Math.ceil(q / n);
  const price = new Float64Array(n);
  const back = new Int32Array(q * S);
  let cur = new Float64Array(S);
  let nxt = new Float64Array(S);
  let best: Int32Array | null = null;
  let bestKey = [Infinity, Infinity];
  for (let round = 0; round < 24; round++) {
    cur.fill(Infinity);
    let c0 = 0;
    for (let i = 0; i < k; i++) c0 += (orig[(offset + i) % q] === seed[i] ? 0 : 1) + price[seed[i]!]!;
    cur[startState] = c0;
    for (let i = k; i < q; i++) {
      const p = (offset + i) % q;
      const keep = orig[p]!;
      nxt.fill(Infinity);
      for (let st = 0; st < S; st++) {
        const c = cur[st]!;
        if (c === Infinity) continue;
        for (let b = 0; b < n; b++) {
          const ns = next[st * n + b]!;
          if (ns < 0) continue;
          const v = c + (keep === b ? 0 : 1) + price[b]!;
          if (v < nxt[ns]!) {
            nxt[ns] = v;
            back[i * S + ns] = st;
          }
        }
      }
      const tmp = cur;
      cur = nxt;
      nxt = tmp;
    }
    let end = -1;
    for (let st = 0; st < S; st++) {
      if (endOk[st] && cur[st]! < Infinity && (end < 0 || cur[st]! < cur[end]!)) end = st;
    }
    if (end < 0) return best;
    const seq = new Int32Array(q);
    let st = end;
    for (let i = q - 1; i >= k; i--) {
      seq[(offset + i) % q] = tuples[st]![k - 1]!;
      st = back[i * S + st]!;
    }
    for (let i = 0; i < k; i++) seq[(offset + i) % q] = seed[i]!;
    const counts = new Int32Array(n);
    for (const m of seq) counts[m] = counts[m]! + 1;
    let imbalance = 0;
    for (const c of counts) imbalance += Math.max(0, c - ceil) + Math.max(0, base - c);
    const key = [imbalance, movesOf(orig, seq)];
    if (cmpTuple(key, bestKey) < 0) {
      bestKey = key;
      best = seq;
    }
    if (imbalance === 0) break;
    const step = 0.15 / (1 + round / 6);
    for (let m = 0; m < n; m++) {
      const c = counts[m]!;
      const off = c > ceil ? c - ceil : c < base ? c - base : 0;
      price[m] = price[m]! + step * Math.max(-3, Math.min(3, off));
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// Candidate 3 and the n < nVal layout: stripes.

/**
 * A slot per partition for `slots` slots; slot s gets ceil(Q/slots) partitions for
 * s < Q mod slots, floor(Q/slots) otherwise.
 *
 * Feasible case (ceil(Q/slots) <= floor(Q/w)): R = ceil(Q/slots) rows, of lengths floor(Q/R)
 * or ceil(Q/R) (longer rows first), laid end to end around the ring; slots fill the cells
 * column by column (column c of every row, then column c+1), bigger slots first. A slot of
 * size R fills one whole column (they come first and the first floor(Q/R) columns are whole);
 * a slot of size R-1 starting at row a of column c continues in column c+1 only down to row
 * a-2. So no slot has two cells in one row; cells of a slot in consecutive rows are at least
 * one row length apart (same column, or across the seam Q-1 -> 0: row length + 1), or, for
 * rows a-2 and a, two row lengths minus one apart. Feasibility gives R <= floor(Q/w), so every
 * row is at least w long: no two cells of a slot are closer than w. With slots | Q this is
 * the stripe p mod slots.
 *
 * Infeasible case: the stripe p mod slots. Repeats closer than w only straddle the seam
 * between partitions Q-1 and 0 (the last, partial round meets the first), and at most w-1
 * windows contain the seam.
 */
function stripedPattern(q: number, slots: number, w: number, feasible: boolean): Int32Array {
  const pattern = new Int32Array(q);
  if (!feasible || w <= 1) {
    for (let p = 0; p < q; p++) pattern[p] = p % slots;
    return pattern;
  }
  const rows = Math.ceil(q / slots);
  const shortLen = Math.floor(q / rows);
  const longRows = q % rows;
  const rowLen = (r: number): number => (r < longRows ? shortLen + 1 : shortLen);
  const rowStart: number[] = [];
  let acc = 0;
  for (let r = 0; r < rows; r++) {
    rowStart.push(acc);
    acc += rowLen(r);
  }
  const base = Math.floor(q / slots);
  const extra = q % slots;
  const sizeOf = (s: number): number => (s < extra ? base + 1 : base);
  let slot = 0;
  let left = sizeOf(0);
  for (let c = 0; c <= shortLen; c++) {
    for (let r = 0; r < rows; r++) {
      if (c >= rowLen(r)) continue;
      while (left === 0 && slot < slots - 1) {
        slot++;
        left = sizeOf(slot);
      }
      pattern[rowStart[r]! + c] = slot;
      left--;
    }
  }
  return pattern;
}

/**
 * Rotation of `pattern` and injective map of members to its slots (greedy matching by
 * overlap with orig; ties: lower slot, lower member) maximising the partitions kept. Slots
 * left unmatched (when slots > n) own HOLE. Tries every rotation within one period of the
 * pattern (evenly spaced ones on huge rings).
 */
function relabel(
  pattern: Int32Array,
  slots: number,
  n: number,
  orig: Int32Array,
): { owners: Int32Array; slotOwner: Int32Array; rotation: number } {
  const q = pattern.length;
  const hasOrig = orig.some((o) => o >= 0);
  // Rotations by a period of the pattern give the same layout: try one period.
  let period = q;
  for (let d = 1; d < q; d++) {
    if (q % d !== 0) continue;
    let periodic = true;
    for (let p = d; p < q && periodic; p++) periodic = pattern[p] === pattern[p - d];
    if (periodic) {
      period = d;
      break;
    }
  }
  const rotations = hasOrig ? period : 1;
  const stride = rotations * slots * n > 4_000_000 ? Math.ceil(rotations / 64) : 1;
  const overlap = new Int32Array(slots * n);
  const pairs = Array.from({ length: slots * n }, (_, i) => i);
  let bestTotal = -1;
  let best = { slotOwner: new Int32Array(slots).fill(HOLE), rotation: 0 };
  for (let rot = 0; rot < rotations; rot += stride) {
    overlap.fill(0);
    for (let p = 0; p < q; p++) {
      const o = orig[p]!;
      if (o < 0) continue;
      const i = pattern[(p + rot) % q]! * n + o;
      overlap[i] = overlap[i]! + 1;
    }
    pairs.sort((a, b) => overlap[b]! - overlap[a]! || a - b);
    const slotOwner = new Int32Array(slots).fill(HOLE);
    const used = new Uint8Array(n);
    let matched = 0;
    let total = 0;
    for (const pair of pairs) {
      if (matched === Math.min(n, slots)) break;
      const s = Math.floor(pair / n);
      const m = pair % n;
      if (slotOwner[s] !== HOLE || used[m]) continue;
      slotOwner[s] = m;
      used[m] = 1;
      matched++;
      total += overlap[pair]!;
    }
    if (total > bestTotal) {
      bestTotal = total;
      best = { slotOwner, rotation: rot };
    }
  }
  const owners = new Int32Array(q);
  for (let p = 0; p < q; p++) owners[p] = best.slotOwner[pattern[(p + best.rotation) % q]!]!;
  return { owners, ...best };
}

/**
 * Layout for n < nVal members: the stripe layout for nVal slots (as if nVal members), rotated
 * and relabelled to keep the most, each member owning one slot; the partitions of the spare
 * slots are shared out to reach balance, kept by their current owner where possible and
 * otherwise dealt slot by slot, in ring order, to the member with the largest remaining need
 * (so members share every spare slot). A join then hands the joiner a spare slot plus a
 * little, close to Q/(n+1) moves. Null when Q < nVal or a slot exceeds floor(Q/n).
 */
function growthLayout(q: number, nVal: number, n: number, orig: Int32Array): Int32Array | null {
  if (q < nVal) return null;
  const feasible = Math.ceil(q / nVal) <= Math.floor(q / nVal);
  const pattern = stripedPattern(q, nVal, nVal, feasible);
  const { owners, slotOwner, rotation } = relabel(pattern, nVal, n, orig);
  const slotSize = new Int32Array(nVal);
  for (const s of pattern) slotSize[s] = slotSize[s]! + 1;
  // Targets: ceil for the members owning the most now (ties: larger own slot, lower id).
  const counts = new Int32Array(n);
  for (const o of orig) if (o >= 0) counts[o] = counts[o]! + 1;
  const own = new Int32Array(n);
  for (let s = 0; s < nVal; s++) if (slotOwner[s]! >= 0) own[slotOwner[s]!] = slotSize[s]!;
  const base = Math.floor(q / n);
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => counts[b]! - counts[a]! || own[b]! - own[a]! || a - b,
  );
  const need = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const m = order[i]!;
    need[m] = (i < q % n ? base + 1 : base) - own[m]!;
    if (need[m]! < 0) return null;
  }
  // Spare partitions: keep the current owner while it still needs partitions.
  for (let p = 0; p < q; p++) {
    if (owners[p] !== HOLE) continue;
    const o = orig[p]!;
    if (o >= 0 && need[o]! > 0) {
      owners[p] = o;
      need[o] = need[o]! - 1;
    }
  }
  // The rest, spare slot by spare slot in ring order, to the member needing the most.
  for (let s = 0; s < nVal; s++) {
    if (slotOwner[s] !== HOLE) continue;
    for (let p = 0; p < q; p++) {
      if (owners[p] !== HOLE || pattern[(p + rotation) % q] !== s) continue;
      let m = -1;
      for (let c = 0; c < n; c++) if (need[c]! > 0 && (m < 0 || need[c]! > need[m]!)) m = c;
      if (m < 0) return null; // unreachable: total need equals the spare partitions
      owners[p] = m;
      need[m] = need[m]! - 1;
    }
  }
  return owners;
}
