// Publishing link stats, on the link channel's owner (README.md, Live updates): a change of a
// link's counters schedules a coalesced `stats` (at most one per statsIntervalMs, then a
// trailing one), skipped when the snapshot did not change since the last one sent.
import { LRUCache } from 'lru-cache';
import type pino from 'pino';
import type { Clock, RingNode, TimerHandle, Timers, Unsubscribe } from '../../ring';
import { SLUG_PATTERN } from '../../contract/slug';
import { appMessages } from '../appMessages';
import type { LinkService } from '../links/linkService';
import { linkRoom, type ChannelDirectory } from './channels';

export interface PublishLimits {
  /** At most one `stats` per link per this interval. */
  statsIntervalMs: number;
  /** A second publish this long after a burst, to carry stats that ship on the slower flush. */
  trailingPublishMs: number;
}

/** Links whose last published snapshot a node remembers (for skipping unchanged ones). */
const publishedSnapshotsMax = 10_000;

interface Pending {
  timer: TimerHandle | undefined;
  last: number;
  trailing: TimerHandle | undefined;
  /** The next publish goes out even if unchanged (a subscriber node just arrived). */
  force: boolean;
}

export interface StatsPublisherDeps {
  node: RingNode;
  links: LinkService;
  channels: ChannelDirectory;
  clock: Clock;
  timers: Timers;
  limits: PublishLimits;
  log: pino.Logger;
  /** Sockets in the room on this node. */
  localCount(room: string): number;
  /** Send `stats` to every subscriber of the link, on any node. */
  emitStats(slug: string, stats: unknown): void;
}

export class StatsPublisher {
  private readonly pending = new Map<string, Pending>();
  /** The last snapshot published per link, so an unchanged one is not sent again. */
  private readonly lastSent = new LRUCache<string, string>({ max: publishedSnapshotsMax });
  private readonly stopKeyChanges: Unsubscribe;

  constructor(private readonly deps: StatsPublisherDeps) {
    const { node, channels } = deps;
    this.stopKeyChanges = node.events.on('keyChanged', ({ key }) => this.keyChanged(key));
    node.app.on(appMessages.messages['live:changed'], (_from, slug) => {
      if (typeof slug === 'string' && SLUG_PATTERN.test(slug) && channels.isOwner(linkRoom(slug))) this.schedule(slug);
    });
  }

  /** Publish the link's stats soon; `force`: even if unchanged (a subscriber node just arrived). */
  schedule(slug: string, force = false): void {
    const { clock, timers, limits } = this.deps;
    let p = this.pending.get(slug);
    if (!p) this.pending.set(slug, (p = { timer: undefined, last: 0, trailing: undefined, force: false }));
    if (force) p.force = true;
    if (p.timer) return;
    const entry = p;
    const delay = Math.max(0, entry.last + limits.statsIntervalMs - clock.now());
    entry.timer = timers.setTimeout(() => {
      entry.timer = undefined;
      entry.last = clock.now();
      this.publish(slug);
      if (entry.trailing) timers.clearTimeout(entry.trailing);
      entry.trailing = timers.setTimeout(() => {
        entry.trailing = undefined;
        this.publish(slug);
        if (!entry.timer) this.pending.delete(slug);
      }, limits.trailingPublishMs);
    }, delay);
  }

  /** Stop listening for changes and cancel every scheduled publish. */
  stop(): void {
    const { timers } = this.deps;
    this.stopKeyChanges();
    for (const p of this.pending.values()) {
      if (p.timer) timers.clearTimeout(p.timer);
      if (p.trailing) timers.clearTimeout(p.trailing);
    }
  }

  private keyChanged(key: string): void {
    const { node, channels } = this.deps;
    const slash = key.indexOf('/');
    const type = key.slice(0, slash);
    if (type !== 'views' && type !== 'stats' && type !== 'bots') return;
    const slug = key.slice(slash + 1);
    const room = linkRoom(slug);
    if (!channels.hasSubscribers(room, this.deps.localCount(room))) return;
    if (type === 'views' && channels.isOwner(room)) this.schedule(slug);
    else if (type !== 'views') {
      // Stats and bot counters live in other partitions: tell the channel owner.
      const owner = channels.ownerOf(room);
      if (owner === node.name) this.schedule(slug);
      else if (owner) node.app.send(owner, appMessages.messages['live:changed'], slug);
    }
  }

  private publish(slug: string): void {
    this.deps.links.stats(slug).then(
      (stats) => {
        const entry = this.pending.get(slug);
        // The node list carries liveness, which is not news to a stats subscriber.
        const payload = JSON.stringify({ ...stats, nodes: undefined });
        if (payload === this.lastSent.get(slug) && !entry?.force) return;
        this.lastSent.set(slug, payload);
        if (entry) entry.force = false;
        this.deps.emitStats(slug, stats);
      },
      (err: Error) => this.deps.log.debug({ err: err.message, slug }, 'live stats publish failed'),
    );
  }
}
