// Secondary index queries (riak 2i) through coverage: every partition is asked of `replicas`
// up primaries (2 by default: R, so that with W + R > N each acknowledged write is seen by
// one of them), and each node walks only the keys listed under one term in the partitions
// asked of it (../storage/secondaryIndex.ts), never a whole partition.
//
// A page: each node answers its best `limit` keys strictly after the cursor, newest (highest
// sort) first, over all partitions asked of it, and the lowest position down to which that
// answer is complete. The coordinator keeps what lies above the highest such position (so
// nothing from any replica can be missing there), and reconciles by key: a key every asked
// replica reported with the same entry hash is agreed; any other (one replica lacks it, or
// their versions differ) is fetched from those replicas, merged as a read merges them
// (version vectors, then the type's resolve) and kept only if the merged value is still live,
// still listed under the term and still matches the filter. So a write or a delete that one
// of the two replicas missed never shows through.
//
// A count: each node answers, per partition, how many of the term's keys match and the XOR
// of their entry hashes; replicas that agree are counted once, and a partition whose
// replicas disagree is reconciled key by key as above.
import { readResult } from '../coordinator/quorum';
import { ringError, type Callback, type NodeContext } from '../node/context';
import { scatter } from '../node/scatter';
import { decodeEntry, encodeEntry, mergeEntries, type Entry, type WireEntry } from '../storage/entry';
import { indexEntriesOf, type IndexCursor } from '../storage/secondaryIndex';
import type { DataType } from '../storage/datatype';
import type { StoredEntry } from '../storage/vnodeStore';

/** A predicate over live values a query may narrow a term's keys by (e.g. a substring match). */
export interface IndexFilter {
  readonly name: string;
  match(value: unknown, arg: unknown): boolean;
}

export interface IndexQueryArgs {
  /** The index's name, as the data type lists it. */
  readonly index: string;
  readonly term: string;
  /** A registered IndexFilter and its argument: only values it matches are listed or counted. */
  readonly filter?: { readonly name: string; readonly arg: unknown };
  /** Replicas of each partition to read (default 2), bounded by the primaries that are up. */
  readonly replicas?: number;
}

export interface IndexPageArgs extends IndexQueryArgs {
  /** Start strictly after this position (the previous page's `next`); the highest sort first when absent. */
  readonly after?: IndexCursor;
  readonly limit: number;
  /**
   * Also count the term's matching live keys (all of them, not only those after `after`), as
   * count() does, in the same messages and, with a filter, the same pass over the values.
   */
  readonly count?: boolean;
}

export interface IndexItem {
  readonly key: string;
  readonly sort: number;
  readonly value: unknown;
}

export interface IndexPage {
  /** Highest (sort, key) first, at most `limit`; fewer than `limit` does not mean the end: see `next`. */
  readonly items: readonly IndexItem[];
  /** Where the next page starts, or null when no key is left after these. */
  readonly next: IndexCursor | null;
  readonly partitions: number;
  /** Partitions no replica answered for (the page is partial when non-empty). */
  readonly missing: readonly number[];
  /** With `count` asked: what count() would answer. */
  readonly count?: number;
}

export interface IndexCount {
  readonly count: number;
  readonly partitions: number;
  readonly missing: readonly number[];
}

/** Scanning a node does between two yields to its event loop (ms). */
const indexScanSliceMs = 10;

/** Items one node may send for one page; a page's `limit` is clamped to it. */
export const indexPageLimitMax = 1_000;

type WireItem = [key: string, sort: number, hash: number, value: unknown];
type CountReply = [p: number, count: number, digest: number][];
interface PageReply {
  items: WireItem[];
  /** Complete down to here (inclusive); null: complete to the end of the term. */
  low: IndexCursor | null;
  /** With `count` asked: per partition, as ix-count answers. */
  counts?: CountReply;
}
type KeysReply = [key: string, hash: number, match: 0 | 1][];

type Match = { readonly ok: false } | { readonly ok: true; readonly value: unknown };
const noMatch: Match = { ok: false };

const after = (a: IndexCursor, b: IndexCursor) => a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);
const cmpDesc = (a: IndexCursor, b: IndexCursor) => (after(a, b) ? -1 : after(b, a) ? 1 : 0);

export class IndexQueries {
  private readonly filters = new Map<string, IndexFilter>();
  private lastTypePrefix = '';
  private lastType: DataType | undefined;

