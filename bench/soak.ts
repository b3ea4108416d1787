// Soak: a real 3-node ringlink cluster (dist/server.mjs processes, N=3, R=2, W=2, DATA_DIR
// on as in `npm start`) under steady mixed load for a set time, sampled all along, to see
// whether memory creeps up and the event loop stays responsive; and, at the end, whether
// nothing was lost or miscounted.
//
// Load, at a bounded rate (--rate, default 150 requests/s in all, at most --max-in-flight in
// flight; a request that would exceed it is skipped and counted, never queued):
//   - redirects GET /<slug> through all three nodes (browsers' user agents and known bots),
//     mostly to the "hot" links the sockets watch, the rest to links made during the run
//     (a few deleted ones too: 410); HEAD now and then; unknown slugs (404);
//   - link creates (--creates per second: half by an account's API key, half by anonymous
//     browser sessions, a new browser now and then), edits (url, maxClicks, expiresAt) and
//     deletes (--deletes per second, never of a hot link);
//   - owners reading their stats and lists, sessions, the cluster view and summary;
//   - --sockets socket.io clients (WebSocket, session cookie + Origin, or the API key as
//     auth token), most subscribed to a hot link (`stats`), a few to `cluster`.
// Every --sample-seconds, per node: RSS (/proc/<pid>/status VmRSS), V8 heap used
// (nodejs_heap_size_used_bytes), event-loop delay p50/p99/max since the previous sample
// (prom-client's nodejs_eventloop_lag_*_seconds: its histogram resets at each scrape, and
// this script is the only scraper; its 10 ms sampling tick is subtracted), CPU, stored
// keys; and the client's own figures.
//
// Report: a per-minute table; per node, least-squares slopes of RSS and heap over the second
// half of the run (the first half is warm-up) in MiB/hour with a 95% interval, against a
// stated threshold (see `verdictOf`); correctness at the end: every acknowledged create
// readable by its owner through every node with its last acknowledged URL (deleted ones as
// deleted), each link's views and bot views equal to the redirects answered 302 to people
// and to bots, every subscribed socket's last `stats` total equal to its link's final total,
// and the cluster summary's views/bots equal to the sums.
// Writes bench/results/soak-<timestamp>.json, soak-<timestamp>.svg and soak-latest.svg.
//
// npm run soak [-- --minutes 10 | --seconds 60] [--rate 150] [--creates 1] [--deletes 0.25]
//                 [--sockets 300] [--hot-links 30] [--sample-seconds 5] [--max-in-flight 48]
//                 [--memory-only] [--json]
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { io, type Socket } from 'socket.io-client';
import { LocalCluster, parseMetrics, procCpuSeconds, procRss, type ClusterNode } from './lib/cluster';
import { newAccount, waitFor } from '../testkit';

