// Tombstone collection. A deleted key keeps its tombstone until removing it cannot bring
// the key back: the tombstone is older than tombstoneGraceMs here (longer than any message
// or request can be in flight), every member of the ring is up, and every member confirms
// it holds either nothing for the key or exactly this tombstone. Then all of them drop it,
// each only if its copy is still that tombstone. A node that was removed while it held
// stale data must not push it back afterwards; see RingNode's rejoin rule.
import type { NodeContext } from '../node/context';
import { scatter } from '../node/scatter';
import { isExpired, isTombstone } from './entry';

type Check = [key: string, hash: number];

export class TombstoneReaper {
  private cursor = 0;
  private sweepCursor = 0;
  private running = false;

  constructor(private readonly ctx: NodeContext) {
    ctx.rpc.on('reap-check', (_from, body: { p: number; keys: Check[] }, reply) => {
      reply(
        body.keys.map(([key, hash]) => {
          const stored = ctx.store.get(body.p, key);
          return !stored || stored.hash === hash;
        }),
      );
    });
    ctx.rpc.on('reap', (_from, body: { p: number; keys: Check[] }, reply) => {
      reply(this.drop(body.p, body.keys));
    });
  }

  /** Remove up to tombstoneReapBatchMax expired entries from one partition (local: every replica sweeps its own). */
  sweepExpired(): void {
    const parts = this.ctx.store.partitionIndexes();
    if (parts.length === 0) return;
    const p = parts[this.sweepCursor++ % parts.length]!;
    const data = this.ctx.store.partition(p)!;
    const now = this.ctx.rt.clock.now();
    const doomed: [string, number][] = [];
    for (const [key, stored] of data.entries) {
      if (doomed.length >= this.ctx.config.tombstoneReapBatchMax) break;
      if (isExpired(this.ctx.store.typeOf(key), stored.entry, now)) doomed.push([key, stored.seq]);
    }
    for (const [key, seq] of doomed) if (this.ctx.store.removeIfUnchanged(p, key, seq)) this.ctx.stats.expiredSwept++;
  }

  tick(members: readonly string[]): void {
    if (this.running) return;
    if (!members.every((m) => this.ctx.isUp(m))) return;
    const prefs = this.ctx.prefs();
    const q = prefs.primaries.length;
    for (let i = 0; i < q; i++) {
      const p = (this.cursor + i) % q;
      if (prefs.primaries[p]![0] !== this.ctx.name) continue;
      const candidates = this.candidates(p);
      if (candidates.length === 0) continue;
      this.cursor = p + 1;
      this.reap(
        p,
        candidates,
        members.filter((m) => m !== this.ctx.name),
      );
      return;
    }
    this.cursor = 0;
  }

  private candidates(p: number): Check[] {
    const data = this.ctx.store.partition(p);
    if (!data) return [];
    const horizon = this.ctx.rt.clock.now() - this.ctx.config.tombstoneGraceMs;
    const out: Check[] = [];
    for (const [key, stored] of data.entries) {
      if (out.length >= this.ctx.config.tombstoneReapBatchMax) break;
      if (stored.tombstoneSince !== undefined && stored.tombstoneSince <= horizon && isTombstone(stored.entry))
        out.push([key, stored.hash]);
    }
    return out;
  }

  private reap(p: number, keys: Check[], others: string[]): void {
    this.running = true;
    const timeout = this.ctx.config.requestTimeoutMs;
    scatter(
      this.ctx.rpc,
      others,
      'reap-check',
      { p, keys },
      {
        timeoutMs: timeout,
        accept: (res) => Array.isArray(res),
        allAnswered: (got) => {
          // Every other member must answer, and confirm the key; one that did not answer vetoes every key.
          const votes = [...got.accepted.values()] as unknown[][];
          const confirmed = got.met ? keys.filter((_, i) => votes.every((vote) => vote[i] === true)) : [];
          if (confirmed.length > 0) {
            this.ctx.rt.logger.debug('reap', { keys: confirmed.map(([k]) => k), asked: others });
            for (const m of others) this.ctx.rpc.call(m, 'reap', { p, keys: confirmed }, timeout, () => {});
            this.ctx.stats.tombstonesReaped += this.drop(p, confirmed);
          }
          this.running = false;
        },
      },
    );
  }

  private drop(p: number, keys: readonly Check[]): number {
    let n = 0;
    for (const [key, hash] of keys) {
      const stored = this.ctx.store.get(p, key);
      if (
        stored &&
        stored.hash === hash &&
        isTombstone(stored.entry) &&
        this.ctx.store.removeIfUnchanged(p, key, stored.seq)
      )
        n++;
    }
    return n;
  }
}