  constructor(private readonly ctx: NodeContext) {
    ctx.rpc.on('ix-page', (_from, body: IndexPageArgs & { parts: number[] }, reply, refuse) => {
      const problem = this.check(body);
      if (problem) return refuse(problem);
      this.localPage(body, body.parts, reply);
    });
    ctx.rpc.on('ix-count', (_from, body: IndexQueryArgs & { parts: number[] }, reply, refuse) => {
      const problem = this.check(body);
      if (problem) return refuse(problem);
      const out: CountReply = [];
      this.eachPartition(
        body.parts,
        (p) => out.push([p, ...this.localCount(body, p)]),
        () => reply(out),
      );
    });
    ctx.rpc.on('ix-keys', (_from, body: IndexQueryArgs & { p: number }, reply, refuse) => {
      const problem = this.check(body);
      if (problem) return refuse(problem);
      reply(this.localKeys(body, body.p));
    });
    ctx.rpc.on('ix-get', (_from, body: { keys: string[] }, reply) => {
      reply(
        body.keys.map((key) => {
          const stored = ctx.store.get(ctx.partitionOf(key), key);
          return [key, stored ? encodeEntry(ctx.store.typeOf(key), stored.entry) : null];
        }),
      );
    });
  }

  registerFilter(filter: IndexFilter): void {
    this.filters.set(filter.name, filter);
  }

  private check(args: IndexQueryArgs): string | undefined {
    if (args.filter && !this.filters.has(args.filter.name)) return `unknown index filter ${args.filter.name}`;
    return undefined;
  }

  /** The live value of a stored key when it matches the query's filter. */
  private liveMatch(args: IndexQueryArgs, key: string, entry: Entry | undefined, now: number): Match {
    const type = this.ctx.store.typeOf(key);
    let value: unknown;
    const only = entry?.kind === 'register' && entry.v.siblings.length === 1 ? entry.v.siblings[0]! : undefined;
    if (only && !only.deleted && !type.expiresAt)
      value = only.value; // what readResult gives, without its arrays
    else {
      const r = readResult(type, entry ?? null, now);
      if (!r.found || r.value === undefined) return noMatch;
      value = r.value;
    }
    return this.filterMatch(args, value);
  }

  /**
   * liveMatch of what this node stores under the key, without rebuilding the entry when the
   * store holds it compactly (one live sibling: its value is what a read resolves to).
   */
  private storedMatch(args: IndexQueryArgs, key: string, stored: StoredEntry | undefined, now: number): Match {
    const sole = stored?.soleValue;
    if (sole !== undefined && !this.typeOf(key).expiresAt) return this.filterMatch(args, sole);
    return this.liveMatch(args, key, stored?.entry, now);
  }

  /** The store's type of a key; a scan's keys mostly share one type, so the last one is kept (no slice per key). */
  private typeOf(key: string): DataType {
    if (this.lastType && key.startsWith(this.lastTypePrefix)) return this.lastType;
    const type = this.ctx.store.typeOf(key);
    this.lastTypePrefix = key.slice(0, key.indexOf('/') + 1);
    this.lastType = type;
    return type;
  }

  private filterMatch(args: IndexQueryArgs, value: unknown): Match {
    const f = args.filter && this.filters.get(args.filter.name);
    if (f && !f.match(value, args.filter!.arg)) return noMatch;
    return { ok: true, value };
  }

  /**
   * Run `work` on each partition, yielding to the event loop once a slice of scanning took
   * indexScanSliceMs, so a scan of a large term does not hold up the node's other requests
   * for its whole length, and a small one answers in one turn.
   */
  private eachPartition(parts: readonly number[], work: (p: number) => void, done: () => void): void {
    let i = 0;
    const step = () => {
      const start = this.ctx.rt.clock.now();
      while (i < parts.length) {
        work(parts[i++]!);
        if (i < parts.length && this.ctx.rt.clock.now() - start >= indexScanSliceMs) {
          this.ctx.rt.timers.setTimeout(step, 0);
          return;
        }
      }
      done();
    };
    step();
  }

