/**
 * Linearizability checker for histories of a single compare-and-set register.
 *
 * Algorithm: Wing & Gong's search for a linearization, with the memoisation of
 * Lowe ("Testing for linearizability", 2017) as used by Knossos and Porcupine.
 * A depth-first search repeatedly picks a *minimal* un-linearized operation (one
 * that no other un-linearized operation precedes in real time), applies it to the
 * sequential register model, and backtracks when the model disagrees with the
 * observed output. Every (set of linearized ops, register state) pair is visited
 * at most once: two search paths that linearized the same ops and reached the
 * same state have identical futures.
 *
 * Conventions:
 * - Real-time order is strict: `a` precedes `b` iff `a.completedAt < b.invokedAt`.
 *   Ops whose intervals merely touch (`a.completedAt === b.invokedAt`) are
 *   concurrent, except for two ops of the same process, which always stay in
 *   invocation order (a process has at most one op outstanding).
 * - An op without `completedAt` has an unknown outcome: it may be linearized at any
 *   point after its invocation, or omitted (no effect). Its output is ignored.
 *   Once a process has an op with unknown outcome, its later ops are not ordered
 *   after that op (the op may still take effect at any time).
 * - A completed `read` whose output lacks `value` is taken to have read `null`.
 *   A completed `create`/`cas` whose output lacks `ok` must be linearized but may
 *   have either outcome (whichever the state dictates).
 *
 * Malformed histories (duplicate ids, `completedAt < invokedAt`, non-finite times)
 * throw.
 */

export type RegisterValue = string | null; // null = absent

export type CasOp =
  | { kind: 'read' } // output: { value: RegisterValue }
  | { kind: 'create'; value: string } // create-if-absent; output: { ok: boolean }
  | { kind: 'cas'; expected: RegisterValue; value: string } // output: { ok: boolean }
  | { kind: 'write'; value: string }; // unconditional; output: {}

export interface HistoryEntry {
  id: number; // unique
  process: string; // client id (a process has at most one op outstanding)
  op: CasOp;
  invokedAt: number; // time of invocation
  // completion; undefined means the outcome is unknown (timeout/crash): the op may have
  // taken effect at any point after invocation, or never
  completedAt?: number;
  output?: { ok?: boolean; value?: RegisterValue };
}

export interface LinearizabilityResult {
  ok: boolean;
  /** Number of distinct (linearized set, state) search nodes visited. */
  explored: number;
  /** Set (with ok: false) when the search limit was hit: the history is neither proven nor refuted. */
  inconclusive?: boolean;
  /** Human-readable explanation when !ok. */
  reason?: string;
  /** Ops that could not be linearized at the deepest point the search reached (empty when inconclusive). */
  failingOpIds?: number[];
}

export interface CheckOptions {
  /** Cap on distinct search nodes; default 1_000_000. */
  maxExplored?: number;
}

const DEFAULT_MAX_EXPLORED = 1_000_000;

const K_READ = 0;
const K_CREATE = 1;
const K_CAS = 2;
const K_WRITE = 3;

/** Outcome encoding for completed create/cas. */
const OUT_ANY = 0;
const OUT_OK = 1;
const OUT_FAIL = 2;

/** Value id 0 is null (absent). */
const NULL_ID = 0;

interface Prepared {
  entry: HistoryEntry;
  kind: number;
  /** create/cas/write: new value id; read: observed value id. */
  val: number;
  /** cas: expected value id. */
  exp: number;
  /** create/cas: OUT_*. */
  out: number;
  required: boolean;
  invokedAt: number;
  completedAt: number; // Infinity when unknown
  /** Index of the previous op of the same process if that op completed, else -1. */
  procPred: number;
  /** Key for interchangeability of unknown-outcome ops. */
  dedupKey: string;
}

/**
 * Apply op to state. Returns the new state id, or -1 if the op's observed output
 * is inconsistent with `state`.
 */
