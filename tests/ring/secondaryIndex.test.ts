// Secondary indexes (riak 2i): the per-partition index kept by the real VnodeStore under
// merges, deletes, expiry sweeps, handoff drops and restores, and index queries through the
// real RingNode on the simulated network: pages by cursor, exact counts, filters, and
// reconciling two replicas when one of them missed writes.
import { beforeAll, describe, expect, it } from 'vitest';
import type { ReadResult } from '../../ring/coordinator/quorum';
import type { IndexCount, IndexPage, IndexPageArgs } from '../../ring/coverage/indexQuery';
import { initHash, partitionOf } from '../../ring/hash';
import type { Callback } from '../../ring/node/context';
import { durableStateOf, type RingNode } from '../../ring/node/ringNode';
import { DataTypeRegistry, type RegisterType } from '../../ring/storage/datatype';
import type { Entry } from '../../ring/storage/entry';
import { SortedIndex, type IndexCursor } from '../../ring/storage/secondaryIndex';
import { VnodeStore } from '../../ring/storage/vnodeStore';
import { SimWorld, simRingConfig, simTypes } from '../../ring/sim/world';

beforeAll(async () => {
  await initHash();
});

interface Doc {
  owner: string;
  at: number;
  text: string;
  gone?: true;
  exp?: number;
}

const docType: RegisterType<Doc> = {
  name: 'doc',
  kind: 'register',
  resolve: (vs) => vs.find((v) => v.gone) ?? [...vs].sort((a, b) => b.at - a.at)[0]!,
  encode: (v) => v,
  decode: (w) => w as Doc,
  expiresAt: (v) => v.exp,
  index: (v) => (v.gone ? [] : [{ name: 'owner', term: v.owner, sort: v.at }]),
};

function types(): DataTypeRegistry {
  const t = simTypes();
  t.register(docType);
  return t;
}

const live = (actor: string, n: number, value: Doc, vv: Record<string, number> = { [actor]: n }): Entry => ({
  kind: 'register',
  v: { vv, siblings: [{ dot: [actor, n], value, at: 0 }] },
});
const tomb = (actor: string, n: number): Entry => ({
  kind: 'register',
  v: { vv: { [actor]: n }, siblings: [{ dot: [actor, n], deleted: true, at: 0 }] },
});

function listed(store: VnodeStore, p: number, term: string, after?: IndexCursor): [string, number][] {
  const out: [string, number][] = [];
  store.index(p, 'owner')?.descending(term, after, (key, sort) => {
    out.push([key, sort]);
    return true;
  });
  return out;
}

describe('SortedIndex summaries', () => {
  it('a large term keeps its count and digest up to date through inserts, hash updates and removals', () => {
    const idx = new SortedIndex();
    const walked = (term: string) => {
      let count = 0;
      let digest = 0;
      idx.descending(term, undefined, (_k, _s, hash) => {
        count++;
        digest ^= hash;
        return true;
      });
      return { count, digest: digest >>> 0 };
    };
    let seed = 7;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) >>> 0) % n;
    const live = new Map<string, [term: string, sort: number]>();
    const big = SortedIndex.summaryCachedKeysMin + 50;
    for (let i = 0; i < big; i++) {
      idx.upsert('big', i, `k${i}`, (i * 2654435761) >>> 0);
      live.set(`k${i}`, ['big', i]);
    }
    idx.upsert('small', 1, 's1', 5);
    // The first summary of the large term walks it; from then on it is kept, not walked.
    expect(idx.summary('big')).toEqual(walked('big'));
    for (let step = 0; step < 3_000; step++) {
      const op = rand(3);
      const n = rand(big + 200);
      const key = `k${n}`;
      const term = rand(10) === 0 ? 'small' : 'big';
      if (op === 0 && live.has(key)) {
        const [t, sortOf] = live.get(key)!;
        expect(idx.remove(t, sortOf, key)).toBe(true);
        live.delete(key);
      } else if (!live.has(key)) {
        idx.upsert(term, n, key, (rand(2 ** 31) * 2 + 1) >>> 0);
        live.set(key, [term, n]);
      } else {
        const [t, sortOf] = live.get(key)!;
        idx.upsert(t, sortOf, key, rand(2 ** 31) >>> 0); // a new version of the key: its hash changes
      }
      if (step % 97 === 0) {
        expect(idx.summary('big'), `step ${step}`).toEqual(walked('big'));
        expect(idx.summary('small'), `step ${step}`).toEqual(walked('small'));
      }
    }
    expect(idx.summary('big')).toEqual(walked('big'));
    expect(idx.summary('big').count).toBe([...live.values()].filter(([t]) => t === 'big').length);
    // Emptied and refilled, a term is counted from its keys again.
    for (const [key, [t, sortOf]] of live) if (t === 'big') idx.remove(t, sortOf, key);
    expect(idx.summary('big')).toEqual({ count: 0, digest: 0 });
    idx.upsert('big', 1, 'again', 9);
    expect(idx.summary('big')).toEqual({ count: 1, digest: 9 });
  });
});