  private localPage(args: IndexPageArgs, parts: readonly number[], reply: (r: PageReply) => void): void {
    const limit = Math.max(1, Math.min(indexPageLimitMax, args.limit));
    const now = this.ctx.rt.clock.now();
    const items: WireItem[] = [];
    const counts: CountReply | undefined = args.count ? [] : undefined;
    const from = args.after;
    let low: IndexCursor | null = null;
    const walk = (p: number) => {
      const idx = this.ctx.store.index(p, args.index);
      if (!idx) {
        counts?.push([p, 0, 0]);
        return;
      }
      // A count with a filter (or of values that may expire) reads every value under the term:
      // the page is collected in that same pass, from the top of the term.
      const full = counts !== undefined && (args.filter !== undefined || idx.mayExpire);
      let n = 0;
      let last: IndexCursor | null = null;
      let exhausted = true;
      let matched = 0;
      let digest = 0;
      idx.descending(args.term, full ? undefined : from, (key, sort, hash) => {
        let m: Match | undefined;
        if (full) {
          digest ^= hash;
          m = this.storedMatch(args, key, this.ctx.store.get(p, key), now);
          if (m.ok) matched++;
          // Not yet below the page's start: counted only.
          if (from && (sort > from[0] || (sort === from[0] && key >= from[1]))) return true;
        }
        if (low && (sort < low[0] || (sort === low[0] && key <= low[1]))) return full;
        if (n >= limit) {
          exhausted = false;
          return full;
        }
        m ??= this.storedMatch(args, key, this.ctx.store.get(p, key), now);
        if (m.ok) {
          items.push([key, sort, hash, this.ctx.store.typeOf(key).encode(m.value)]);
          n++;
          last = [sort, key];
        }
        return true;
      });
      if (!exhausted && last && (!low || after(last, low))) low = last;
      if (counts) counts.push(full ? [p, matched, digest >>> 0] : [p, ...this.localCount(args, p)]);
    };
    this.eachPartition(parts, walk, () => {
      items.sort((a, b) => cmpDesc([a[1], a[0]], [b[1], b[0]]));
      const kept = low ? items.filter((i) => !after(low!, [i[1], i[0]])) : items;
      if (kept.length > limit) {
        kept.length = limit;
        const l = kept[limit - 1]!;
        low = [l[1], l[0]];
      }
      reply(counts ? { items: kept, low, counts } : { items: kept, low });
    });
  }

  private localCount(args: IndexQueryArgs, p: number): [count: number, digest: number] {
    const idx = this.ctx.store.index(p, args.index);
    if (!idx) return [0, 0];
    if (!args.filter && !idx.mayExpire) {
      const s = idx.summary(args.term);
      return [s.count, s.digest];
    }
    const now = this.ctx.rt.clock.now();
    let count = 0;
    let digest = 0;
    idx.descending(args.term, undefined, (key, _sort, hash) => {
      digest ^= hash;
      if (this.storedMatch(args, key, this.ctx.store.get(p, key), now).ok) count++;
      return true;
    });
    return [count, digest >>> 0];
  }

  private localKeys(args: IndexQueryArgs, p: number): KeysReply {
    const out: KeysReply = [];
    const idx = this.ctx.store.index(p, args.index);
    const now = this.ctx.rt.clock.now();
    idx?.descending(args.term, undefined, (key, _sort, hash) => {
      out.push([key, hash, this.storedMatch(args, key, this.ctx.store.get(p, key), now).ok ? 1 : 0]);
      return true;
    });
    return out;
  }

  /** A page of the term's keys, reconciled over `replicas` replicas of every partition. */
  page(args: IndexPageArgs, done: Callback<IndexPage>): void {
    if (this.check(args)) return done(ringError('invalid', this.check(args)!));
    const limit = Math.max(1, Math.min(indexPageLimitMax, Math.floor(args.limit)));
    const q = { ...args, limit };
    this.gather<PageReply>(
      'ix-page',
      (parts) => ({ ...q, parts }),
      args.replicas,
      (answers, answeredBy, missing) => {
        let cutoff: IndexCursor | null = null;
        for (const a of answers) if (a.body.low && (!cutoff || after(a.body.low, cutoff))) cutoff = a.body.low;
        const byKey = new Map<string, { sort: number; value: unknown; reports: Map<string, number> }>();
        for (const a of answers) {
          for (const [key, sort, hash, value] of a.body.items) {
            if (cutoff && after(cutoff, [sort, key])) continue;
            let k = byKey.get(key);
            if (!k) byKey.set(key, (k = { sort, value, reports: new Map() }));
            k.reports.set(a.node, hash);
          }
        }
        const agreed: IndexItem[] = [];
        const suspects: string[] = [];
        for (const [key, k] of byKey) {
          const nodes = answeredBy.get(this.ctx.partitionOf(key)) ?? [];
          const hashes = new Set(k.reports.values());
          if (hashes.size === 1 && nodes.every((n) => k.reports.has(n)))
            agreed.push({ key, sort: k.sort, value: this.ctx.store.typeOf(key).decode(k.value) });
          else suspects.push(key);
        }
        this.reconcile(q, suspects, answeredBy, (merged) => {
          const items = [...agreed];
          for (const key of suspects) {
            const m = merged.get(key);
            if (m === undefined) {
              // The replicas could not be asked again: show what was reported.
              const k = byKey.get(key)!;
              items.push({ key, sort: k.sort, value: this.ctx.store.typeOf(key).decode(k.value) });
            } else if (m !== null) {
              const pos: IndexCursor = [m.sort, key];
              if ((!args.after || after(args.after, pos)) && (!cutoff || !after(cutoff, pos))) items.push(m);
            }
          }
          items.sort((a, b) => cmpDesc([a.sort, a.key], [b.sort, b.key]));
          const more = items.length > limit || cutoff !== null;
          const page = items.slice(0, limit);
          const lastItem = page[page.length - 1];
          const next: IndexCursor | null = !more
            ? null
            : page.length === limit && lastItem
              ? [lastItem.sort, lastItem.key]
              : cutoff;
          const result: IndexPage = { items: page, next, partitions: answeredBy.size, missing };
          if (!args.count) return done(null, result);
          const counts = answers.map((a) => ({ node: a.node, counts: a.body.counts ?? [] }));
          this.tally(q, counts, answeredBy, (count) => done(null, { ...result, count }));
        });
      },
    );
  }

