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

  // ---- validation & value interning --------------------------------------------------
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

  const valueIds = new Map<string, number>();
  const valueNames: RegisterValue[] = [null];
  const intern = (v: RegisterValue | undefined): number => {
    if (v === null || v === undefined) return NULL_ID;
    let id = valueIds.get(v);
    if (id === undefined) {
      id = valueNames.length;
      valueIds.set(v, id);
      valueNames.push(v);
    }
    return id;
  };
  const initialState = intern(initial);

  // ---- preparation ------------------------------------------------------------------
  // Unknown-outcome reads cannot affect anything: drop them.
  const entries = history.filter((e) => !(e.completedAt === undefined && e.op.kind === 'read'));
  const ops: Prepared[] = entries.map((e) => {
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
        return { ...base, kind: K_READ, val: intern(e.output?.value ?? null), exp: -1, out: OUT_ANY, dedupKey: '' };
      case 'create':
        return { ...base, kind: K_CREATE, val: intern(e.op.value), exp: -1, out: okOut, dedupKey: '' };
      case 'cas':
        return { ...base, kind: K_CAS, val: intern(e.op.value), exp: intern(e.op.expected), out: okOut, dedupKey: '' };
      case 'write':
        return { ...base, kind: K_WRITE, val: intern(e.op.value), exp: -1, out: OUT_ANY, dedupKey: '' };
    }
  });
  for (const p of ops) p.dedupKey = `${p.kind}:${p.exp}:${p.val}`;
  const n = ops.length;

  // Process order (only matters for ties; strict real-time order covers the rest).
  {
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

  let requiredLeft = 0;
  for (const p of ops) if (p.required) requiredLeft++;
  if (requiredLeft === 0) return { ok: true, explored: 0 };

  // ---- dancing-links lists ------------------------------------------------------------
  // Invocation-ordered list of all ops, and completion-ordered list of required ops.
  // Index n is the sentinel head of both lists. Linearized ops are lifted out and
  // restored on backtrack (always LIFO, so the links restore exactly).
  const H = n;
  const invNext = new Int32Array(n + 1);
  const invPrev = new Int32Array(n + 1);
  const cmpNext = new Int32Array(n + 1);
  const cmpPrev = new Int32Array(n + 1);
  {
    const inv = ops.map((_, i) => i).sort((a, b) => ops[a]!.invokedAt - ops[b]!.invokedAt || a - b);
    let prev = H;
    for (const i of inv) {
      invNext[prev] = i;
      invPrev[i] = prev;
      prev = i;
    }
    invNext[prev] = H;
    invPrev[H] = prev;

    const cmp = ops
      .map((_, i) => i)
      .filter((i) => ops[i]!.required)
      .sort((a, b) => ops[a]!.completedAt - ops[b]!.completedAt || a - b);
    prev = H;
    for (const i of cmp) {
      cmpNext[prev] = i;
      cmpPrev[i] = prev;
      prev = i;
    }
    cmpNext[prev] = H;
    cmpPrev[H] = prev;
  }
  const lift = (i: number): void => {
    invNext[invPrev[i]!] = invNext[i]!;
    invPrev[invNext[i]!] = invPrev[i]!;
    if (ops[i]!.required) {
      cmpNext[cmpPrev[i]!] = cmpNext[i]!;
      cmpPrev[cmpNext[i]!] = cmpPrev[i]!;
    }
  };
  const unlift = (i: number): void => {
    invNext[invPrev[i]!] = i;
    invPrev[invNext[i]!] = i;
    if (ops[i]!.required) {
      cmpNext[cmpPrev[i]!] = i;
      cmpPrev[cmpNext[i]!] = i;
    }
  };

  // ---- memo ------------------------------------------------------------------------
  const words = Math.ceil(n / 16);
  const bits = new Uint16Array(Math.max(words, 1));
  const memo = new Set<string>();
  const keyOf = (state: number): string => {
    let s = '';
    for (let k = 0; k < bits.length; k += 4096) s += String.fromCharCode(...bits.subarray(k, k + 4096));
    // State ids may exceed 16 bits in principle; encode in two chars.
    s += String.fromCharCode(state & 0xffff, state >>> 16);
    return s;
  };
  const isLinearized = (i: number): boolean => (bits[i >>> 4]! & (1 << (i & 15))) !== 0;

  // ---- candidates --------------------------------------------------------------------
  const candidates = (state: number): number[] => {
    const head = cmpNext[H]!;
    const minCompletion = head === H ? Infinity : ops[head]!.completedAt;
    const out: number[] = [];
    let seenUnknown: Set<string> | undefined;
    for (let i = invNext[H]!; i !== H; i = invNext[i]!) {
      const p = ops[i]!;
      if (p.invokedAt > minCompletion) break;
      if (p.procPred >= 0 && !isLinearized(p.procPred)) continue;
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
  };

  // ---- iterative DFS ------------------------------------------------------------------
  interface Frame {
    cands: number[];
    next: number;
    /** Op linearized to enter this frame (-1 at the root). */
    op: number;
    /** State before `op` was applied. */
    prevState: number;
  }
  let state = initialState;
  const stack: Frame[] = [{ cands: candidates(state), next: 0, op: -1, prevState: state }];
  memo.add(keyOf(state));
  let explored = 1;

  // Deepest point reached, for the failure report.
  let best = { depth: 0, state, cands: stack[0]!.cands, recent: [] as number[] };

  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next < frame.cands.length) {
      const i = frame.cands[frame.next++]!;
      const p = ops[i]!;
      const nextState = apply(p, state);
      if (nextState < 0) continue;
      bits[i >>> 4]! |= 1 << (i & 15);
      const key = keyOf(nextState);
      if (memo.has(key)) {
        bits[i >>> 4]! &= ~(1 << (i & 15));
        continue;
      }
      memo.add(key);
      explored++;
      if (p.required) requiredLeft--;
      if (requiredLeft === 0) return { ok: true, explored };
      if (explored >= maxExplored) {
        return {
          ok: false,
          inconclusive: true,
          explored,
          reason:
            `search limit reached (${maxExplored} explored states) before the history of ${history.length} ops ` +
            `could be proven or refuted linearizable; deepest partial linearization covered ${best.depth} ops`,
          failingOpIds: [],
        };
      }
      lift(i);
      const cands = candidates(nextState);
      stack.push({ cands, next: 0, op: i, prevState: state });
      state = nextState;
      if (stack.length - 1 > best.depth) {
        const recent: number[] = [];
        for (let k = stack.length - 1; k >= 1 && recent.length < 8; k--) recent.push(stack[k]!.op);
        recent.reverse();
        best = { depth: stack.length - 1, state, cands, recent };
      }
    } else {
      stack.pop();
      if (frame.op >= 0) {
        const i = frame.op;
        unlift(i);
        bits[i >>> 4]! &= ~(1 << (i & 15));
        if (ops[i]!.required) requiredLeft++;
        state = frame.prevState;
      }
    }
  }

  // ---- failure report ----------------------------------------------------------------
  const stateName = fmtValue(valueNames[best.state]);
  const requiredCands = best.cands.filter((i) => ops[i]!.required);
  const inconsistent = requiredCands.filter((i) => apply(ops[i]!, best.state) < 0);
  const failing = inconsistent.length > 0 ? inconsistent : requiredCands;
  const lines: string[] = [];
  lines.push(
    `history is not linearizable: a longest valid partial linearization covers ${best.depth} of ${n} ops ` +
      `(register = ${stateName} after it), and no op can be linearized next.`,
  );
  if (best.recent.length > 0) {
    lines.push(`  last linearized ops: ${best.recent.map((i) => describeOp(ops[i]!.entry)).join('; ')}`);
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