const root = process.cwd();
const { values: argv } = parseArgs({
  options: {
    minutes: { type: 'string' },
    seconds: { type: 'string' },
    rate: { type: 'string', default: '150' },
    creates: { type: 'string', default: '1' },
    deletes: { type: 'string', default: '0.25' },
    sockets: { type: 'string', default: '300' },
    'hot-links': { type: 'string', default: '30' },
    'sample-seconds': { type: 'string', default: '5' },
    'max-in-flight': { type: 'string', default: '48' },
    'memory-only': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
function num(name: keyof typeof argv, min: number): number {
  const v = Number(argv[name]);
  if (!Number.isFinite(v) || v < min) {
    console.error(
      `--${name} must be a number >= ${min} (got ${String(argv[name])})\nusage: npm run soak -- [--minutes 10 | --seconds 60] [--rate 150] [--creates 1] [--deletes 0.25] [--sockets 300] [--hot-links 30] [--sample-seconds 5] [--max-in-flight 48] [--memory-only] [--json]`,
    );
    process.exit(2);
  }
  return v;
}
const durationSec =
  argv.seconds !== undefined ? num('seconds', 10) : (argv.minutes !== undefined ? num('minutes', 0.5) : 10) * 60;
const settings = {
  durationSeconds: durationSec,
  rate: num('rate', 1),
  createsPerSecond: num('creates', 0),
  deletesPerSecond: num('deletes', 0),
  sockets: Math.floor(num('sockets', 0)),
  hotLinks: Math.max(1, Math.floor(num('hot-links', 1))),
  sampleSeconds: num('sample-seconds', 1),
  maxInFlight: Math.floor(num('max-in-flight', 1)),
  dataDir: !argv['memory-only'],
  nodes: 3,
};

const t0 = performance.now();
const log = (msg: string) => console.error(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${msg}`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const round1 = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;
const MiB = 2 ** 20;
const pick = <T>(a: readonly T[]): T => a[Math.floor(Math.random() * a.length)]!;

const HUMAN_UA = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
];
const BOT_UA = [
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Twitterbot/1.0',
  'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)',
  'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)',
];
const REFERRERS = [
  'https://news.ycombinator.com/item?id=1',
  'https://www.reddit.com/r/programming/',
  '',
  '',
  'https://t.co/abc',
];

// =======================================================================================
// Owners, links, sockets

interface Owner {
  id: string;
  kind: 'key' | 'browser';
  cookie?: string;
  token?: string;
}
interface Link {
  slug: string;
  owner: Owner;
  hot: boolean;
  /** URLs the link may have now: the last acknowledged one, plus any edit whose outcome is unknown. */
  urls: Set<string>;
  /** Every URL it was ever given. */
  history: Set<string>;
  url: string;
  deleted: boolean;
  deleteUnknown: boolean;
  busy: boolean;
  human302: number;
  bot302: number;
  head: number;
  gone: number;
}
interface Watcher {
  socket: Socket;
  node: string;
  slug: string | null;
  subscribed: boolean;
  events: number;
  lastTotal: number;
  subscribeFailures: number;
}

let cluster: LocalCluster;
let nodes: ClusterNode[] = [];
const owners: Owner[] = [];
let keyOwner: Owner;
const links: Link[] = [];
const bySlug = new Map<string, Link>();
const watchers: Watcher[] = [];
const disconnects: Record<string, number> = {};
let socketEvents = 0;
let clusterEvents = 0;
let rr = 0;
const nextNode = () => nodes[rr++ % nodes.length]!;

function ownerHeaders(o: Owner, node: ClusterNode, write: boolean): Record<string, string> {
  if (o.token) return { authorization: `Bearer ${o.token}` };
  const h: Record<string, string> = {};
  if (o.cookie) h.cookie = o.cookie;
  if (write) h.origin = node.url;
  return h;
}

function takeCookie(o: Owner, headers: Record<string, string | string[] | undefined>): void {
  const set = headers['set-cookie'];
  for (const c of Array.isArray(set) ? set : set ? [set] : []) {
    const pair = c.split(';', 1)[0]!;
    if (pair.startsWith('rl_sid=') && pair !== 'rl_sid=') o.cookie = pair;
  }
}

let urlCounter = 0;
async function createLink(o: Owner, node: ClusterNode, hot: boolean): Promise<{ status: number; link?: Link }> {
  const url = `https://soak.example.com/${o.kind}/${++urlCounter}?r=${randomBytes(3).toString('hex')}`;
  const body: Record<string, unknown> = { url };
  if (!hot && Math.random() < 0.1) body.maxClicks = 1_000_000;
  const r = await cluster.request(node, 'POST', '/api/links', {
    headers: { 'content-type': 'application/json', ...ownerHeaders(o, node, true) },
    body: JSON.stringify(body),
  });
  if (o.kind === 'browser') takeCookie(o, r.headers);
  if (r.status !== 201) return { status: r.status };
  const slug = (JSON.parse(r.body) as { slug: string }).slug;
  const link: Link = {
    slug,
    owner: o,
    hot,
    urls: new Set([url]),
    history: new Set([url]),
    url,
    deleted: false,
    deleteUnknown: false,
    busy: false,
    human302: 0,
    bot302: 0,
    head: 0,
    gone: 0,
  };
  links.push(link);
  bySlug.set(slug, link);
  return { status: 201, link };
}

let browserCount = 0;
async function newBrowser(): Promise<Owner> {
  // A browser's session starts with its first write: its first link, made right away and alone.
  const o: Owner = { id: `browser-${++browserCount}`, kind: 'browser' };
  const firstLink = async () => (await createLink(o, nextNode(), false)).status === 201 && o.cookie !== undefined;
  await waitFor(firstLink, { timeoutMs: 30_000, intervalMs: 50, what: `${o.id}'s first link` });
  owners.push(o);
  return o;
}

function openWatcher(node: ClusterNode, link: Link | null): Promise<Watcher> {
  const owner = link?.owner ?? keyOwner;
  const socket = io(node.url, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: true,
    reconnectionDelay: 500,
    timeout: 10_000,
    ...(owner.token ? { auth: { token: owner.token } } : { extraHeaders: { cookie: owner.cookie!, origin: node.url } }),
  });
  const w: Watcher = {
    socket,
    node: node.name,
    slug: link?.slug ?? null,
    subscribed: false,
    events: 0,
    lastTotal: -1,
    subscribeFailures: 0,
  };
  socket.on('stats', (st: { slug?: string; total?: number }) => {
    if (st?.slug !== w.slug) return;
    socketEvents++;
    w.events++;
    if (typeof st.total === 'number' && st.total > w.lastTotal) w.lastTotal = st.total;
  });
  socket.on('cluster', () => {
    clusterEvents++;
    w.events++;
  });
  socket.on('disconnect', (reason: string) => {
    w.subscribed = false;
    if (!stopping) disconnects[reason] = (disconnects[reason] ?? 0) + 1;
  });
  return new Promise((resolve, reject) => {
    let first = true;
    socket.on('connect', () => {
      socket
        .timeout(10_000)
        .emitWithAck('subscribe', w.slug ? { slug: w.slug } : { cluster: true })
        .then(
          (ack: { ok?: boolean; error?: string }) => {
            if (ack?.ok !== true) throw new Error(ack?.error ?? JSON.stringify(ack));
            w.subscribed = true;
            if (first) resolve(w);
            first = false;
          },
          (err: Error) => {
            w.subscribeFailures++;
            if (first) reject(err);
            first = false;
          },
        )
        .catch((err: Error) => {
          w.subscribeFailures++;
          if (first) reject(err);
          first = false;
        });
    });
    socket.once('connect_error', (err: Error) => {
      if (first) {
        first = false;
        socket.close();
        reject(new Error(`connect_error on ${node.name}: ${err.message}`));
      }
    });
  });
}

// =======================================================================================
// The load: a paced mix of operations, bounded in flight

type Op =
  | 'redirect'
  | 'redirectBot'
  | 'head'
  | 'notFound'
  | 'stats'
  | 'list'
  | 'edit'
  | 'session'
  | 'cluster'
  | 'summary'
  | 'create'
  | 'delete';
const mix: Array<[Op, number]> = [
  ['redirect', 55],
  ['redirectBot', 10],
  ['head', 3],
  ['notFound', 2],
  ['stats', 12],
  ['list', 4],
  ['edit', 5],
  ['session', 5],
  ['cluster', 2],
  ['summary', 2],
];
const mixTotal = mix.reduce((a, [, w]) => a + w, 0);
function pickOp(): Op {
  let x = Math.random() * mixTotal;
  for (const [op, w] of mix) if ((x -= w) < 0) return op;
  return 'redirect';
}

interface Window {
  requests: number;
  skipped: number;
  byOp: Record<string, Record<string, number>>;
  redirectMs: number[];
  apiMs: number[];
  errors: string[];
}
const newWindow = (): Window => ({ requests: 0, skipped: 0, byOp: {}, redirectMs: [], apiMs: [], errors: [] });
let win = newWindow();
const totals = {
  requests: 0,
  skipped: 0,
  byOp: {} as Record<string, Record<string, number>>,
  status5xx: 0,
  transportErrors: 0,
  unexpected: {} as Record<string, number>,
};
let inFlight = 0;
let stopping = false;

function note(op: Op, status: number | 'error', ms: number, expected: readonly number[]): void {
  const key = String(status);
  for (const by of [win.byOp, totals.byOp]) {
    const o = (by[op] ??= {});
    o[key] = (o[key] ?? 0) + 1;
  }
  if (op === 'redirect' || op === 'redirectBot' || op === 'head') win.redirectMs.push(ms);
  else win.apiMs.push(ms);
  if (status === 'error') totals.transportErrors++;
  else if (status >= 500) totals.status5xx++;
  if (status === 'error' || !expected.includes(status))
    totals.unexpected[`${op} ${key}`] = (totals.unexpected[`${op} ${key}`] ?? 0) + 1;
}

function liveLinks(filter: (l: Link) => boolean): Link[] {
  return links.filter((l) => !l.deleted && !l.deleteUnknown && filter(l));
}
let hot: Link[] = [];
let coldCache: Link[] = [];
let coldCacheAt = 0;
function coldLinks(): Link[] {
  if (performance.now() - coldCacheAt > 1000) {
    coldCache = liveLinks((l) => !l.hot);
    coldCacheAt = performance.now();
  }
  return coldCache;
}

async function run(op: Op): Promise<void> {
  const node = nextNode();
  const started = performance.now();
  let status: number | 'error' = 'error';
  let expected: readonly number[] = [200];
  try {
    switch (op) {
      case 'redirect':
      case 'redirectBot': {
        const cold = coldLinks();
        const deleted = links.filter((l) => l.deleted);
        const link =
          Math.random() < 0.02 && deleted.length > 0
            ? pick(deleted)
            : Math.random() < 0.75 || cold.length === 0
              ? pick(hot)
              : pick(cold);
        const bot = op === 'redirectBot';
        const ref = pick(REFERRERS);
        const r = await cluster.request(node, 'GET', `/${link.slug}`, {
          headers: { 'user-agent': bot ? pick(BOT_UA) : pick(HUMAN_UA), ...(ref ? { referer: ref } : {}) },
        });
        status = r.status;
        expected = link.deleted || link.deleteUnknown ? [302, 410] : [302];
        if (r.status === 302) {
          if (bot) link.bot302++;
          else link.human302++;
          const location = String(r.headers.location);
          if (!link.urls.has(location)) {
            // An earlier URL: the node answered from a copy the edit had not reached yet. Never set: a bug.
            const what = link.history.has(location) ? 'redirect to a superseded url' : 'REDIRECT TO A URL NEVER SET';
            totals.unexpected[what] = (totals.unexpected[what] ?? 0) + 1;
          }
        } else if (r.status === 410) link.gone++;
        break;
      }
      case 'head': {
        const link = pick(hot);
        const r = await cluster.request(node, 'HEAD', `/${link.slug}`, { headers: { 'user-agent': pick(HUMAN_UA) } });
        status = r.status;
        expected = [302];
        if (r.status === 302) link.head++;
        break;
      }
      case 'notFound': {
        status = (
          await cluster.request(node, 'GET', `/zz${randomBytes(5).toString('hex')}`, {
            headers: { 'user-agent': pick(HUMAN_UA) },
          })
        ).status;
        expected = [404];
        break;
      }
      case 'stats': {
        const link = Math.random() < 0.5 ? pick(hot) : pick(links);
        status = (
          await cluster.request(node, 'GET', `/api/links/${link.slug}/stats`, {
            headers: ownerHeaders(link.owner, node, false),
          })
        ).status;
        break;
      }
      case 'list': {
        const o = pick(owners);
        status = (await cluster.request(node, 'GET', '/api/links', { headers: ownerHeaders(o, node, false) })).status;
        break;
      }
      case 'session': {
        const o = pick(owners.filter((x) => x.kind === 'browser'));
        status = (await cluster.request(node, 'GET', '/api/session', { headers: ownerHeaders(o, node, false) })).status;
        break;
      }
      case 'cluster':
        status = (await cluster.request(node, 'GET', '/api/cluster')).status;
        break;
      case 'summary':
        status = (await cluster.request(node, 'GET', '/api/cluster/summary')).status;
        break;
      case 'edit': {
        const candidates = liveLinks((l) => !l.busy);
        if (candidates.length === 0) return;
        const link = pick(candidates);
        link.busy = true;
        const x = Math.random();
        const url = `https://soak.example.com/edited/${++urlCounter}`;
        const patch =
          x < 0.6
            ? { url }
            : x < 0.8
              ? { maxClicks: link.hot ? null : Math.random() < 0.5 ? 1_000_000 : null }
              : { expiresAt: Math.random() < 0.5 ? new Date(Date.now() + 30 * 86_400_000).toISOString() : null };
        if ('url' in patch) {
          link.urls.add(url);
          link.history.add(url);
        }
        try {
          const r = await cluster.request(node, 'PATCH', `/api/links/${link.slug}`, {
            headers: { 'content-type': 'application/json', ...ownerHeaders(link.owner, node, true) },
            body: JSON.stringify(patch),
          });
          status = r.status;
          if (r.status === 200 && 'url' in patch) {
            link.url = url;
            link.urls = new Set([url]);
          } else if (r.status !== 200 && r.status < 500 && 'url' in patch) link.urls.delete(url);
        } finally {
          link.busy = false;
        }
        break;
      }
      case 'create': {
        const o = Math.random() < 0.5 ? keyOwner : pick(owners.filter((x) => x.kind === 'browser'));
        status = (await createLink(o, node, false)).status;
        expected = [201];
        break;
      }
      case 'delete': {
        const candidates = liveLinks((l) => !l.hot && !l.busy);
        if (candidates.length === 0) return;
        const link = pick(candidates);
        link.busy = true;
        expected = [204];
        try {
          const r = await cluster.request(node, 'DELETE', `/api/links/${link.slug}`, {
            headers: ownerHeaders(link.owner, node, true),
          });
          status = r.status;
          if (r.status === 204) link.deleted = true;
          else if (r.status >= 500) link.deleteUnknown = true;
        } catch (err) {
          link.deleteUnknown = true; // no answer: the delete may or may not have happened
          throw err;
        } finally {
          link.busy = false;
        }
        break;
      }
    }
  } catch (err) {
    status = 'error';
    if (win.errors.length < 5) win.errors.push(`${op} via ${node.name}: ${(err as Error).message}`);
  } finally {
    note(op, status, performance.now() - started, expected);
  }
}

function issue(op: Op): void {
  if (inFlight >= settings.maxInFlight) {
    win.skipped++;
    totals.skipped++;
    return;
  }
  inFlight++;
  win.requests++;
  totals.requests++;
  void run(op).finally(() => inFlight--);
}

/** Paces the mix at settings.rate and creates/deletes at their own rates, until `until` (performance.now()). */
async function load(until: number): Promise<void> {
  const tickMs = 20;
  let debtMix = 0;
  let debtCreate = 0;
  let debtDelete = 0;
  let last = performance.now();
  let nextBrowser = performance.now() + 60_000;
  while (performance.now() < until && !stopping) {
    await sleep(tickMs);
    const now = performance.now();
    const dt = (now - last) / 1000;
    last = now;
    debtMix += settings.rate * dt;
    debtCreate += settings.createsPerSecond * dt;
    debtDelete += settings.deletesPerSecond * dt;
    // After a long stall, do not burst: at most two ticks' worth.
    debtMix = Math.min(debtMix, settings.rate * 0.04 + 1);
    for (; debtMix >= 1; debtMix--) issue(pickOp());
    for (; debtCreate >= 1; debtCreate--) issue('create');
    for (; debtDelete >= 1; debtDelete--) issue('delete');
    if (now > nextBrowser) {
      nextBrowser = now + 60_000;
      void newBrowser().catch((err: Error) => log(`a new browser failed: ${err.message}`));
    }
  }
}

// =======================================================================================
// Sampling

interface NodeSample {
  rssMiB: number | null;
  heapUsedMiB: number | null;
  heapTotalMiB: number | null;
  externalMiB: number | null;
  lagP50Ms: number | null;
  lagP99Ms: number | null;
  lagMaxMs: number | null;
  cpuPercent: number | null;
  keys: number | null;
  openFds: number | null;
  handles: number | null;
  /** Bytes in the node's DATA_DIR (record log + snapshot): a drop is a compaction. */
  dataDirMiB: number | null;
}
interface Sample {
  /** Seconds since the load started. */
  t: number;
  nodes: Record<string, NodeSample>;
  client: {
    requestsPerSecond: number;
    skipped: number;
    errors: number;
    redirectP50Ms: number | null;
    redirectP99Ms: number | null;
    apiP50Ms: number | null;
    apiP99Ms: number | null;
    socketEventsPerSecond: number;
    socketsSubscribed: number;
    inFlight: number;
    cpuPercent: number;
    lagP99Ms: number;
    /** The machine's 1-minute load average (other work on it shows here). */
    loadAverage: number;
    errorSamples: string[];
  };
}
const samples: Sample[] = [];

function pct(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = Float64Array.from(values).sort();
  return round1(s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!);
}

/**
 * prom-client's histogram (perf_hooks.monitorEventLoopDelay at its default 10 ms resolution)
 * records the time between the ticks of a 10 ms timer, so an idle loop reads ~10 ms: the delay
 * proper is what exceeds the tick.
 */
const LAG_TICK_MS = 10;
const lag = (ms: number | null) => (ms === null ? null : round1(Math.max(0, ms - LAG_TICK_MS)));

const cpuPrev = new Map<string, { at: number; cpu: number }>();
async function sampleNode(n: ClusterNode): Promise<NodeSample> {
  const rss = procRss(n.pid);
  const cpu = procCpuSeconds(n.pid);
  const now = performance.now();
  const prev = cpuPrev.get(n.name);
  if (cpu !== undefined) cpuPrev.set(n.name, { at: now, cpu });
  let m: Map<string, number> | undefined;
  try {
    const r = await cluster.get(n, '/metrics', 5000);
    if (r.status === 200) m = parseMetrics(r.body);
  } catch {
    // a node too busy to answer in 5 s shows as nulls
  }
  const g = (name: string, scale = 1) => (m?.has(name) ? round1(m.get(name)! * scale) : null);
  return {
    rssMiB: rss !== undefined ? round1(rss / MiB) : g('process_resident_memory_bytes', 1 / MiB),
    heapUsedMiB: g('nodejs_heap_size_used_bytes', 1 / MiB),
    heapTotalMiB: g('nodejs_heap_size_total_bytes', 1 / MiB),
    externalMiB: g('nodejs_external_memory_bytes', 1 / MiB),
    lagP50Ms: lag(g('nodejs_eventloop_lag_p50_seconds', 1000)),
    lagP99Ms: lag(g('nodejs_eventloop_lag_p99_seconds', 1000)),
    lagMaxMs: lag(g('nodejs_eventloop_lag_max_seconds', 1000)),
    cpuPercent:
      prev && cpu !== undefined && now > prev.at ? round1(((cpu - prev.cpu) / ((now - prev.at) / 1000)) * 100) : null,
    keys: m?.get('ringlink_keys') ?? null,
    openFds: m?.get('process_open_fds') ?? null,
    handles: m?.get('nodejs_active_handles_total') ?? null,
    dataDirMiB: n.options.dataDir ? round1(dirBytes(n.options.dataDir) / MiB) : null,
  };
}

function dirBytes(dir: string): number {
  let total = 0;
  try {
    for (const f of readdirSync(dir)) total += statSync(join(dir, f)).size;
  } catch {
    // a file renamed or removed meanwhile (compaction): the next sample has it
  }
  return total;
}

async function sampler(loadStart: number, until: number): Promise<void> {
  const selfLag = monitorEventLoopDelay({ resolution: 10 });
  selfLag.enable();
  let selfCpu = process.cpuUsage();
  let lastAt = performance.now();
  let lastEvents = socketEvents + clusterEvents;
  for (const n of nodes) await sampleNode(n); // resets the nodes' lag histograms and primes CPU
  for (let k = 1; ; k++) {
    const due = loadStart + k * settings.sampleSeconds * 1000;
    if (due > until + 1) break;
    await sleep(Math.max(0, due - performance.now()));
    const now = performance.now();
    const w = win;
    win = newWindow();
    const secs = (now - lastAt) / 1000;
    lastAt = now;
    const perNode = await Promise.all(nodes.map((n) => sampleNode(n)));
    const cpu = process.cpuUsage(selfCpu);
    selfCpu = process.cpuUsage();
    const ev = socketEvents + clusterEvents;
    const s: Sample = {
      t: round1((now - loadStart) / 1000),
      nodes: Object.fromEntries(nodes.map((n, i) => [n.name, perNode[i]!])),
      client: {
        requestsPerSecond: round1(w.requests / secs),
        skipped: w.skipped,
        errors: Object.entries(w.byOp).reduce((a, [, st]) => a + (st.error ?? 0), 0),
        redirectP50Ms: pct(w.redirectMs, 50),
        redirectP99Ms: pct(w.redirectMs, 99),
        apiP50Ms: pct(w.apiMs, 50),
        apiP99Ms: pct(w.apiMs, 99),
        socketEventsPerSecond: round1((ev - lastEvents) / secs),
        socketsSubscribed: watchers.filter((x) => x.subscribed).length,
        inFlight,
        cpuPercent: round1(((cpu.user + cpu.system) / 1000 / (secs * 1000)) * 100),
        lagP99Ms: round1(selfLag.percentile(99) / 1e6),
        loadAverage: round2(os.loadavg()[0]!),
        errorSamples: w.errors,
      },
    };
    lastEvents = ev;
    selfLag.reset();
    samples.push(s);
    const nodeText = nodes.map((n) => {
      const x = s.nodes[n.name]!;
      return `${n.name} ${x.rssMiB ?? '?'}/${x.heapUsedMiB ?? '?'} MiB lag ${x.lagP99Ms ?? '?'}/${x.lagMaxMs ?? '?'} ms cpu ${x.cpuPercent ?? '?'}%${x.dataDirMiB !== null ? ` disk ${x.dataDirMiB} MiB` : ''}`;
    });
    log(
      `t=${s.t.toFixed(0)} s (load ${s.client.loadAverage}): ${s.client.requestsPerSecond} req/s (${w.skipped} skipped, ${s.client.errors} errors), ${s.client.socketEventsPerSecond} events/s, ${s.client.socketsSubscribed} sockets, client cpu ${s.client.cpuPercent}% | ${nodeText.join(' | ')}`,
    );
    for (const e of w.errors) log(`  error: ${e}`);
  }
  selfLag.disable();
}

// =======================================================================================
// Trend and report

interface Fit {
  slopePerHour: number;
  ci95PerHour: number;
  /** Theil-Sen slope (median of the pairwise slopes), per hour: not moved by a few transient spikes. */
  robustSlopePerHour: number;
  points: number;
  from: number;
  to: number;
}
/** Least-squares line of y over t (seconds); slope and its 95% interval half-width, per hour. */
function fit(points: Array<[number, number]>): Fit | null {
  const n = points.length;
  if (n < 3) return null;
  const mt = points.reduce((a, [t]) => a + t, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const [t, y] of points) {
    sxx += (t - mt) ** 2;
    sxy += (t - mt) * (y - my);
  }
  if (sxx === 0) return null;
  const b = sxy / sxx;
  const a = my - b * mt;
  const sse = points.reduce((acc, [t, y]) => acc + (y - (a + b * t)) ** 2, 0);
  const se = Math.sqrt(sse / (n - 2) / sxx);
  const pairwise: number[] = [];
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++)
      if (points[j]![0] !== points[i]![0])
        pairwise.push((points[j]![1] - points[i]![1]) / (points[j]![0] - points[i]![0]));
  pairwise.sort((x, y) => x - y);
  const median =
    pairwise.length % 2
      ? pairwise[(pairwise.length - 1) / 2]!
      : (pairwise[pairwise.length / 2 - 1]! + pairwise[pairwise.length / 2]!) / 2;
  return {
    slopePerHour: round1(b * 3600),
    ci95PerHour: round1(1.96 * se * 3600),
    robustSlopePerHour: round1(median * 3600),
    points: n,
    from: points[0]![0],
    to: points[n - 1]![0],
  };
}

/** No upward trend when the slope is at most this (MiB/hour): a fixed allowance plus what the stored data explains. */
const TREND_ALLOWANCE_MIB_PER_HOUR = 10;
/** Memory a stored key may account for (bench:links measures ~1.8 KB RSS per stored link copy; a soak key is a link, a counter, a claim, an index entry...). */
const BYTES_PER_KEY_ALLOWANCE = 2048;

/**
 * "no upward trend": the slope is at most the threshold. "UPWARD TREND": above it by more than
 * the 95% interval (garbage collection makes the heap a sawtooth, so a short window is noisy).
 * Otherwise "inconclusive": above the threshold, but within the noise; run longer.
 */
function verdictOf(f: Fit | null, keysPerHour: number | null): { threshold: number; verdict: string } {
  const threshold = round1(
    TREND_ALLOWANCE_MIB_PER_HOUR + Math.max(0, keysPerHour ?? 0) * (BYTES_PER_KEY_ALLOWANCE / MiB),
  );
  if (!f) return { threshold, verdict: 'not enough samples' };
  return {
    threshold,
    verdict:
      f.slopePerHour <= threshold
        ? 'no upward trend'
        : f.slopePerHour - f.ci95PerHour > threshold
          ? 'UPWARD TREND'
          : 'inconclusive (above the threshold, within the noise)',
  };
}

function trends(durationS: number) {
  const half = durationS / 2;
  const second = samples.filter((s) => s.t >= half);
  return Object.fromEntries(
    nodes.map((n) => {
      const series = (k: keyof NodeSample) =>
        second
          .map((s) => [s.t, s.nodes[n.name]![k]] as [number, number | null])
          .filter((p): p is [number, number] => p[1] !== null);
      const keys = fit(series('keys'));
      const rss = fit(series('rssMiB'));
      const heap = fit(series('heapUsedMiB'));
      const keysPerHour = keys ? Math.round(keys.slopePerHour) : null;
      return [
        n.name,
        {
          rss: { ...rss, ...verdictOf(rss, keysPerHour) },
          heap: { ...heap, ...verdictOf(heap, keysPerHour) },
          keysPerHour,
          keysAtEnd: second.at(-1)?.nodes[n.name]?.keys ?? null,
        },
      ];
    }),
  );
}

function perMinute() {
  const rows: Array<Record<string, unknown>> = [];
  const minutes = Math.ceil((samples.at(-1)?.t ?? 0) / 60);
  for (let m = 0; m < minutes; m++) {
    const ss = samples.filter((s) => s.t > m * 60 && s.t <= (m + 1) * 60);
    if (ss.length === 0) continue;
    const mean = (xs: Array<number | null>) => {
      const v = xs.filter((x): x is number => x !== null);
      return v.length ? round1(v.reduce((a, b) => a + b, 0) / v.length) : null;
    };
    const max = (xs: Array<number | null>) => {
      const v = xs.filter((x): x is number => x !== null);
      return v.length ? round1(Math.max(...v)) : null;
    };
    const med = (xs: Array<number | null>) =>
      pct(
        xs.filter((x): x is number => x !== null),
        50,
      );
    rows.push({
      minute: m + 1,
      requestsPerSecond: mean(ss.map((s) => s.client.requestsPerSecond)),
      errors: ss.reduce((a, s) => a + s.client.errors, 0),
      skipped: ss.reduce((a, s) => a + s.client.skipped, 0),
      socketEventsPerSecond: mean(ss.map((s) => s.client.socketEventsPerSecond)),
      redirectP99Ms: max(ss.map((s) => s.client.redirectP99Ms)),
      loadAverage: max(ss.map((s) => s.client.loadAverage)),
      nodes: Object.fromEntries(
        nodes.map((n) => {
          const xs = ss.map((s) => s.nodes[n.name]!);
          return [
            n.name,
            {
              rssMiB: xs.at(-1)!.rssMiB,
              heapUsedMiB: mean(xs.map((x) => x.heapUsedMiB)),
              lagP50Ms: med(xs.map((x) => x.lagP50Ms)),
              lagP99Ms: max(xs.map((x) => x.lagP99Ms)),
              lagMaxMs: max(xs.map((x) => x.lagMaxMs)),
              cpuPercent: mean(xs.map((x) => x.cpuPercent)),
              keys: xs.at(-1)!.keys,
              dataDirMiB: xs.at(-1)!.dataDirMiB,
            },
          ];
        }),
      ),
    });
  }
  return rows;
}

function table(rows: ReturnType<typeof perMinute>): string {
  const nodeCols = (r: Record<string, unknown>) =>
    nodes
      .map((n) => {
        const x = (r.nodes as Record<string, Record<string, number | null>>)[n.name]!;
        const f = (v: number | null | undefined, w: number) => String(v ?? '-').padStart(w);
        return `${f(x.rssMiB, 6)} ${f(x.heapUsedMiB, 6)} ${f(x.lagP50Ms, 5)} ${f(x.lagP99Ms, 6)} ${f(x.lagMaxMs, 6)} ${f(x.cpuPercent, 5)}`;
      })
      .join(' |');
  const head1 = `${'min'.padStart(3)} ${'load'.padStart(4)} ${'req/s'.padStart(6)} ${'err'.padStart(4)} ${'ev/s'.padStart(7)} ${'rd p99'.padStart(6)} |${nodes.map((n) => `${n.name.padStart(6)} ${''.padStart(6)} ${''.padStart(5)} ${''.padStart(6)} ${''.padStart(6)} ${''.padStart(5)}`).join(' |')}`;
  const head2 = `${''.padStart(3)} ${''.padStart(4)} ${''.padStart(6)} ${''.padStart(4)} ${''.padStart(7)} ${'ms'.padStart(6)} |${nodes.map(() => `${'RSS'.padStart(6)} ${'heap'.padStart(6)} ${'p50'.padStart(5)} ${'p99'.padStart(6)} ${'max'.padStart(6)} ${'cpu%'.padStart(5)}`).join(' |')}`;
  const lines = rows.map(
    (r) =>
      `${String(r.minute).padStart(3)} ${String(r.loadAverage ?? '-').padStart(4)} ${String(r.requestsPerSecond).padStart(6)} ${String(r.errors).padStart(4)} ${String(r.socketEventsPerSecond).padStart(7)} ${String(r.redirectP99Ms ?? '-').padStart(6)} |${nodeCols(r)}`,
  );
  return (
    [head1, head2, ...lines].join('\n') +
    `\n(load: the machine's 1-min load average, ${os.cpus().length} cores; RSS, heap: MiB; event-loop delay beyond the 10 ms sampling tick, p50/p99/max in ms: p50 the median of the sample windows, p99 and max the worst; cpu: % of one core)`
  );
}

// ---- SVG chart (no dependencies): RSS (and heap, dashed) over time, and event-loop p99 (and max, dotted)

function svgChart(title: string, subtitle: string, durationS: number): string {
  const W = 960;
  const H = 650;
  const left = 64;
  const right = 150;
  const colors = ['#1f6fbf', '#d9412b', '#2a9d4b', '#8e44ad', '#b8860b'];
  const panels = [
    {
      top: 96,
      height: 220,
      label: 'memory (MiB): RSS solid, V8 heap used dashed',
      series: [
        ['rssMiB', ''],
        ['heapUsedMiB', '6 4'],
      ] as const,
    },
    {
      top: 390,
      height: 200,
      label: 'event-loop delay (ms): p99 solid, max dotted',
      series: [
        ['lagP99Ms', ''],
        ['lagMaxMs', '2 3'],
      ] as const,
    },
  ];
  const x = (t: number) => left + (t / Math.max(1, durationS)) * (W - left - right);
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${left}" y="26" font-size="16" font-weight="600" fill="#1c2033">${esc(title)}</text>`);
  out.push(`<text x="${left}" y="46" fill="#4a5068">${esc(subtitle)}</text>`);
  for (const p of panels) {
    const values = samples
      .flatMap((s) => nodes.flatMap((n) => p.series.map(([k]) => s.nodes[n.name]![k as keyof NodeSample])))
      .filter((v): v is number => v !== null);
    const maxV = niceCeil(Math.max(1, ...values));
    const y = (v: number) => p.top + p.height - (v / maxV) * p.height;
    out.push(`<text x="${left}" y="${p.top - 10}" fill="#1c2033" font-weight="600">${esc(p.label)}</text>`);
    for (let i = 0; i <= 4; i++) {
      const v = (maxV * i) / 4;
      out.push(
        `<line x1="${left}" x2="${W - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e3e6ef"/>`,
      );
      out.push(
        `<text x="${left - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#4a5068">${round1(v)}</text>`,
      );
    }
    const stepMin = durationS <= 180 ? 0.5 : durationS <= 1200 ? 1 : durationS <= 3600 ? 5 : 15;
    for (let m = 0; m * 60 <= durationS + 1e-9; m += stepMin) {
      out.push(
        `<line x1="${x(m * 60).toFixed(1)}" x2="${x(m * 60).toFixed(1)}" y1="${p.top}" y2="${p.top + p.height}" stroke="#f0f1f6"/>`,
      );
      out.push(
        `<text x="${x(m * 60).toFixed(1)}" y="${p.top + p.height + 16}" text-anchor="middle" fill="#4a5068">${m}</text>`,
      );
    }
    out.push(
      `<line x1="${x(durationS / 2).toFixed(1)}" x2="${x(durationS / 2).toFixed(1)}" y1="${p.top}" y2="${p.top + p.height}" stroke="#9aa0b4" stroke-dasharray="4 4"/>`,
    );
    out.push(
      `<text x="${(x(durationS / 2) + 4).toFixed(1)}" y="${p.top + p.height - 6}" fill="#9aa0b4">trend window →</text>`,
    );
    out.push(
      `<rect x="${left}" y="${p.top}" width="${W - left - right}" height="${p.height}" fill="none" stroke="#c5cad8"/>`,
    );
    if (p === panels[0]) {
      // Record-log compactions (the DATA_DIR shrinks by half or more): a marker at the top of the memory panel.
      nodes.forEach((n, i) => {
        for (let j = 1; j < samples.length; j++) {
          const a = samples[j - 1]!.nodes[n.name]!.dataDirMiB;
          const b = samples[j]!.nodes[n.name]!.dataDirMiB;
          if (a !== null && b !== null && a > 1 && b < a / 2) {
            const cx = x(samples[j]!.t);
            out.push(
              `<path d="M${(cx - 5).toFixed(1)},${p.top + 2 + i * 9} L${(cx + 5).toFixed(1)},${p.top + 2 + i * 9} L${cx.toFixed(1)},${p.top + 9 + i * 9} Z" fill="${colors[i % colors.length]}"/>`,
            );
          }
        }
      });
    }
    nodes.forEach((n, i) => {
      for (const [k, dash] of p.series) {
        const pts = samples
          .map((s) => [s.t, s.nodes[n.name]![k as keyof NodeSample]] as const)
          .filter((q): q is readonly [number, number] => q[1] !== null);
        if (pts.length === 0) continue;
        const d = pts.map(([t, v], j) => `${j ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join('');
        out.push(
          `<path d="${d}" fill="none" stroke="${colors[i % colors.length]}" stroke-width="${dash ? 1.2 : 2}"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`,
        );
      }
    });
  }
  out.push(
    `<text x="${(left + W - right) / 2}" y="${H - 18}" text-anchor="middle" fill="#4a5068">minutes since the load started</text>`,
  );
  nodes.forEach((n, i) => {
    const ly = 110 + i * 22;
    out.push(
      `<line x1="${W - right + 16}" x2="${W - right + 40}" y1="${ly}" y2="${ly}" stroke="${colors[i % colors.length]}" stroke-width="2"/>`,
    );
    out.push(`<text x="${W - right + 46}" y="${ly + 4}" fill="#1c2033">${esc(n.name)}</text>`);
  });
  if (settings.dataDir) {
    const ly = 110 + nodes.length * 22 + 8;
    out.push(
      `<path d="M${W - right + 23},${ly - 4} L${W - right + 33},${ly - 4} L${W - right + 28},${ly + 3} Z" fill="#4a5068"/>`,
    );
    out.push(`<text x="${W - right + 46}" y="${ly + 4}" fill="#1c2033">log compaction</text>`);
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

// =======================================================================================
// Correctness at the end

async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function checkCorrectness() {
  const result = {
    creates: { acknowledged: links.length, readableEverywhere: 0, problems: [] as string[] },
    views: {
      linksWithRedirects: 0,
      exact: 0,
      mismatches: [] as string[],
      waitedSeconds: 0,
      human302: 0,
      bot302: 0,
      head: 0,
      gone410: 0,
    },
    sockets: { linkSockets: 0, sawFinalTotal: 0, behind: [] as string[], subscribeFailures: 0 },
    summary: {} as Record<string, unknown>,
  };
  // 1. Every acknowledged create, through every node, by its owner.
  await pool(links, 12, async (l) => {
    let ok = true;
    for (const n of nodes) {
      try {
        const r = await cluster.request(n, 'GET', `/api/links/${l.slug}`, { headers: ownerHeaders(l.owner, n, false) });
        const v = r.status === 200 ? (JSON.parse(r.body) as { url: string; status: string }) : undefined;
        const statusOk = v && (l.deleteUnknown || (v.status === 'deleted') === l.deleted);
        if (!v || !l.urls.has(v.url) || !statusOk) {
          ok = false;
          if (result.creates.problems.length < 20)
            result.creates.problems.push(
              `${l.slug} via ${n.name}: ${r.status} ${r.body.slice(0, 160)} (want ${[...l.urls].join(' or ')}${l.deleted ? ', deleted' : ''})`,
            );
        }
      } catch (err) {
        ok = false;
        if (result.creates.problems.length < 20)
          result.creates.problems.push(`${l.slug} via ${n.name}: ${(err as Error).message}`);
      }
    }
    if (ok) result.creates.readableEverywhere++;
  });
  // 2. Views equal the 302s answered (people and bots apart), once the counter deltas have shipped.
  const counted = links.filter((l) => l.human302 + l.bot302 > 0);
  result.views.linksWithRedirects = counted.length;
  for (const l of links) {
    result.views.human302 += l.human302;
    result.views.bot302 += l.bot302;
    result.views.head += l.head;
    result.views.gone410 += l.gone;
  }
  const t = performance.now();
  let pending = counted;
  let last: Map<string, string>;
  for (;;) {
    const still: Link[] = [];
    const seen = new Map<string, string>();
    await pool(pending, 12, async (l) => {
      const n = l.hot ? nodes[0]! : pick(nodes);
      try {
        const r = await cluster.request(n, 'GET', `/api/links/${l.slug}/stats`, {
          headers: ownerHeaders(l.owner, n, false),
        });
        const s = JSON.parse(r.body) as { total: number; bots: number };
        if (r.status === 200 && s.total === l.human302 && s.bots === l.bot302) return;
        seen.set(
          l.slug,
          `${l.slug} via ${n.name}: total ${s.total} bots ${s.bots}, want ${l.human302} and ${l.bot302}`,
        );
      } catch (err) {
        seen.set(l.slug, `${l.slug} via ${n.name}: ${(err as Error).message}`);
      }
      still.push(l);
    });
    pending = still;
    last = seen;
    if (pending.length === 0 || performance.now() - t > 30_000) break;
    await sleep(500);
  }
  // Hot links: the same figures through every node.
  for (const l of hot) {
    for (const n of nodes.slice(1)) {
      const r = await cluster.request(n, 'GET', `/api/links/${l.slug}/stats`, {
        headers: ownerHeaders(l.owner, n, false),
      });
      const s = JSON.parse(r.body) as { total: number; bots: number };
      if (s.total !== l.human302 || s.bots !== l.bot302) {
        pending.push(l);
        last.set(
          `${l.slug}@${n.name}`,
          `${l.slug} via ${n.name}: total ${s.total} bots ${s.bots}, want ${l.human302} and ${l.bot302}`,
        );
      }
    }
  }
  result.views.waitedSeconds = round1((performance.now() - t) / 1000);
  result.views.exact = counted.length - new Set(pending.map((l) => l.slug)).size;
  result.views.mismatches = [...last.values()].slice(0, 20);
  // 3. Every subscribed socket has seen its link's final total.
  const linkWatchers = watchers.filter((w) => w.slug);
  result.sockets.linkSockets = linkWatchers.length;
  result.sockets.subscribeFailures = watchers.reduce((a, w) => a + w.subscribeFailures, 0);
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline && linkWatchers.some((w) => w.lastTotal !== bySlug.get(w.slug!)!.human302))
    await sleep(200);
  for (const w of linkWatchers) {
    const want = bySlug.get(w.slug!)!.human302;
    if (w.lastTotal === want) result.sockets.sawFinalTotal++;
    else if (result.sockets.behind.length < 20)
      result.sockets.behind.push(
        `socket on ${w.node} for ${w.slug}: last total ${w.lastTotal}, final ${want} (${w.subscribed ? 'subscribed' : 'not subscribed'}, ${w.events} events)`,
      );
  }
  // 4. The cluster summary (coverage query) agrees with the sums.
  const sr = await cluster.request(nodes[0]!, 'GET', '/api/cluster/summary');
  const summary = JSON.parse(sr.body) as { links: number; views: number; bots: number; partial: boolean };
  const liveCount = links.filter((l) => !l.deleted).length;
  result.summary = {
    status: sr.status,
    ...summary,
    expectedViews: result.views.human302,
    expectedBots: result.views.bot302,
    expectedLinks: liveCount,
    viewsMatch: summary.views === result.views.human302,
    botsMatch: summary.bots === result.views.bot302,
    linksMatch: links.some((l) => l.deleteUnknown) ? null : summary.links === liveCount,
  };
  return result;
}

// =======================================================================================

async function main(): Promise<number> {
  const startedAt = new Date();
  log(
    `soak: ${settings.nodes} nodes, ${durationSec} s of load at ${settings.rate} requests/s (+${settings.createsPerSecond} creates/s, ${settings.deletesPerSecond} deletes/s), ${settings.sockets} sockets, samples every ${settings.sampleSeconds} s${settings.dataDir ? ', DATA_DIR on' : ', memory only'}`,
  );
  const env = { RATE_LIMIT_CREATE_PER_MIN: '0' };
  cluster = await LocalCluster.start({ nodes: settings.nodes, dataDirs: settings.dataDir, env, log });
  nodes = cluster.nodes;
  log(`cluster ready: ${nodes.map((n) => `${n.name} ${n.url} pid ${n.pid}`).join(', ')}`);

  // The account with an API key, and the first anonymous browsers.
  const account = await newAccount(nodes[0]!, 'soak');
  keyOwner = { id: 'api-key', kind: 'key', token: (await account.createKey('soak')).key };
  owners.push(keyOwner);
  // Slug claims (compare-and-set) serve once every acceptor caught up after the joins.
  const createsEverywhere = async () => {
    for (const n of nodes) if ((await createLink(keyOwner, n, false)).status !== 201) return false;
    return true;
  };
  await waitFor(createsEverywhere, { timeoutMs: 60_000, intervalMs: 50, what: 'creates through every node' });
  for (let i = 0; i < 10; i++) await newBrowser();
  for (let i = 0; i < settings.hotLinks; i++) {
    const o = i % 2 === 0 ? keyOwner : owners[1 + (i % (owners.length - 1))]!;
    const r = await createLink(o, nextNode(), true);
    if (!r.link) throw new Error(`a hot link create answered ${r.status}`);
  }
  hot = links.filter((l) => l.hot);
  log(`${owners.length} owners, ${links.length} links (${hot.length} hot)`);

  // Sockets: a few on the cluster feed, the rest spread over the hot links, all spread over the nodes.
  const clusterSockets = Math.min(settings.sockets, Math.max(1, Math.round(settings.sockets / 20)));
  const plan = Array.from({ length: settings.sockets }, (_, i) => ({
    node: nodes[i % nodes.length]!,
    link: i < clusterSockets ? null : hot[i % hot.length]!,
  }));
  const tSockets = performance.now();
  let socketFailures = 0;
  for (let i = 0; i < plan.length; i += 50) {
    const batch = await Promise.allSettled(plan.slice(i, i + 50).map((p) => openWatcher(p.node, p.link)));
    for (const b of batch) {
      if (b.status === 'fulfilled') watchers.push(b.value);
      else {
        socketFailures++;
        if (socketFailures <= 3) log(`a socket failed: ${(b.reason as Error).message}`);
      }
    }
  }
  log(
    `${watchers.length} sockets subscribed in ${((performance.now() - tSockets) / 1000).toFixed(1)} s (${socketFailures} failed; ${clusterSockets} on the cluster feed)`,
  );

  // The load, sampled.
  const loadStart = performance.now();
  const until = loadStart + durationSec * 1000;
  await Promise.all([load(until), sampler(loadStart, until)]);
  const drainStart = performance.now();
  while (inFlight > 0 && performance.now() - drainStart < 15_000) await sleep(50);
  log(
    `load done: ${totals.requests} requests (${totals.skipped} skipped at the in-flight bound), ${totals.status5xx} 5xx, ${totals.transportErrors} transport errors; checking correctness`,
  );

  const correctness = await checkCorrectness();
  stopping = true;
  for (const w of watchers) w.socket.close();
  const deadNodes = nodes.filter((n) => !n.alive).map((n) => `${n.name}: exited ${n.describeExit()}`);
  const errorLines = nodes.flatMap((n) =>
    n
      .output()
      .split('\n')
      .filter((l) => /"level":(5|6)0/.test(l))
      .slice(-5)
      .map((l) => `${n.name}: ${l.slice(0, 300)}`),
  );
  await cluster.stop();

  const trend = trends(durationSec);
  const rows = perMinute();
  const ok =
    deadNodes.length === 0 &&
    correctness.creates.readableEverywhere === correctness.creates.acknowledged &&
    correctness.views.exact === correctness.views.linksWithRedirects &&
    correctness.sockets.sawFinalTotal === correctness.sockets.linkSockets &&
    correctness.summary.viewsMatch === true &&
    correctness.summary.botsMatch === true;

  // ---- print
  console.log(
    `\nsoak: ${settings.nodes} nodes (N=3, R=2, W=2${settings.dataDir ? ', DATA_DIR on' : ''}), ${round1(durationSec / 60)} min at ${settings.rate} req/s + ${settings.createsPerSecond} creates/s + ${settings.deletesPerSecond} deletes/s, ${watchers.length} sockets; ${os.cpus().length}x ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}\n`,
  );
  console.log(table(rows));
  console.log(
    `\ntrend over the second half (t >= ${round1(durationSec / 2)} s), least squares, MiB/hour ±95%; threshold = ${TREND_ALLOWANCE_MIB_PER_HOUR} MiB/h + ${BYTES_PER_KEY_ALLOWANCE} B per stored key added per hour (the data the load adds); UPWARD TREND = above it by more than the interval:`,
  );
  for (const [name, tr] of Object.entries(trend)) {
    const f = (x: {
      slopePerHour?: number;
      ci95PerHour?: number;
      robustSlopePerHour?: number;
      threshold: number;
      verdict: string;
    }) =>
      `${x.slopePerHour ?? '?'} ±${x.ci95PerHour ?? '?'} (Theil-Sen ${x.robustSlopePerHour ?? '?'}; threshold ${x.threshold}) → ${x.verdict}`;
    console.log(
      `  ${name}: RSS ${f(tr.rss)}; heap ${f(tr.heap)}; keys +${tr.keysPerHour ?? '?'}/h (${tr.keysAtEnd ?? '?'} at the end)`,
    );
  }
  const c = correctness;
  console.log(`\ncorrectness:`);
  console.log(
    `  creates acknowledged ${c.creates.acknowledged}, readable by their owner through every node with their last URL: ${c.creates.readableEverywhere}`,
  );
  console.log(
    `  links redirected ${c.views.linksWithRedirects}; exact views and bot views: ${c.views.exact} (after ${c.views.waitedSeconds} s); 302s to people ${c.views.human302}, to bots ${c.views.bot302}; HEAD ${c.views.head} (not counted); 410 ${c.views.gone410}`,
  );
  console.log(
    `  sockets on a link ${c.sockets.linkSockets}, saw the final total ${c.sockets.sawFinalTotal}; subscribe failures ${c.sockets.subscribeFailures}; disconnects ${JSON.stringify(disconnects)}`,
  );
  console.log(
    `  cluster summary: views ${c.summary.views} (want ${c.summary.expectedViews}), bots ${c.summary.bots} (want ${c.summary.expectedBots}), links ${c.summary.links} (want ${c.summary.expectedLinks}), partial ${c.summary.partial}`,
  );
  for (const p of [...c.creates.problems, ...c.views.mismatches, ...c.sockets.behind]) console.log(`  PROBLEM: ${p}`);
  console.log(
    `  requests ${totals.requests}, skipped ${totals.skipped}, 5xx ${totals.status5xx}, transport errors ${totals.transportErrors}; unexpected answers ${JSON.stringify(totals.unexpected)}`,
  );
  if (deadNodes.length) console.log(`  NODES DIED: ${deadNodes.join('; ')}`);
  if (errorLines.length) console.log(`  node error logs:\n    ${errorLines.join('\n    ')}`);

  // ---- files
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = startedAt
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '-');
  const file = join(dir, `soak-${stamp}.json`);
  const machine = {
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.cpus().length,
    memoryGiB: round2(os.totalmem() / 2 ** 30),
    node: process.version,
    loadAverageAfter: os.loadavg().map(round2),
  };
  const json = {
    benchmark: 'soak',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    command: `npm run soak${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine,
    settings,
    threshold: {
      allowanceMiBPerHour: TREND_ALLOWANCE_MIB_PER_HOUR,
      bytesPerKeyAllowance: BYTES_PER_KEY_ALLOWANCE,
      window: 'second half of the run',
    },
    passed: ok,
    trend,
    perMinute: rows,
    correctness,
    totals,
    disconnects,
    socketEvents: { stats: socketEvents, cluster: clusterEvents },
    deadNodes,
    errorLines,
    samples,
  };
  writeFileSync(`${file}.tmp`, `${JSON.stringify(json, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  const svg = svgChart(
    `ringlink soak: ${settings.nodes} nodes, ${round1(durationSec / 60)} min, ${settings.rate} req/s, ${watchers.length} sockets`,
    `${startedAt.toISOString()} · RSS ${Object.entries(trend)
      .map(([k, v]) => `${k} ${v.rss.slopePerHour ?? '?'}`)
      .join(', ')} MiB/h over the second half`,
    durationSec,
  );
  writeFileSync(join(dir, `soak-${stamp}.svg`), svg);
  writeFileSync(join(dir, 'soak-latest.svg'), svg);
  console.log(
    `\nwrote ${relative(root, file)}, ${relative(root, join(dir, `soak-${stamp}.svg`))} and bench/results/soak-latest.svg`,
  );
  if (argv.json) console.log(JSON.stringify(json));
  console.log(ok ? '\nsoak: PASSED (correctness; see the trend verdicts above)' : '\nsoak: FAILED (see PROBLEM lines)');
  return ok ? 0 : 1;
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    console.error(`\n${sig}: stopping every process started by the soak`);
    stopping = true;
    for (const w of watchers) w.socket.close();
    void (cluster ? cluster.stop() : Promise.resolve()).finally(() => process.exit(130));
  });
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    console.error(err);
    stopping = true;
    for (const w of watchers) w.socket.close();
    if (cluster) {
      for (const n of cluster.nodes) console.error(`----- ${n.name} (pid ${n.pid}) -----\n${n.output().slice(-3000)}`);
      await cluster.stop();
    }
    process.exit(1);
  },
);