  /** How many of the term's live keys match (all of them without a filter), reconciled over replicas. */
  count(args: IndexQueryArgs, done: Callback<IndexCount>): void {
    if (this.check(args)) return done(ringError('invalid', this.check(args)!));
    this.gather<CountReply>(
      'ix-count',
      (parts) => ({ ...args, parts }),
      args.replicas,
      (answers, answeredBy, missing) =>
        this.tally(
          args,
          answers.map((a) => ({ node: a.node, counts: a.body })),
          answeredBy,
          (count) => done(null, { count, partitions: answeredBy.size, missing }),
        ),
    );
  }

  /** The count from every node's per-partition counts: agreeing replicas counted once, the others reconciled. */
  private tally(
    args: IndexQueryArgs,
    answers: readonly { node: string; counts: CountReply }[],
    answeredBy: ReadonlyMap<number, readonly string[]>,
    done: (count: number) => void,
  ): void {
    const perPart = new Map<number, [node: string, count: number, digest: number][]>();
    for (const a of answers) {
      for (const [p, count, digest] of a.counts) {
        const got = perPart.get(p) ?? [];
        got.push([a.node, count, digest]);
        perPart.set(p, got);
      }
    }
    let count = 0;
    const disputed: number[] = [];
    for (const [p, got] of perPart) {
      if (got.every((g) => g[1] === got[0]![1] && g[2] === got[0]![2])) count += got[0]![1];
      else disputed.push(p);
    }
    let pending = disputed.length;
    if (pending === 0) return done(count);
    for (const p of disputed) {
      this.countDisputed(args, p, perPart.get(p)!, answeredBy, (n) => {
        count += n;
        if (--pending === 0) done(count);
      });
    }
  }

  /** One partition whose replicas disagree: compare their key lists, reconcile the keys that differ. */
  private countDisputed(
    args: IndexQueryArgs,
    p: number,
    got: readonly [string, number, number][],
    answeredBy: ReadonlyMap<number, readonly string[]>,
    done: (count: number) => void,
  ): void {
    const nodes = got.map((g) => g[0]);
    const fallback = Math.max(...got.map((g) => g[1]));
    scatter(
      this.ctx.rpc,
      nodes,
      'ix-keys',
      { ...args, p },
      {
        timeoutMs: this.ctx.config.indexQueryTimeoutMs,
        allAnswered: (g) => {
          if (g.accepted.size < nodes.length) return done(fallback);
          const seen = new Map<string, { hashes: Set<number>; match: 0 | 1; by: number }>();
          for (const body of g.accepted.values()) {
            for (const [key, hash, match] of body as KeysReply) {
              const s = seen.get(key) ?? { hashes: new Set<number>(), match, by: 0 };
              s.hashes.add(hash);
              s.by++;
              seen.set(key, s);
            }
          }
          let count = 0;
          const suspects: string[] = [];
          for (const [key, s] of seen) {
            if (s.hashes.size === 1 && s.by === nodes.length) count += s.match;
            else suspects.push(key);
          }
          this.reconcile(args, suspects, answeredBy, (merged) => {
            for (const key of suspects) {
              const m = merged.get(key);
              if (m === undefined) {
                if (seen.get(key)!.match) count++;
              } else if (m !== null) count++;
            }
            done(count);
          });
        },
      },
    );
  }

