// Partition claim: which member owns each of the Q partitions of the ring.
//
// Requirements, in priority order:
//   a. Balance: every member owns floor(Q/n) or ceil(Q/n) partitions. Always.
//   b. Spread: any nVal consecutive partitions (cyclically) have distinct owners whenever
//      that is feasible, so a key's nVal primaries are nVal different nodes.
//   c. Few moves: a join moves about Q/(n+1) partitions, a leave about what the leavers owned.
//
// Feasibility (Q = ringSize, n = members, w = min(nVal, n), the "effective window"):
//   * n < nVal: every nVal-window holds a repeat (pigeonhole), so all Q windows violate.
//     We then apply the rule below to windows of n partitions instead (w = n): each window of
//     n consecutive partitions is distinct when n divides Q, otherwise at most n-1 are not.
//   * n >= nVal (w = nVal): a balanced assignment with zero violating windows exists iff
//         w == 1  or  ceil(Q/n) <= floor(Q/w).
//     Necessity: the partitions of one owner are pairwise >= w apart around a cycle of Q, so it
//     owns at most floor(Q/w) of them, and balance gives some member ceil(Q/n).
//     Sufficiency: the "column" construction in stripedPattern() below (R = ceil(Q/n) rows of
//     length >= w read column by column) is valid whenever the inequality holds. E.g. Q=64,
//     nVal=3 is infeasible for n=3 (22 > 21) and feasible for every n >= 4; n == nVal is
//     feasible only when nVal divides Q.
//   * Guarantee: when feasible, claimPartitions returns zero violating w-windows; when not,
//     at most min(Q, w-1) violating w-windows (the plain stripe i mod n achieves that: its
//     only repeats sit at the wrap-around seam). Counted in nVal-windows: 0 when feasible,
//     at most nVal-1 when n >= nVal but infeasible, and Q (all, unavoidable) when n < nVal.
//     See claimGuarantee().
//
// Algorithm (pure, deterministic: members are sorted, every tie broken by index):
//   1. Start from `current`, owners that are not members become holes.
//   2. Targets: ceil(Q/n) for the (Q mod n) members that already own the most, floor otherwise.
//   3. Greedy: under-target members take holes first, then partitions of over-target
//      members, each step choosing the (partition, taker) that adds the fewest violating
//      windows, then spreads the taker's partitions, then relieves the giver where it is most
//      crowded.
//   4. Repair: while windows violate, apply the balance-keeping swap (or ceil->floor transfer)
//      that removes the most violations, moving the fewest partitions; bounded.
//   5. Candidate two: the striped pattern, rotated and relabelled to maximise overlap with
//      `current`. It is valid by construction. Return the valid candidate with fewer moves.

export interface ClaimInput {
  /** Number of partitions Q (>= 1). */
  ringSize: number;
  /** Replicas per key: consecutive partitions that should have distinct owners (>= 1). */
  nVal: number;
  /** Nodes that must own partitions; a set (order and duplicates are ignored). */
  members: readonly string[];
  /** Current owner per partition (length ringSize), or null for a fresh ring. */
  current: readonly (string | null)[] | null;
}

export interface ClaimGuarantee {
  /** Effective window min(nVal, n): the window size the claim keeps distinct. */
  window: number;
  /** Whether zero violating windows of size `window` is achievable with balance. */
  feasible: boolean;
  /** Upper bound on violating windows of size `window` in the claim's result. */
  maxWindowViolations: number;
  /** Upper bound on windowViolations(result, nVal). */
  maxNValViolations: number;
}

