// One ringlink node: `npm run node`, configured by environment only (README.md, Running a node).
//   SIGTERM, SIGINT: stop without leaving (drain, flush, close, exit 0); a restart with the same
//            DATA_DIR resumes with the partitions it owned. LEAVE_ON_SIGTERM=1: SIGTERM leaves
//            first (hand every partition off, then exit 0; bounded by LEAVE_TIMEOUT_MS).
import { createServer, type Server } from 'node:http';
import pino from 'pino';
import {
  DataTypeRegistry,
  initHash,
  ringConfig,
  RingNode,
  type DurableState,
  type Logger,
  type RingConfig,
  type Runtime,
} from '../ring';
import { ConfigError, isLoopbackHost, loadConfig, type ServerConfig } from './config';
import { Persistence } from './durability/persistence';
import { createApp } from './http/app';
import type { ApiDeps } from './http/callers';
import { reservedSlugs } from './http/reservedSlugs';
import { createMetrics, observeLimits } from './metrics';
import { cryptoRandom, nodeTimers, wallClock } from './runtime';
import { WsTransport } from './transport/wsTransport';
import { registerShortenerTypes } from './datatypes';
import { registerKvAndCounterTypes } from './datatypes/kvAndCounter';
import { Accounts } from './auth/accounts';
import { ApiKeys } from './auth/apiKeys';
import { Sessions } from './auth/sessions';
import { loadNextPages } from './http/nextPages';
import { createRedirector } from './http/redirect';
import { RateLimits } from './http/rateLimits';
import { ClusterLimiter, limitPolicies } from './limits';
import { ClickBudget } from './links/clickBudget';
import { createLinkServices } from './links/services';
import { ViewRecorder } from './links/viewRecorder';
import { linkSummaryQuery, MonotoneTotals, type LinkSummary } from './links/summary';
import { createLive, defaultLiveLimits } from './live/liveServer';
import { clusterSnapshot } from './http/routes/cluster';
import { RingClient } from './ringClient';

/** Largest admin request body. */
const adminBodyBytesMax = 64 * 1024;

function ringLogger(log: pino.Logger): Logger {
  return {
    debug: (msg, f) => log.debug(f ?? {}, msg),
    info: (msg, f) => log.info(f ?? {}, msg),
    warn: (msg, f) => log.warn(f ?? {}, msg),
    error: (msg, f) => log.error(f ?? {}, msg),
  };
}

async function main(config: ServerConfig): Promise<void> {
  const log = pino({ level: config.LOG_LEVEL, base: { node: config.nodeName } });
  await initHash();
  const types = new DataTypeRegistry();
  registerKvAndCounterTypes(types);
  registerShortenerTypes(types);
  const ringCfg = ringConfig({
    ringSize: config.RING_SIZE,
    nVal: config.N_VAL,
    r: config.R,
    w: config.W,
    autoDownAfterMs: config.AUTO_DOWN_MS,
  });
  const disk = config.DATA_DIR ? openPersistence(config.DATA_DIR, config, types, ringCfg, log) : undefined;
  const seeds = await seedsToJoin(config, disk?.durable !== undefined, log);
  const { node, transport, runtime } = createNode({ ...config, SEEDS: seeds }, ringCfg, types, disk, log);

  const metrics = createMetrics(node, () => ({ ...transport.stats() }));
  const shortener = createShortener(config, node, runtime, log);
  observeLimits(metrics, shortener.limiter);
  const pages = config.SERVE_UI === '1' ? await loadNextPages(process.cwd(), config.PORT, config.HOST) : undefined;
  if (config.SERVE_UI === '1' && !pages)
    log.warn('the web UI is not built (run npm run build): serving redirects and the API only');
  const app = createApp({
    api: shortener.api,
    redirector: shortener.redirector,
    live: shortener.live,
    summary: shortener.summary,
    ...(pages ? { pages } : {}),
    node,
    metrics,
    adminToken: config.ADMIN_TOKEN,
    testFaults: config.RINGLINK_TEST_FAULTS === '1',
    ringUpgrade: (req, socket, head) => transport.handleUpgrade(req, socket, head),
    setBlocked: (names) => transport.setBlocked(names),
    bodyBytesMax: adminBodyBytesMax,
  });
  const server = createHttpServer(app, log);
  stopOnLeaveAndSignals({ config, log, server, shortener, node, persistence: disk?.persistence, transport });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => resolve());
  });
  node.start();
  shortener.start();
  warnAboutConfig(config, log);
  log.info(
    {
      url: `http://${config.HOST}:${config.PORT}`,
      seeds: config.SEEDS,
      ringSize: ringCfg.ringSize,
      nVal: ringCfg.nVal,
    },
    'ringlink node listening',
  );
}

