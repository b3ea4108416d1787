// The subscribe/unsubscribe protocol of a live socket (docs/api.md, "Live updates"):
// `subscribe {slug}` joins `link:<slug>` (owner only) and answers with the link's stats;
// `subscribe {cluster: true}` joins the node's `cluster` room and answers with its snapshot.
import { SLUG_PATTERN } from '../../contract/slug';
import type { LinkService } from '../links/linkService';
import { linkRoom } from './channels';
import type { ClusterFeed } from './clusterFeed';
import type { LiveSocket } from './liveSocket';

export interface SubscriptionLimits {
  /** Rooms (links, cluster) one socket may be in, subscribes in progress included. */
  subscriptionsPerSocketMax: number;
  /** Subscribes of one socket served at once (each is a quorum read); later ones wait their turn. */
  subscribesInFlightPerSocketMax: number;
}

type SubscribeArg = { slug?: unknown; cluster?: unknown } | null;

/** False once the socket is gone or its credential ended: it must not join rooms any more. */
const mayJoin = (socket: LiveSocket) => socket.connected && !socket.data.revoked;

export class Subscriptions {
  constructor(
    private readonly limits: SubscriptionLimits,
    private readonly links: LinkService,
    private readonly feed: ClusterFeed,
  ) {}

  /** Answer this socket's `subscribe` and `unsubscribe` messages. */
  serve(socket: LiveSocket): void {
    socket.data.subscribing = 0;
    socket.data.queue = [];
    socket.on('subscribe', (arg: unknown, ack?: unknown) => {
      const reply = typeof ack === 'function' ? (ack as (r: unknown) => void) : () => {};
      this.admit(socket, arg).then(reply, (err: Error) => reply({ ok: false, error: err.message }));
    });
    socket.on('unsubscribe', (arg: unknown, ack?: unknown) => {
      const a = arg as SubscribeArg;
      if (a?.cluster === true) void socket.leave('cluster');
      else if (typeof a?.slug === 'string') void socket.leave(linkRoom(a.slug));
      if (typeof ack === 'function') ack({ ok: true });
    });
  }

  /**
   * Admission for one subscribe: the room cap counts subscribes still in progress (a burst
   * would otherwise pass the check before any of them joined), and at most
   * subscribesInFlightPerSocketMax are served at once, the rest waiting in order.
   */
  private async admit(socket: LiveSocket, arg: unknown): Promise<unknown> {
    const { limits } = this;
    const a = arg as SubscribeArg;
    const room = a?.cluster === true ? 'cluster' : typeof a?.slug === 'string' ? linkRoom(a.slug) : undefined;
    // The socket's own room (its id) is not a subscription.
    const joined = socket.rooms.size - 1;
    if (
      room !== undefined &&
      !socket.rooms.has(room) &&
      joined + socket.data.subscribing >= limits.subscriptionsPerSocketMax
    ) {
      return {
        ok: false,
        error: `at most ${limits.subscriptionsPerSocketMax} subscriptions per connection; unsubscribe from some first`,
      };
    }
    socket.data.subscribing++;
    try {
      if (socket.data.subscribing > limits.subscribesInFlightPerSocketMax)
        await new Promise<void>((resolve) => socket.data.queue.push(resolve));
      return await this.subscribe(socket, a);
    } finally {
      socket.data.subscribing--;
      socket.data.queue.shift()?.();
    }
  }

  private async subscribe(socket: LiveSocket, a: SubscribeArg): Promise<unknown> {
    const gone = { ok: false, error: 'the connection was closed or its sign-in ended' };
    if (!mayJoin(socket)) return gone;
    if (a?.cluster === true) {
      await socket.join('cluster');
      socket.emit('cluster', this.feed.snapshot());
      return { ok: true };
    }
    if (typeof a?.slug !== 'string' || !SLUG_PATTERN.test(a.slug))
      return { ok: false, error: 'subscribe needs {slug} (a link of yours) or {cluster: true}' };
    const owner = socket.data.owner;
    if (!owner) return { ok: false, error: 'sign in, or use the browser session that created the link' };
    await this.links.owned(owner, a.slug).catch(() => {
      throw new Error(`there is no link "${a.slug}" among yours`);
    });
    if (!mayJoin(socket)) return gone;
    await socket.join(linkRoom(a.slug));
    const stats = await this.links.stats(a.slug);
    if (!mayJoin(socket)) return gone;
    socket.emit('stats', stats);
    return { ok: true };
  }
}