describe('the per-partition index in VnodeStore', () => {
  it('follows merges, owner changes, siblings, tombstones, expiry sweeps, handoff drops, restores and clear', () => {
    const store = new VnodeStore(types(), 64);
    const p = 3;
    store.merge(p, 'doc/a', live('x', 1, { owner: 'o1', at: 10, text: 'alpha' }), 0);
    store.merge(p, 'doc/b', live('x', 1, { owner: 'o1', at: 20, text: 'beta' }), 0);
    store.merge(p, 'doc/c', live('x', 1, { owner: 'o2', at: 15, text: 'gamma' }), 0);
    store.merge(
      p,
      'kv/plain',
      { kind: 'register', v: { vv: { x: 1 }, siblings: [{ dot: ['x', 1], value: 'v', at: 0 }] } },
      0,
    );
    expect(listed(store, p, 'o1')).toEqual([
      ['doc/b', 20],
      ['doc/a', 10],
    ]);
    expect(listed(store, p, 'o1', [20, 'doc/b'])).toEqual([['doc/a', 10]]);
    expect(listed(store, p, 'o2')).toEqual([['doc/c', 15]]);
    expect(store.index(p, 'owner')!.size).toBe(3);

    // A newer version moves the key to another term.
    store.merge(p, 'doc/a', live('x', 2, { owner: 'o2', at: 10, text: 'alpha' }), 0);
    expect(listed(store, p, 'o1')).toEqual([['doc/b', 20]]);
    expect(listed(store, p, 'o2')).toEqual([
      ['doc/c', 15],
      ['doc/a', 10],
    ]);
    // An older version merged later changes nothing (the version vector dominates).
    store.merge(p, 'doc/a', live('x', 1, { owner: 'o1', at: 10, text: 'alpha' }), 0);
    expect(listed(store, p, 'o1')).toEqual([['doc/b', 20]]);

    // Concurrent siblings: the index follows the type's resolution (a gone sibling wins: no entry).
    store.merge(p, 'doc/b', live('y', 1, { owner: 'o1', at: 20, text: 'beta', gone: true }), 0);
    expect(store.get(p, 'doc/b')!.entry.kind === 'register' && store.get(p, 'doc/b')!.entry).toBeTruthy();
    expect(listed(store, p, 'o1')).toEqual([]);

    // A tombstone has no entries.
    store.merge(p, 'doc/c', tomb('x', 2), 0);
    expect(listed(store, p, 'o2')).toEqual([['doc/a', 10]]);

    // The summary's digest is the XOR of the entry hashes: it changes with an edit of a listed key.
    const before = store.index(p, 'owner')!.summary('o2');
    expect(before.count).toBe(1);
    store.merge(p, 'doc/a', live('x', 3, { owner: 'o2', at: 10, text: 'alpha2' }), 0);
    const after = store.index(p, 'owner')!.summary('o2');
    expect(after.count).toBe(1);
    expect(after.digest).not.toBe(before.digest);
    expect(after.digest).toBe(store.get(p, 'doc/a')!.hash >>> 0);

    // An expiry sweep or a handoff drop removes the key: removeIfUnchanged.
    store.merge(p, 'doc/e', live('x', 1, { owner: 'o2', at: 30, text: 'eph', exp: 5 }), 0);
    expect(listed(store, p, 'o2').map(([k]) => k)).toEqual(['doc/e', 'doc/a']);
    expect(store.removeIfUnchanged(p, 'doc/e', store.get(p, 'doc/e')!.seq)).toBe(true);
    expect(listed(store, p, 'o2').map(([k]) => k)).toEqual(['doc/a']);
    // ... but not when the key changed since (the seq moved on).
    const seq = store.get(p, 'doc/a')!.seq;
    store.merge(p, 'doc/a', live('x', 4, { owner: 'o2', at: 10, text: 'alpha3' }), 0);
    expect(store.removeIfUnchanged(p, 'doc/a', seq)).toBe(false);
    expect(listed(store, p, 'o2').map(([k]) => k)).toEqual(['doc/a']);

    // Restore (from disk) lists the key again; clear drops every index.
    store.restore(p, 'doc/r', live('z', 1, { owner: 'o1', at: 5, text: 'restored' }), 100, 0);
    expect(listed(store, p, 'o1')).toEqual([['doc/r', 5]]);
    store.clear();
    expect(store.index(p, 'owner')).toBeUndefined();
  });

  it('keeps many keys of one term ordered by (sort, key) whatever the insertion order, and pages with cursors', () => {
    const store = new VnodeStore(types(), 64);
    const p = 0;
    const n = 500;
    const order = Array.from({ length: n }, (_, i) => (i * 7919) % n);
    for (const i of order) {
      store.merge(p, `doc/k${i}`, live('x', 1, { owner: 'o', at: i % 50, text: `t${i}` }), 0);
      store.merge(p, `doc/other${i}`, live('x', 1, { owner: i % 2 ? 'a' : 'z', at: i, text: '' }), 0);
    }
    const all = listed(store, p, 'o');
    expect(all).toHaveLength(n);
    for (let i = 1; i < all.length; i++) {
      const [k0, s0] = all[i - 1]!;
      const [k1, s1] = all[i]!;
      expect(s0 > s1 || (s0 === s1 && k0 > k1), `${k0}/${s0} before ${k1}/${s1}`).toBe(true);
    }
    const paged: [string, number][] = [];
    let cursor: IndexCursor | undefined;
    for (;;) {
      const page = listed(store, p, 'o', cursor).slice(0, 37);
      if (page.length === 0) break;
      paged.push(...page);
      const last = page[page.length - 1]!;
      cursor = [last[1], last[0]];
    }
    expect(paged).toEqual(all);
    for (let i = 0; i < n; i += 2) store.removeIfUnchanged(p, `doc/k${i}`, store.get(p, `doc/k${i}`)!.seq);
    expect(store.index(p, 'owner')!.summary('o').count).toBe(n / 2);
  });
});

