// Coverage queries: a fold over replicas of every partition (riak_core's coverage FSM). The
// coordinator asks, per partition, up primaries; each node folds the partitions asked of it
// and answers per partition, so a partition whose node failed is simply asked of another
// primary, and a partition answered twice by one node is counted once.
//
// One replica per partition can lag: a primary that missed a write, read right after the
// primary that had it went down, would make a total shown to a person go down. A query that
// must not go backwards reads `replicas` primaries per partition (R, so that with W + R > N
// every acknowledged write is seen by one of them) and reconciles their answers.
import { readResult } from '../coordinator/quorum';
import { ringError, type Callback, type NodeContext } from '../node/context';
import { scatter } from '../node/scatter';

export interface CoverageQuery<A = unknown> {
  readonly name: string;
  init(args: unknown): A;
  /** Fold one live key (deleted keys are skipped) into the partition's accumulator. */
  fold(acc: A, key: string, value: unknown, args: unknown): A;
  /** Combine accumulators of different partitions. */
  combine(a: A, b: A, args: unknown): A;
  /**
   * Replicas of each partition to fold (default 1), bounded by the primaries that are up;
   * their accumulators go through reconcile, which must be commutative and idempotent.
   */
  readonly replicas?: number;
  /** Two replicas' accumulators of the same partition, as one (e.g. per-field max of grow-only totals). */
  reconcile?(a: A, b: A, args: unknown): A;
}

export interface CoverageResult<A> {
  readonly value: A;
  readonly partitions: number;
  /** Partitions no replica answered for (the result is partial when non-empty). */
  readonly missing: readonly number[];
}

export class Coverage {
  private readonly queries = new Map<string, CoverageQuery<unknown>>();

  constructor(private readonly ctx: NodeContext) {
    ctx.rpc.on('cover', (_from, body: { name: string; args: unknown; parts: number[] }, reply, refuse) => {
      const q = this.queries.get(body.name);
      if (!q) return refuse(`unknown coverage query ${body.name}`);
      reply(body.parts.map((p) => [p, this.foldPartition(q, p, body.args)]));
    });
  }

  register(query: CoverageQuery<unknown>): void {
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
    const ringSize = prefs.primaries.length;
    const answers = new Map<number, A[]>();
    const tried = new Map<number, Set<string>>();
    const replicas = Math.max(1, q.replicas ?? 1);
    const triesMax = replicas + this.ctx.config.coveragePartitionRetriesMax;
    /** Waves of requests not fully answered yet: a failed partition is asked again in a new wave. */
    let waves = 0;
    const finish = () => {
      let value = q.init(args);
      const missing: number[] = [];
      for (let p = 0; p < ringSize; p++) {
        const got = answers.get(p);
        if (!got || got.length === 0) missing.push(p);
        else
          value = q.combine(
            value,
            got.reduce((a, b) => (q.reconcile ? q.reconcile(a, b, args) : a)),
            args,
          );
      }
      done(null, { value, partitions: ringSize - missing.length, missing });
    };
    /** Ask one more replica (an up primary not asked yet) of each partition in `parts`; a partition may repeat. */
    const dispatch = (parts: readonly number[]) => {
      const byNode = new Map<string, number[]>();
      for (const p of parts) {
        const seen = tried.get(p) ?? new Set<string>();
        tried.set(p, seen);
        const node = prefs.primaries[p]!.find((n) => !seen.has(n) && this.ctx.isUp(n));
        if (!node || seen.size >= triesMax) continue;
        seen.add(node);
        const list = byNode.get(node);
        if (list) list.push(p);
        else byNode.set(node, [p]);
      }
      waves++;
      scatter(this.ctx.rpc, [...byNode.keys()], 'cover', undefined, {
        timeoutMs: this.ctx.config.requestTimeoutMs,
        bodyFor: (node) => ({ name, args, parts: byNode.get(node)! }),
        onAnswer: (a) => {
          const ps = byNode.get(a.node)!;
          const asked = new Set(ps);
          const answered = new Set<number>();
          for (const [p, acc] of a.error ? [] : ((a.body as [number, A][] | null) ?? [])) {
            if (!asked.has(p) || answered.has(p)) continue;
            answered.add(p);
            const got = answers.get(p);
            if (got) got.push(acc);
            else answers.set(p, [acc]);
          }
          const failed = ps.filter((p) => !answered.has(p));
          if (failed.length > 0) dispatch(failed);
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
  }
}
