// Live updates over socket.io (docs/api.md, "Live updates"): WebSocket transport only, so no
// sticky sessions; sockets are authenticated by the session cookie (with the Origin check)
// or an API key. `subscribe {slug}` joins `link:<slug>` (owner only); the link's channel
// owner publishes coalesced `stats` after merging counter deltas. `subscribe {cluster:
// true}` joins the node's `cluster` room: this node's view of the ring, pushed on change.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Server as Engine } from 'engine.io';
import { Server, type DefaultEventsMap, type Namespace, type ServerOptions } from 'socket.io';
import { createShardedAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import type pino from 'pino';
import type { Clock, RingNode } from '../../ring';
import type { ApiKeys } from '../auth/apiKeys';
import type { Sessions } from '../auth/sessions';
import type { LinkService } from '../links/linkService';
import { ChannelDirectory, linkRoom } from './channels';
import { ClusterFeed } from './clusterFeed';
import { CredentialSockets, socketAuthenticator } from './credentials';
import type { LiveSocket, SocketData } from './liveSocket';
import { MessageBudget, type MessageBudgetLimits } from './messageBudget';
import { StatsPublisher, type PublishLimits } from './publisher';
import { ringAdapter } from './ringAdapter';
import { Subscriptions, type SubscriptionLimits } from './subscriptions';
import type { ServiceRuntime } from '../runtime';

export type { Unauthorized } from './credentials';

export interface LiveLimits extends MessageBudgetLimits, PublishLimits, SubscriptionLimits {
  /** Largest message a client may send. */
  messageBytesMax: number;
}

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

type LiveServer = Server<DefaultEventsMap, DefaultEventsMap, DefaultEventsMap, SocketData>;
type LiveNamespace = Namespace<DefaultEventsMap, DefaultEventsMap, DefaultEventsMap, SocketData>;
interface RedisClients {
  pub: Redis;
  sub: Redis;
}

export function createLive(deps: LiveDeps) {
  const { node, links, log } = deps;
  const { clock, timers } = deps.runtime;
  const limits = deps.limits ?? defaultLiveLimits;

  const channels = new ChannelDirectory(
    node,
    () => localLinkRooms(nsp),
    () => clock.now(),
    timers,
    (room) => {
      // A node (re)announced sockets in a room this node owns: send it the current state.
      if (channels.isOwner(room)) publisher.schedule(room.slice('link:'.length), true);
    },
  );
  const redis = deps.redisUrl ? redisClients(deps.redisUrl, log) : undefined;
  const adapter = redis
    ? createShardedAdapter(redis.pub, redis.sub, { subscriptionMode: 'dynamic-private', channelPrefix: 'ringlink' })
    : ringAdapter(node, channels);
  const { engine, io } = socketServer(limits, adapter as ServerOptions['adapter']);
  const nsp = io.of('/');
  announceLinkRooms(nsp, channels);
  const localCount = (room: string) => nsp.adapter.rooms.get(room)?.size ?? 0;

  io.use(socketAuthenticator(deps));
  const feed = new ClusterFeed(
    node,
    deps.clusterView,
    (snapshot) => {
      if (localCount('cluster') > 0) nsp.local.to('cluster').emit('cluster', snapshot);
    },
    deps.runtime.timers,
    () => deps.runtime.clock.now(),
  );
  const credentials = new CredentialSockets(node, deps.sessions, deps.apiKeys);
  const subscriptions = new Subscriptions(limits, links, feed);
  io.on('connection', (socket: LiveSocket) => {
    limitMessages(socket, limits, clock, log);
    credentials.track(socket);
    subscriptions.serve(socket);
  });

  const publisher = new StatsPublisher({
    node,
    links,
    channels,
    clock,
    timers,
    limits,
    log,
    localCount,
    emitStats: (slug, stats) => nsp.to(linkRoom(slug)).emit('stats', stats),
  });

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
      publisher.stop();
      channels.stop();
      feed.stop();
      io.disconnectSockets(true);
      engine.close();
      if (redis) {
        redis.pub.disconnect();
        redis.sub.disconnect();
      }
    },
    stats: () => ({ sockets: engine.clientsCount, linkRooms: localLinkRooms(nsp).length }),
  };
}

/** socket.io bound to its own engine.io server: WebSocket transport only (no sticky sessions needed). */
function socketServer(limits: LiveLimits, adapter: ServerOptions['adapter']): { engine: Engine; io: LiveServer } {
  const engine = new Engine({
    transports: ['websocket'],
    maxHttpBufferSize: limits.messageBytesMax,
    pingInterval: 20_000,
    pingTimeout: 20_000,
  });
  const io: LiveServer = new Server({ serveClient: false, adapter });
  // engine.io's own Server, pinned (package.json) to the version socket.io binds to.
  io.bind(engine as unknown as Parameters<typeof io.bind>[0]);
  return { engine, io };
}

/** The Redis clients of the sharded adapter (REDIS_URL set), in place of the ring adapter. */
function redisClients(url: string, log: pino.Logger): RedisClients {
  // Commands fail at once while Redis is away (no unbounded offline queue): live packets
  // are lost meanwhile (pub/sub), everything else goes on, and ioredis reconnects.
  const options = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (n: number) => Math.min(2_000, 50 * 2 ** n),
  };
  const pub = new Redis(url, options);
  const sub = new Redis(url, { ...options, enableOfflineQueue: true });
  for (const [name, c] of [
    ['pub', pub],
    ['sub', sub],
  ] as const) {
    c.on('error', (err: Error) =>
      log.warn({ err: err.message, client: name }, 'redis error (live updates paused until it reconnects)'),
    );
    c.on('ready', () => log.info({ client: name }, 'redis ready'));
  }
  return { pub, sub };
}

function localLinkRooms(nsp: LiveNamespace): string[] {
  return [...nsp.adapter.rooms.keys()].filter((r) => r.startsWith('link:'));
}

/** Tell the channel directory when a link room gets its first local socket or loses its last. */
function announceLinkRooms(nsp: LiveNamespace, channels: ChannelDirectory): void {
  nsp.adapter.on('create-room', (room: string) => {
    if (room.startsWith('link:')) channels.joined(room);
  });
  nsp.adapter.on('delete-room', (room: string) => {
    if (room.startsWith('link:')) channels.left(room);
  });
}

/** Every message spends from the socket's budget; excess is refused (with an ack if asked), a flood disconnects. */
function limitMessages(socket: LiveSocket, limits: LiveLimits, clock: Clock, log: pino.Logger): void {
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