// ---------------------------------------------------------------- through the ring

function run<T>(world: SimWorld, start: (cb: Callback<T>) => void, maxMs = 10_000): T {
  let out: { err: unknown; res: T | undefined } | undefined;
  start((err, res) => (out ??= { err, res }));
  const end = world.now() + maxMs;
  while (!out && world.now() < end) world.run(5);
  expect(out, 'the request never called back').toBeDefined();
  expect(out!.err).toBeNull();
  return out!.res!;
}

function node(world: SimWorld, name: string): RingNode {
  return world.nodes.get(name)!.node;
}

function settledWorld(seed: number): SimWorld {
  const world = new SimWorld(seed, simRingConfig({ antiEntropyIntervalMs: 60_000 }), { types });
  const names = ['n0', 'n1', 'n2', 'n3'];
  const register = (name: string) =>
    node(world, name).registerIndexFilter({
      name: 'text',
      match: (v, arg) => (v as Doc).text.includes(arg as string),
    });
  world.addNode('n0', []);
  register('n0');
  for (const n of names.slice(1)) {
    world.addNode(n, ['n0']);
    register(n);
  }
  const end = world.now() + 30_000;
  const settled = () =>
    world
      .upNodes()
      .every(
        (s) =>
          s.node.ring().partitions.every((c) => c.next === null) &&
          s.node.handoffs().length === 0 &&
          Object.keys(s.node.ring().members).length === 4,
      );
  while (!settled() && world.now() < end) world.run(50);
  world.run(1_000);
  return world;
}

function putDocs(world: SimWorld, docs: readonly [string, Doc][]): void {
  let pending = docs.length;
  const errors: unknown[] = [];
  for (const [key, doc] of docs)
    node(world, 'n2').put(key, doc, {}, (err) => {
      if (err) errors.push(err);
      pending--;
    });
  const end = world.now() + 20_000;
  while (pending > 0 && world.now() < end) world.run(5);
  expect({ pending, errors }).toEqual({ pending: 0, errors: [] });
  world.run(300);
}