function apply(p: Prepared, state: number): number {
  switch (p.kind) {
    case K_READ:
      return p.val === state ? state : -1;
    case K_CREATE: {
      const absent = state === NULL_ID;
      if (p.out === OUT_OK) return absent ? p.val : -1;
      if (p.out === OUT_FAIL) return absent ? -1 : state;
      return absent ? p.val : state;
    }
    case K_CAS: {
      const match = state === p.exp;
      if (p.out === OUT_OK) return match ? p.val : -1;
      if (p.out === OUT_FAIL) return match ? -1 : state;
      return match ? p.val : state;
    }
    default:
      return p.val;
  }
}

function fmtValue(v: RegisterValue | undefined): string {
  return v === null || v === undefined ? 'null' : JSON.stringify(v);
}

function describeOp(e: HistoryEntry): string {
  const op = e.op;
  let call: string;
  switch (op.kind) {
    case 'read':
      call = 'read()';
      break;
    case 'create':
      call = `create(${fmtValue(op.value)})`;
      break;
    case 'cas':
      call = `cas(${fmtValue(op.expected)} -> ${fmtValue(op.value)})`;
      break;
    case 'write':
      call = `write(${fmtValue(op.value)})`;
      break;
  }
  let result: string;
  if (e.completedAt === undefined) {
    result = '?';
  } else if (op.kind === 'read') {
    result = fmtValue(e.output?.value ?? null);
  } else if (op.kind === 'write') {
    result = 'done';
  } else {
    const ok = e.output?.ok;
    result = ok === undefined ? 'ok|fail' : ok ? 'ok' : 'fail';
  }
  const span = `[${e.invokedAt}, ${e.completedAt === undefined ? '?' : e.completedAt}]`;
  return `#${e.id} ${e.process} ${call} => ${result} ${span}`;
}

/**
 * Check that a history of operations on one compare-and-set register is linearizable.
 */
export function checkCasRegister(
  history: readonly HistoryEntry[],
  initial: RegisterValue = null,
  opts: CheckOptions = {},
): LinearizabilityResult {
  const maxExplored = opts.maxExplored ?? DEFAULT_MAX_EXPLORED;
  validateHistory(history);
  const values = new ValueTable();
  const initialState = values.intern(initial);
  const ops = prepareOps(history, values);
  if (!ops.some((p) => p.required)) return { ok: true, explored: 0 };

  const outcome = searchLinearization(ops, initialState, maxExplored);
  switch (outcome.kind) {
    case 'linearized':
      return { ok: true, explored: outcome.explored };
    case 'limit':
      return {
        ok: false,
        inconclusive: true,
        explored: outcome.explored,
        reason:
          `search limit reached (${maxExplored} explored states) before the history of ${history.length} ops ` +
          `could be proven or refuted linearizable; deepest partial linearization covered ${outcome.depth} ops`,
        failingOpIds: [],
      };
    case 'stuck':
      return notLinearizableResult(ops, outcome.deepest, outcome.explored, values);
  }
}

/** Throws on duplicate ids, non-finite times and `completedAt < invokedAt`. */
function validateHistory(history: readonly HistoryEntry[]): void {
  const seenIds = new Set<number>();
  for (const e of history) {
    if (seenIds.has(e.id)) throw new Error(`linearizability: duplicate op id ${e.id}`);
    seenIds.add(e.id);
    if (!Number.isFinite(e.invokedAt)) throw new Error(`linearizability: op #${e.id} has invalid invokedAt`);
    if (e.completedAt !== undefined) {
      if (!Number.isFinite(e.completedAt)) throw new Error(`linearizability: op #${e.id} has invalid completedAt`);
      if (e.completedAt < e.invokedAt) {
        throw new Error(
          `linearizability: op #${e.id} completes (${e.completedAt}) before it is invoked (${e.invokedAt})`,
        );
      }
    }
  }
}

/** Register values interned as small integers (the model's states); id 0 is null. */
class ValueTable {
  private readonly ids = new Map<string, number>();
  private readonly names: RegisterValue[] = [null];

  intern(v: RegisterValue | undefined): number {
    if (v === null || v === undefined) return NULL_ID;
    let id = this.ids.get(v);
    if (id === undefined) {
      id = this.names.length;
      this.ids.set(v, id);
      this.names.push(v);
    }
    return id;
  }

  name(id: number): RegisterValue | undefined {
    return this.names[id];
  }
}

