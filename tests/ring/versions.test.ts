// Property tests for ring/storage/versions: dotted version vectors as a causal container.
// Random histories run on three replicas (actors "a", "b", "c"): writes with the replica's
// current vv, an older vv or an empty (blind) context, and merges shipped as messages that
// are delivered in random order, possibly more than once. A reference model tracks causal
// histories as plain sets of write ids (no version vectors), and the implementation is
// checked against it at every step and after full anti-entropy.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareSiblings,
  covers,
  dominates,
  emptyVersioned,
  isDeleted,
  mergeVersioned,
  mergeVV,
  versionFingerprint,
  vvLeq,
  writeVersioned,
} from '../../ring/storage/versions';
import type { Dot, Versioned, VersionVector } from '../../ring/storage/versions';

const RUNS = { numRuns: 250 };
const ACTORS = ['a', 'b', 'c'] as const;

// ---------------------------------------------------------------- history generator

type Op =
  | { t: 'write'; r: number; ctx: 'current' | 'old' | 'empty'; pick: number; del: boolean; at: number }
  | { t: 'send'; from: number; to: number }
  | { t: 'deliver'; pick: number; keep: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('write' as const),
      r: fc.nat(2),
      ctx: fc.constantFrom('current' as const, 'old' as const, 'empty' as const),
      pick: fc.nat(),
      del: fc.integer({ min: 0, max: 9 }).map((x) => x < 3),
      // Few distinct clock values so that sibling ordering ties on `at` are common.
      at: fc.nat(4),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('send' as const), from: fc.nat(2), to: fc.nat(2) }) },
  // keep: the message stays in flight after delivery, so it is delivered again (duplicated).
  { weight: 2, arbitrary: fc.record({ t: fc.constant('deliver' as const), pick: fc.nat(), keep: fc.boolean() }) },
);

const historyArb = fc.array(opArb, { minLength: 1, maxLength: 40 });

interface WriteRecord {
  id: string;
  dot: Dot;
  value: string;
  deleted: boolean;
  /** Write ids the write's context had seen: the writes it supersedes. */
  covered: ReadonlySet<string>;
  ctxKind: 'current' | 'old' | 'empty';
  /** Sibling ids the writing replica held just before the write. */
  siblingsBefore: readonly string[];
}

/** A replica state and, in the reference model, the set of write ids it has seen. */
interface Snap {
  v: Versioned;
  seen: ReadonlySet<string>;
}

interface Run {
  replicas: Snap[];
  inFlight: { to: number; snap: Snap }[];
  writes: Map<string, WriteRecord>;
  /** Every state any replica held, and every message snapshot (for the lattice laws). */
  observed: Versioned[];
  /** Problems found while running (checked by the tests that care). */
  stepErrors: string[];
}

const dotId = (d: Dot): string => `${d[0]}:${d[1]}`;
const union = <T>(a: ReadonlySet<T>, b: ReadonlySet<T>): Set<T> => new Set([...a, ...b]);

/** Reference model: the siblings a replica must hold are the writes it has seen that no write it has seen supersedes. */
function expectedSiblings(seen: ReadonlySet<string>, writes: ReadonlyMap<string, WriteRecord>): string[] {
  const superseded = new Set<string>();
  for (const id of seen) for (const c of writes.get(id)!.covered) superseded.add(c);
  return [...seen].filter((id) => !superseded.has(id)).sort();
}

/** The write ids a vv covers, computed without the library. */
function seenByVV(vv: VersionVector, writes: ReadonlyMap<string, WriteRecord>): Set<string> {
  const out = new Set<string>();
  for (const w of writes.values()) if (Object.hasOwn(vv, w.dot[0]) && vv[w.dot[0]]! >= w.dot[1]) out.add(w.id);
  return out;
}

const sortedIds = (v: Versioned): string[] => v.siblings.map((s) => dotId(s.dot)).sort();
const sameSet = (a: ReadonlySet<string>, b: ReadonlySet<string>): boolean =>
  a.size === b.size && [...a].every((x) => b.has(x));

