// socket.io channels owned like keys (README.md, Live updates): the owner of `link:<slug>` is the first
// reachable primary of the link's view counter, the node that merges every other node's
// counter deltas. Nodes with sockets in a room tell the room's owner (and re-announce every
// `announceEveryMs`, so a new owner after a ring change learns them, and a lost message
// heals); the owner then knows whether to publish and where the packets must go.
import type { RingNode, TimerHandle, Timers, Unsubscribe } from '../../ring';
import { appMessages } from '../appMessages';
import { viewsKey } from '../datatypes/keys';

export const announceEveryMs = 5_000;
/** An announcement not renewed for this long is dropped (its node died or left). */
const subscriptionTtlMs = 3 * announceEveryMs;
/** Rooms one node may announce per message. */
const roomsPerAnnouncementMax = 1_000;

export function linkRoom(slug: string): string {
  return `link:${slug}`;
}

export class ChannelDirectory {
  /** room → node → expiry (owner side). */
  private readonly subscribers = new Map<string, Map<string, number>>();
  private timer: TimerHandle | undefined;
  /** A check of the reachable members is due (coalesces a burst of member and ring events). */
  private checkDue: TimerHandle | undefined;
  private subscriptions: Unsubscribe[] = [];

  private upMembers = '';

  constructor(
    private readonly node: RingNode,
    /** The rooms with sockets on this node right now. */
    private readonly localRooms: () => Iterable<string>,
    private readonly now: () => number,
    private readonly timers: Timers,
    /** A node this owner had no live record of announced sockets in a room: it needs the current state. */
    private readonly onNewSubscriber: (room: string) => void = () => {},
  ) {
    node.app.on(appMessages.messages.chan, (from, body) => {
      const m = body as { join?: unknown; leave?: unknown } | null;
      if (Array.isArray(m?.join))
        for (const room of m.join.slice(0, roomsPerAnnouncementMax)) if (typeof room === 'string') this.add(room, from);
      if (Array.isArray(m?.leave))
        for (const room of m.leave.slice(0, roomsPerAnnouncementMax))
          if (typeof room === 'string') this.subscribers.get(room)?.delete(from);
    });
  }

  start(): void {
    // Announce at once when the set of reachable members changes (a healed partition, a
    // restart): owners then learn their subscribers again without waiting for the next round.
    const check = () => {
      this.checkDue ??= this.timers.setTimeout(() => {
        this.checkDue = undefined;
        if (this.reachable() !== this.upMembers) this.announceAll();
      }, 0);
    };
    this.subscriptions = [this.node.events.on('memberChanged', check), this.node.events.on('ringChanged', check)];
    check();
    // And every `announceEveryMs` whatever happened: announcements expire (an owner forgets a
    // node that died or left), a lost one heals, and an owner that changed without a member
    // becoming reachable or not (a handoff) learns its rooms.
    const round = () => {
      this.timer = this.timers.setTimeout(() => {
        this.announceAll();
        round();
      }, announceEveryMs);
    };
    round();
  }

  stop(): void {
    for (const off of this.subscriptions) off();
    this.subscriptions = [];
    for (const t of [this.timer, this.checkDue]) if (t) this.timers.clearTimeout(t);
    this.timer = this.checkDue = undefined;
  }

  /** The members this node does not believe dead, as one string to compare. */
  private reachable(): string {
    return this.node
      .members()
      .filter((m) => m.liveness !== 'dead')
      .map((m) => m.name)
      .join(',');
  }

  /** The node that publishes a room: the first reachable primary of the link's counter. */
  ownerOf(room: string): string | undefined {
    if (!room.startsWith('link:')) return undefined;
    return this.node.placement(viewsKey(room.slice(5))).primaries.find((n) => this.node.isUp(n));
  }

  isOwner(room: string): boolean {
    return this.ownerOf(room) === this.node.name;
  }

  /** Nodes with sockets in the room, as announced to this node (the owner), this node included. */
  subscribersOf(room: string): string[] {
    const now = this.now();
    const m = this.subscribers.get(room);
    const out: string[] = [];
    if (m) for (const [node, exp] of m) if (exp > now && node !== this.node.name) out.push(node);
    return out;
  }

  hasSubscribers(room: string, localCount: number): boolean {
    return localCount > 0 || this.subscribersOf(room).length > 0;
  }

  /** A room got its first local socket. */
  joined(room: string): void {
    this.tell(room, 'join');
  }

  /** A room lost its last local socket. */
  left(room: string): void {
    this.tell(room, 'leave');
  }

  private tell(room: string, what: 'join' | 'leave'): void {
    const owner = this.ownerOf(room);
    if (!owner || owner === this.node.name) return;
    this.node.app.send(owner, appMessages.messages.chan, { [what]: [room] });
  }

  private add(room: string, node: string): void {
    let m = this.subscribers.get(room);
    if (!m) this.subscribers.set(room, (m = new Map()));
    const known = (m.get(node) ?? 0) > this.now();
    m.set(node, this.now() + subscriptionTtlMs);
    if (!known) this.onNewSubscriber(room);
  }

  private announceAll(): void {
    this.upMembers = this.reachable();
    const byOwner = new Map<string, string[]>();
    for (const room of this.localRooms()) {
      const owner = this.ownerOf(room);
      if (!owner || owner === this.node.name) continue;
      let list = byOwner.get(owner);
      if (!list) byOwner.set(owner, (list = []));
      if (list.length < roomsPerAnnouncementMax) list.push(room);
    }
    for (const [owner, rooms] of byOwner) this.node.app.send(owner, appMessages.messages.chan, { join: rooms });
    const now = this.now();
    for (const [room, m] of this.subscribers) {
      for (const [node, exp] of m) if (exp <= now) m.delete(node);
      if (m.size === 0) this.subscribers.delete(room);
    }
  }
}