/** How long a FOUNDER waits for each seed's /readyz before it concludes that no cluster exists yet. */
const founderProbeTimeoutMs = 3_000;

/**
 * The seeds to join through. A node with SEEDS never founds a ring, so in a deployment where
 * every node lists the others (compose, a StatefulSet) one node is FOUNDER=1: when it has no
 * ring state of its own (no DATA_DIR, or a new one) and none of its seeds answers /readyz, it
 * founds the cluster (empty seeds); otherwise it joins like any node, so a founder whose volume
 * was replaced joins the running cluster instead of founding a second one.
 */
async function seedsToJoin(config: ServerConfig, restored: boolean, log: pino.Logger): Promise<string[]> {
  if (config.FOUNDER !== '1' || restored || config.SEEDS.length === 0) return config.SEEDS;
  const ready = async (addr: string) => {
    const res = await fetch(`http://${addr}/readyz`, { signal: AbortSignal.timeout(founderProbeTimeoutMs) });
    if (!res.ok) throw new Error(`${addr}: ${res.status}`);
  };
  try {
    await Promise.any(config.SEEDS.map(ready));
    log.info({ seeds: config.SEEDS }, 'FOUNDER: a seed is ready, joining the running cluster');
    return config.SEEDS;
  } catch {
    log.info({ seeds: config.SEEDS }, 'FOUNDER: no ring state and no seed ready: founding a new cluster');
    return [];
  }
}

/** Open (or create) the data directory: the journal to attach, and the state to restore if any. */
function openPersistence(
  dataDir: string,
  config: ServerConfig,
  types: DataTypeRegistry,
  ringCfg: RingConfig,
  log: pino.Logger,
): { persistence: Persistence; durable: DurableState | undefined } {
  const t0 = performance.now();
  const opened = Persistence.open(dataDir, {
    fsync: config.FSYNC === 'always' ? { mode: 'always' } : { mode: 'interval', intervalMs: config.FSYNC_INTERVAL_MS },
    types,
    ringSize: ringCfg.ringSize,
    bucketCount: ringCfg.antiEntropyBucketsPerPartition,
    logger: ringLogger(log),
  });
  const durable = opened.restored.durable;
  log.info(
    { dataDir, ...opened.restored.stats, ms: Math.round(performance.now() - t0) },
    durable ? 'restored state from disk' : 'new data directory',
  );
  return { persistence: opened.persistence, durable };
}

/** The ring node over its WebSocket transport, restored from and journaling to `disk` if given (not started). */
function createNode(
  config: ServerConfig,
  ringCfg: RingConfig,
  types: DataTypeRegistry,
  disk: { persistence: Persistence; durable: DurableState | undefined } | undefined,
  log: pino.Logger,
): { node: RingNode; transport: WsTransport; runtime: Runtime } {
  // Assigned once below; the transport's callbacks, built first, read it only after the node exists.
  // eslint-disable-next-line prefer-const
  let node!: RingNode;
  const transport = new WsTransport({
    name: config.nodeName,
    addr: config.advertiseAddr,
    secret: config.clusterSecret,
    resolve: (name) => node.ring().members[name]?.addr,
    logger: ringLogger(log.child({ part: 'transport' })),
  });
  // The node's runtime; the shortener's services run on the same clock, timers and randomness.
  const runtime: Runtime = {
    clock: wallClock,
    timers: nodeTimers(),
    random: cryptoRandom(),
    transport,
    logger: ringLogger(log),
  };
  node = new RingNode({
    name: config.nodeName,
    addr: config.advertiseAddr,
    ...(config.ZONE !== undefined ? { zone: config.ZONE } : {}),
    config: ringCfg,
    runtime,
    types,
    seeds: config.SEEDS,
    ...(disk?.durable ? { durable: disk.durable } : {}),
    ...(disk ? { journal: disk.persistence } : {}),
  });
  disk?.persistence.attach(node);
  return { node, transport, runtime };
}

function createHttpServer(app: ReturnType<typeof createApp>, log: pino.Logger): Server {
  // requireHostHeader off: the app refuses a missing Host itself, with a problem+json body.
  const server = createServer({ requireHostHeader: false }, (req, res) => {
    try {
      const pending = app.handle(req, res);
      if (pending) pending.catch((err: unknown) => log.error({ err }, 'request failed'));
    } catch (err) {
      log.error({ err }, 'request failed');
    }
  });
  server.on('upgrade', (req, socket, head) => app.upgrade(req, socket, head));
  server.on('clientError', (err, socket) => app.clientError(err, socket));
  server.on('connect', (req, socket) => app.connect(req, socket));
  server.keepAliveTimeout = 65_000;
  return server;
}

