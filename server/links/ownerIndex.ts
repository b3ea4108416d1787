// Which links an owner has: a two-phase set per owner, split into shards by slug so that no
// single value grows with the owner's link count and concurrent creates by one owner (an
// API key in a loop) spread over several keys and replica sets.
import { liveValue, type RingClient } from '../ringClient';
import { ownsKey } from '../datatypes/keys';
import { twoPhaseMembers, type TwoPhaseSet } from '../datatypes/twoPhaseSet';

export const ownerIndexShards = 16;
/** Links one owner may hold: bounds each shard's value (under the ring's 64 KiB value limit). */
export const ownerLinksMax = 40_000;

export function shardOf(slug: string): string {
  let h = 2166136261;
  for (let i = 0; i < slug.length; i++) h = Math.imul(h ^ slug.charCodeAt(i), 16777619);
  return ((h >>> 0) % ownerIndexShards).toString(16);
}

const shardKey = (owner: string, shard: string) => ownsKey(`${owner}/${shard}`);

export class OwnerIndex {
  constructor(private readonly ring: RingClient) {}

  /** Whether the shard a new slug goes to is already full. */
  async isFull(owner: string, slug: string): Promise<boolean> {
    const shard = twoPhaseMembers(liveValue<TwoPhaseSet>(await this.ring.get(shardKey(owner, shardOf(slug)))) ?? {});
    return shard.length >= ownerLinksMax / ownerIndexShards;
  }

  async members(owner: string): Promise<string[]> {
    const shards = await Promise.all(
      Array.from({ length: ownerIndexShards }, (_, i) => this.ring.get(shardKey(owner, i.toString(16)))),
    );
    return shards.flatMap((r) => twoPhaseMembers(liveValue<TwoPhaseSet>(r) ?? {}));
  }

  add(owner: string, slugs: readonly string[]): Promise<void> {
    return this.mark(owner, slugs, 0);
  }

  /** Final: a removed slug never comes back to this owner's index. */
  remove(owner: string, slugs: readonly string[]): Promise<void> {
    return this.mark(owner, slugs, 1);
  }

  private async mark(owner: string, slugs: readonly string[], state: 0 | 1): Promise<void> {
    const byShard = new Map<string, Record<string, 0 | 1>>();
    for (const s of slugs) {
      const shard = shardOf(s);
      let delta = byShard.get(shard);
      if (!delta) byShard.set(shard, (delta = {}));
      delta[s] = state;
    }
    await Promise.all([...byShard].map(([shard, delta]) => this.ring.merge(shardKey(owner, shard), delta)));
  }
}
