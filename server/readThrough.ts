// Reads of small, hot documents (sessions, API keys) on any node: this node's own replica
// when it is one, else a short-lived cache, else a quorum read. A writer broadcasts the key
// on `channel`, and every member forgets its cached copy at once; the TTL bounds staleness
// when that message is lost.
import { LRUCache } from 'lru-cache';
import type { AppMessage, RingNode } from '../ring';
import { liveValue, type RingClient } from './ringClient';

export class ReadThroughCache<T extends object> {
  private readonly cache: LRUCache<string, { value: T | null }>;

  constructor(
    private readonly node: RingNode,
    private readonly ring: RingClient,
    /** The message that tells every member a key changed. */
    private readonly channel: AppMessage<string>,
    limits: { entriesMax: number; ttlMs: number },
    /** The runtime's clock: entries age on it (lru-cache would read performance.now and set a real timer). */
    now: () => number,
  ) {
    this.cache = new LRUCache({ max: limits.entriesMax, ttl: limits.ttlMs, perf: { now }, ttlResolution: 0 });
    node.app.on(channel, (_from, key) => {
      if (typeof key === 'string') this.cache.delete(key);
    });
  }

  async get(key: string): Promise<T | null> {
    const local = this.node.localRead(key);
    if (local?.found) return liveValue<T>(local) ?? null;
    const hit = this.cache.get(key);
    if (hit) return hit.value;
    const value = liveValue<T>(await this.ring.get(key)) ?? null;
    this.cache.set(key, { value });
    return value;
  }

  /** This node wrote the key: keep its own copy. */
  set(key: string, value: T): void {
    this.cache.set(key, { value });
  }

  /** The key changed or went away: forget it here and on every member. */
  invalidate(key: string): void {
    this.cache.delete(key);
    this.node.app.broadcast(this.channel, key);
  }
}
