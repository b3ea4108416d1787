// Coverage queries: a fold over one replica of every partition (riak_core's coverage
// FSM). The coordinator picks, per partition, an up primary; each node folds the
// partitions asked of it and answers per partition, so a partition whose node failed is
// simply asked of another primary, and a partition answered twice is counted once.
import { readResult } from '../coordinator/quorum';
import { ringError, type Callback, type NodeContext } from '../node/context';

export interface CoverageQuery<A = unknown> {
  readonly name: string;
  init(args: unknown): A;
  /** Fold one live key (deleted keys are skipped) into the partition's accumulator. */
  fold(acc: A, key: string, value: unknown, args: unknown): A;
  /** Combine accumulators of different partitions. */
  combine(a: A, b: A, args: unknown): A;
}

export interface CoverageResult<A> {
  readonly value: A;
  readonly partitions: number;
  /** Partitions no replica answered for (the result is partial when non-empty). */
  readonly missing: readonly number[];
}

export class Coverage {
  private readonly queries = new Map<string, CoverageQuery<any>>();

  constructor(private readonly ctx: NodeContext) {
    ctx.rpc.on('cover', (_from, body: { name: string; args: unknown; parts: number[] }, reply, refuse) => {
      const q = this.queries.get(body.name);
      if (!q) return refuse(`unknown coverage query ${body.name}`);
      reply(body.parts.map((p) => [p, this.foldPartition(q, p, body.args)]));
    });
  }

  register(query: CoverageQuery<any>): void {
    this.queries.set(query.name, query);
  }

  private foldPartition<A>(q: CoverageQuery<A>, p: number, args: unknown): A {
    let acc = q.init(args);
    const data = this.ctx.store.partition(p);
    if (!data) return acc;
    const now = this.ctx.rt.clock.now();
    for (const [key, stored] of data.entries) {
      const r = readResult(this.ctx.store.typeOf(key), stored.entry, now);
      if (r.found && !r.deleted) acc = q.fold(acc, key, r.value, args);
    }
    return acc;
  }

  run<A>(name: string, args: unknown, done: Callback<CoverageResult<A>>): void {
    const q = this.queries.get(name) as CoverageQuery<A> | undefined;
    if (!q) return done(ringError('invalid', `unknown coverage query ${name}`));
    const prefs = this.ctx.prefs();
    const results = new Map<number, A>();
    const tried = new Map<number, Set<string>>();
    const ringSize = prefs.primaries.length;
    let outstanding = 0;
    let attempts = 0;
    const finish = () => {
      let value = q.init(args);
      for (const a of results.values()) value = q.combine(value, a, args);
      const missing: number[] = [];
      for (let p = 0; p < ringSize; p++) if (!results.has(p)) missing.push(p);
      done(null, { value, partitions: results.size, missing });
    };
    const dispatch = (parts: number[]) => {
      const byNode = new Map<string, number[]>();
      for (const p of parts) {
        const seen = tried.get(p) ?? new Set<string>();
        tried.set(p, seen);
        const node = prefs.primaries[p]!.find((n) => !seen.has(n) && this.ctx.isUp(n));
        if (!node || seen.size > this.ctx.config.coveragePartitionRetriesMax) continue;
        seen.add(node);
        const list = byNode.get(node);
        if (list) list.push(p);
        else byNode.set(node, [p]);
      }
      outstanding += byNode.size;
      attempts += byNode.size;
      for (const [node, ps] of byNode) {
        const onReply = (answer: [number, A][] | null) => {
          const failed: number[] = [];
          if (answer) for (const [p, a] of answer) if (!results.has(p)) results.set(p, a);
          for (const p of ps) if (!results.has(p)) failed.push(p);
          if (failed.length > 0) dispatch(failed);
          if (--outstanding === 0) finish();
        };
        if (node === this.ctx.name) onReply(ps.map((p) => [p, this.foldPartition(q, p, args)]));
        else this.ctx.rpc.call(node, 'cover', { name, args, parts: ps }, this.ctx.config.requestTimeoutMs, (err, res) => onReply(err ? null : (res as [number, A][])));
      }
    };
    dispatch(Array.from({ length: ringSize }, (_, p) => p));
    if (outstanding === 0 && attempts === 0) finish();
  }
}
