// Live updates over socket.io (docs/api.md, "Live updates"): WebSocket transport only, so no
// sticky sessions; sockets are authenticated by the session cookie (with the Origin check)
// or an API key. `subscribe {slug}` joins `link:<slug>` (owner only); the link's channel
// owner publishes coalesced `stats` after merging counter deltas. `subscribe {cluster:
// true}` joins the node's `cluster` room: this node's view of the ring, pushed on change.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Server as Engine } from 'engine.io';
import { Server, type DefaultEventsMap, type ServerOptions, type Socket } from 'socket.io';
import { createShardedAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type pino from 'pino';
import type { RingNode, TimerHandle } from '../../ring';
import { appMessages } from '../appMessages';
import { apiKeyRef, type ApiKeys } from '../auth/apiKeys';
import type { Sessions } from '../auth/sessions';
import { readSessionId } from '../http/sessionCookie';
import type { LinkService } from '../links/linkService';
import { SLUG_PATTERN } from '../../contract/slug';
import { ChannelDirectory, linkRoom } from './channels';
import { ClusterFeed } from './clusterFeed';
import { MessageBudget, type MessageBudgetLimits } from './messageBudget';
import { ringAdapter } from './ringAdapter';
import type { ServiceRuntime } from '../runtime';

/** A live socket: events are checked by hand at the edge (serveSubscribe), so their maps stay socket.io's defaults. */
type LiveSocket = Socket<DefaultEventsMap, DefaultEventsMap, DefaultEventsMap, SocketData>;

export interface LiveLimits extends MessageBudgetLimits {
  /** At most one `stats` per link per this interval. */
  statsIntervalMs: number;
  /** A second publish this long after a burst, to carry stats that ship on the slower flush. */
  trailingPublishMs: number;
  /** Rooms (links, cluster) one socket may be in, subscribes in progress included. */
  subscriptionsPerSocketMax: number;
  /** Subscribes of one socket served at once (each is a quorum read); later ones wait their turn. */
  subscribesInFlightPerSocketMax: number;
  /** Largest message a client may send. */
  messageBytesMax: number;
}

/** Links whose last published snapshot a node remembers (for skipping unchanged ones). */
const publishedSnapshotsMax = 10_000;

export const defaultLiveLimits: LiveLimits = {
  statsIntervalMs: 100,
  trailingPublishMs: 300,
  subscriptionsPerSocketMax: 200,
  subscribesInFlightPerSocketMax: 4,
  messageBytesMax: 16 * 1024,
  messagesPerSecondMax: 20,
  messageBurstMax: 50,
  refusedPerFloodWindowMax: 100,
  floodWindowMs: 10_000,
};

/** Why a socket lost its credential: the `reason` of the `unauthorized` event (docs/api.md). */
export type Unauthorized = 'signed_out' | 'key_revoked';

const unauthorizedMessages: Record<Unauthorized, string> = {
  signed_out: 'You signed out. Sign in again to get live updates.',
  key_revoked: 'The API key of this connection was revoked. Connect with a valid key.',
};

/** The app message that tells every node to drop the sockets of a credential. */
const revokedChannel = appMessages.messages['live:revoked'];

export interface LiveDeps {
  node: RingNode;
  links: LinkService;
  sessions: Sessions;
  apiKeys: ApiKeys;
  publicUrl: string | undefined;
  redisUrl: string | undefined;
  log: pino.Logger;
  clusterView(): Record<string, unknown>;
  /** Clock and timers of the publish scheduler, the channel directory and the cluster feed. */
  runtime: ServiceRuntime;
  limits?: LiveLimits;
}

interface SocketData {
  owner: string | null;
  /** "session:<idHash>" or "key:<accountId>:<keyId>": what a sign-out or revocation drops. */
  credential: string | null;
  budget: MessageBudget;
  /** Subscribes accepted and not yet answered (they count toward subscriptionsPerSocketMax). */
  subscribing: number;
  /** Subscribes waiting for one of the subscribesInFlightPerSocketMax slots. */
  queue: (() => void)[];
  revoked: boolean;
}

interface Pending {
  timer: TimerHandle | undefined;
  last: number;
  trailing: TimerHandle | undefined;
  /** The next publish goes out even if unchanged (a subscriber node just arrived). */
  force: boolean;
}

export function createLive(deps: LiveDeps) {
  const { node, links, log } = deps;
  const { clock, timers } = deps.runtime;
  const limits = deps.limits ?? defaultLiveLimits;
  const publicOrigin = deps.publicUrl ? new URL(deps.publicUrl).origin : undefined;
  const engine = new Engine({
    transports: ['websocket'],
    maxHttpBufferSize: limits.messageBytesMax,
    pingInterval: 20_000,
    pingTimeout: 20_000,
  });

  let redis: { pub: Redis; sub: Redis } | undefined;
  const channels = new ChannelDirectory(
    node,
    () => localLinkRooms(),
    () => clock.now(),
    timers,
    (room) => {
      // A node (re)announced sockets in a room this node owns: send it the current state.
      if (channels.isOwner(room)) schedule(room.slice('link:'.length), true);
    },
  );
  let adapter;
  if (deps.redisUrl) {
    // Commands fail at once while Redis is away (no unbounded offline queue): live packets
    // are lost meanwhile (pub/sub), everything else goes on, and ioredis reconnects.
    const options = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (n: number) => Math.min(2_000, 50 * 2 ** n),
    };
    const pub = new Redis(deps.redisUrl, options);
    const sub = new Redis(deps.redisUrl, { ...options, enableOfflineQueue: true });
    for (const [name, c] of [
      ['pub', pub],
      ['sub', sub],
    ] as const) {
      c.on('error', (err: Error) =>
        log.warn({ err: err.message, client: name }, 'redis error (live updates paused until it reconnects)'),
      );
      c.on('ready', () => log.info({ client: name }, 'redis ready'));
    }
    redis = { pub, sub };
    adapter = createShardedAdapter(pub, sub, { subscriptionMode: 'dynamic-private', channelPrefix: 'ringlink' });
  } else {
    adapter = ringAdapter(node, channels);
  }
  const io = new Server<DefaultEventsMap, DefaultEventsMap, DefaultEventsMap, SocketData>({
    serveClient: false,
    adapter: adapter as ServerOptions['adapter'],
  });
  // engine.io's own Server, pinned (package.json) to the version socket.io binds to.
  io.bind(engine as unknown as Parameters<typeof io.bind>[0]);
  const nsp = io.of('/');

  function localLinkRooms(): string[] {
    return [...nsp.adapter.rooms.keys()].filter((r) => r.startsWith('link:'));
  }
  const localCount = (room: string) => nsp.adapter.rooms.get(room)?.size ?? 0;

  nsp.adapter.on('create-room', (room: string) => {
    if (room.startsWith('link:')) channels.joined(room);
  });
  nsp.adapter.on('delete-room', (room: string) => {
    if (room.startsWith('link:')) channels.left(room);
  });

  function originOk(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    const host = req.headers.host;
    return (
      !!origin && ((!!host && (origin === `http://${host}` || origin === `https://${host}`)) || origin === publicOrigin)
    );
  }

  io.use((socket, next) => {
    void (async () => {
      const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
      if (typeof token === 'string') {
        const key = await deps.apiKeys.authenticate(token);
        if (!key) return next(new Error('the API key is not valid'));
        socket.data.owner = `a:${key.accountId}`;
        socket.data.credential = `key:${apiKeyRef(key.accountId, key.id)}`;
        return next();
      }
      // Cross-site WebSocket hijacking: a cookie only counts from our own pages.
      const session = originOk(socket.request) ? await deps.sessions.identify(readSessionId(socket.request)) : null;
      socket.data.owner = session
        ? session.doc.accountId
          ? `a:${session.doc.accountId}`
          : `s:${session.idHash}`
        : null;
      socket.data.credential = session ? `session:${session.idHash}` : null;
      next();
    })().catch((err: Error) => next(new Error(`could not check the session: ${err.message}`)));
  });

  const feed = new ClusterFeed(
    node,
    deps.clusterView,
    (snapshot) => {
      if (localCount('cluster') > 0) nsp.local.to('cluster').emit('cluster', snapshot);
    },
    deps.runtime.timers,
    () => deps.runtime.clock.now(),
  );

  // ---- dropping the sockets of a credential that ended (sign-out, API key revoked) ----
  /** Local sockets by credential, so a sign-out finds its sockets without a scan. */
  const byCredential = new Map<string, Set<LiveSocket>>();

  function dropLocal(credential: string, reason: Unauthorized): void {
    const sockets = byCredential.get(credential);
    if (!sockets) return;
    byCredential.delete(credential);
    for (const socket of sockets) {
      // Set first: a subscribe still waiting on a read must not join a room after this.
      socket.data.revoked = true;
      socket.emit('unauthorized', { reason, message: unauthorizedMessages[reason] });
      socket.disconnect(true);
    }
  }

  /** The sockets of that credential may be connected to any node: drop them here and tell every other node. */
  function dropCredential(credential: string, reason: Unauthorized): void {
    dropLocal(credential, reason);
    node.app.broadcast(revokedChannel, { credential, reason });
  }
  node.app.on(revokedChannel, (_from, body) => {
    const b = body as { credential?: unknown; reason?: unknown } | null;
    if (typeof b?.credential !== 'string' || (b.reason !== 'signed_out' && b.reason !== 'key_revoked')) return;
    dropLocal(b.credential, b.reason);
  });
  deps.sessions.onSignedOut((idHash) => dropCredential(`session:${idHash}`, 'signed_out'));
  deps.apiKeys.onRevoked((keyRef) => dropCredential(`key:${keyRef}`, 'key_revoked'));

  function track(socket: LiveSocket): void {
    const credential = socket.data.credential;
    if (!credential) return;
    let sockets = byCredential.get(credential);
    if (!sockets) byCredential.set(credential, (sockets = new Set()));
    sockets.add(socket);
    socket.on('disconnect', () => {
      sockets.delete(socket);
      if (sockets.size === 0 && byCredential.get(credential) === sockets) byCredential.delete(credential);
    });
  }

  /** Every message spends from the socket's budget; excess is refused (with an ack if asked), a flood disconnects. */
  function limitMessages(socket: LiveSocket): void {
    socket.data.budget = new MessageBudget(limits, () => clock.now());
    socket.use((packet, next) => {
      const verdict = socket.data.budget.take();
      if (verdict === 'ok') return next();
      if (verdict === 'flooding') {
        log.debug({ socket: socket.id }, 'live: socket disconnected for flooding');
        return void socket.disconnect(true);
      }
      const ack = packet[packet.length - 1];
      const error = `too many messages: at most ${limits.messagesPerSecondMax} per second (bursts of ${limits.messageBurstMax}); slow down`;
      if (typeof ack === 'function') (ack as (r: unknown) => void)({ ok: false, error });
    });
  }

  io.on('connection', (socket: LiveSocket) => {
    socket.data.subscribing = 0;
    socket.data.queue = [];
    socket.data.revoked = false;
    limitMessages(socket);
    track(socket);
    socket.on('subscribe', (arg: unknown, ack?: unknown) => {
      const reply = typeof ack === 'function' ? (ack as (r: unknown) => void) : () => {};
      serveSubscribe(socket, arg).then(reply, (err: Error) => reply({ ok: false, error: err.message }));
    });
    socket.on('unsubscribe', (arg: unknown, ack?: unknown) => {
      const a = arg as { slug?: unknown; cluster?: unknown } | null;
      if (a?.cluster === true) void socket.leave('cluster');
      else if (typeof a?.slug === 'string') void socket.leave(linkRoom(a.slug));
      if (typeof ack === 'function') ack({ ok: true });
    });
  });

  /**
   * Admission for one subscribe: the room cap counts subscribes still in progress (a burst
   * would otherwise pass the check before any of them joined), and at most
   * subscribesInFlightPerSocketMax are served at once, the rest waiting in order.
   */
  async function serveSubscribe(socket: LiveSocket, arg: unknown): Promise<unknown> {
    const a = arg as { slug?: unknown; cluster?: unknown } | null;
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
      return await subscribe(socket, a);
    } finally {
      socket.data.subscribing--;
      socket.data.queue.shift()?.();
    }
  }

  /** False once the socket is gone or its credential ended: it must not join rooms any more. */
  const mayJoin = (socket: LiveSocket) => socket.connected && !socket.data.revoked;

  async function subscribe(socket: LiveSocket, a: { slug?: unknown; cluster?: unknown } | null): Promise<unknown> {
    const gone = { ok: false, error: 'the connection was closed or its sign-in ended' };
    if (!mayJoin(socket)) return gone;
    if (a?.cluster === true) {
      await socket.join('cluster');
      socket.emit('cluster', feed.snapshot());
      return { ok: true };
    }
    if (typeof a?.slug !== 'string' || !SLUG_PATTERN.test(a.slug))
      return { ok: false, error: 'subscribe needs {slug} (a link of yours) or {cluster: true}' };
    const owner = socket.data.owner;
    if (!owner) return { ok: false, error: 'sign in, or use the browser session that created the link' };
    await links.owned(owner, a.slug).catch(() => {
      throw new Error(`there is no link "${a.slug}" among yours`);
    });
    if (!mayJoin(socket)) return gone;
    await socket.join(linkRoom(a.slug));
    const stats = await links.stats(a.slug);
    if (!mayJoin(socket)) return gone;
    socket.emit('stats', stats);
    return { ok: true };
  }

  // ---- publishing link stats (on the channel owner) ----
  const pending = new Map<string, Pending>();
  /** The last snapshot published per link, so an unchanged one is not sent again. */
  const lastSent = new LRUCache<string, string>({ max: publishedSnapshotsMax });

  function keyChanged(key: string): void {
    const slash = key.indexOf('/');
    const type = key.slice(0, slash);
    if (type !== 'views' && type !== 'stats' && type !== 'bots') return;
    const slug = key.slice(slash + 1);
    const room = linkRoom(slug);
    if (!channels.hasSubscribers(room, localCount(room))) return;
    if (type === 'views' && channels.isOwner(room)) schedule(slug);
    else if (type !== 'views') {
      // Stats and bot counters live in other partitions: tell the channel owner.
      const owner = channels.ownerOf(room);
      if (owner === node.name) schedule(slug);
      else if (owner) node.app.send(owner, appMessages.messages['live:changed'], slug);
    }
  }
  const stopKeyChanges = node.events.on('keyChanged', ({ key }) => keyChanged(key));
  node.app.on(appMessages.messages['live:changed'], (_from, slug) => {
    if (typeof slug === 'string' && SLUG_PATTERN.test(slug) && channels.isOwner(linkRoom(slug))) schedule(slug);
  });

  function schedule(slug: string, force = false): void {
    let p = pending.get(slug);
    if (!p) pending.set(slug, (p = { timer: undefined, last: 0, trailing: undefined, force: false }));
    if (force) p.force = true;
    if (p.timer) return;
    const entry = p;
    const delay = Math.max(0, entry.last + limits.statsIntervalMs - clock.now());
    entry.timer = timers.setTimeout(() => {
      entry.timer = undefined;
      entry.last = clock.now();
      publish(slug);
      if (entry.trailing) timers.clearTimeout(entry.trailing);
      entry.trailing = timers.setTimeout(() => {
        entry.trailing = undefined;
        publish(slug);
        if (!entry.timer) pending.delete(slug);
      }, limits.trailingPublishMs);
    }, delay);
  }

  function publish(slug: string): void {
    links.stats(slug).then(
      (stats) => {
        const entry = pending.get(slug);
        // The node list carries liveness, which is not news to a stats subscriber.
        const payload = JSON.stringify({ ...stats, nodes: undefined });
        if (payload === lastSent.get(slug) && !entry?.force) return;
        lastSent.set(slug, payload);
        if (entry) entry.force = false;
        nsp.to(linkRoom(slug)).emit('stats', stats);
      },
      (err: Error) => log.debug({ err: err.message, slug }, 'live stats publish failed'),
    );
  }

  return {
    /** WebSocket upgrades on /socket.io/. */
    upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
      engine.handleUpgrade(req, socket, head);
    },
    /** Plain HTTP on /socket.io/ (long-polling is off: engine.io answers with an error). */
    handleRequest(req: IncomingMessage, res: ServerResponse): void {
      engine.handleRequest(req, res);
    },
    start(): void {
      channels.start();
      feed.start();
    },
    async stop(): Promise<void> {
      stopKeyChanges();
      channels.stop();
      feed.stop();
      for (const p of pending.values()) {
        if (p.timer) timers.clearTimeout(p.timer);
        if (p.trailing) timers.clearTimeout(p.trailing);
      }
      io.disconnectSockets(true);
      engine.close();
      if (redis) {
        redis.pub.disconnect();
        redis.sub.disconnect();
      }
    },
    stats: () => ({ sockets: engine.clientsCount, linkRooms: localLinkRooms().length }),
  };
}
