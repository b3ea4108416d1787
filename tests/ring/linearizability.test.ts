import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkCasHistories, checkCasRegister } from '../../ring/sim/linearizability';
import type { CasOp, HistoryEntry, RegisterValue } from '../../ring/sim/linearizability';

// ---- helpers --------------------------------------------------------------------------

let nextId = 1;
function h(
  process: string,
  op: CasOp,
  invokedAt: number,
  completedAt?: number,
  output?: { ok?: boolean; value?: RegisterValue },
): HistoryEntry {
  const e: HistoryEntry = { id: nextId++, process, op, invokedAt };
  if (completedAt !== undefined) {
    e.completedAt = completedAt;
    e.output = output ?? {};
  }
  return e;
}
const read = (): CasOp => ({ kind: 'read' });
const create = (value: string): CasOp => ({ kind: 'create', value });
const cas = (expected: RegisterValue, value: string): CasOp => ({ kind: 'cas', expected, value });
const write = (value: string): CasOp => ({ kind: 'write', value });

/** Sequential model: returns the output and the new state. */
function step(
  op: CasOp,
  state: RegisterValue,
): { output: { ok?: boolean; value?: RegisterValue }; state: RegisterValue } {
  switch (op.kind) {
    case 'read':
      return { output: { value: state }, state };
    case 'create':
      return state === null ? { output: { ok: true }, state: op.value } : { output: { ok: false }, state };
    case 'cas':
      return state === op.expected ? { output: { ok: true }, state: op.value } : { output: { ok: false }, state };
    case 'write':
      return { output: {}, state: op.value };
  }
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VALUES = ['a', 'b', 'c'];
const opArb: fc.Arbitrary<CasOp> = fc.oneof(
  { arbitrary: fc.constant<CasOp>({ kind: 'read' }), weight: 3 },
  { arbitrary: fc.constantFrom(...VALUES).map((value): CasOp => ({ kind: 'create', value })), weight: 2 },
  {
    arbitrary: fc
      .tuple(fc.constantFrom<RegisterValue>(null, ...VALUES), fc.constantFrom(...VALUES))
      .map(([expected, value]): CasOp => ({ kind: 'cas', expected, value })),
    weight: 3,
  },
  { arbitrary: fc.constantFrom(...VALUES).map((value): CasOp => ({ kind: 'write', value })), weight: 1 },
);

/**
 * Turn a sequence of ops (in linearization order) into a concurrent history whose
 * i-th op linearizes at time 10 * i, with an interval of random slack around that
 * point. Processes are assigned so that each has at most one op outstanding; a
 * process whose op has an unknown outcome is never reused.
 */
function concurrentHistory(
  ops: readonly CasOp[],
  before: readonly number[],
  after: readonly number[],
  dropped: readonly boolean[],
  initial: RegisterValue = null,
): HistoryEntry[] {
  let state = initial;
  const raw = ops.map((op, i) => {
    const r = step(op, state);
    state = r.state;
    const lin = 10 * (i + 1);
    return {
      op,
      output: r.output,
      invokedAt: lin - (before[i] ?? 0),
      completedAt: lin + (after[i] ?? 0),
      drop: dropped[i] ?? false,
    };
  });
  const order = raw.map((_, i) => i).sort((a, b) => raw[a]!.invokedAt - raw[b]!.invokedAt || a - b);
  const busyUntil: number[] = []; // per process; Infinity once crashed
  const history: HistoryEntry[] = [];
  for (const i of order) {
    const r = raw[i]!;
    let p = busyUntil.findIndex((t) => t < r.invokedAt);
    if (p < 0) {
      p = busyUntil.length;
      busyUntil.push(0);
    }
    busyUntil[p] = r.drop ? Infinity : r.completedAt;
    const e: HistoryEntry = { id: i, process: `p${p}`, op: r.op, invokedAt: r.invokedAt };
    if (!r.drop) {
      e.completedAt = r.completedAt;
      e.output = r.output;
    }
    history.push(e);
  }
  return history;
}

/** Exhaustive reference checker for tiny histories. */
function bruteForce(history: readonly HistoryEntry[], initial: RegisterValue = null): boolean {
  const n = history.length;
  const precedes = (a: HistoryEntry, b: HistoryEntry): boolean =>
    a.completedAt !== undefined &&
    (a.completedAt < b.invokedAt || (a.process === b.process && a.invokedAt < b.invokedAt));
  const used = new Array<boolean>(n).fill(false);
  const search = (state: RegisterValue): boolean => {
    if (history.every((e, i) => used[i] || e.completedAt === undefined)) return true;
    for (let i = 0; i < n; i++) {
      if (used[i]) continue;
      const e = history[i]!;
      if (history.some((o, j) => !used[j] && j !== i && precedes(o, e))) continue;
      const r = step(e.op, state);
      if (e.completedAt !== undefined) {
        if (e.op.kind === 'read' && (e.output?.value ?? null) !== r.output.value) continue;
        if (
          (e.op.kind === 'create' || e.op.kind === 'cas') &&
          e.output?.ok !== undefined &&
          e.output.ok !== r.output.ok
        )
          continue;
      }
      used[i] = true;
      const found = search(r.state);
      used[i] = false;
      if (found) return true;
    }
    return false;
  };
  return search(initial);
}

// ---- examples --------------------------------------------------------------------------

describe('checkCasRegister: examples', () => {
  it('accepts the empty history', () => {
    expect(checkCasRegister([]).ok).toBe(true);
  });

  it('accepts a correct sequential history', () => {
    const hist = [
      h('p1', read(), 0, 1, { value: null }),
      h('p1', create('a'), 2, 3, { ok: true }),
      h('p2', create('b'), 4, 5, { ok: false }),
      h('p2', read(), 6, 7, { value: 'a' }),
      h('p1', cas('a', 'b'), 8, 9, { ok: true }),
      h('p2', cas('a', 'c'), 10, 11, { ok: false }),
      h('p1', write('d'), 12, 13),
      h('p2', read(), 14, 15, { value: 'd' }),
    ];
    const r = checkCasRegister(hist);
    expect(r.ok).toBe(true);
    expect(r.inconclusive).toBeUndefined();
  });

  it('rejects an incorrect sequential history and names the failing op', () => {
    const bad = h('p2', read(), 4, 5, { value: 'b' });
    const hist = [h('p1', create('a'), 0, 1, { ok: true }), h('p1', read(), 2, 3, { value: 'a' }), bad];
    const r = checkCasRegister(hist);
    expect(r.ok).toBe(false);
    expect(r.inconclusive).toBeFalsy();
    expect(r.failingOpIds).toEqual([bad.id]);
    expect(r.reason).toContain(`#${bad.id}`);
    expect(r.reason).toContain('"a"'); // the register's value at the failure point
  });

  it('respects the initial value', () => {
    const hist = [h('p1', read(), 0, 1, { value: 'x' }), h('p1', create('y'), 2, 3, { ok: false })];
    expect(checkCasRegister(hist, 'x').ok).toBe(true);
    expect(checkCasRegister(hist).ok).toBe(false);
  });

  it('rejects two concurrent creates that both succeed', () => {
    const hist = [h('p1', create('a'), 0, 10, { ok: true }), h('p2', create('b'), 1, 9, { ok: true })];
    const r = checkCasRegister(hist);
    expect(r.ok).toBe(false);
    expect(r.inconclusive).toBeFalsy();
    expect(r.failingOpIds?.length).toBeGreaterThan(0);
  });

  it('accepts concurrent creates where one wins and one fails, either way round', () => {
    const winLate = [h('p1', create('a'), 0, 10, { ok: false }), h('p2', create('b'), 5, 8, { ok: true })];
    const winEarly = [h('p1', create('a'), 0, 10, { ok: true }), h('p2', create('b'), 5, 8, { ok: false })];
    expect(checkCasRegister(winLate).ok).toBe(true);
    expect(checkCasRegister(winEarly).ok).toBe(true);
  });

  it('rejects a failed create that completed before the successful one started', () => {
    const hist = [h('p1', create('a'), 0, 1, { ok: false }), h('p2', create('b'), 2, 3, { ok: true })];
    expect(checkCasRegister(hist).ok).toBe(false);
  });

  it('rejects a read that sees a value before its write was invoked', () => {
    const r1 = h('p1', read(), 0, 1, { value: 'a' });
    const hist = [r1, h('p2', write('a'), 2, 3)];
    const r = checkCasRegister(hist);
    expect(r.ok).toBe(false);
    expect(r.failingOpIds).toEqual([r1.id]);
  });

  it('accepts a read concurrent with the write it observes', () => {
    const hist = [
      h('p1', read(), 0, 5, { value: 'a' }),
      h('p2', write('a'), 2, 8),
      h('p3', read(), 3, 4, { value: null }),
    ];
    expect(checkCasRegister(hist).ok).toBe(true);
  });

  it('rejects a stale read after a completed write', () => {
    const stale = h('p2', read(), 4, 5, { value: 'a' });
    const hist = [h('p1', write('a'), 0, 1), h('p1', write('b'), 2, 3), stale];
    const r = checkCasRegister(hist);
    expect(r.ok).toBe(false);
    expect(r.failingOpIds).toEqual([stale.id]);
  });

  it('rejects a read that goes back in time after another read saw the newer value', () => {
    const hist = [
      h('p1', write('a'), 0, 1),
      h('p1', write('b'), 2, 20), // long-running
      h('p2', read(), 3, 4, { value: 'b' }),
      h('p3', read(), 5, 6, { value: 'a' }), // after p2 saw b: stale
    ];
    expect(checkCasRegister(hist).ok).toBe(false);
  });

  it('treats touching intervals of different processes as concurrent', () => {
    const hist = [h('p1', read(), 0, 5, { value: 'a' }), h('p2', write('a'), 5, 6)];
    expect(checkCasRegister(hist).ok).toBe(true);
  });

  it('keeps program order within a process even when intervals touch', () => {
    const hist = [h('p1', read(), 0, 5, { value: 'a' }), h('p1', write('a'), 5, 6)];
    expect(checkCasRegister(hist).ok).toBe(false);
  });

  it('accepts an unknown-outcome create that a later read observes', () => {
    const hist = [
      h('p1', create('a'), 0),
      h('p2', read(), 10, 11, { value: 'a' }),
      h('p2', create('b'), 12, 13, { ok: false }),
    ];
    expect(checkCasRegister(hist).ok).toBe(true);
  });

  it('accepts an unknown-outcome op that takes effect long after its invocation', () => {
    const hist = [
      h('p1', write('a'), 0),
      h('p2', read(), 10, 11, { value: null }),
      h('p2', read(), 20, 21, { value: 'a' }),
      h('p2', read(), 30, 31, { value: 'a' }),
    ];
    expect(checkCasRegister(hist).ok).toBe(true);
  });

  it('accepts an unknown-outcome op that is never observed', () => {
    const hist = [
      h('p1', create('a'), 0),
      h('p1', cas(null, 'b'), 1),
      h('p2', read(), 10, 11, { value: null }),
      h('p2', read(), 20, 21, { value: null }),
    ];
    const r = checkCasRegister(hist);
    expect(r.ok).toBe(true);
  });

  it("does not order a process's later ops after its own unknown-outcome op", () => {
    // p1 timed out on the write and moved on; the write was still in flight.
    const hist = [
      h('p1', write('a'), 0),
      h('p1', read(), 10, 11, { value: null }),
      h('p2', read(), 20, 21, { value: 'a' }),
    ];
    expect(checkCasRegister(hist).ok).toBe(true);
  });

  it('rejects an unknown-outcome op observed before it was invoked', () => {
    const hist = [h('p2', read(), 0, 1, { value: 'a' }), h('p1', create('a'), 5)];
    expect(checkCasRegister(hist).ok).toBe(false);
  });

  it('rejects an unknown-outcome op observed twice with something in between (it can take effect once)', () => {
    const hist = [
      h('p1', create('a'), 0),
      h('p2', read(), 10, 11, { value: 'a' }),
      h('p2', write('b'), 12, 13),
      h('p2', read(), 14, 15, { value: 'a' }),
    ];
    expect(checkCasRegister(hist).ok).toBe(false);
  });

  it('accepts cas chains and rejects broken ones', () => {
    const chain = [
      h('p1', create('v0'), 0, 1, { ok: true }),
      h('p1', cas('v0', 'v1'), 2, 3, { ok: true }),
      h('p2', cas('v1', 'v2'), 4, 6, { ok: true }),
      h('p3', cas('v1', 'x'), 5, 7, { ok: false }), // lost the race to p2
      h('p1', cas('v2', 'v3'), 8, 9, { ok: true }),
      h('p2', read(), 10, 11, { value: 'v3' }),
    ];
    expect(checkCasRegister(chain).ok).toBe(true);

    // Two cas ops from the same expected value cannot both succeed.
    const fork = [
      h('p1', create('v0'), 0, 1, { ok: true }),
      h('p2', cas('v0', 'v1'), 2, 6, { ok: true }),
      h('p3', cas('v0', 'v2'), 3, 7, { ok: true }),
    ];
    expect(checkCasRegister(fork).ok).toBe(false);

    // A cas that fails although the register sequentially holds its expected value.
    const spurious = [h('p1', create('v0'), 0, 1, { ok: true }), h('p1', cas('v0', 'v1'), 2, 3, { ok: false })];
    expect(checkCasRegister(spurious).ok).toBe(false);

    // A cas from null succeeds on an absent register like create.
    expect(
      checkCasRegister([h('p1', cas(null, 'v'), 0, 1, { ok: true }), h('p1', read(), 2, 3, { value: 'v' })]).ok,
    ).toBe(true);
  });

  it('accepts an unknown-outcome cas in the middle of a chain', () => {
    const hist = [
      h('p1', create('v0'), 0, 1, { ok: true }),
      h('p1', cas('v0', 'v1'), 2), // timed out, but took effect
      h('p2', cas('v1', 'v2'), 10, 11, { ok: true }),
      h('p2', read(), 12, 13, { value: 'v2' }),
    ];
    expect(checkCasRegister(hist).ok).toBe(true);
  });

  it('allows either outcome for a completed create/cas without ok, but still requires it', () => {
    const hist = [h('p1', create('a'), 0, 1, {}), h('p1', read(), 2, 3, { value: 'a' })];
    expect(checkCasRegister(hist).ok).toBe(true);
    const hist2 = [h('p1', cas('a', 'b'), 0, 1, {}), h('p1', read(), 2, 3, { value: null })];
    expect(checkCasRegister(hist2).ok).toBe(true);
  });

  it('reports hitting the search limit as inconclusive', () => {
    // Many concurrent writes followed by a read of a value nobody wrote: the
    // search must explore many orderings before giving up.
    const hist: HistoryEntry[] = [];
    for (let i = 0; i < 10; i++) hist.push(h(`w${i}`, write(`v${i}`), 0, 100));
    hist.push(h('r', read(), 200, 201, { value: 'nobody' }));
    const r = checkCasRegister(hist, null, { maxExplored: 50 });
    expect(r.ok).toBe(false);
    expect(r.inconclusive).toBe(true);
    expect(r.reason).toMatch(/^search limit reached/);

    const full = checkCasRegister(hist);
    expect(full.ok).toBe(false);
    expect(full.inconclusive).toBeFalsy();
    expect(full.explored).toBeGreaterThan(50);
  });

  it('throws on malformed histories', () => {
    expect(() => checkCasRegister([h('p', read(), 5, 4, { value: null })])).toThrow(/before it is invoked/);
    const e = h('p', read(), 0, 1, { value: null });
    expect(() => checkCasRegister([e, { ...e, process: 'q' }])).toThrow(/duplicate/);
  });
});

describe('checkCasHistories', () => {
  it('checks each key independently', () => {
    const hist = [
      { ...h('p1', create('a'), 0, 10, { ok: true }), key: 'k1' },
      { ...h('p2', create('b'), 1, 9, { ok: true }), key: 'k2' }, // different key: fine
      { ...h('p3', read(), 11, 12, { value: 'a' }), key: 'k1' },
      { ...h('p3', read(), 13, 14, { value: 'a' }), key: 'k2' }, // wrong for k2
    ];
    const results = checkCasHistories(hist);
    expect([...results.keys()]).toEqual(['k1', 'k2']);
    expect(results.get('k1')?.ok).toBe(true);
    expect(results.get('k2')?.ok).toBe(false);
    expect(results.get('k2')?.failingOpIds).toEqual([hist[3]!.id]);
  });
});

// ---- properties ------------------------------------------------------------------------

const sequentialCase = fc.integer({ min: 1, max: 40 }).chain((len) =>
  fc.record({
    ops: fc.array(opArb, { minLength: len, maxLength: len }),
    before: fc.array(fc.integer({ min: 0, max: 35 }), { minLength: len, maxLength: len }),
    after: fc.array(fc.integer({ min: 0, max: 35 }), { minLength: len, maxLength: len }),
    // roughly a quarter of the completions are lost
    dropped: fc.array(
      fc.integer({ min: 0, max: 3 }).map((x) => x === 0),
      { minLength: len, maxLength: len },
    ),
    initial: fc.constantFrom<RegisterValue>(null, 'a'),
  }),
);

describe('checkCasRegister: properties', () => {
  it('accepts any concurrent history built around a valid sequential execution, with some completions dropped', () => {
    fc.assert(
      fc.property(sequentialCase, ({ ops, before, after, dropped, initial }) => {
        const hist = concurrentHistory(ops, before, after, dropped, initial);
        const r = checkCasRegister(hist, initial);
        expect(r.reason).toBeUndefined();
        expect(r.ok).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('accepts histories with extra unknown-outcome ops that never took effect', () => {
    fc.assert(
      fc.property(
        sequentialCase,
        fc.array(fc.tuple(opArb, fc.integer({ min: 0, max: 400 })), { maxLength: 6 }),
        ({ ops, before, after, initial }, extras) => {
          const hist = concurrentHistory(ops, before, after, [], initial);
          extras.forEach(([op, t], k) => {
            if (op.kind !== 'read') hist.push({ id: 10_000 + k, process: `ghost${k}`, op, invokedAt: t });
          });
          expect(checkCasRegister(hist, initial).ok).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('rejects a fully sequential history with one wrong output', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { minLength: 1, maxLength: 40 }),
        fc.nat(),
        fc.constantFrom(...VALUES, 'zzz'),
        fc.integer({ min: 1, max: 3 }),
        (ops, pick, altValue, nProcs) => {
          let state: RegisterValue = null;
          const hist: HistoryEntry[] = ops.map((op, i) => {
            const r = step(op, state);
            state = r.state;
            return {
              id: i,
              process: `p${i % nProcs}`,
              op,
              invokedAt: 10 * i,
              completedAt: 10 * i + 5,
              output: r.output,
            };
          });
          const mutable = hist.filter((e) => e.op.kind !== 'write');
          fc.pre(mutable.length > 0);
          const victim = mutable[pick % mutable.length]!;
          if (victim.op.kind === 'read') {
            const actual = victim.output?.value ?? null;
            const wrong = altValue === actual ? null : altValue;
            fc.pre(wrong !== actual);
            victim.output = { value: wrong };
          } else {
            victim.output = { ok: !victim.output?.ok };
          }
          const r = checkCasRegister(hist);
          expect(r.ok).toBe(false);
          expect(r.inconclusive).toBeFalsy();
          expect(r.failingOpIds).toEqual([victim.id]);
          expect(r.reason).toContain(`#${victim.id} `);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('agrees with an exhaustive search on small arbitrary histories', () => {
    const entryArb = fc.record({
      op: opArb,
      start: fc.integer({ min: 0, max: 10 }),
      len: fc.integer({ min: 0, max: 6 }),
      completed: fc.integer({ min: 0, max: 4 }).map((x) => x > 0),
      ok: fc.boolean(),
      value: fc.constantFrom<RegisterValue>(null, ...VALUES),
    });
    fc.assert(
      fc.property(fc.array(entryArb, { maxLength: 6 }), fc.constantFrom<RegisterValue>(null, 'a'), (raw, initial) => {
        const hist: HistoryEntry[] = raw.map((r, i) => {
          const e: HistoryEntry = { id: i, process: `p${i}`, op: r.op, invokedAt: r.start };
          if (r.completed) {
            e.completedAt = r.start + r.len;
            e.output = r.op.kind === 'read' ? { value: r.value } : r.op.kind === 'write' ? {} : { ok: r.ok };
          }
          return e;
        });
        const r = checkCasRegister(hist, initial);
        expect(r.inconclusive).toBeFalsy();
        expect(r.ok).toBe(bruteForce(hist, initial));
      }),
      { numRuns: 2000 },
    );
  });
});

// ---- performance -----------------------------------------------------------------------

/**
 * 5 processes issuing `total` ops against a register that linearizes each op at a
 * random point inside its interval; `unknownRate` of the ops lose their completion.
 */
function simulatedHistory(seed: number, total: number, unknownRate: number): HistoryEntry[] {
  const rand = mulberry32(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  const procs = 5;
  const clock = new Array<number>(procs).fill(0);
  const pending: {
    op: CasOp;
    process: string;
    invokedAt: number;
    lin: number;
    completedAt: number;
    unknown: boolean;
  }[] = [];
  for (let k = 0; k < total; k++) {
    const p = k % procs;
    const invokedAt = clock[p]! + int(1, 4);
    const lin = invokedAt + int(0, 8) + rand(); // fractional: distinct points
    const completedAt = Math.ceil(lin) + int(0, 8);
    clock[p] = completedAt;
    const v = VALUES[int(0, VALUES.length - 1)]!;
    const kinds: CasOp[] = [
      { kind: 'read' },
      { kind: 'read' },
      { kind: 'create', value: v },
      { kind: 'cas', expected: VALUES[int(0, VALUES.length - 1)]!, value: v },
      { kind: 'cas', expected: VALUES[int(0, VALUES.length - 1)]!, value: v },
      { kind: 'write', value: v },
    ];
    const op = kinds[int(0, kinds.length - 1)]!;
    pending.push({ op, process: `p${p}`, invokedAt, lin, completedAt, unknown: rand() < unknownRate });
  }
  const byLin = pending.map((_, i) => i).sort((a, b) => pending[a]!.lin - pending[b]!.lin);
  let state: RegisterValue = null;
  const hist: HistoryEntry[] = new Array(total);
  for (const i of byLin) {
    const o = pending[i]!;
    const r = step(o.op, state);
    state = r.state;
    const e: HistoryEntry = { id: i, process: o.process, op: o.op, invokedAt: o.invokedAt };
    if (!o.unknown) {
      e.completedAt = o.completedAt;
      e.output = r.output;
    }
    hist[i] = e;
  }
  return hist;
}

describe('checkCasRegister: performance', () => {
  it('checks a 200-op, 5-process history quickly', { timeout: 1000 }, () => {
    for (let seed = 1; seed <= 5; seed++) {
      const hist = simulatedHistory(seed, 200, 0);
      const r = checkCasRegister(hist);
      expect(r.ok).toBe(true);
    }
  });

  it('checks a 200-op, 5-process history with unknown outcomes quickly', { timeout: 1000 }, () => {
    for (let seed = 1; seed <= 5; seed++) {
      const hist = simulatedHistory(seed, 200, 0.05);
      const r = checkCasRegister(hist);
      expect(r.ok).toBe(true);
    }
  });

  it('refutes a corrupted 200-op, 5-process history quickly', { timeout: 1000 }, () => {
    for (let seed = 1; seed <= 5; seed++) {
      const hist = simulatedHistory(seed, 200, 0.05);
      const reads = hist.filter((e) => e.op.kind === 'read' && e.completedAt !== undefined);
      const victim = reads[Math.floor(reads.length / 2)]!;
      victim.output = { value: 'never-written' };
      const r = checkCasRegister(hist);
      expect(r.ok).toBe(false);
      expect(r.inconclusive).toBeFalsy();
      expect(r.failingOpIds).toContain(victim.id);
    }
  });
});
