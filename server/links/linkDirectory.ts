// Finds a link for the redirect path, cheapest source first:
//   1. this node's own replica, when it is one of the key's primaries (no messages);
//   2. the node's cache of remote links (lru-cache), fresh for `freshMs` and refreshed in
//      the background after `refreshAfterMs`, so a hot link never waits on the network;
//   3. a quorum read from the key's replicas (the coordinator's answer), then cached.
// A write tells every member only which link changed (an invalidation: the slug and the new
// document's updatedAt), and a member that caches an older copy drops it; the TTL bounds
// staleness when such a message is lost. No node caches a link it has not served or written.
//
// Stale-if-error (as RFC 5861 names it for HTTP caches): when no replica can answer for a
// link this node served within `staleIfErrorMs` (the read fails or times out, or it finds
// nothing but too many members are unreachable for "nothing" to be authoritative), the node
// keeps serving its cached copy. A cached "no such link" is never served this way.
import { LRUCache } from 'lru-cache';
import { ringError, type RingNode, type Timers } from '../../ring';
import { appMessages } from '../appMessages';
import { RingCallError, type RingClient } from '../ringClient';
import { linkKey } from '../datatypes/keys';
import type { LinkDoc } from './linkDoc';

export interface LinkDirectoryLimits {
  /** Remote links a node caches (which also bounds what stale-if-error can serve). */
  cacheEntriesMax: number;
  /** A cached link (or a cached "no such link") is served for at most this long. */
  freshMs: number;
  /** After this age a hit triggers a background refresh. */
  refreshAfterMs: number;
  /**
   * How old (since this node last read or wrote it) a cached link may be and still be served
   * when no replica answers. An edit made on the other side of a partition reaches this node
   * when the partition heals, or after this long it answers 503 instead of the old target.
   */
  staleIfErrorMs: number;
  /**
   * How long a redirect waits on the read of a link it could serve stale before it does (the
   * read goes on and refreshes the cache): at a partition's onset a read can wait a second or
   * more on replicas the failure detector has not yet marked down.
   */
  staleIfSlowMs: number;
}

export const defaultLinkDirectoryLimits: LinkDirectoryLimits = {
  cacheEntriesMax: 100_000,
  freshMs: 1_000,
  refreshAfterMs: 700,
  staleIfErrorMs: 10 * 60_000,
  staleIfSlowMs: 250,
};

interface Cached {
  doc: LinkDoc | null;
  /** When a read or a write last confirmed the document (a stale answer does not move it). */
  at: number;
  /** Read from this node's own replica. */
  local?: boolean;
  /** When a read last failed and this copy was served stale instead. */
  errorAt?: number;
}

/** How long a replica serves its own copy of a link from the cache before reading its store again. */
const localFreshMs = 100;

/** What an invalidation says: the link changed; `v` is the new document's updatedAt when known. */
interface LinkChanged {
  slug?: unknown;
  v?: unknown;
  /** Sent by nodes of an earlier version (the whole document): read as an invalidation. */
  doc?: { updatedAt?: unknown } | null;
}

export class LinkDirectory {
  private readonly cache: LRUCache<string, Cached>;
  private readonly refreshing = new Map<string, Promise<LinkDoc | null>>();
  stats = { local: 0, cached: 0, remote: 0, stale: 0, confirmed: 0, invalidated: 0 };

  constructor(
    private readonly node: RingNode,
    private readonly ring: RingClient,
    private readonly now: () => number,
    private readonly limits: LinkDirectoryLimits = defaultLinkDirectoryLimits,
    /**
     * W: an acknowledged write is on at least this many nodes, so with fewer members down than
     * this, some node up holds it. 1 (the safe default) trusts "not found" only with no member down.
     */
    private readonly writeQuorum = 1,
    /** For `staleIfSlowMs`; without them a redirect waits for the read (or its failure). */
    private readonly timers?: Pick<Timers, 'setTimeout' | 'clearTimeout'>,
  ) {
    this.cache = new LRUCache({ max: limits.cacheEntriesMax });
    node.app.on(appMessages.messages.link, (_from, body) => {
      const m = body as LinkChanged | null;
      if (typeof m?.slug !== 'string') return;
      const v = typeof m.v === 'number' ? m.v : m.doc?.updatedAt;
      this.invalidate(m.slug, typeof v === 'number' ? v : undefined);
    });
  }

  /**
   * Whether a "not found" for the slug is authoritative now: fewer than W members are down as
   * this node sees them, so at least one node up holds every acknowledged write of the link
   * (a fallback's hint included), and a read that asks every member up would find it. During
   * a partition (or before hinted handoff, which the read of every member covers) a "not
   * found" from the replicas, and above all from fallbacks alone, proves nothing.
   */
  absenceIsAuthoritative(_slug?: string): boolean {
    let down = 0;
    for (const m of this.node.members()) {
      if (m.status === 'removed' || m.status === 'exiting') continue;
      if (!this.node.isUp(m.name)) down++;
    }
    return down < Math.max(1, this.writeQuorum);
  }