/** Checks a replica state against the reference model; returns a description of what is wrong. */
function checkAgainstModel(where: string, s: Snap, writes: ReadonlyMap<string, WriteRecord>): string[] {
  const errs: string[] = [];
  const got = sortedIds(s.v);
  const want = expectedSiblings(s.seen, writes);
  if (got.join(',') !== want.join(',')) errs.push(`${where}: siblings ${got.join(',')} expected ${want.join(',')}`);
  if (!sameSet(seenByVV(s.v.vv, writes), s.seen))
    errs.push(`${where}: vv ${JSON.stringify(s.v.vv)} does not match causal history ${[...s.seen].sort().join(',')}`);
  for (const sib of s.v.siblings) {
    const w = writes.get(dotId(sib.dot));
    if (!w) errs.push(`${where}: unknown sibling ${dotId(sib.dot)}`);
    else if (sib.value !== (w.deleted ? undefined : w.value) || (sib.deleted === true) !== w.deleted)
      errs.push(`${where}: sibling ${w.id} has the wrong payload`);
  }
  for (let i = 1; i < s.v.siblings.length; i++) {
    if (compareSiblings(s.v.siblings[i - 1]!, s.v.siblings[i]!) >= 0)
      errs.push(`${where}: siblings not in compareSiblings order`);
  }
  return errs;
}

function runHistory(ops: readonly Op[]): Run {
  const replicas: Snap[] = ACTORS.map(() => ({ v: emptyVersioned, seen: new Set<string>() }));
  const inFlight: { to: number; snap: Snap }[] = [];
  const writes = new Map<string, WriteRecord>();
  const observed: Versioned[] = [emptyVersioned];
  const snapshots: Snap[] = [{ v: emptyVersioned, seen: new Set() }];
  const perActor = new Map<string, number>();
  const stepErrors: string[] = [];
  let n = 0;
  const step = (r: number, next: Snap, what: string) => {
    const prev = replicas[r]!;
    if (!dominates(next.v, prev.v)) stepErrors.push(`${what}: replica ${ACTORS[r]} went backwards`);
    replicas[r] = next;
    observed.push(next.v);
    snapshots.push(next);
    stepErrors.push(...checkAgainstModel(`${what} on ${ACTORS[r]}`, next, writes));
  };
  for (const op of ops) {
    n++;
    if (op.t === 'write') {
      const replica = replicas[op.r]!;
      const actor = ACTORS[op.r]!;
      const ctxSnap =
        op.ctx === 'current'
          ? replica
          : op.ctx === 'old'
            ? snapshots[op.pick % snapshots.length]!
            : { v: emptyVersioned, seen: new Set<string>() };
      const value = `v${n}`;
      const next = writeVersioned(
        replica.v,
        ctxSnap.v.vv,
        actor,
        op.del ? { deleted: true, at: op.at } : { value, at: op.at },
      );
      const counter = (perActor.get(actor) ?? 0) + 1;
      perActor.set(actor, counter);
      const id = `${actor}:${counter}`;
      const mine = next.siblings.filter(
        (s) => !replica.v.siblings.some((o) => o.dot[0] === s.dot[0] && o.dot[1] === s.dot[1]),
      );
      if (mine.length !== 1 || dotId(mine[0]!.dot) !== id)
        stepErrors.push(
          `write ${n}: expected exactly one new sibling with dot ${id}, got ${mine.map((s) => dotId(s.dot)).join(',')}`,
        );
      writes.set(id, {
        id,
        dot: [actor, counter],
        value,
        deleted: op.del,
        covered: ctxSnap.seen,
        ctxKind: op.ctx,
        siblingsBefore: sortedIds(replica.v),
      });
      step(op.r, { v: next, seen: union(union(replica.seen, ctxSnap.seen), new Set([id])) }, `write ${n}`);
    } else if (op.t === 'send') {
      const snap = replicas[op.from]!;
      inFlight.push({ to: op.to, snap });
    } else if (inFlight.length > 0) {
      const i = op.pick % inFlight.length;
      const msg = inFlight[i]!;
      if (!op.keep) inFlight.splice(i, 1);
      const cur = replicas[msg.to]!;
      step(msg.to, { v: mergeVersioned(cur.v, msg.snap.v), seen: union(cur.seen, msg.snap.seen) }, `deliver ${n}`);
    }
  }
  return { replicas, inFlight, writes, observed, stepErrors };
}

