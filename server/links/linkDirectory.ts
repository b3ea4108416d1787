// Finds a link for the redirect path, cheapest source first:
//   1. this node's own replica, when it is one of the key's primaries (no messages);
//   2. the node's cache of remote links (lru-cache), fresh for `freshMs` and refreshed in
//      the background after `refreshAfterMs`, so a hot link never waits on the network;
//   3. a quorum read from the key's replicas (the coordinator's answer), then cached.
// Every write broadcasts the new document to all members, which replace their cached copy
// at once; the TTL bounds staleness when such a message is lost.
import { LRUCache } from 'lru-cache';
import type { RingNode } from '../../ring';
import { appMessages } from '../appMessages';
import type { RingClient } from '../ringClient';
import { linkKey } from '../datatypes/keys';
import type { LinkDoc } from './linkDoc';

export interface LinkDirectoryLimits {
  /** Remote links a node caches. */
  cacheEntriesMax: number;
  /** A cached link (or a cached "no such link") is served for at most this long. */
  freshMs: number;
  /** After this age a hit triggers a background refresh. */
  refreshAfterMs: number;
}

export const defaultLinkDirectoryLimits: LinkDirectoryLimits = {
  cacheEntriesMax: 100_000,
  freshMs: 1_000,
  refreshAfterMs: 700,
};

interface Cached {
  doc: LinkDoc | null;
  at: number;
  /** Read from this node's own replica. */
  local?: boolean;
}

/** How long a replica serves its own copy of a link from the cache before reading its store again. */
const localFreshMs = 100;

export class LinkDirectory {
  private readonly cache: LRUCache<string, Cached>;
  private readonly refreshing = new Map<string, Promise<LinkDoc | null>>();
  stats = { local: 0, cached: 0, remote: 0 };

  constructor(
    private readonly node: RingNode,
    private readonly ring: RingClient,
    private readonly now: () => number,
    private readonly limits: LinkDirectoryLimits = defaultLinkDirectoryLimits,
  ) {
    this.cache = new LRUCache({ max: limits.cacheEntriesMax });
    node.app.on(appMessages.messages.link, (_from, body) => {
      const m = body as { slug?: unknown; doc?: LinkDoc | null } | null;
      if (typeof m?.slug !== 'string') return;
      if (m.doc === undefined) this.cache.delete(m.slug);
      else this.cache.set(m.slug, { doc: m.doc, at: this.now() });
    });
  }

  /** A "no such link" answer for the slug is authoritative (see RingClient.primaryQuorumUp). */
  absenceIsAuthoritative(slug: string): boolean {
    return this.ring.primaryQuorumUp(linkKey(slug));
  }

  /**
   * Synchronous when the answer is cached and fresh, or local; undefined means "ask
   * load()". A replica's own copy goes through the cache too (one Map lookup per hot
   * redirect instead of a hash and a store read), for at most `localFreshMs`.
   */
  peek(slug: string): LinkDoc | null | undefined {
    const now = this.now();
    const hit = this.cache.get(slug);
    if (hit) {
      const age = now - hit.at;
      if (hit.local) {
        if (age < localFreshMs) return hit.doc;
      } else if (age < this.limits.freshMs) {
        if (age >= this.limits.refreshAfterMs) void this.load(slug).catch(() => {});
        this.stats.cached++;
        return hit.doc;
      }
    }
    const local = this.node.localRead(linkKey(slug));
    if (local?.found) {
      this.stats.local++;
      const doc = local.deleted ? null : ((local.value as LinkDoc | undefined) ?? null);
      this.cache.set(slug, { doc, at: now, local: true });
      return doc;
    }
    return undefined;
  }

  /** A quorum read (deduplicated per slug), cached: what peek() could not answer. */
  load(slug: string): Promise<LinkDoc | null> {
    let p = this.refreshing.get(slug);
    if (!p) {
      p = this.ring
        .get(linkKey(slug))
        .then((r) => {
          this.stats.remote++;
          const doc = r.found && !r.deleted ? ((r.value as LinkDoc | undefined) ?? null) : null;
          this.cache.set(slug, { doc, at: this.now() });
          return doc;
        })
        .finally(() => this.refreshing.delete(slug));
      this.refreshing.set(slug, p);
    }
    return p;
  }

  /** After a write: update this node's cache and tell every member. */
  published(slug: string, doc: LinkDoc): void {
    this.cache.set(slug, { doc, at: this.now() });
    this.node.app.broadcast(appMessages.messages.link, { slug, doc });
  }
}