  /**
   * Fetch each suspect key from every replica that answered for its partition, merge the
   * entries, and say per key: the item when its merged value is live, under the term and
   * matching; null when not; undefined when a replica could not be asked.
   */
  private reconcile(
    args: IndexQueryArgs,
    keys: readonly string[],
    answeredBy: ReadonlyMap<number, readonly string[]>,
    done: (merged: Map<string, IndexItem | null | undefined>) => void,
  ): void {
    const out = new Map<string, IndexItem | null | undefined>();
    if (keys.length === 0) return done(out);
    const byNode = new Map<string, string[]>();
    for (const key of keys) {
      for (const n of answeredBy.get(this.ctx.partitionOf(key)) ?? []) {
        const list = byNode.get(n) ?? [];
        list.push(key);
        byNode.set(n, list);
      }
    }
    scatter(this.ctx.rpc, [...byNode.keys()], 'ix-get', undefined, {
      timeoutMs: this.ctx.config.requestTimeoutMs,
      bodyFor: (n) => ({ keys: byNode.get(n)! }),
      allAnswered: (g) => {
        const entries = new Map<string, Entry | null>();
        const failed = new Set<string>();
        for (const [n, list] of byNode) {
          const body = g.accepted.get(n) as [string, WireEntry | null][] | undefined;
          if (!body) for (const key of list) failed.add(key);
          for (const [key, wire] of body ?? []) {
            const type = this.ctx.store.typeOf(key);
            const prev = entries.get(key) ?? null;
            const e = wire ? decodeEntry(type, wire) : null;
            entries.set(key, prev && e ? mergeEntries(type, prev, e) : (prev ?? e));
          }
        }
        const now = this.ctx.rt.clock.now();
        for (const key of keys) {
          if (failed.has(key)) {
            out.set(key, undefined);
            continue;
          }
          const entry = entries.get(key) ?? undefined;
          const m = this.liveMatch(args, key, entry, now);
          const listed = indexEntriesOf(this.ctx.store.typeOf(key), entry).find(
            (e) => e.name === args.index && e.term === args.term,
          );
          out.set(key, m.ok && listed ? { key, sort: listed.sort, value: m.value } : null);
        }
        done(out);
      },
    });
  }

  /**
   * Ask `replicas` up primaries of every partition (a node is asked for all its partitions in
   * one message); the partitions of a node that fails are asked of another up primary.
   */
  private gather<R>(
    method: string,
    bodyFor: (parts: number[]) => unknown,
    replicasWanted: number | undefined,
    done: (
      answers: readonly { node: string; body: R }[],
      answeredBy: ReadonlyMap<number, readonly string[]>,
      missing: number[],
    ) => void,
  ): void {
    const prefs = this.ctx.prefs();
    const ringSize = prefs.primaries.length;
    const replicas = Math.max(1, replicasWanted ?? 2);
    const answers: { node: string; body: R }[] = [];
    const answeredBy = new Map<number, string[]>();
    const tried = new Map<number, Set<string>>();
    let waves = 0;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      const missing: number[] = [];
      for (let p = 0; p < ringSize; p++) if (!answeredBy.has(p)) missing.push(p);
      done(answers, answeredBy, missing);
    };
    const dispatch = (parts: readonly number[]) => {
      const byNode = new Map<string, number[]>();
      for (const p of parts) {
        const seen = tried.get(p) ?? new Set<string>();
        tried.set(p, seen);
        // Spread partitions over their primaries: start the search at a partition-dependent offset.
        const primaries = prefs.primaries[p]!;
        const up = primaries.filter((n) => !seen.has(n) && this.ctx.isUp(n));
        const node = up[(p + seen.size) % Math.max(1, up.length)];
        if (!node || seen.size >= replicas + this.ctx.config.coveragePartitionRetriesMax) continue;
        seen.add(node);
        byNode.set(node, [...(byNode.get(node) ?? []), p]);
      }
      if (byNode.size === 0) return;
      waves++;
      scatter(this.ctx.rpc, [...byNode.keys()], method, undefined, {
        timeoutMs: this.ctx.config.indexQueryTimeoutMs,
        bodyFor: (node) => bodyFor(byNode.get(node)!),
        onAnswer: (a) => {
          const ps = byNode.get(a.node)!;
          if (a.error) return dispatch(ps);
          answers.push({ node: a.node, body: a.body as R });
          for (const p of ps) answeredBy.set(p, [...(answeredBy.get(p) ?? []), a.node]);
        },
        allAnswered: () => {
          if (--waves === 0) finish();
        },
      });
    };
    const all: number[] = [];
    for (let p = 0; p < ringSize; p++) {
      const up = prefs.primaries[p]!.filter((n) => this.ctx.isUp(n)).length;
      for (let i = 0; i < Math.max(1, Math.min(replicas, up)); i++) all.push(p);
    }
    dispatch(all);
    if (waves === 0) finish();
  }
}