/** What claimPartitions promises about window violations for (Q, nVal, n). */
export function claimGuarantee(ringSize: number, nVal: number, memberCount: number): ClaimGuarantee {
  const q = ringSize;
  const w = Math.min(nVal, memberCount);
  const feasible = w <= 1 || Math.ceil(q / memberCount) <= Math.floor(q / w);
  const maxWindowViolations = feasible ? 0 : Math.min(q, w - 1);
  const maxNValViolations = memberCount < nVal ? q : maxWindowViolations;
  return { window: w, feasible, maxWindowViolations, maxNValViolations };
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
 * the ring meets some partition twice and so always violates if that partition is owned.
 */
export function windowViolations(owners: readonly (string | null)[], nVal: number): number {
  const q = owners.length;
  if (nVal <= 1 || q === 0) return 0;
  let bad = 0;
  const seen = new Set<string>();
  for (let i = 0; i < q; i++) {
    seen.clear();
    for (let j = 0; j < nVal; j++) {
      const o = owners[(i + j) % q] ?? null;
      if (o === null) continue;
      if (seen.has(o)) {
        bad++;
        break;
      }
      seen.add(o);
    }
  }
  return bad;
}

/** Partitions owned per node (null entries skipped), keys in sorted order. */
export function ownershipCounts(owners: readonly (string | null)[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const o of owners) if (o !== null) counts.set(o, (counts.get(o) ?? 0) + 1);
  return new Map([...counts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

// ---------------------------------------------------------------------------------------------
// Internal representation: member i of the sorted member list is id i; -1 is a hole.

const HOLE = -1;

/** Owners as ids over a ring of q partitions, with a cached violation checker for window w. */
class Layout {
  readonly q: number;
  readonly w: number;
  readonly owners: Int32Array;
  readonly counts: Int32Array;
  private readonly stamp: Int32Array;
  private epoch = 0;

  constructor(q: number, w: number, n: number, owners: Int32Array) {
    this.q = q;
    this.w = w;
    this.owners = owners;
    this.counts = new Int32Array(n);
    for (const o of owners) if (o >= 0) this.counts[o] = (this.counts[o] ?? 0) + 1;
    this.stamp = new Int32Array(n);
  }

  at(p: number): number {
    return this.owners[((p % this.q) + this.q) % this.q]!;
  }

  /** Whether the window starting at s holds an owner twice (holes ignored). */
  windowBad(s: number): boolean {
    if (this.w <= 1) return false;
    this.epoch++;
    const e = this.epoch;
    for (let j = 0; j < this.w; j++) {
      const o = this.at(s + j);
      if (o < 0) continue;
      if (this.stamp[o] === e) return true;
      this.stamp[o] = e;
    }
    return false;
  }

  totalViolations(): number {
    let bad = 0;
    for (let s = 0; s < this.q; s++) if (this.windowBad(s)) bad++;
    return bad;
  }

  /** Distinct window starts affected by changing the given partitions. */
  affected(ps: readonly number[]): number[] {
    const out: number[] = [];
    const span = Math.min(this.w, this.q);
    for (const p of ps) {
      for (let j = 0; j < span; j++) {
        const s = (((p - j) % this.q) + this.q) % this.q;
        if (!out.includes(s)) out.push(s);
      }
    }
    return out;
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

  /** Sum of windowExcess over the given starts: zero iff none of those windows violates. */
  excess(starts: readonly number[]): number {
    let sum = 0;
    for (const s of starts) sum += this.windowExcess(s);
    return sum;
  }

  set(p: number, owner: number): void {
    const old = this.owners[p]!;
    if (old >= 0) this.counts[old] = this.counts[old]! - 1;
    if (owner >= 0) this.counts[owner] = this.counts[owner]! + 1;
    this.owners[p] = owner;
  }

  /** Change in summed window excess from setting partitions ps to owners os (undone). */
  delta(ps: readonly number[], os: readonly number[]): number {
    const starts = this.affected(ps);
    const before = this.excess(starts);
    const saved = ps.map((p) => this.owners[p]!);
    for (let i = 0; i < ps.length; i++) this.owners[ps[i]!] = os[i]!;
    const after = this.excess(starts);
    for (let i = 0; i < ps.length; i++) this.owners[ps[i]!] = saved[i]!;
    return after - before;
  }

  /** Whether `owner` has no partition other than p within w-1 of p. */
  free(p: number, owner: number): boolean {
    const lim = Math.min(this.w - 1, Math.floor(this.q / 2));
    for (let d = 1; d <= lim; d++) {
      if (this.at(p + d) === owner || this.at(p - d) === owner) return false;
    }
    return true;
  }

  /** Partitions of `owner` within w-1 of p, other than p and `except`, into out. */
  near(p: number, owner: number, except: number, out: number[]): void {
    out.length = 0;
    const lim = Math.min(this.w - 1, Math.floor(this.q / 2));
    for (let d = 1; d <= lim; d++) {
      for (const r of [p + d, p - d]) {
        const rr = ((r % this.q) + this.q) % this.q;
        if (rr !== p && rr !== except && this.owners[rr] === owner && !out.includes(rr)) out.push(rr);
      }
    }
  }

  /** Partitions owned by another partition's owner within w-1: the repeats to remove. */
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

  /** Cyclic distance from p to the nearest other partition owned by `owner`, capped. */
  nearest(p: number, owner: number, cap: number): number {
    const lim = Math.min(cap, Math.floor(this.q / 2));
    for (let d = 1; d <= lim; d++) {
      if (this.at(p + d) === owner || this.at(p - d) === owner) return d;
    }
    return cap;
  }
}

function cmpTuple(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return 0;
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

/** Steps 3 and 4: greedy rebalance from the current owners, then bounded repair. */
function incremental(q: number, w: number, n: number, orig: Int32Array): Int32Array {
  const lay = new Layout(q, w, n, Int32Array.from(orig));
  const target = targetsFor(q, lay.counts);

  // Greedy: each step hands one partition (a hole, or one of an over-target member) to an
  // under-target member. Sum of deficits = holes + surpluses, so exactly that many steps.
  const steps = Array.from(target).reduce((acc, t, i) => acc + Math.max(0, t - lay.counts[i]!), 0);
  for (let step = 0; step < steps; step++) {
    let best: number[] | null = null;
    let bestP = -1;
    let bestT = -1;
    for (let p = 0; p < q; p++) {
      const x = lay.owners[p]!;
      if (x >= 0 && lay.counts[x]! <= target[x]!) continue;
      // Crowding of the giver at p: small when x has another partition nearby.
      const giverGap = x >= 0 ? lay.nearest(p, x, q) : q;
      for (let t = 0; t < n; t++) {
        const deficit = target[t]! - lay.counts[t]!;
        if (deficit <= 0) continue;
        const cap = Math.max(w, Math.floor(q / Math.max(1, target[t]!)));
        const score = [
          lay.delta([p], [t]),
          x >= 0 ? 1 : 0,
          -lay.nearest(p, t, cap),
          -deficit,
          giverGap,
        ];
        if (best === null || cmpTuple(score, best) < 0) {
          best = score;
          bestP = p;
          bestT = t;
        }
      }
    }
    if (bestP < 0) break; // Unreachable: a deficit implies a hole or a surplus.
    lay.set(bestP, bestT);
  }

  if (process.env.CLAIM_DEBUG) console.log("greedy", lay.totalViolations(), movesOf(orig, lay.owners), Array.from(lay.owners).join(" "));
  repair(lay, orig);
  return lay.owners;
}

/**
 * Step 4: ejection chains. A partition h whose owner X also owns a partition within w-1 of
 * it is handed to another member Y1; Y1 now holds one too many, so it hands on a partition:
 * the one of its own that now sits within w-1 of h if there is one, otherwise any of its
 * partitions; and so on, until a partition reaches X with no other partition of X nearby
 * (the loop closes: counts unchanged), or, when Q mod n > 0 and X was at ceil(Q/n), the
 * chain ends at a member at floor(Q/n). A receiver may have at most one partition near what
 * it receives, and that is the one it hands on, so (checked exactly before applying) a chain
 * removes X's repeat at h without adding one. Chains are cheapest paths (Dijkstra, cost per
 * hand-over 1 + partitions newly moved away from `current`). Bounded by 2Q chains.
 */
function repair(lay: Layout, orig: Int32Array): void {
  const { q } = lay;
  const moved = (p: number, o: number): number => (o === orig[p] ? 0 : 1);
  for (let iter = 0; iter < 2 * q; iter++) {
    const hot = lay.hotPartitions();
    if (hot.length === 0) return;
    let best: { ps: number[]; os: number[]; score: number[] } | null = null;
    for (const h of hot) {
      const chain = findChain(lay, h, moved);
      if (process.env.CLAIM_DEBUG && iter === 0) console.log('h', h, lay.owners[h], chain && JSON.stringify(chain), chain && lay.delta(chain.ps, chain.os));
      if (chain === null) continue;
      const dv = lay.delta(chain.ps, chain.os);
      if (dv >= 0) continue;
      let dm = 0;
      for (let i = 0; i < chain.ps.length; i++) {
        const p = chain.ps[i]!;
        dm += moved(p, chain.os[i]!) - moved(p, lay.owners[p]!);
      }
      const score = [dm, dv, chain.ps.length, h];
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
 * The cheapest ejection chain taking partition h from its owner x (see repair). States:
 * id r < Q means "the owner of r holds one too many and must hand on r"; id Q+m means
 * "member m holds one too many and may hand on any partition". Start: state h.
 */
function findChain(
  lay: Layout,
  h: number,
  moved: (p: number, o: number) => number,
): { ps: number[]; os: number[] } | null {
  const { q } = lay;
  const n = lay.counts.length;
  const base = Math.floor(q / n);
  const x = lay.owners[h]!;
  const xCanShrink = q % n !== 0 && lay.counts[x]! === base + 1;
  const states = q + n;
  const INF = Number.MAX_SAFE_INTEGER;
  const dist = new Array<number>(states).fill(INF);
  const prev = new Int32Array(states).fill(-1);
  const handed = new Int32Array(states).fill(-1); // the partition this state received
  const done = new Uint8Array(states);
  const byMember = lay.partitionsByMember();
  const heap = new Heap();
  dist[h] = 0;
  heap.push(0, h);
  const near: number[] = [];
  const relax = (from: number, pa: number, giver: number): void => {
    for (let b = 0; b < n; b++) {
      if (b === giver) continue;
      lay.near(pa, b, b === x ? h : -1, near);
      let to: number;
      if (near.length === 0) to = q + b;
      else if (near.length === 1) to = near[0]!;
      else continue;
      if (done[to]) continue;
      const cost = dist[from]! + 1 + moved(pa, b) - moved(pa, giver);
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
      if (m === x || (xCanShrink && lay.counts[m]! === base)) return unwindChain(s, h, q, prev, handed, lay.owners);
      for (const pa of byMember[m]!) if (pa !== h) relax(s, pa, m);
    } else {
      relax(s, s, lay.owners[s]!);
    }
  }
  return null;
}

function unwindChain(
  end: number,
  h: number,
  q: number,
  prev: Int32Array,
  handed: Int32Array,
  owners: Int32Array,
): { ps: number[]; os: number[] } | null {
  const ps: number[] = [];
  const os: number[] = [];
  let s = end;
  for (let guard = 0; guard <= prev.length && s !== h; guard++) {
    const p = handed[s]!;
    if (ps.includes(p)) return null;
    ps.push(p);
    os.push(s >= q ? s - q : owners[s]!);
    s = prev[s]!;
  }
  return { ps, os };
}

/**
 * Step 5's pattern: slot per partition, slot s owning ceil(Q/n) partitions for s < Q mod n and
 * floor(Q/n) otherwise.
 *
 * Feasible case: R = ceil(Q/n) rows whose lengths are floor(Q/R) or ceil(Q/R) (longer rows
 * first), laid end to end around the ring; slots fill the cells column by column (column c of
 * every row, then column c+1), bigger slots first. A slot of size R fills exactly one column
 * starting at row 0; a slot of size R-1 starting at row a in column c continues in column c+1
 * only up to row a-2. So a slot never has two cells in one row, cells in adjacent rows are at
 * least a row length apart (or two row lengths minus one), and feasibility means R <=
 * floor(Q/w), i.e. every row is at least w long: no two cells of a slot are within w-1.
 *
 * Infeasible case: the stripe p mod n (slots < Q mod n get the extra partition). Its only
 * repeated owners within w-1 of each other straddle the seam between partition Q-1 and 0,
 * which at most w-1 windows cover.
 */
function stripedPattern(q: number, n: number, w: number, feasible: boolean): Int32Array {
  const slots = new Int32Array(q);
  if (!feasible) {
    for (let p = 0; p < q; p++) slots[p] = p % n;
    return slots;
  }
  const rows = Math.ceil(q / n);
  const shortLen = Math.floor(q / rows);
  const longRows = q % rows;
  const rowLen = (r: number): number => (r < longRows ? shortLen + 1 : shortLen);
  const rowStart: number[] = [];
  let acc = 0;
  for (let r = 0; r < rows; r++) {
    rowStart.push(acc);
    acc += rowLen(r);
  }
  // Sizes: (q mod n) slots of ceil, the rest floor; fill column-major.
  const base = Math.floor(q / n);
  const extra = q % n;
  let slot = 0;
  let left = extra > 0 ? base + 1 : base;
  for (let c = 0; c <= shortLen; c++) {
    for (let r = 0; r < rows; r++) {
      if (c >= rowLen(r)) continue;
      while (left === 0 && slot < n - 1) {
        slot++;
        left = slot < extra ? base + 1 : base;
      }
      slots[rowStart[r]! + c] = slot;
      left--;
    }
  }
  void w;
  return slots;
}

/** Step 5: rotate the pattern and map slots to members to keep as many owners as possible. */
function striped(q: number, n: number, w: number, feasible: boolean, orig: Int32Array): Int32Array {
  const pattern = stripedPattern(q, n, w, feasible);
  const hasOrig = orig.some((o) => o >= 0);
  const rotations = hasOrig ? q : 1;
  // Bound the work on huge rings: try at most ~64 evenly spaced rotations beyond 4096 cells.
  const stride = rotations * n * n > 4_000_000 ? Math.ceil(rotations / 64) : 1;
  let bestOverlap = -1;
  let bestOwners: Int32Array = new Int32Array(q);
  const overlap = new Int32Array(n * n);
  for (let rot = 0; rot < rotations; rot += stride) {
    overlap.fill(0);
    for (let p = 0; p < q; p++) {
      const o = orig[p]!;
      if (o >= 0) {
        const s = pattern[(p + rot) % q]!;
        overlap[s * n + o] = overlap[s * n + o]! + 1;
      }
    }
    // Greedy matching of slots to members by overlap (ties: lower slot, lower member id).
    const pairs: number[] = [];
    for (let i = 0; i < n * n; i++) pairs.push(i);
    pairs.sort((a, b) => overlap[b]! - overlap[a]! || a - b);
    const slotOwner = new Int32Array(n).fill(HOLE);
    const memberUsed = new Uint8Array(n);
    let total = 0;
    for (const pair of pairs) {
      const s = Math.floor(pair / n);
      const m = pair % n;
      if (slotOwner[s] !== HOLE || memberUsed[m]) continue;
      slotOwner[s] = m;
      memberUsed[m] = 1;
      total += overlap[pair]!;
    }
    if (total > bestOverlap) {
      bestOverlap = total;
      bestOwners = new Int32Array(q);
      for (let p = 0; p < q; p++) bestOwners[p] = slotOwner[pattern[(p + rot) % q]!]!;
    }
  }
  return bestOwners;
}

function movesOf(orig: Int32Array, owners: Int32Array): number {
  let m = 0;
  for (let p = 0; p < orig.length; p++) if (orig[p] !== owners[p]) m++;
  return m;
}

/**
 * A balanced owner per partition for `members`, keeping nVal consecutive partitions on
 * distinct nodes when feasible and moving few partitions away from `current`. Pure and
 * deterministic: the result depends only on the member set, ringSize, nVal and current.
 */
export function claimPartitions(input: ClaimInput): string[] {
  const { ringSize: q, nVal, current } = input;
  if (!Number.isInteger(q) || q < 1) throw new RangeError(`claimPartitions: bad ringSize ${q}`);
  if (!Number.isInteger(nVal) || nVal < 1) throw new RangeError(`claimPartitions: bad nVal ${nVal}`);
  const names = [...new Set(input.members)].sort();
  const n = names.length;
  if (n === 0) throw new RangeError('claimPartitions: no members');
  if (current !== null && current.length !== q) {
    throw new RangeError(`claimPartitions: current has ${current.length} partitions, ringSize is ${q}`);
  }
  const { window: w, feasible, maxWindowViolations } = claimGuarantee(q, nVal, n);
  const idOf = new Map(names.map((name, i) => [name, i] as const));
  const orig = new Int32Array(q).fill(HOLE);
  if (current !== null) {
    for (let p = 0; p < q; p++) {
      const o = current[p];
      orig[p] = o === null || o === undefined ? HOLE : (idOf.get(o) ?? HOLE);
    }
  }

  const stripe = striped(q, n, w, feasible, orig);
  let chosen = stripe;
  if (orig.some((o) => o >= 0)) {
    const inc = incremental(q, w, n, orig);
    if (process.env.CLAIM_DEBUG) console.log("inc", new Layout(q, w, n, inc).totalViolations(), movesOf(orig, inc), "stripe", movesOf(orig, stripe));
    const incViolations = new Layout(q, w, n, inc).totalViolations();
    if (incViolations <= maxWindowViolations) {
      const stripeViolations = new Layout(q, w, n, stripe).totalViolations();
      const a = [movesOf(orig, inc), incViolations];
      const b = [movesOf(orig, stripe), stripeViolations];
      if (cmpTuple(a, b) <= 0) chosen = inc;
    }
  }
  return Array.from(chosen, (id) => names[id]!);
}