/**
 * Every page of the term from `via`; with `count`, every page is asked to count the term too
 * (IndexPageArgs.count: the same messages, one pass with a filter) and must say `count`.
 */
function allPages(world: SimWorld, via: string, args: Omit<IndexPageArgs, 'after'>, count?: number): string[] {
  const keys: string[] = [];
  let after: IndexCursor | undefined;
  for (let i = 0; i < 1_000; i++) {
    const page = run<IndexPage>(world, (cb) =>
      node(world, via).indexPage(
        { ...args, ...(after ? { after } : {}), ...(count !== undefined ? { count: true } : {}) },
        cb,
      ),
    );
    expect(page.missing).toEqual([]);
    expect(page.count, `page ${i} via ${via}: its count`).toBe(count);
    expect(page.items.length).toBeLessThanOrEqual(args.limit);
    keys.push(...page.items.map((it) => it.key));
    if (!page.next) return keys;
    after = page.next;
  }
  throw new Error('too many pages');
}

describe('index queries through coverage (real RingNode, simulated network)', () => {
  const owner = 'alice';
  const docs: [string, Doc][] = Array.from({ length: 230 }, (_, i) => [
    `doc/d${String(i).padStart(3, '0')}`,
    {
      owner: i % 10 === 9 ? 'bob' : owner,
      at: 1_000 + Math.floor(i / 3),
      text: i % 4 === 0 ? `red ${i}` : `blue ${i}`,
    },
  ]);
  const mine = docs.filter(([, d]) => d.owner === owner);
  const newestFirst = [...mine].sort(([ka, a], [kb, b]) => b.at - a.at || (ka < kb ? 1 : -1)).map(([k]) => k);

  it('pages newest first from every node, each key once, with exact counts and a filter', () => {
    const world = settledWorld(2001);
    putDocs(world, docs);
    for (const via of ['n0', 'n1', 'n2', 'n3']) {
      expect(allPages(world, via, { index: 'owner', term: owner, limit: 17 }), `via ${via}`).toEqual(newestFirst);
      expect(allPages(world, via, { index: 'owner', term: owner, limit: 17 }, mine.length)).toEqual(newestFirst);
      const c = run<IndexCount>(world, (cb) => node(world, via).indexCount({ index: 'owner', term: owner }, cb));
      expect({ count: c.count, missing: c.missing }).toEqual({ count: mine.length, missing: [] });
    }
    // One page of limit 1, and a page past the end.
    const first = run<IndexPage>(world, (cb) =>
      node(world, 'n1').indexPage({ index: 'owner', term: owner, limit: 1 }, cb),
    );
    expect(first.items.map((i) => i.key)).toEqual([newestFirst[0]]);
    expect(first.items[0]!.value).toEqual(Object.fromEntries(docs)[newestFirst[0]!]);
    expect(first.next).toEqual([first.items[0]!.sort, first.items[0]!.key]);
    const end = run<IndexPage>(world, (cb) =>
      node(world, 'n1').indexPage({ index: 'owner', term: owner, limit: 5, after: [0, ''] }, cb),
    );
    expect({ items: end.items, next: end.next }).toEqual({ items: [], next: null });
    // An unknown term lists nothing.
    expect(
      run<IndexCount>(world, (cb) => node(world, 'n0').indexCount({ index: 'owner', term: 'nobody' }, cb)).count,
    ).toBe(0);

    const filter = { name: 'text', arg: 'red' };
    const red = newestFirst.filter((k) => Object.fromEntries(docs)[k]!.text.includes('red'));
    expect(allPages(world, 'n3', { index: 'owner', term: owner, limit: 9, filter })).toEqual(red);
    expect(allPages(world, 'n0', { index: 'owner', term: owner, limit: 9, filter }, red.length)).toEqual(red);
    expect(
      run<IndexCount>(world, (cb) => node(world, 'n3').indexCount({ index: 'owner', term: owner, filter }, cb)).count,
    ).toBe(red.length);
    // An unregistered filter is refused, not ignored.
    let refused: unknown;
    node(world, 'n0').indexCount(
      { index: 'owner', term: owner, filter: { name: 'nope', arg: 1 } },
      (err) => (refused = err),
    );
    world.run(100);
    expect(refused).toMatchObject({ kind: 'invalid' });
  });

  it('reconciles replicas: a replica that lost keys or missed a delete, an edit or an owner change does not show', () => {
    const world = settledWorld(2002);
    putDocs(world, docs);
    const stores = new Map(world.upNodes().map((s) => [s.name, durableStateOf(s.node).store]));
    const primariesOf = (key: string) =>
      node(world, 'n0').preferenceLists().primaries[partitionOf(key, world.config.ringSize)]!;

    // n1 loses every copy it holds of alice's docs (a replica that missed the writes).
    let lost = 0;
    for (const [key] of mine) {
      const p = partitionOf(key, world.config.ringSize);
      const s = stores.get('n1')!.get(p, key);
      if (s && stores.get('n1')!.removeIfUnchanged(p, key, s.seq)) lost++;
    }
    expect(lost).toBeGreaterThan(0);

    // Three docs change (delete, owner change, edit) on all replicas but one, which keeps the old version.
    const [delKey, moveKey, editKey] = [newestFirst[0]!, newestFirst[5]!, newestFirst[7]!];
    const stale = new Map<string, string>();
    for (const key of [delKey, moveKey, editKey]) {
      const p = partitionOf(key, world.config.ringSize);
      const keeper = primariesOf(key).find((n) => n !== 'n1')!;
      stale.set(key, keeper);
      const old = stores.get(keeper)!.get(p, key)!.entry;
      const doc = Object.fromEntries(docs)[key]!;
      const next: Doc =
        key === delKey
          ? { ...doc, gone: true }
          : key === moveKey
            ? { ...doc, owner: 'carol' }
            : { ...doc, text: 'red edited' };
      const r = run<{ context: Record<string, number> }>(world, (cb) => node(world, 'n0').get(key, cb as never));
      run(world, (cb) => node(world, 'n0').put(key, next, r.context, cb));
      world.run(300);
      // The keeper goes back to the old version: remove what it has now, merge the old entry.
      const cur = stores.get(keeper)!.get(p, key);
      if (cur) stores.get(keeper)!.removeIfUnchanged(p, key, cur.seq);
      stores.get(keeper)!.merge(p, key, old, world.now());
      expect(
        listed(stores.get(keeper)!, p, owner).some(([k]) => k === key),
        `${keeper} still lists ${key}`,
      ).toBe(true);
    }
    const expected = newestFirst.filter((k) => k !== delKey && k !== moveKey);
    for (const replicas of [2, 3]) {
      for (const via of ['n0', 'n2']) {
        const got = allPages(world, via, { index: 'owner', term: owner, limit: 11, replicas });
        expect(got, `replicas ${replicas} via ${via}`).toEqual(expected);
        const counted = allPages(world, via, { index: 'owner', term: owner, limit: 11, replicas }, expected.length);
        expect(counted, `pages with counts, replicas ${replicas} via ${via}`).toEqual(expected);
        const c = run<IndexCount>(world, (cb) =>
          node(world, via).indexCount({ index: 'owner', term: owner, replicas }, cb),
        );
        expect(c.count, `count, replicas ${replicas} via ${via}`).toBe(expected.length);
      }
    }
    // The edit reconciles to its newest value, also for the filter.
    const filter = { name: 'text', arg: 'edited' };
    expect(allPages(world, 'n3', { index: 'owner', term: owner, limit: 5, replicas: 3, filter })).toEqual([editKey]);
    expect(allPages(world, 'n2', { index: 'owner', term: owner, limit: 5, replicas: 3, filter }, 1)).toEqual([editKey]);
    expect(
      run<IndexCount>(world, (cb) =>
        node(world, 'n3').indexCount({ index: 'owner', term: owner, replicas: 3, filter }, cb),
      ).count,
    ).toBe(1);
    expect(allPages(world, 'n1', { index: 'owner', term: 'carol', limit: 5, replicas: 3 })).toEqual([moveKey]);
  });

  it('an expired value is neither listed nor counted (queries read values as reads do)', () => {
    const world = settledWorld(2004);
    const soon = world.nodes.get('n0')!.clock.now() + 10_000;
    putDocs(world, [
      ['doc/keep', { owner: 'dave', at: 1, text: 'stays' }],
      ['doc/brief', { owner: 'dave', at: 2, text: 'expires', exp: soon }],
    ]);
    const count = () =>
      run<IndexCount>(world, (cb) => node(world, 'n0').indexCount({ index: 'owner', term: 'dave' }, cb)).count;
    expect(allPages(world, 'n1', { index: 'owner', term: 'dave', limit: 5 })).toEqual(['doc/brief', 'doc/keep']);
    expect(count()).toBe(2);
    expect(allPages(world, 'n2', { index: 'owner', term: 'dave', limit: 1 }, 2)).toEqual(['doc/brief', 'doc/keep']);
    world.run(10_500);
    expect(allPages(world, 'n1', { index: 'owner', term: 'dave', limit: 5 })).toEqual(['doc/keep']);
    expect(allPages(world, 'n2', { index: 'owner', term: 'dave', limit: 1 }, 1)).toEqual(['doc/keep']);
    expect(count()).toBe(1);
  });

  it('a crashed node: its partitions are asked of other primaries and the answer stays complete', () => {
    const world = settledWorld(2003);
    putDocs(world, docs);
    world.crash('n3', true);
    expect(allPages(world, 'n0', { index: 'owner', term: owner, limit: 50 })).toEqual(newestFirst);
    expect(allPages(world, 'n2', { index: 'owner', term: owner, limit: 50 }, mine.length)).toEqual(newestFirst);
    expect(
      run<IndexCount>(world, (cb) => node(world, 'n1').indexCount({ index: 'owner', term: owner }, cb)).count,
    ).toBe(mine.length);
  });
});