/** Anti-entropy: every ordered pair of replicas exchanges once, in the given order, each message delivered twice. */
function syncAll(run: Run, order: readonly (readonly [number, number])[]): Versioned[] {
  const vs = run.replicas.map((s) => s.v);
  // Stale messages still in flight arrive too.
  for (const m of run.inFlight) vs[m.to] = mergeVersioned(vs[m.to]!, m.snap.v);
  for (const [from, to] of order) {
    const msg = vs[from]!;
    vs[to] = mergeVersioned(vs[to]!, msg);
    vs[to] = mergeVersioned(vs[to]!, msg);
  }
  return vs;
}

const PAIRS: (readonly [number, number])[] = [];
for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) if (i !== j) PAIRS.push([i, j] as const);
const pairOrderArb = fc.shuffledSubarray(PAIRS, { minLength: PAIRS.length });

/** The full payload of a version: vv, sibling order, dots, values, tombstones and clocks. */
function payload(v: Versioned): string {
  return JSON.stringify({
    fp: versionFingerprint(v),
    s: v.siblings.map((s) => [s.dot, s.value ?? null, s.deleted ?? false, s.at]),
  });
}

/** The set of live sibling values (order-free). */
const valueSet = (v: Versioned): string[] =>
  v.siblings
    .filter((s) => !s.deleted)
    .map((s) => String(s.value))
    .sort();

const pickArb = fc.tuple(historyArb, fc.nat(), fc.nat(), fc.nat());
const pickObserved = (run: Run, i: number): Versioned => run.observed[i % run.observed.length]!;

// ---------------------------------------------------------------- version vectors

const vvArb: fc.Arbitrary<VersionVector> = fc.dictionary(fc.constantFrom(...ACTORS), fc.integer({ min: 1, max: 5 }), {
  maxKeys: 3,
});
const dotArb: fc.Arbitrary<Dot> = fc.tuple(fc.constantFrom(...ACTORS), fc.integer({ min: 1, max: 6 }));