/**
 * Stop the process once the node left or was removed, and on SIGINT or SIGTERM without leaving:
 * a restart is not a departure (riak's `riak stop` against `cluster leave`). With
 * LEAVE_ON_SIGTERM=1, SIGTERM leaves gracefully first (exit 1 if that does not finish within
 * LEAVE_TIMEOUT_MS).
 */
function stopOnLeaveAndSignals(parts: {
  config: ServerConfig;
  log: pino.Logger;
  server: Server;
  shortener: Shortener;
  node: RingNode;
  persistence: Persistence | undefined;
  transport: WsTransport;
}): void {
  const { config, log, server, shortener, node, persistence, transport } = parts;
  let stopping = false;
  const shutdown = async (code: number, why: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ why }, 'shutting down');
    // Take no new connections, then ship what this node counted in memory (view counters and
    // stats) and wait for the replicas' acknowledgements, bounded: a stop loses no counted view.
    server.close();
    server.closeIdleConnections();
    const drained = await shortener.drain(shutdownDrainMs);
    server.closeAllConnections();
    if (!drained.counters || !drained.stats)
      log.warn({ ...drained, timeoutMs: shutdownDrainMs }, 'stopping with counts not yet acknowledged by the replicas');
    node.stop();
    persistence?.flush();
    persistence?.close();
    await transport.close();
    process.exit(code);
  };
  node.events.on('left', () => void shutdown(0, 'left the cluster'));
  node.events.on('removed', () => void shutdown(0, 'removed from the cluster by an operator'));
  process.on('SIGINT', () => void shutdown(0, 'SIGINT: stopping without leaving'));
  process.on('SIGTERM', () => {
    if (stopping) return;
    if (config.LEAVE_ON_SIGTERM !== '1') return void shutdown(0, 'SIGTERM: stopping without leaving');
    log.info({ timeoutMs: config.LEAVE_TIMEOUT_MS }, 'SIGTERM: leaving the cluster gracefully');
    node.leave();
    setTimeout(
      () => void shutdown(1, `leave did not finish within ${config.LEAVE_TIMEOUT_MS} ms`),
      config.LEAVE_TIMEOUT_MS,
    ).unref();
  });
}

/** Settings that work on one machine but not as a public cluster. */
function warnAboutConfig(config: ServerConfig, log: pino.Logger): void {
  if (!config.PUBLIC_URL && !isLoopbackHost(config.HOST)) {
    log.warn(
      { advertiseAddr: config.advertiseAddr },
      "PUBLIC_URL is unset: short URLs use the request Host when it is one of this node's (ALLOWED_HOSTS adds more), else ADVERTISE_ADDR; set PUBLIC_URL to the public origin",
    );
  }
  if (config.clusterSecretGenerated) {
    log.warn(
      'CLUSTER_SECRET is unset: this node uses a random secret of its own and no peer can join it; set the same CLUSTER_SECRET on every node to form a cluster',
    );
  }
}

/** Names a browser on the node's own machine may use for it. */
const loopbackNames = ['localhost', '127.0.0.1', '[::1]'];

/** Bound on a stop's wait for the replicas to acknowledge the views counted in memory. */
const shutdownDrainMs = 3_000;

type Shortener = ReturnType<typeof createShortener>;