/** The ops the search considers, with interned values and their process order. */
function prepareOps(history: readonly HistoryEntry[], values: ValueTable): Prepared[] {
  // Unknown-outcome reads cannot affect anything: drop them.
  const entries = history.filter((e) => !(e.completedAt === undefined && e.op.kind === 'read'));
  const ops = entries.map((e) => prepareOp(e, values));
  for (const p of ops) p.dedupKey = `${p.kind}:${p.exp}:${p.val}`;
  linkProcessOrder(ops);
  return ops;
}

function prepareOp(e: HistoryEntry, values: ValueTable): Prepared {
  const required = e.completedAt !== undefined;
  const okOut = !required || e.output?.ok === undefined ? OUT_ANY : e.output.ok ? OUT_OK : OUT_FAIL;
  const base = {
    entry: e,
    required,
    invokedAt: e.invokedAt,
    completedAt: e.completedAt ?? Infinity,
    procPred: -1,
  };
  switch (e.op.kind) {
    case 'read':
      return {
        ...base,
        kind: K_READ,
        val: values.intern(e.output?.value ?? null),
        exp: -1,
        out: OUT_ANY,
        dedupKey: '',
      };
    case 'create':
      return { ...base, kind: K_CREATE, val: values.intern(e.op.value), exp: -1, out: okOut, dedupKey: '' };
    case 'cas': {
      const val = values.intern(e.op.value);
      return { ...base, kind: K_CAS, val, exp: values.intern(e.op.expected), out: okOut, dedupKey: '' };
    }
    case 'write':
      return { ...base, kind: K_WRITE, val: values.intern(e.op.value), exp: -1, out: OUT_ANY, dedupKey: '' };
  }
}

/** Sets `procPred`: process order only matters for ties; strict real-time order covers the rest. */
function linkProcessOrder(ops: Prepared[]): void {
  const byProc = new Map<string, number[]>();
  ops.forEach((p, i) => {
    let list = byProc.get(p.entry.process);
    if (!list) byProc.set(p.entry.process, (list = []));
    list.push(i);
  });
  for (const list of byProc.values()) {
    list.sort((a, b) => ops[a]!.invokedAt - ops[b]!.invokedAt || ops[a]!.entry.id - ops[b]!.entry.id);
    for (let k = 1; k < list.length; k++) {
      const prev = list[k - 1]!;
      if (ops[prev]!.required) ops[list[k]!]!.procPred = prev;
    }
  }
}

/**
 * The ops not linearized yet, as dancing-links lists: all of them in invocation order, and the required ones in
 * completion order. Index n is the sentinel head of both lists. Linearized ops are lifted out and restored on
 * backtrack (always LIFO, so the links restore exactly).
 */
class PendingOps {
  /** The sentinel: iteration over either list ends when it comes back here. */
  readonly end: number;
  private readonly invNext: Int32Array;
  private readonly invPrev: Int32Array;
  private readonly cmpNext: Int32Array;
  private readonly cmpPrev: Int32Array;

  constructor(private readonly ops: readonly Prepared[]) {
    const n = ops.length;
    this.end = n;
    this.invNext = new Int32Array(n + 1);
    this.invPrev = new Int32Array(n + 1);
    this.cmpNext = new Int32Array(n + 1);
    this.cmpPrev = new Int32Array(n + 1);
    const byInvocation = ops.map((_, i) => i).sort((a, b) => ops[a]!.invokedAt - ops[b]!.invokedAt || a - b);
    this.link(this.invNext, this.invPrev, byInvocation);
    const byCompletion = ops
      .map((_, i) => i)
      .filter((i) => ops[i]!.required)
      .sort((a, b) => ops[a]!.completedAt - ops[b]!.completedAt || a - b);
    this.link(this.cmpNext, this.cmpPrev, byCompletion);
  }

  private link(next: Int32Array, prevOf: Int32Array, order: readonly number[]): void {
    let prev = this.end;
    for (const i of order) {
      next[prev] = i;
      prevOf[i] = prev;
      prev = i;
    }
    next[prev] = this.end;
    prevOf[this.end] = prev;
  }

