// Active anti-entropy: replicas of a partition compare XOR digests of hashed buckets; for
// the buckets that differ they compare per-key hashes and ship the entries that differ both
// ways. A replica that lost data (a restart without disk, a missed write) heals without
// any client traffic. Bounded: one exchange per interval, at most
// antiEntropyRepairKeysMax keys per direction per exchange.
import type { NodeContext } from '../node/context';
import { encodeEntry, isExpired, type WireEntry } from '../storage/entry';
import { storeEntries } from '../coordinator/quorum';

/** Back-to-back exchanges of one partition while each still hits the per-exchange key limit. */
export const antiEntropyFollowUpRoundsMax = 64;

export class AntiEntropy {
  private cursor = 0;
  private running = false;

  constructor(private readonly ctx: NodeContext) {
    ctx.rpc.on('ae-digest', (_from, body: { p: number; buckets: Uint32Array }, reply) =>
      reply(this.onDigest(body.p, body.buckets)),
    );
    ctx.rpc.on('ae-want', (_from, body: { p: number; keys: string[] }, reply) =>
      reply(this.entriesFor(body.p, body.keys)),
    );
  }

  tick(): void {
    if (this.running) return;
    const prefs = this.ctx.prefs();
    const q = prefs.primaries.length;
    for (let i = 0; i < q; i++) {
      const p = (this.cursor + i) % q;
      const peers = prefs.primaries[p]!.filter((n) => n !== this.ctx.name && this.ctx.isUp(n));
      if (!prefs.primaries[p]!.includes(this.ctx.name) || peers.length === 0) continue;
      this.cursor = p + 1;
      this.exchange(p, peers[this.ctx.rt.random.int(peers.length)]!);
      return;
    }
  }

  private digest(p: number): Uint32Array {
    const data = this.ctx.store.partition(p);
    return data ? data.buckets.slice() : new Uint32Array(this.ctx.config.antiEntropyBucketsPerPartition);
  }

  private exchange(p: number, peer: string, round = 0): void {
    this.running = true;
    this.ctx.stats.antiEntropyExchanges++;
    let truncated = false;
    const finish = () => {
      this.running = false;
      // A capped exchange left differences behind: continue now rather than next interval.
      if (truncated && round + 1 < antiEntropyFollowUpRoundsMax && this.ctx.running())
        this.exchange(p, peer, round + 1);
    };
    const timeout = this.ctx.config.requestTimeoutMs;
    this.ctx.rpc.call(peer, 'ae-digest', { p, buckets: this.digest(p) }, timeout, (err, res) => {
      if (err || !res) return finish();
      const { buckets, keys } = res as { buckets: number[]; keys: [string, number][] };
      const theirs = new Map(keys);
      const data = this.ctx.store.partition(p);
      const limit = this.ctx.config.antiEntropyRepairKeysMax;
      const push: [string, WireEntry][] = [];
      const want: string[] = [];
      const differing = new Set(buckets);
      if (data) {
        const now = this.ctx.rt.clock.now();
        for (const [key, stored] of data.entries) {
          if (push.length >= limit) break;
          if (!differing.has(data.bucketOf(key)) || theirs.get(key) === stored.hash) continue;
          const type = this.ctx.store.typeOf(key);
          // Expired entries are being swept everywhere; shipping them would only undo that.
          if (!isExpired(type, stored.entry, now)) push.push([key, encodeEntry(type, stored.entry)]);
        }
      }
      for (const [key, hash] of theirs) {
        if (want.length >= limit) break;
        if (data?.entries.get(key)?.hash !== hash) want.push(key);
      }
      this.ctx.stats.antiEntropyKeysRepaired += push.length + want.length;
      truncated = push.length >= limit || want.length >= limit || keys.length >= limit;
      let pending = 0;
      const step = () => {
        if (--pending === 0) finish();
      };
      if (push.length > 0) {
        pending++;
        this.ctx.rpc.call(peer, 'store', { entries: push }, timeout, step);
      }
      if (want.length > 0) {
        pending++;
        this.ctx.rpc.call(peer, 'ae-want', { p, keys: want }, timeout, (e2, entries) => {
          if (!e2 && Array.isArray(entries)) storeEntries(this.ctx, entries as [string, WireEntry][]);
          step();
        });
      }
      if (pending === 0) finish();
    });
  }

  private onDigest(p: number, theirs: Uint32Array): { buckets: number[]; keys: [string, number][] } {
    const ours = this.digest(p);
    const buckets: number[] = [];
    for (let b = 0; b < ours.length; b++) if (ours[b] !== theirs[b]) buckets.push(b);
    const keys: [string, number][] = [];
    const data = this.ctx.store.partition(p);
    if (data && buckets.length > 0) {
      const differing = new Set(buckets);
      const limit = this.ctx.config.antiEntropyRepairKeysMax;
      for (const [key, stored] of data.entries) {
        if (keys.length >= limit) break;
        if (differing.has(data.bucketOf(key))) keys.push([key, stored.hash]);
      }
    }
    return { buckets, keys };
  }

  private entriesFor(p: number, keys: readonly string[]): [string, WireEntry][] {
    const out: [string, WireEntry][] = [];
    for (const key of keys.slice(0, this.ctx.config.antiEntropyRepairKeysMax)) {
      const stored = this.ctx.store.get(p, key);
      if (stored) out.push([key, encodeEntry(this.ctx.store.typeOf(key), stored.entry)]);
    }
    return out;
  }
}