describe('getMany and readCounters: many quorum reads in one message per replica', () => {
  it('reads what get reads for each key, absent keys included, and counters with unshipped increments', () => {
    const world = settledWorld(2005);
    const keys = Array.from({ length: 40 }, (_, i) => `kv/k${i}`);
    let pending = keys.length;
    for (const [i, key] of keys.entries())
      if (i % 4 !== 3) node(world, 'n1').put(key, `v${i}`, {}, () => pending--);
      else pending--;
    const end = world.now() + 10_000;
    while (pending > 0 && world.now() < end) world.run(5);
    world.run(300);
    for (const via of ['n0', 'n3']) {
      const many = run<ReadResult[]>(world, (cb) => node(world, via).getMany(keys, cb));
      const one = keys.map((key) => run<ReadResult>(world, (cb) => node(world, via).get(key, cb)));
      expect(many).toEqual(one);
      expect(many.map((r) => (r.found ? r.value : null))).toEqual(keys.map((_, i) => (i % 4 !== 3 ? `v${i}` : null)));
    }
    expect(run<ReadResult[]>(world, (cb) => node(world, 'n2').getMany([], cb))).toEqual([]);

    // Counters: shipped counts from other nodes, plus this node's own not yet shipped.
    node(world, 'n1').increment('ctr/a', 3);
    node(world, 'n2').increment('ctr/b', 2);
    world.run(1_000);
    node(world, 'n0').increment('ctr/a', 1);
    const { values } = run<{ values: unknown[] }>(world, (cb) =>
      node(world, 'n0').readCounters(['ctr/a', 'ctr/b', 'ctr/none'], cb),
    );
    const total = (v: unknown) => Object.values(v as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(values.map(total)).toEqual([4, 2, 0]);
    // Not a counter: refused, not read.
    let refused: unknown;
    node(world, 'n0').readCounters(['ctr/a', 'kv/k0'], (err) => (refused = err));
    expect(refused).toMatchObject({ kind: 'invalid' });
  });

  it('a crashed replica: each key still gets R answers from the others', () => {
    const world = settledWorld(2006);
    const keys = Array.from({ length: 30 }, (_, i) => `kv/c${i}`);
    let pending = keys.length;
    for (const key of keys) node(world, 'n1').put(key, key, {}, () => pending--);
    const end = world.now() + 10_000;
    while (pending > 0 && world.now() < end) world.run(5);
    world.run(300);
    world.crash('n3', true);
    const many = run<ReadResult[]>(world, (cb) => node(world, 'n0').getMany(keys, cb));
    expect(many.map((r) => (r.found ? r.value : null))).toEqual(keys);
  });
});
