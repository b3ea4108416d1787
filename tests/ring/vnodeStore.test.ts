// The vnode store against a plain Map model: whatever form the store keeps a key in (the
// compact single-writer register or the general dotted-version-vector graph), what it gives
// back is the join of everything merged into it, with the hash anti-entropy compares, the
// version actor's seq, tombstone times, and bucket digests that are the XOR of the hashes.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { hash32, initHash } from '../../ring/hash';
import { DataTypeRegistry, typedKey } from '../../ring/storage/datatype';
import { entryFingerprint, isTombstone, mergeEntries, type Entry } from '../../ring/storage/entry';
import { emptyVersioned, writeVersioned, type VersionVector } from '../../ring/storage/versions';
import { VnodeStore } from '../../ring/storage/vnodeStore';

const types = new DataTypeRegistry();
const reg = { name: 'reg', kind: 'register' as const, encode: (v: unknown) => v, decode: (w: unknown) => w };
types.register(reg);
const bucketCount = 8;

const actors = ['n1@0a1b.1', 'n2@ff00.123456', 'n1@0a1b.2', 'no-seq-actor', 'n3@beef.01', `n4@1.${2 ** 31}`];
const op = fc.oneof(
  fc.record({
    t: fc.constant('write' as const),
    key: fc.constantFrom('a', 'b', 'c'),
    actor: fc.constantFrom(...actors),
    seesAll: fc.boolean(),
    deleted: fc.boolean(),
    value: fc.oneof(fc.string(), fc.record({ url: fc.string(), n: fc.integer() })),
    at: fc.oneof(fc.nat(), fc.constant(1_796_313_902_262), fc.double({ min: 0, max: 1e13, noNaN: true })),
  }),
  fc.record({ t: fc.constant('remove' as const), key: fc.constantFrom('a', 'b', 'c'), stale: fc.boolean() }),
);

describe('VnodeStore', () => {
  beforeAll(() => initHash());

  it('holds the join of what was merged, with its hash, seq, since and tombstone time, in whatever form', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const store = new VnodeStore(types, bucketCount);
        const model = new Map<string, Entry>();
        let now = 1000;
        for (const o of ops) {
          const key = typedKey('reg', o.key);
          const p = 0;
          now++;
          if (o.t === 'remove') {
            const cur = store.get(p, key);
            const removed = store.removeIfUnchanged(p, key, cur ? cur.seq - (o.stale ? 1 : 0) : 1);
            expect(removed).toBe(!!cur && !o.stale);
            if (removed) model.delete(key);
            continue;
          }
          const local = model.get(key);
          const base = local?.kind === 'register' ? local.v : emptyVersioned;
          const context: VersionVector = o.seesAll ? base.vv : {};
          const v = writeVersioned(base, context, o.actor, {
            value: o.value,
            ...(o.deleted ? { deleted: true as const } : {}),
            at: o.at,
          });
          const incoming: Entry = { kind: 'register', v };
          const before = store.get(p, key);
          const { stored } = store.merge(p, key, incoming, now);
          const want = local ? mergeEntries(reg, local, incoming) : incoming;
          model.set(key, want);
          expect(stored.entry).toEqual(want);
          expect(store.get(p, key)!.entry).toEqual(want);
          expect(stored.hash).toBe(hash32(`${key}#${entryFingerprint(reg, want)}`));
          expect(stored.since).toBe(before?.since ?? stored.seq);
          if (isTombstone(want)) expect(stored.tombstoneSince).toBe(before?.tombstoneSince ?? now);
          else expect(stored.tombstoneSince).toBeUndefined();
        }
        const data = store.partition(0);
        expect(data?.entries.size ?? 0).toBe(model.size);
        if (data) {
          const buckets = new Uint32Array(bucketCount);
          for (const [key, stored] of data.entries) buckets[data.bucketOf(key)]! ^= stored.hash;
          expect([...data.buckets]).toEqual([...buckets]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps a register written once by one coordinator as one flat object, and rebuilds the same entry on read', () => {
    const store = new VnodeStore(types, bucketCount);
    const v = writeVersioned(emptyVersioned, {}, 'n1@0a1b.7', { value: { url: 'https://example.com' }, at: 1.8e12 });
    const { stored } = store.merge(0, 'reg/x', { kind: 'register', v }, 1);
    // The general form owns an `entry` field; the compact one computes it.
    expect(Object.keys(stored)).not.toContain('entry');
    expect(stored.entry).toEqual({ kind: 'register', v });
    // A second coordinator's concurrent write makes siblings: the general form.
    const w = writeVersioned(emptyVersioned, {}, 'n2@0c0d.9', { value: 'other', at: 1.8e12 + 1 });
    const merged = store.merge(0, 'reg/x', { kind: 'register', v: w }, 2).stored;
    expect(Object.keys(merged)).toContain('entry');
    expect(merged.entry.kind === 'register' && merged.entry.v.siblings.length).toBe(2);
  });
});