  /** The first pending op in invocation order (`end` when none is left). */
  firstInvoked(): number {
    return this.invNext[this.end]!;
  }

  /** The pending op invoked after `i` (`end` after the last). */
  nextInvoked(i: number): number {
    return this.invNext[i]!;
  }

  /** The earliest completion time of a pending required op (Infinity when none is left). */
  earliestCompletion(): number {
    const head = this.cmpNext[this.end]!;
    return head === this.end ? Infinity : this.ops[head]!.completedAt;
  }

  lift(i: number): void {
    const { invNext, invPrev, cmpNext, cmpPrev } = this;
    invNext[invPrev[i]!] = invNext[i]!;
    invPrev[invNext[i]!] = invPrev[i]!;
    if (this.ops[i]!.required) {
      cmpNext[cmpPrev[i]!] = cmpNext[i]!;
      cmpPrev[cmpNext[i]!] = cmpPrev[i]!;
    }
  }

  unlift(i: number): void {
    const { invNext, invPrev, cmpNext, cmpPrev } = this;
    invNext[invPrev[i]!] = i;
    invPrev[invNext[i]!] = i;
    if (this.ops[i]!.required) {
      cmpNext[cmpPrev[i]!] = i;
      cmpPrev[cmpNext[i]!] = i;
    }
  }
}

/** The set of linearized ops as a bit set; with a register state it makes the memo key of a search node. */
class LinearizedSet {
  private readonly bits: Uint16Array;

  constructor(n: number) {
    this.bits = new Uint16Array(Math.max(Math.ceil(n / 16), 1));
  }

  has(i: number): boolean {
    return (this.bits[i >>> 4]! & (1 << (i & 15))) !== 0;
  }

  add(i: number): void {
    this.bits[i >>> 4]! |= 1 << (i & 15);
  }

  delete(i: number): void {
    this.bits[i >>> 4]! &= ~(1 << (i & 15));
  }

  key(state: number): string {
    const bits = this.bits;
    let s = '';
    for (let k = 0; k < bits.length; k += 4096) s += String.fromCharCode(...bits.subarray(k, k + 4096));
    // State ids may exceed 16 bits in principle; encode in two chars.
    s += String.fromCharCode(state & 0xffff, state >>> 16);
    return s;
  }
}

/** The minimal pending ops worth linearizing next from `state`, in invocation order. */
function candidates(ops: readonly Prepared[], pending: PendingOps, linearized: LinearizedSet, state: number): number[] {
  const minCompletion = pending.earliestCompletion();
  const out: number[] = [];
  let seenUnknown: Set<string> | undefined;
  for (let i = pending.firstInvoked(); i !== pending.end; i = pending.nextInvoked(i)) {
    const p = ops[i]!;
    if (p.invokedAt > minCompletion) break;
    if (p.procPred >= 0 && !linearized.has(p.procPred)) continue;
    if (!p.required) {
      // Optional op: linearizing it as a no-op is the same as leaving it out
      // (it stays available for later), and invoked optional ops with the same
      // operation are interchangeable (nothing is ordered after them).
      if (apply(p, state) === state) continue;
      if (!seenUnknown) seenUnknown = new Set();
      if (seenUnknown.has(p.dedupKey)) continue;
      seenUnknown.add(p.dedupKey);
    }
    out.push(i);
  }
  return out;
}

interface SearchFrame {
  cands: number[];
  next: number;
  /** Op linearized to enter this frame (-1 at the root). */
  op: number;
  /** State before `op` was applied. */
  prevState: number;
}

/** The deepest point the search reached, for the failure report. */
interface DeepestPoint {
  depth: number;
  state: number;
  cands: number[];
  /** The last (up to 8) ops linearized on the way there, oldest first. */
  recent: number[];
}

type SearchOutcome =
  | { kind: 'linearized'; explored: number }
  | { kind: 'limit'; explored: number; depth: number }
  | { kind: 'stuck'; explored: number; deepest: DeepestPoint };