/** The link shortener on this node: its services over the ring, the API and the redirect path. */
function createShortener(config: ServerConfig, node: RingNode, runtime: Runtime, log: pino.Logger) {
  const { clock, random } = runtime;
  const now = () => clock.now();
  const ring = new RingClient(node, runtime);
  const publicUrl = config.PUBLIC_URL?.replace(/\/+$/, '');
  const { links, directory, recorder, budget } = createLinkServices({
    node,
    ring,
    runtime,
    selfHosts: () => [
      ...(publicUrl ? [publicUrl] : []),
      `${config.HOST}:${config.PORT}`,
      ...node.members().map((m) => m.addr),
    ],
    allowPrivateTargets: config.ALLOW_PRIVATE_TARGETS === '1',
    reservedSlugs,
    writeQuorum: config.W,
  });
  const policies = limitPolicies({
    createsPerMin: config.RATE_LIMIT_CREATE_PER_MIN,
    writesPerMin: config.RATE_LIMIT_WRITES_PER_MIN,
  });
  const limiter = new ClusterLimiter(node, policies, now);
  const limits = new RateLimits(limiter);
  const trustProxy = config.TRUST_PROXY === '1';
  const sessions = new Sessions(node, ring, now, random);
  const apiKeys = new ApiKeys(node, ring, now);
  const api: ApiDeps = {
    links,
    sessions,
    accounts: new Accounts(ring, now),
    apiKeys,
    limits,
    publicUrl,
    isOwnHost: ownHostCheck(config, node),
    defaultBaseUrl: `http://${config.advertiseAddr}`,
    trustProxy,
    secureCookies: publicUrl?.startsWith('https:') ?? false,
  };
  const live = createLive({
    node,
    links,
    sessions,
    apiKeys,
    publicUrl,
    redisUrl: config.REDIS_URL,
    log: log.child({ part: 'live' }),
    clusterView: () => clusterSnapshot(node),
    runtime,
    limits: { ...defaultLiveLimits, statsIntervalMs: config.LIVE_STATS_INTERVAL_MS },
  });
  const summary = linkSummary(node, ring);
  const redirector = createRedirector({ directory, recorder, budget, limits, now, trustProxy });
  return {
    api,
    limiter,
    redirector,
    live,
    summary,
    start() {
      recorder.start();
      budget.start();
      live.start();
    },
    /** Stop, shipping every view counted here first; resolves with what was acknowledged within `timeoutMs`. */
    async drain(timeoutMs: number): Promise<{ counters: boolean; stats: boolean }> {
      return drainViews(node, recorder, budget, live, timeoutMs);
    },
  };
}

/** Whether a request's Host names this node (or a member): its own addresses, loopback names and ALLOWED_HOSTS. */
function ownHostCheck(config: ServerConfig, node: RingNode): (host: string) => boolean {
  const ownHosts = [
    config.advertiseAddr,
    `${config.HOST}:${config.PORT}`,
    ...loopbackNames.map((h) => `${h}:${config.PORT}`),
    ...config.ALLOWED_HOSTS,
  ];
  return (host: string) => {
    const h = host.toLowerCase();
    return ownHosts.includes(h) || node.members().some((m) => m.addr.toLowerCase() === h);
  };
}

/** The cluster-wide link summary (a coverage query); totals shown never go down between two calls. */
function linkSummary(node: RingNode, ring: RingClient) {
  node.registerCoverage(linkSummaryQuery);
  const shownTotals = new MonotoneTotals();
  return async (withTop: boolean) => {
    const r = await ring.coverage<LinkSummary>(linkSummaryQuery.name, {});
    const { links: count, top } = r.value;
    const { views, bots } = shownTotals.raise(r.value);
    const topLinks = withTop ? { top: top.map(([slug, total]) => ({ slug, total })) } : {};
    const coverage = { partitions: r.partitions, partial: r.missing.length > 0, missing: [...r.missing] };
    return { links: count, views, bots, ...topLinks, ...coverage };
  };
}

/** Stop counting and ship every view counted here; resolves with what was acknowledged within `timeoutMs`. */
async function drainViews(
  node: RingNode,
  recorder: ViewRecorder,
  budget: ClickBudget,
  live: ReturnType<typeof createLive>,
  timeoutMs: number,
): Promise<{ counters: boolean; stats: boolean }> {
  const deadline = Date.now() + timeoutMs;
  recorder.stop();
  budget.stop();
  void live.stop();
  while (!recorder.idle() && Date.now() < deadline) {
    recorder.flush();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const stats = recorder.idle();
  // Counters last: the caller closes every connection as soon as this resolves, so no view
  // is counted after their final flush was acknowledged.
  const counters = await new Promise<boolean>((resolve) =>
    node.drainCounters(Math.max(0, deadline - Date.now()), resolve),
  );
  return { counters, stats };
}

// A library promise nobody awaits (e.g. a Redis publish while Redis is down) must not take
// the node, and with it a share of the ring, down: log it instead.
process.on('unhandledRejection', (err) =>
  console.error(JSON.stringify({ level: 50, msg: 'unhandled rejection', err: String((err as Error)?.stack ?? err) })),
);

let config: ServerConfig;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
main(config).catch((err: NodeJS.ErrnoException) => {
  if (err.code === 'EADDRINUSE') console.error(`config: PORT ${config.PORT} on ${config.HOST} is already in use`);
  else console.error(err);
  process.exit(1);
});