describe('version vectors', () => {
  it('covers(vv, [actor, n]) iff vv[actor] >= n (missing actor counts as 0)', () => {
    fc.assert(
      fc.property(vvArb, dotArb, (vv, dot) => {
        expect(covers(vv, dot)).toBe((vv[dot[0]] ?? 0) >= dot[1]);
      }),
      RUNS,
    );
  });

  it('mergeVV is the pointwise max: an upper bound of both, the least one, commutative', () => {
    fc.assert(
      fc.property(vvArb, vvArb, (a, b) => {
        const m = mergeVV(a, b);
        for (const actor of ACTORS) expect(m[actor] ?? 0).toBe(Math.max(a[actor] ?? 0, b[actor] ?? 0));
        expect(vvLeq(a, m)).toBe(true);
        expect(vvLeq(b, m)).toBe(true);
        expect(mergeVV(b, a)).toEqual(m);
      }),
      RUNS,
    );
  });

  it('mergeVV(a, b) returns a itself when b <= a, and never mutates its inputs', () => {
    fc.assert(
      fc.property(vvArb, vvArb, (a, b) => {
        const before = JSON.stringify([a, b]);
        const m = mergeVV(a, b);
        expect(JSON.stringify([a, b])).toBe(before);
        if (vvLeq(b, a)) expect(m).toBe(a);
        expect(mergeVV(m, a)).toBe(m);
      }),
      RUNS,
    );
  });

  it('vvLeq is a partial order consistent with covers: a <= b iff every dot a covers, b covers', () => {
    fc.assert(
      fc.property(vvArb, vvArb, vvArb, (a, b, c) => {
        expect(vvLeq(a, a)).toBe(true);
        if (vvLeq(a, b) && vvLeq(b, a)) for (const x of ACTORS) expect(a[x] ?? 0).toBe(b[x] ?? 0);
        if (vvLeq(a, b) && vvLeq(b, c)) expect(vvLeq(a, c)).toBe(true);
        const allDots = ACTORS.flatMap((x) => Array.from({ length: 6 }, (_, i) => [x, i + 1] as const));
        expect(vvLeq(a, b)).toBe(allDots.every((d) => !covers(a, d) || covers(b, d)));
      }),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------- histories against the reference model

describe('mergeVersioned / writeVersioned on random histories', () => {
  it('at every step each replica holds exactly the writes of its causal history that no write in it supersedes, its vv is that history, and it only grows', () => {
    fc.assert(
      fc.property(historyArb, (ops) => {
        const run = runHistory(ops);
        expect(run.stepErrors).toEqual([]);
      }),
      RUNS,
    );
  });

  it('after every replica merged everything (random order, duplicates) all replicas are equal and hold exactly the writes no write superseded', () => {
    fc.assert(
      fc.property(historyArb, pairOrderArb, (ops, order) => {
        const run = runHistory(ops);
        const final = syncAll(run, order);
        for (const v of final) expect(payload(v)).toBe(payload(final[0]!));
        const superseded = new Set<string>();
        for (const w of run.writes.values()) for (const c of w.covered) superseded.add(c);
        const survivors = [...run.writes.keys()].filter((id) => !superseded.has(id)).sort();
        expect(sortedIds(final[0]!)).toEqual(survivors);
        // The vv has seen every write.
        expect(sameSet(seenByVV(final[0]!.vv, run.writes), new Set(run.writes.keys()))).toBe(true);
        // And the merged state is the join of everything ever observed.
        const join = run.observed.reduce(mergeVersioned, emptyVersioned);
        expect(payload(join)).toBe(payload(final[0]!));
      }),
      RUNS,
    );
  });

  it('a write whose context is the full vv of what it read supersedes every sibling it read: none of them survives the final merge', () => {
    fc.assert(
      fc.property(historyArb, pairOrderArb, (ops, order) => {
        const run = runHistory(ops);
        const final = syncAll(run, order)[0]!;
        const left = new Set(sortedIds(final));
        for (const w of run.writes.values()) {
          if (w.ctxKind !== 'current') continue;
          for (const read of w.siblingsBefore) expect(left.has(read), `${read} read by ${w.id}`).toBe(false);
        }
      }),
      RUNS,
    );
  });

  it('a write with an empty context keeps every sibling the replica had (concurrent, nothing lost), and they survive unless another write supersedes them', () => {
    fc.assert(
      fc.property(historyArb, fc.constantFrom(0, 1, 2), pairOrderArb, (ops, r, order) => {
        const run = runHistory(ops);
        const before = run.replicas[r]!.v;
        const actor = ACTORS[r]!;
        const after = writeVersioned(before, {}, actor, { value: 'blind', at: 9 });
        const beforeIds = sortedIds(before);
        const afterIds = new Set(sortedIds(after));
        for (const id of beforeIds) expect(afterIds.has(id)).toBe(true);
        expect(after.siblings.length).toBe(before.siblings.length + 1);
        expect(after.siblings.some((s) => s.value === 'blind')).toBe(true);
        expect(dominates(after, before)).toBe(true);
        // Merge it everywhere: the blind write's siblings are superseded only by writes that saw them.
        run.replicas[r] = { v: after, seen: run.replicas[r]!.seen };
        const final = syncAll(run, order)[0]!;
        const superseded = new Set<string>();
        for (const w of run.writes.values()) for (const c of w.covered) superseded.add(c);
        const left = new Set(sortedIds(final));
        for (const id of beforeIds) if (!superseded.has(id)) expect(left.has(id)).toBe(true);
        expect(final.siblings.some((s) => s.value === 'blind')).toBe(true);
      }),
      RUNS,
    );
  });

  it('a write gets a fresh dot: covered by neither the local vv nor the context (even a context ahead of the local state), covered by the new vv', () => {
    fc.assert(
      fc.property(pickArb, fc.constantFrom(...ACTORS), ([ops, i, j], actor) => {
        const run = runHistory(ops);
        const local = pickObserved(run, i);
        const context = pickObserved(run, j).vv;
        const next = writeVersioned(local, context, actor, { value: 'new', at: 0 });
        const added = next.siblings.filter((s) => s.value === 'new');
        expect(added.length).toBe(1);
        const dot = added[0]!.dot;
        expect(dot[0]).toBe(actor);
        expect(covers(local.vv, dot)).toBe(false);
        expect(covers(context, dot)).toBe(false);
        expect(covers(next.vv, dot)).toBe(true);
        expect(vvLeq(mergeVV(local.vv, context), next.vv)).toBe(true);
        // Exactly the local siblings the context has not seen are kept.
        const kept = next.siblings
          .filter((s) => s !== added[0])
          .map((s) => dotId(s.dot))
          .sort();
        expect(kept).toEqual(
          local.siblings
            .filter((s) => !((context[s.dot[0]] ?? 0) >= s.dot[1]))
            .map((s) => dotId(s.dot))
            .sort(),
        );
      }),
      RUNS,
    );
  });

  it('two blind writes on different replicas both survive as siblings', () => {
    const a = writeVersioned(emptyVersioned, {}, 'a', { value: 1, at: 1 });
    const b = writeVersioned(emptyVersioned, {}, 'b', { value: 2, at: 1 });
    const m = mergeVersioned(a, b);
    expect(m.siblings.map((s) => s.value).sort()).toEqual([1, 2]);
    expect(m.vv).toEqual({ a: 1, b: 1 });
    // A write with the merged context on either replica replaces both.
    const c = writeVersioned(m, m.vv, 'c', { value: 3, at: 2 });
    expect(c.siblings.map((s) => s.value)).toEqual([3]);
    expect(mergeVersioned(mergeVersioned(a, c), b).siblings.map((s) => s.value)).toEqual([3]);
  });
});

// ---------------------------------------------------------------- lattice laws

describe('mergeVersioned lattice laws (on states from random histories)', () => {
  it('is commutative: same vv, same siblings, same order, same values', () => {
    fc.assert(
      fc.property(pickArb, ([ops, i, j]) => {
        const run = runHistory(ops);
        const a = pickObserved(run, i);
        const b = pickObserved(run, j);
        const ab = mergeVersioned(a, b);
        const ba = mergeVersioned(b, a);
        expect(versionFingerprint(ab)).toBe(versionFingerprint(ba));
        expect(valueSet(ab)).toEqual(valueSet(ba));
        expect(payload(ab)).toBe(payload(ba));
      }),
      RUNS,
    );
  });

  it('is associative', () => {
    fc.assert(
      fc.property(pickArb, ([ops, i, j, k]) => {
        const run = runHistory(ops);
        const a = pickObserved(run, i);
        const b = pickObserved(run, j);
        const c = pickObserved(run, k);
        const left = mergeVersioned(mergeVersioned(a, b), c);
        const right = mergeVersioned(a, mergeVersioned(b, c));
        expect(versionFingerprint(left)).toBe(versionFingerprint(right));
        expect(valueSet(left)).toEqual(valueSet(right));
        expect(payload(left)).toBe(payload(right));
      }),
      RUNS,
    );
  });

  it('is idempotent: merge(a, a) and merge(a, copy of a) equal a', () => {
    fc.assert(
      fc.property(pickArb, ([ops, i]) => {
        const run = runHistory(ops);
        const a = pickObserved(run, i);
        const copy: Versioned = { vv: { ...a.vv }, siblings: a.siblings.map((s) => ({ ...s })) };
        expect(payload(mergeVersioned(a, a))).toBe(payload(a));
        expect(payload(mergeVersioned(a, copy))).toBe(payload(a));
        expect(payload(mergeVersioned(copy, a))).toBe(payload(a));
      }),
      RUNS,
    );
  });

  it('merge(a, b) dominates both a and b, and merging either into it changes nothing', () => {
    fc.assert(
      fc.property(pickArb, ([ops, i, j]) => {
        const run = runHistory(ops);
        const a = pickObserved(run, i);
        const b = pickObserved(run, j);
        const m = mergeVersioned(a, b);
        expect(dominates(m, a)).toBe(true);
        expect(dominates(m, b)).toBe(true);
        expect(payload(mergeVersioned(m, a))).toBe(payload(m));
        expect(payload(mergeVersioned(m, b))).toBe(payload(m));
        expect(vvLeq(a.vv, m.vv) && vvLeq(b.vv, m.vv)).toBe(true);
      }),
      RUNS,
    );
  });

  it('dominates(a, b) iff merging b into a leaves a unchanged', () => {
    fc.assert(
      fc.property(pickArb, ([ops, i, j]) => {
        const run = runHistory(ops);
        const a = pickObserved(run, i);
        const b = pickObserved(run, j);
        expect(dominates(a, b)).toBe(payload(mergeVersioned(a, b)) === payload(a));
      }),
      RUNS,
    );
  });

  it('merging with emptyVersioned is the identity', () => {
    fc.assert(
      fc.property(pickArb, ([ops, i]) => {
        const a = pickObserved(runHistory(ops), i);
        expect(payload(mergeVersioned(a, emptyVersioned))).toBe(payload(a));
        expect(payload(mergeVersioned(emptyVersioned, a))).toBe(payload(a));
        expect(dominates(a, emptyVersioned)).toBe(true);
      }),
      RUNS,
    );
  });

  it('versionFingerprint is equal for equal versions and differs when the vv or the sibling dots differ', () => {
    fc.assert(
      fc.property(pickArb, ([ops, i, j]) => {
        const run = runHistory(ops);
        const a = pickObserved(run, i);
        const b = pickObserved(run, j);
        const sameVersion =
          sameSet(
            new Set(Object.entries(a.vv).map(([k, n]) => `${k}=${n}`)),
            new Set(Object.entries(b.vv).map(([k, n]) => `${k}=${n}`)),
          ) && sortedIds(a).join() === sortedIds(b).join();
        expect(versionFingerprint(a) === versionFingerprint(b)).toBe(sameVersion);
      }),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------- tombstones

describe('isDeleted', () => {
  it('is true iff the version has siblings and every one is a tombstone (on every observed state)', () => {
    fc.assert(
      fc.property(historyArb, pairOrderArb, (ops, order) => {
        const run = runHistory(ops);
        for (const v of [...run.observed, ...syncAll(run, order)]) {
          expect(isDeleted(v)).toBe(v.siblings.length > 0 && v.siblings.every((s) => s.deleted === true));
        }
      }),
      RUNS,
    );
  });

  it('a delete with the full context makes the key deleted; a blind delete next to a live sibling does not', () => {
    const w = writeVersioned(emptyVersioned, {}, 'a', { value: 'x', at: 1 });
    expect(isDeleted(w)).toBe(false);
    expect(isDeleted(emptyVersioned)).toBe(false);
    const d = writeVersioned(w, w.vv, 'b', { deleted: true, at: 2 });
    expect(isDeleted(d)).toBe(true);
    const blind = writeVersioned(w, {}, 'b', { deleted: true, at: 2 });
    expect(isDeleted(blind)).toBe(false);
    // A write on top of the tombstone revives the key.
    expect(isDeleted(writeVersioned(d, d.vv, 'a', { value: 'y', at: 3 }))).toBe(false);
  });
});