  /**
   * Synchronous when the answer is cached and fresh, or local; undefined means "ask
   * load()". A replica's own copy goes through the cache too (one Map lookup per hot
   * redirect instead of a hash and a store read), for at most `localFreshMs`. A copy whose
   * last refresh failed is served (stale) while the refresh is retried in the background.
   */
  peek(slug: string): LinkDoc | null | undefined {
    const now = this.now();
    const hit = this.cache.get(slug);
    if (hit) {
      const age = now - hit.at;
      if (hit.local) {
        if (age < localFreshMs) return hit.doc;
      } else if (age < this.limits.freshMs) {
        if (age >= this.limits.refreshAfterMs) void this.read(slug).catch(() => {});
        this.stats.cached++;
        return hit.doc;
      } else if (hit.errorAt !== undefined && now - hit.errorAt < this.limits.freshMs && this.staleUsable(hit, now)) {
        if (now - hit.errorAt >= this.limits.refreshAfterMs) void this.read(slug).catch(() => {});
        this.stats.stale++;
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

  /**
   * A quorum read (deduplicated per slug), cached: what peek() could not answer. Resolves
   * null only for an authoritative "no such link" (confirmed by asking every member up);
   * when no answer can be had it serves the cached copy within `staleIfErrorMs`, else it
   * rejects with a RingCallError (the redirect answers 503).
   */
  load(slug: string): Promise<LinkDoc | null> {
    const read = this.read(slug);
    const timers = this.timers;
    const hit = this.cache.peek(slug);
    if (!timers || !hit || !this.staleUsable(hit, this.now())) return read;
    return new Promise((resolve, reject) => {
      const timer = timers.setTimeout(() => {
        const now = this.now();
        const stale = this.cache.peek(slug);
        if (!stale || !this.staleUsable(stale, now)) return; // invalidated meanwhile: wait for the read
        stale.errorAt = now;
        stale.local = false;
        this.stats.stale++;
        resolve(stale.doc);
      }, this.limits.staleIfSlowMs);
      read.then(
        (doc) => (timers.clearTimeout(timer), resolve(doc)),
        (err: unknown) => (timers.clearTimeout(timer), reject(err)),
      );
    });
  }

  /** The read behind load(), deduplicated per slug. */
  private read(slug: string): Promise<LinkDoc | null> {
    let p = this.refreshing.get(slug);
    if (!p) {
      const mine: Promise<LinkDoc | null> = this.ring
        .get(linkKey(slug))
        .then(async (r) => {
          this.stats.remote++;
          if (r.found) return this.settle(slug, mine, r.deleted ? null : ((r.value as LinkDoc | undefined) ?? null));
          return this.confirmAbsence(slug, mine);
        })
        .catch((err: unknown) => this.staleOrThrow(slug, err))
        .finally(() => {
          if (this.refreshing.get(slug) === mine) this.refreshing.delete(slug);
        });
      p = mine;
      this.refreshing.set(slug, p);
    }
    return p;
  }

  /** After a write: cache the new document here and tell every member that the link changed. */
  published(slug: string, doc: LinkDoc): void {
    this.refreshing.delete(slug);
    this.cache.set(slug, { doc, at: this.now() });
    this.node.app.broadcast(appMessages.messages.link, { slug, v: doc.updatedAt });
  }

  /** Links this node caches (a node never caches more than `cacheEntriesMax`). */
  cachedCount(): number {
    return this.cache.size;
  }

  /**
   * The link changed elsewhere: forget a copy older than `v` (any copy when `v` is unknown),
   * and let a read already in flight answer its caller but not fill the cache.
   */
  private invalidate(slug: string, v: number | undefined): void {
    this.refreshing.delete(slug);
    const hit = this.cache.peek(slug);
    if (!hit) return;
    if (v !== undefined && hit.doc !== null && hit.doc.updatedAt >= v) return;
    this.stats.invalidated++;
    this.cache.delete(slug);
  }

  /** Cache what a read found, unless an invalidation or a write overtook the read. */
  private settle(slug: string, read: Promise<unknown>, doc: LinkDoc | null): LinkDoc | null {
    if (this.refreshing.get(slug) === read) this.cache.set(slug, { doc, at: this.now() });
    return doc;
  }

  /**
   * The replicas found nothing. A link's document is never removed from the ring (a delete
   * marks it), so with a copy cached this is a replica that lacks it (a fallback, or a
   * primary before hinted handoff). Else, when "not found" can be authoritative, every
   * member up is asked, the fallbacks still holding hints included.
   */
  private async confirmAbsence(slug: string, read: Promise<unknown>): Promise<LinkDoc | null> {
    if (!this.absenceIsAuthoritative(slug)) return this.staleOrThrow(slug, 'too many members unreachable');
    const r = await this.ring.getEverywhere(linkKey(slug));
    this.stats.confirmed++;
    if (r.found) return this.settle(slug, read, r.deleted ? null : ((r.value as LinkDoc | undefined) ?? null));
    if (!this.absenceIsAuthoritative(slug)) return this.staleOrThrow(slug, 'too many members unreachable');
    const hit = this.cache.peek(slug);
    if (hit?.doc && this.staleUsable(hit, this.now())) return this.staleOrThrow(slug, 'the link was not found');
    return this.settle(slug, read, null);
  }

  private staleUsable(hit: Cached, now: number): hit is Cached & { doc: LinkDoc } {
    return hit.doc !== null && now - hit.at <= this.limits.staleIfErrorMs;
  }

  /** The cached copy when it may be served stale, else the failure (a RingCallError). */
  private staleOrThrow(slug: string, err: unknown): LinkDoc {
    const failure =
      typeof err === 'string'
        ? new RingCallError(ringError('unavailable', `the link "${slug}" cannot be read right now: ${err}`))
        : err;
    if (!(failure instanceof RingCallError)) throw failure;
    const now = this.now();
    const hit = this.cache.peek(slug);
    if (hit && this.staleUsable(hit, now)) {
      hit.errorAt = now;
      hit.local = false;
      this.stats.stale++;
      return hit.doc;
    }
    throw failure;
  }
}