/** Iterative depth-first search for a linearization of `ops` (at least one of them required). */
function searchLinearization(ops: readonly Prepared[], initialState: number, maxExplored: number): SearchOutcome {
  const pending = new PendingOps(ops);
  const linearized = new LinearizedSet(ops.length);
  const memo = new Set<string>();
  let requiredLeft = 0;
  for (const p of ops) if (p.required) requiredLeft++;

  let state = initialState;
  const stack: SearchFrame[] = [
    { cands: candidates(ops, pending, linearized, state), next: 0, op: -1, prevState: state },
  ];
  memo.add(linearized.key(state));
  let explored = 1;
  let deepest: DeepestPoint = { depth: 0, state, cands: stack[0]!.cands, recent: [] };

  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next >= frame.cands.length) {
      // Backtrack.
      stack.pop();
      if (frame.op >= 0) {
        const i = frame.op;
        pending.unlift(i);
        linearized.delete(i);
        if (ops[i]!.required) requiredLeft++;
        state = frame.prevState;
      }
      continue;
    }
    const i = frame.cands[frame.next++]!;
    const p = ops[i]!;
    const nextState = apply(p, state);
    if (nextState < 0) continue;
    linearized.add(i);
    const key = linearized.key(nextState);
    if (memo.has(key)) {
      linearized.delete(i);
      continue;
    }
    memo.add(key);
    explored++;
    if (p.required) requiredLeft--;
    if (requiredLeft === 0) return { kind: 'linearized', explored };
    if (explored >= maxExplored) return { kind: 'limit', explored, depth: deepest.depth };
    pending.lift(i);
    const cands = candidates(ops, pending, linearized, nextState);
    stack.push({ cands, next: 0, op: i, prevState: state });
    state = nextState;
    if (stack.length - 1 > deepest.depth) {
      const recent: number[] = [];
      for (let k = stack.length - 1; k >= 1 && recent.length < 8; k--) recent.push(stack[k]!.op);
      recent.reverse();
      deepest = { depth: stack.length - 1, state, cands, recent };
    }
  }
  return { kind: 'stuck', explored, deepest };
}

/** The result for a history with no linearization: where the search got furthest, and which ops failed there. */
function notLinearizableResult(
  ops: readonly Prepared[],
  deepest: DeepestPoint,
  explored: number,
  values: ValueTable,
): LinearizabilityResult {
  const stateName = fmtValue(values.name(deepest.state));
  const requiredCands = deepest.cands.filter((i) => ops[i]!.required);
  const inconsistent = requiredCands.filter((i) => apply(ops[i]!, deepest.state) < 0);
  const failing = inconsistent.length > 0 ? inconsistent : requiredCands;
  const lines: string[] = [];
  lines.push(
    `history is not linearizable: a longest valid partial linearization covers ${deepest.depth} of ${ops.length} ops ` +
      `(register = ${stateName} after it), and no op can be linearized next.`,
  );
  if (deepest.recent.length > 0) {
    lines.push(`  last linearized ops: ${deepest.recent.map((i) => describeOp(ops[i]!.entry)).join('; ')}`);
  }
  if (failing.length > 0) {
    lines.push(`  ops that cannot be linearized there (register = ${stateName}):`);
    for (const i of failing) lines.push(`    ${describeOp(ops[i]!.entry)}`);
  }
  return {
    ok: false,
    explored,
    reason: lines.join('\n'),
    failingOpIds: failing.map((i) => ops[i]!.entry.id),
  };
}

/**
 * Check a multi-key history: linearizability is compositional (local), so each
 * key's sub-history is checked independently. Keys map to results in order of
 * first appearance.
 */
export function checkCasHistories(
  history: readonly (HistoryEntry & { key: string })[],
  opts: CheckOptions & { initial?: (key: string) => RegisterValue } = {},
): Map<string, LinearizabilityResult> {
  const byKey = new Map<string, HistoryEntry[]>();
  for (const e of history) {
    let list = byKey.get(e.key);
    if (!list) byKey.set(e.key, (list = []));
    list.push(e);
  }
  const results = new Map<string, LinearizabilityResult>();
  for (const [key, entries] of byKey) {
    const { initial, ...rest } = opts;
    results.set(key, checkCasRegister(entries, initial ? initial(key) : null, rest));
  }
  return results;
}
