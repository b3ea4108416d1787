// Live updates (socket.io) over a real 3-node ringlink cluster on loopback (dist/server.mjs,
// N=3, R=2, W=2, the ring's own socket.io adapter), measured from the outside the way a
// browser sees them (socket.io-client, WebSocket transport, the session cookie and an Origin
// header equal to the node's URL):
//
//   1. click-to-browser latency: L links (created through the three nodes by one anonymous
//      session), one socket per node subscribed to every link, and R clicks/s (GET /<slug>
//      with a desktop Chrome User-Agent, so they count as human views) spread round-robin
//      over the nodes and the links for D s, paced by an HTTP/1.1 keep-alive client in this
//      process. A click's latency on a socket is the arrival of the first `stats` event on
//      that socket whose total reaches the click's ordinal for its link (clicks numbered per
//      link in send order, only those answered 302); over all (click, socket) pairs.
//      Goal: p99 <= 250 ms, no click missing.
//   2. convergence after a partition heals: {n1} | {n2, n3} (POST /api/admin/faults on both
//      sides) for P s while clicks go on on both sides (r/s to n1, r/s to n2 and n3, the same
//      links); then the clicks stop, the partition heals, and GET /api/links/<slug>/stats is
//      polled every 50 ms on every node until every node reports total = the 302s served,
//      for every link. Goal: <= 2 s. Also: when every subscribed socket saw those totals;
//      sockets still stale 10 s after the heal are listed (with the link's channel owner
//      candidates, the primaries of its view counter) and one more click on each such link
//      checks whether they catch up.
//   3. fan-out: S sockets (spread over the nodes, opened 200 at a time, held by worker
//      threads of this process) subscribed to ONE link; one click; arrival of the new total
//      on every socket (p50/p99/max and time until the last), K times, each once the workers
//      are idle. Connect time, node RSS (GET /metrics process_resident_memory_bytes), the fd
//      limit, the `stats` packets each socket got per click, and the CPU the click's whole
//      fan-out cost the nodes and the client.
//   A watchdog records every membership change (status/liveness as each node sees it) and
//   any node exit.
//
// npm run bench:live [-- --quick --json --only latency,partition,fanout --links 10 --rate 1000
//                       --seconds 20 --partition-seconds 30 --partition-rate 100 --partition-runs 3
//                       --sockets 10000 --fanout-trials 5 --fanout-workers 2]
//   --quick   10 s of clicks, one 10 s partition, 1,000 sockets (smoke run)
//   --json    also print the JSON document on stdout
//   --json-out FILE  also write the JSON document to FILE (used by `npm run bench`)
//
// The load generator, the sockets and the cluster share one 2-core machine: the figures
// include the client's own work (decoding 10k `stats` packets is not free), and other work
// on the machine skews them ("others' CPU" and the bench process's event-loop delay are
// recorded per phase). Prints a table and writes bench/results/live-<timestamp>.json.
//
// Every node runs in its own process group and is killed (SIGKILL, the whole group) at the
// end, on errors, on SIGINT/SIGTERM/SIGHUP and at exit; worker threads are terminated. Only
// 127.0.0.1 is used.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { io, type Socket } from 'socket.io-client';
import { initHash, partitionOf } from '../ring';
import { walk } from '../ring';
import { machineCpuTimes, processGroupsCpuMs } from './lib/cpu';
import {
  type ClusterView,
  getJson,
  Harness,
  outputTail,
  type Proc as KitProc,
  requireBundle,
  type RingProcess,
  setBlocked,
  waitSettled as settled,
} from '../testkit';

/** Monotonic milliseconds, the same clock in every thread of this process. */
const mono = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const round1 = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;

const USER_AGENT =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

interface StatsEvent {
  slug: string;
  total: number;
  bots: number;
}

// =======================================================================================
// Worker threads: hold a share of the fan-out sockets

type ToWorker =
  | { type: 'open'; req: number; urls: string[]; cookie: string; slug: string; timeoutMs: number }
  | { type: 'arm'; req: number; target: number }
  | { type: 'collect'; req: number }
  | { type: 'close'; req: number };

interface OpenReply {
  opened: number;
  failed: number;
  errors: Record<string, number>;
  connectMs: number[];
}
interface CollectReply {
  arrivals: Float64Array;
  sockets: number;
  latestMin: number;
  latestMax: number;
  disconnects: Record<string, number>;
  elu: number;
  /** `stats` packets (this link) received by all of this worker's sockets since they opened. */
  events: number;
  /** Since the last `stats` packet arrived. */
  idleMs: number;
  /** Every `stats` packet the worker's first socket got since the last collect: arrival and content. */
  sample: { at: number; json: string }[];
}

function runWorker(): void {
  const port = parentPort!;
  const sockets: Socket[] = [];
  const latest: number[] = [];
  const alive: boolean[] = [];
  let arrivals: number[] = [];
  let target = Infinity;
  let got = 0;
  let armed = 0;
  let eluStart = performance.eventLoopUtilization();
  let events = 0;
  let lastEventAt = mono();
  let sample: { at: number; json: string }[] = [];
  const disconnects: Record<string, number> = {};
  const reply = (req: number, body: unknown, transfer: ArrayBuffer[] = []) => port.postMessage({ req, body }, transfer);

  function openOne(url: string, cookie: string, slug: string, timeoutMs: number): Promise<number> {
    const t0 = mono();
    const s = io(url, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      timeout: timeoutMs,
      extraHeaders: { cookie, origin: url },
    });
    const idx = sockets.length;
    sockets.push(s);
    latest.push(-1);
    alive.push(false);
    arrivals.push(NaN);
    s.on('stats', (st: StatsEvent) => {
      if (st?.slug !== slug) return;
      events++;
      lastEventAt = mono();
      if (idx === 0) sample.push({ at: lastEventAt, json: JSON.stringify(st) });
      if (st.total > latest[idx]!) latest[idx] = st.total;
      if (st.total >= target && Number.isNaN(arrivals[idx]!)) {
        arrivals[idx] = mono();
        if (++got === armed) port.postMessage({ type: 'all' });
      }
    });
    s.on('disconnect', (reason: string) => {
      if (!alive[idx]) return;
      alive[idx] = false;
      disconnects[reason] = (disconnects[reason] ?? 0) + 1;
    });
    return new Promise<number>((resolve, reject) => {
      const fail = (err: Error) => {
        s.close();
        reject(err);
      };
      s.once('connect_error', (err: Error) => fail(new Error(`connect_error: ${err.message}`)));
      s.once('connect', () => {
        s.off('connect_error');
        alive[idx] = true;
        s.timeout(timeoutMs)
          .emitWithAck('subscribe', { slug })
          .then(
            (ack: { ok?: boolean; error?: string }) => {
              if (ack?.ok !== true) return fail(new Error(`subscribe refused: ${ack?.error ?? JSON.stringify(ack)}`));
              resolve(mono() - t0);
            },
            (err: Error) => fail(new Error(`subscribe: ${err.message}`)),
          );
      });
    });
  }

  port.on('message', (m: ToWorker) => {
    void (async () => {
      if (m.type === 'open') {
        const r: OpenReply = { opened: 0, failed: 0, errors: {}, connectMs: [] };
        await Promise.all(
          m.urls.map((url) =>
            openOne(url, m.cookie, m.slug, m.timeoutMs).then(
              (ms) => {
                r.opened++;
                r.connectMs.push(ms);
              },
              (err: Error) => {
                r.failed++;
                const key = err.message.slice(0, 200);
                r.errors[key] = (r.errors[key] ?? 0) + 1;
              },
            ),
          ),
        );
        return reply(m.req, r);
      }
      if (m.type === 'arm') {
        target = m.target;
        arrivals = sockets.map(() => NaN);
        armed = alive.filter(Boolean).length;
        got = 0;
        eluStart = performance.eventLoopUtilization();
        // Already there (should not happen: the click comes after the arm).
        for (let i = 0; i < sockets.length; i++)
          if (alive[i] && latest[i]! >= target) {
            arrivals[i] = mono();
            got++;
          }
        reply(m.req, { armed });
        if (armed > 0 && got === armed) port.postMessage({ type: 'all' });
        return;
      }
      if (m.type === 'collect') {
        const a = new Float64Array(sockets.length);
        let min = Infinity;
        let max = -Infinity;
        let n = 0;
        for (let i = 0; i < sockets.length; i++) {
          a[i] = alive[i] ? arrivals[i]! : -1; // -1: not connected (not counted)
          if (alive[i]) {
            n++;
            min = Math.min(min, latest[i]!);
            max = Math.max(max, latest[i]!);
          }
        }
        const body: CollectReply = {
          arrivals: a,
          sockets: n,
          latestMin: min,
          latestMax: max,
          disconnects: { ...disconnects },
          elu: round2(performance.eventLoopUtilization(eluStart).utilization),
          events,
          idleMs: mono() - lastEventAt,
          sample,
        };
        sample = [];
        return reply(m.req, body, [a.buffer as ArrayBuffer]);
      }
      if (m.type === 'close') {
        for (let i = 0; i < sockets.length; i++) {
          alive[i] = false;
          sockets[i]!.close();
        }
        return reply(m.req, { closed: sockets.length });
      }
    })().catch((err: Error) => port.postMessage({ req: (m as { req: number }).req, error: err.stack ?? err.message }));
  });
}

if (!isMainThread) runWorker();
else await runMain();

// =======================================================================================
// Main thread

async function runMain(): Promise<void> {
  // npm runs scripts from the package root (this file is bundled to node_modules/.cache first).
  const root = process.cwd();
  const require = createRequire(join(root, 'package.json'));

  // -------------------------------------------------------------------------------------
  // Options

  const { values: argv } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'json-out': { type: 'string' },
      only: { type: 'string', default: 'latency,partition,fanout' },
      links: { type: 'string' },
      rate: { type: 'string' },
      seconds: { type: 'string' },
      'partition-seconds': { type: 'string' },
      'partition-rate': { type: 'string' },
      'partition-runs': { type: 'string' },
      sockets: { type: 'string' },
      'fanout-trials': { type: 'string' },
      'fanout-workers': { type: 'string' },
    },
  });
  const quick = argv.quick!;
  const settings = {
    quick,
    nodes: 3,
    links: positiveInt('links', argv.links ?? '10'),
    clickRatePerSecond: positiveInt('rate', argv.rate ?? '1000'),
    clickSeconds: positiveInt('seconds', argv.seconds ?? (quick ? '10' : '20')),
    socketsPerNodeForLatency: 1,
    partition: '{n1} | {n2, n3}',
    partitionSeconds: positiveInt('partition-seconds', argv['partition-seconds'] ?? (quick ? '10' : '30')),
    partitionRatePerSide: positiveInt('partition-rate', argv['partition-rate'] ?? '100'),
    partitionRuns: positiveInt('partition-runs', argv['partition-runs'] ?? (quick ? '1' : '3')),
    convergencePollMs: 50,
    convergenceTimeoutMs: 30_000,
    fanoutSockets: positiveInt('sockets', argv.sockets ?? (quick ? '1000' : '10000')),
    fanoutBatch: 200,
    fanoutTrials: positiveInt('fanout-trials', argv['fanout-trials'] ?? '5'),
    fanoutWorkers: positiveInt('fanout-workers', argv['fanout-workers'] ?? '2'),
    userAgent: USER_AGENT,
    goals: { clickToBrowserP99Ms: 250, convergenceMs: 2_000 },
  };
  const only = new Set(
    argv
      .only!.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  for (const t of only) if (!['latency', 'partition', 'fanout'].includes(t)) usage(`--only: unknown phase ${t}`);

  function positiveInt(name: string, v: string): number {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) usage(`--${name} must be a positive integer (got ${v})`);
    return n;
  }
  function usage(msg: string): never {
    console.error(
      `${msg}\nusage: npm run bench:live -- [--quick] [--json] [--json-out FILE] [--only latency,partition,fanout] [--links 10] [--rate 1000] [--seconds 20] [--partition-seconds 30] [--partition-rate 100] [--partition-runs 3] [--sockets 10000] [--fanout-trials 5] [--fanout-workers 2]`,
    );
    process.exit(2);
  }

  const t0 = performance.now();
  const log = (msg: string) => console.error(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${msg}`);

  // -------------------------------------------------------------------------------------
  // Processes: each node in its own process group, all killed on the way out

  type Proc = KitProc;
  /** Every node's process (group): killed on the way out, and counted as the nodes' CPU. */
  const procs = new Set<Proc>();
  const workers = new Set<Worker>();
  const nodes: RingNode[] = [];
  const agents: http.Agent[] = [];

  const killGroup = (p: Proc) => p.signal('SIGKILL', { evenIfExited: true });

  let stopping = false;
  async function stopAll(): Promise<void> {
    stopping = true;
    if (watchdog) clearInterval(watchdog);
    for (const a of agents) a.destroy();
    await Promise.all([...workers].map((w) => w.terminate().catch(() => 0)));
    workers.clear();
    for (const p of procs) killGroup(p);
    await Promise.all([...procs].map((p) => Promise.race([p.exited, sleep(2000)])));
    procs.clear();
  }
  function killAllNow(): void {
    for (const p of procs) killGroup(p);
  }
  let interrupted = false;
  process.on('exit', killAllNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      if (interrupted) return;
      interrupted = true;
      console.error(`\n${sig}: stopping every process started by the benchmark`);
      void stopAll().finally(() => process.exit(130));
    });
  }
  const warnings: string[] = [];
  /** Membership changes seen by the watchdog (every member's status and liveness as each node sees it), and unexpected exits. */
  const clusterEvents: string[] = [];
  let watchdog: NodeJS.Timeout | undefined;
  function startWatchdog(): void {
    const last = new Map<string, string>();
    let busy = false;
    watchdog = setInterval(() => {
      if (busy) return;
      busy = true;
      void Promise.all(
        nodes.map(async (n) => {
          if (!n.proc.alive) return;
          const v = (await getJson<ClusterView>(`${n.url}/api/cluster`, {}, 2000)).body;
          const view = v.members.map((m) => `${m.name}:${m.status}/${m.liveness}`).join(' ');
          if (last.get(n.name) !== view) {
            if (last.has(n.name))
              clusterEvents.push(
                `${new Date().toISOString()} (${((performance.now() - t0) / 1000).toFixed(1)} s) ${n.name} sees ${view}`,
              );
            last.set(n.name, view);
          }
        }),
      )
        .catch(() => undefined)
        .finally(() => (busy = false));
    }, 1000);
    watchdog.unref();
  }
  process.on('warning', (w) => warnings.push(`${w.name}: ${w.message}`));

  const procOutput = (p: Proc) => outputTail(p);

  // -------------------------------------------------------------------------------------
  // Small helpers

  async function waitFor<T>(
    what: string,
    fn: () => Promise<T | undefined>,
    timeoutMs: number,
    intervalMs = 100,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      if (interrupted) throw new Error('interrupted');
      const dead = nodes.find((n) => !n.proc.alive);
      if (dead) throw new Error(`${dead.name} exited while waiting for ${what}\n${procOutput(dead.proc)}`);
      try {
        const v = await fn();
        if (v !== undefined) return v;
      } catch (err) {
        last = err;
      }
      if (Date.now() > deadline)
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`,
        );
      await sleep(intervalMs);
    }
  }

  function percentile(sorted: ArrayLike<number>, p: number): number {
    if (sorted.length === 0) return NaN;
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  }
  function summarize(values: number[]): {
    n: number;
    p50: number;
    p90: number;
    p99: number;
    max: number;
    min: number;
    mean: number;
  } {
    const s = Float64Array.from(values).sort();
    const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN;
    return {
      n: s.length,
      min: round1(s[0] ?? NaN),
      p50: round1(percentile(s, 50)),
      p90: round1(percentile(s, 90)),
      p99: round1(percentile(s, 99)),
      max: round1(s[s.length - 1] ?? NaN),
      mean: round1(mean),
    };
  }

  // CPU accounting: the machine's busy time, this process's (threads included), the nodes'.
  interface CpuSnapshot {
    at: number;
    busyMs: number;
    totalMs: number;
    selfMs: number;
    nodesMs: number;
  }
  function cpuSnapshot(): CpuSnapshot {
    const { busyMs, totalMs } = machineCpuTimes();
    const self = process.cpuUsage();
    const nodesMs = processGroupsCpuMs(new Set([...procs].map((p) => p.pid)));
    return { at: performance.now(), busyMs, totalMs, selfMs: (self.user + self.system) / 1000, nodesMs };
  }
  /** Shares of the whole machine (all cores, 0-1) over the interval. */
  function cpuSince(before: CpuSnapshot): {
    nodes: number;
    bench: number;
    others: number;
    wallSeconds: number;
    nodesCpuMs: number;
    benchCpuMs: number;
  } {
    const now = cpuSnapshot();
    const total = now.totalMs - before.totalMs;
    const nodesMs = now.nodesMs - before.nodesMs;
    const selfMs = now.selfMs - before.selfMs;
    if (total <= 0)
      return {
        nodes: 0,
        bench: 0,
        others: 0,
        wallSeconds: 0,
        nodesCpuMs: Math.round(nodesMs),
        benchCpuMs: Math.round(selfMs),
      };
    return {
      nodes: round2(nodesMs / total),
      bench: round2(selfMs / total),
      others: round2(Math.max(0, (now.busyMs - before.busyMs - nodesMs - selfMs) / total)),
      wallSeconds: round1((now.at - before.at) / 1000),
      nodesCpuMs: Math.round(nodesMs),
      benchCpuMs: Math.round(selfMs),
    };
  }
  async function cpuBusy(ms: number): Promise<number> {
    const a = cpuSnapshot();
    await sleep(ms);
    const b = cpuSnapshot();
    return b.totalMs > a.totalMs ? round2((b.busyMs - a.busyMs) / (b.totalMs - a.totalMs)) : 0;
  }

  /** The bench process's own event-loop delay over a phase (how late this process could notice a packet). */
  function loopMonitor() {
    const h = monitorEventLoopDelay({ resolution: 5 });
    h.enable();
    return () => {
      h.disable();
      return {
        p50Ms: round1(h.percentile(50) / 1e6),
        p99Ms: round1(h.percentile(99) / 1e6),
        maxMs: round1(h.max / 1e6),
      };
    };
  }

  function fdLimit(pid: number | 'self'): { soft: number; hard: number } | null {
    try {
      const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
        .split('\n')
        .find((l) => l.startsWith('Max open files'));
      const m = line ? /Max open files\s+(\S+)\s+(\S+)/.exec(line) : null;
      return m ? { soft: Number(m[1]), hard: Number(m[2]) } : null;
    } catch {
      return null;
    }
  }
  function openFds(pid: number | 'self'): number {
    try {
      return readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      return -1;
    }
  }

  // -------------------------------------------------------------------------------------
  // The cluster

  interface RingNode {
    name: string;
    port: number;
    url: string;
    proc: RingProcess;
    agent: http.Agent;
  }
  /**
   * The nodes: production settings (testkit's bench profile), the test hooks on (partitions
   * through the fault hook), no create limit; each in its own process group, source maps on.
   */
  const ringlink = new Harness({
    profile: 'bench',
    adminToken: `bench-live-${randomBytes(12).toString('hex')}`,
    group: true,
    logBytes: 256 * 1024,
    nodeArgs: ['--enable-source-maps'],
    env: { RATE_LIMIT_CREATE_PER_MIN: '0', RINGLINK_TEST_FAULTS: '1' },
    onExit: (q) => {
      if (stopping) return;
      // Exit code 1 without output: the node's SIGTERM handler gave up a graceful leave after
      // LEAVE_TIMEOUT_MS (2 min).
      const at = `${new Date().toISOString()} (${((performance.now() - t0) / 1000).toFixed(1)} s)`;
      clusterEvents.push(`${at} ringlink ${q.name} exited: ${q.describeExit()}`);
    },
  });

  async function startCluster(): Promise<void> {
    const t = performance.now();
    requireBundle('npm run bench:live builds it');
    const names = Array.from({ length: settings.nodes }, (_, i) => `n${i + 1}`);
    // One at a time: each joins a settled ring.
    const start = { oneAtATime: true, readyTimeoutMs: 60_000, settleTimeoutMs: 120_000 };
    const started = await ringlink.startCluster(names, start);
    for (const proc of started) {
      procs.add(proc);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
      agents.push(agent);
      nodes.push({ name: proc.name, port: proc.port, url: proc.url, proc, agent });
    }
    await waitSettled(120_000);
    log(
      `cluster: ${nodes.length} nodes ready and the ring settled in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
  }

  /** Until every node sees every member valid and alive, no partition moving, no handoff, the same owners (ms). */
  async function waitSettled(timeoutMs: number): Promise<number> {
    const t = performance.now();
    await settled(
      nodes.map((n) => n.proc),
      timeoutMs,
      { noHandoffs: true, casCaughtUp: false },
    );
    return performance.now() - t;
  }

  async function metric(node: RingNode, name: string): Promise<number> {
    const r = await getJson<string>(`${node.url}/metrics`);
    const line = String(r.body)
      .split('\n')
      .find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return Number(line?.split(' ').pop());
  }
  async function rssMiB(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const n of nodes) out[n.name] = round1((await metric(n, 'process_resident_memory_bytes')) / 2 ** 20);
    return out;
  }

  // -------------------------------------------------------------------------------------
  // The session and its links

  let cookie = '';
  async function createLink(
    via: RingNode,
    url: string,
    timeoutMs = 10_000,
  ): Promise<{ status: number; slug?: string; body: string }> {
    const res = await fetch(`${via.url}/api/links`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: via.url, ...(cookie ? { cookie } : {}) },
      body: JSON.stringify({ url }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    const set = res.headers
      .getSetCookie()
      .map((c) => c.split(';', 1)[0]!)
      .find((c) => c.startsWith('rl_sid='));
    if (res.status === 201) {
      if (!cookie) {
        if (!set)
          throw new Error(
            `POST /api/links set no rl_sid cookie (set-cookie: ${JSON.stringify(res.headers.getSetCookie())})`,
          );
        cookie = set;
      } else if (set && set !== cookie)
        throw new Error(
          `POST /api/links with ${cookie} set another session cookie ${set}: the links would not share an owner`,
        );
    }
    let slug: string | undefined;
    try {
      slug = (JSON.parse(text) as { slug?: string }).slug;
    } catch {
      // not JSON
    }
    return { status: res.status, ...(slug ? { slug } : {}), body: text };
  }

  /** Compare-and-set (slug claims) serves once every acceptor caught up after the joins: creates until one is quick through every node. */
  async function warmCreates(): Promise<number> {
    const t = performance.now();
    let n = 0;
    await waitFor(
      'creates to be quick (< 200 ms) through every node',
      async () => {
        for (const node of nodes) {
          const s = performance.now();
          const r = await createLink(node, `https://example.com/warm/${n++}`, 5_000).catch(() => ({ status: 0 }));
          if (r.status !== 201 || performance.now() - s > 200) return undefined;
        }
        return true;
      },
      60_000,
      200,
    );
    return performance.now() - t;
  }

  async function createLinks(count: number, tag: string): Promise<string[]> {
    const slugs: string[] = [];
    for (let i = 0; i < count; i++) {
      const via = nodes[i % nodes.length]!;
      const r = await waitFor(
        `a create through ${via.name}`,
        async () => {
          const x = await createLink(via, `https://example.com/live/${tag}/${i}`);
          if (x.status === 201 && x.slug) return x;
          if (x.status >= 400 && x.status < 500 && x.status !== 429 && x.status !== 409)
            throw new Error(`POST /api/links on ${via.name} answered ${x.status}: ${x.body.slice(0, 300)}`);
          return undefined;
        },
        30_000,
        200,
      );
      slugs.push(r.slug!);
    }
    return slugs;
  }

  async function statsTotal(node: RingNode, slug: string, timeoutMs = 2000): Promise<number> {
    const r = await getJson<{ total?: number }>(`${node.url}/api/links/${slug}/stats`, { cookie }, timeoutMs);
    if (r.status !== 200 || typeof r.body.total !== 'number')
      throw new Error(
        `GET /api/links/${slug}/stats on ${node.name} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`,
      );
    return r.body.total;
  }

  /** A link's channel owner candidates: the primaries of its view counter (`views/<slug>`), first reachable one publishes. */
  async function channelPrimaries(slug: string): Promise<{ partition: number; primaries: string[] }> {
    await initHash();
    const v = (
      await getJson<{ ring: { size: number; nVal: number; partitions: { owner: string | null }[] } }>(
        `${nodes[0]!.url}/api/cluster`,
      )
    ).body;
    const partition = partitionOf(`views/${slug}`, v.ring.size);
    return {
      partition,
      primaries: walk(
        v.ring.partitions.map((p) => p.owner ?? ''),
        partition,
        v.ring.nVal,
      ),
    };
  }

  // -------------------------------------------------------------------------------------
  // Clicks: a paced HTTP/1.1 keep-alive client

  interface Click {
    link: number;
    node: number;
    sentAt: number;
    scheduledAt: number;
    status: number;
    doneAt: number;
    error?: string;
  }

  function click(node: RingNode, slug: string, c: Click): Promise<Click> {
    return new Promise((resolve) => {
      c.sentAt = mono();
      const req = http.request(
        {
          host: '127.0.0.1',
          port: node.port,
          path: `/${slug}`,
          method: 'GET',
          agent: node.agent,
          headers: { 'user-agent': USER_AGENT },
        },
        (res) => {
          c.status = res.statusCode ?? 0;
          c.doneAt = mono();
          res.resume();
          resolve(c);
        },
      );
      req.setTimeout(10_000, () => req.destroy(new Error('timeout after 10 s')));
      req.on('error', (err) => {
        if (c.status === 0) {
          c.status = -1;
          c.error = err.message;
          c.doneAt = mono();
          resolve(c);
        }
      });
      req.end();
    });
  }

  interface Stream {
    /** Clicks per second. */
    rate: number;
    /** Which node and link the i-th click of this stream goes to. */
    pick(i: number): { node: number; link: number };
  }
  interface LoadResult {
    clicks: Click[][];
    seconds: number;
    sent: number;
    served302: number;
    statuses: Record<string, number>;
    errors: Record<string, number>;
    achievedPerSecond: number;
    answeredPerSecond: number;
    slipMs: ReturnType<typeof summarize>;
    httpMs: ReturnType<typeof summarize>;
    maxInFlight: number;
  }

  /** Paced clicks on every stream for `seconds` (or until `stop()`); every response awaited. */
  function runLoad(
    slugs: string[],
    streams: Stream[],
    seconds: number,
  ): { done: Promise<LoadResult>; stop: () => void } {
    const clicks: Click[][] = streams.map(() => []);
    const pending = new Set<Promise<Click>>();
    let stopped = false;
    let maxInFlight = 0;
    const start = mono();
    const end = start + seconds * 1000;
    const done = (async () => {
      for (;;) {
        const now = mono();
        const until = Math.min(now, end);
        for (const [s, stream] of streams.entries()) {
          const due = Math.floor(((until - start) * stream.rate) / 1000) + 1;
          const list = clicks[s]!;
          while (list.length < due && list.length < Math.round(stream.rate * seconds)) {
            const i = list.length;
            const { node, link } = stream.pick(i);
            const c: Click = {
              link,
              node,
              sentAt: 0,
              scheduledAt: start + (i * 1000) / stream.rate,
              status: 0,
              doneAt: 0,
            };
            list.push(c);
            const p = click(nodes[node]!, slugs[link]!, c);
            pending.add(p);
            void p.then(() => pending.delete(p));
          }
        }
        maxInFlight = Math.max(maxInFlight, pending.size);
        if (stopped || now >= end) break;
        await sleep(1);
      }
      const stoppedAt = Math.min(mono(), end);
      await Promise.all(pending);
      const all = clicks.flat();
      const statuses: Record<string, number> = {};
      const errors: Record<string, number> = {};
      for (const c of all) {
        statuses[c.status] = (statuses[c.status] ?? 0) + 1;
        if (c.error) errors[c.error] = (errors[c.error] ?? 0) + 1;
      }
      const secs = (stoppedAt - start) / 1000;
      const served302 = all.filter((c) => c.status === 302).length;
      const lastDone = Math.max(...all.map((c) => c.doneAt));
      return {
        clicks,
        seconds: round2(secs),
        sent: all.length,
        served302,
        statuses,
        errors,
        achievedPerSecond: Math.round(all.length / secs),
        answeredPerSecond: Math.round(served302 / ((lastDone - start) / 1000)),
        slipMs: summarize(all.map((c) => c.sentAt - c.scheduledAt)),
        httpMs: summarize(all.filter((c) => c.status > 0).map((c) => c.doneAt - c.sentAt)),
        maxInFlight,
      };
    })();
    return { done, stop: () => void (stopped = true) };
  }

  // -------------------------------------------------------------------------------------
  // Sockets in this thread (phases 1 and 2)

  interface Watcher {
    node: number;
    socket: Socket;
    /** Per link: every stats event (arrival, total) while recording. */
    events: { at: number; total: number }[][];
    latest: number[];
    /** Per link: when `latest` last changed. */
    latestAt: number[];
    disconnects: string[];
    recording: boolean;
  }

  async function openWatcher(nodeIndex: number, slugs: string[]): Promise<Watcher> {
    const node = nodes[nodeIndex]!;
    const index = new Map(slugs.map((s, i) => [s, i]));
    const socket = io(node.url, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      timeout: 10_000,
      extraHeaders: { cookie, origin: node.url },
    });
    const w: Watcher = {
      node: nodeIndex,
      socket,
      events: slugs.map(() => []),
      latest: slugs.map(() => -1),
      latestAt: slugs.map(() => 0),
      disconnects: [],
      recording: false,
    };
    socket.on('stats', (st: StatsEvent) => {
      const at = mono();
      const i = index.get(st?.slug);
      if (i === undefined || typeof st.total !== 'number') return;
      if (w.recording) w.events[i]!.push({ at, total: st.total });
      if (st.total !== w.latest[i]) {
        w.latest[i] = st.total;
        w.latestAt[i] = at;
      }
    });
    socket.on('disconnect', (reason: string) => w.disconnects.push(`${new Date().toISOString()} ${reason}`));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (err: Error) => reject(new Error(`socket to ${node.name}: ${err.message}`)));
    });
    for (const slug of slugs) {
      const ack = (await socket.timeout(10_000).emitWithAck('subscribe', { slug })) as { ok?: boolean; error?: string };
      if (ack?.ok !== true) throw new Error(`subscribe ${slug} on ${node.name} refused: ${JSON.stringify(ack)}`);
    }
    return w;
  }

  // -------------------------------------------------------------------------------------
  // Phase 1: click-to-browser latency

  const served = new Map<string, number>(); // slug → 302s served so far (every click of the benchmark)
  const addServed = (slug: string, n: number) => served.set(slug, (served.get(slug) ?? 0) + n);

  async function phaseLatency(slugs: string[], watchers: Watcher[]) {
    const L = slugs.length;
    const N = nodes.length;
    // Warm-up: every node serves every link a few times (its link cache), then everything settles.
    const warm = runLoad(
      slugs,
      [{ rate: 200, pick: (i) => ({ node: i % N, link: i % L }) }],
      Math.max(1, Math.ceil((N * L * 3) / 200)),
    );
    const w = await warm.done;
    for (const c of w.clicks.flat()) if (c.status === 302) addServed(slugs[c.link]!, 1);
    if (w.served302 !== w.sent)
      throw new Error(
        `warm-up: ${w.sent - w.served302} of ${w.sent} clicks were not 302: ${JSON.stringify(w.statuses)} ${JSON.stringify(w.errors)}`,
      );
    await waitFor(
      'every socket to see the warm-up totals',
      async () => (watchers.every((x) => slugs.every((s, i) => x.latest[i] === served.get(s))) ? true : undefined),
      15_000,
      20,
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}: sockets saw ${JSON.stringify(watchers.map((x) => x.latest))}, served ${JSON.stringify(slugs.map((s) => served.get(s)))}`,
      );
    });
    await sleep(1000); // trailing publishes of the warm-up
    const base = slugs.map((s) => served.get(s)!);

    log(
      `latency: ${settings.clickRatePerSecond} clicks/s for ${settings.clickSeconds} s over ${N} nodes and ${L} links; ${watchers.length} sockets (${watchers.map((x) => nodes[x.node]!.name).join(', ')}) subscribed to every link`,
    );
    for (const x of watchers) {
      x.recording = true;
      x.events = slugs.map(() => []);
    }
    const cpu0 = cpuSnapshot();
    const loop = loopMonitor();
    const load = runLoad(
      slugs,
      [{ rate: settings.clickRatePerSecond, pick: (i) => ({ node: i % N, link: i % L }) }],
      settings.clickSeconds,
    );
    const r = await load.done;
    const loadLoop = loop();
    const cpu = cpuSince(cpu0);
    for (const c of r.clicks.flat()) if (c.status === 302) addServed(slugs[c.link]!, 1);
    log(
      `latency: sent ${r.sent} clicks in ${r.seconds} s (${r.achievedPerSecond}/s asked ${settings.clickRatePerSecond}/s), ${r.served302} answered 302, HTTP p99 ${r.httpMs.p99} ms; waiting for the sockets to see the final totals`,
    );
    const tDrain = mono();
    const drained = await waitFor(
      'final totals on every socket',
      async () => (watchers.every((x) => slugs.every((s, i) => x.latest[i]! >= served.get(s)!)) ? true : undefined),
      10_000,
      10,
    ).then(
      () => true,
      () => false,
    );
    const drainMs = mono() - tDrain;
    await sleep(500); // the trailing publish
    for (const x of watchers) x.recording = false;

    // Click ordinals per link: send order, only 302s.
    const byLink: Click[][] = slugs.map(() => []);
    for (const c of r.clicks[0]!) if (c.status === 302) byLink[c.link]!.push(c);
    for (const list of byLink) list.sort((a, b) => a.sentAt - b.sentAt);
    const latencies: number[] = [];
    const perSocket: { node: string; p50: number; p99: number; max: number; events: number; missing: number }[] = [];
    let missing = 0;
    let negative = 0;
    let overCount = 0;
    for (const x of watchers) {
      const mine: number[] = [];
      let mineMissing = 0;
      let events = 0;
      for (let li = 0; li < L; li++) {
        const ev = x.events[li]!;
        events += ev.length;
        const prefixMax: number[] = [];
        let m = -Infinity;
        for (const e of ev) prefixMax.push((m = Math.max(m, e.total)));
        if (m > base[li]! + byLink[li]!.length) overCount++;
        for (const [k, c] of byLink[li]!.entries()) {
          const want = base[li]! + k + 1;
          let lo = 0;
          let hi = prefixMax.length;
          while (lo < hi) {
            const mid = (lo + hi) >> 1;
            if (prefixMax[mid]! >= want) hi = mid;
            else lo = mid + 1;
          }
          if (lo === prefixMax.length) {
            mineMissing++;
            continue;
          }
          const ms = ev[lo]!.at - c.sentAt;
          if (ms < 0) negative++;
          mine.push(ms);
        }
      }
      missing += mineMissing;
      latencies.push(...mine);
      const s = summarize(mine);
      perSocket.push({ node: nodes[x.node]!.name, p50: s.p50, p99: s.p99, max: s.max, events, missing: mineMissing });
    }
    const lat = summarize(latencies);
    const finalTotals = watchers.map((x) => ({
      node: nodes[x.node]!.name,
      exact: slugs.every((s, i) => x.latest[i] === served.get(s)),
    }));
    log(
      `latency: click-to-browser p50 ${lat.p50} ms, p99 ${lat.p99} ms, max ${lat.max} ms over ${lat.n} (click, socket) pairs; ${missing} never showed up`,
    );
    return {
      clicksAsked: settings.clickRatePerSecond * settings.clickSeconds,
      askedPerSecond: settings.clickRatePerSecond,
      load: {
        seconds: r.seconds,
        sent: r.sent,
        served302: r.served302,
        statuses: r.statuses,
        errors: r.errors,
        achievedPerSecond: r.achievedPerSecond,
        answeredPerSecond: r.answeredPerSecond,
        sendSlipMs: r.slipMs,
        httpLatencyMs: r.httpMs,
        maxInFlight: r.maxInFlight,
      },
      clickToBrowserMs: lat,
      pairs: lat.n,
      missingPairs: missing,
      /** Pairs whose covering event arrived before the click was sent (ordinal attribution across nodes: should be 0). */
      negativePairs: negative,
      /** Sockets × links whose stats total exceeded the clicks served (double counting). */
      overCounted: overCount,
      perSocket,
      finalTotalsExact: finalTotals,
      drainedWithin10s: drained,
      drainMs: Math.round(drainMs),
      cpu,
      benchEventLoopDelay: loadLoop,
      goalP99Ms: settings.goals.clickToBrowserP99Ms,
      goalMet: lat.p99 <= settings.goals.clickToBrowserP99Ms && missing === 0,
    };
  }

  // -------------------------------------------------------------------------------------
  // Phase 2: convergence after a partition heals

  async function phasePartition(slugs: string[], watchers: Watcher[], run: number) {
    const L = slugs.length;
    const [n1, n2, n3] = nodes as [RingNode, RingNode, RingNode];
    const settleMs = await waitSettled(120_000);
    // Every node agrees on every total before the partition.
    await waitFor(
      'exact totals on every node before the partition',
      async () => {
        for (const n of nodes) for (const s of slugs) if ((await statsTotal(n, s)) !== served.get(s)) return undefined;
        return true;
      },
      20_000,
      100,
    );
    log(
      `partition run ${run}: {n1} | {n2, n3} for ${settings.partitionSeconds} s, ${settings.partitionRatePerSide} clicks/s on each side, the same ${L} links`,
    );
    await Promise.all([setBlocked(n1.proc, ['n2', 'n3']), setBlocked(n2.proc, ['n1']), setBlocked(n3.proc, ['n1'])]);
    const partitionedAt = mono();
    const cpu0 = cpuSnapshot();
    const load = runLoad(
      slugs,
      [
        { rate: settings.partitionRatePerSide, pick: (i) => ({ node: 0, link: i % L }) },
        { rate: settings.partitionRatePerSide, pick: (i) => ({ node: 1 + (i % 2), link: Math.floor(i / 2) % L }) },
      ],
      settings.partitionSeconds,
    );
    // Meanwhile: what a stats read answers on each side (n1 alone has no read quorum).
    const duringReads: Record<string, Record<string, number>> = {};
    const probe = (async () => {
      while (mono() - partitionedAt < settings.partitionSeconds * 1000 - 1000) {
        await sleep(2000);
        for (const n of nodes) {
          const k = await statsTotal(n, slugs[0]!, 1500).then(
            () => '200',
            (err: Error) =>
              /answered (\d+)/.exec(err.message)?.[1] ?? (err.name === 'TimeoutError' ? 'timeout' : 'error'),
          );
          const m = (duringReads[n.name] ??= {});
          m[k] = (m[k] ?? 0) + 1;
        }
      }
    })();
    const r = await load.done;
    await probe;
    const cpu = cpuSince(cpu0);
    for (const c of r.clicks.flat()) if (c.status === 302) addServed(slugs[c.link]!, 1);
    const side = (s: number) => {
      const list = r.clicks[s]!;
      const statuses: Record<string, number> = {};
      for (const c of list) statuses[c.status] = (statuses[c.status] ?? 0) + 1;
      return {
        sent: list.length,
        served302: list.filter((c) => c.status === 302).length,
        statuses,
        httpMs: summarize(list.filter((c) => c.status > 0).map((c) => c.doneAt - c.sentAt)),
      };
    };
    const sides = { n1: side(0), 'n2+n3': side(1) };
    log(
      `partition run ${run}: clicks stopped (n1 side ${sides.n1.served302}/${sides.n1.sent} 302, n2+n3 side ${sides['n2+n3'].served302}/${sides['n2+n3'].sent} 302); healing`,
    );

    // Heal, then poll every node for every link every 50 ms.
    const healAt = mono();
    await Promise.all(nodes.map((n) => setBlocked(n.proc, [])));
    const healRequestMs = mono() - healAt;
    const want = slugs.map((s) => served.get(s)!);
    const firstExact = new Map<string, number>(); // node/link → ms after the heal
    let convergedMs: number | null = null;
    let convergedRoundStartMs: number | null = null;
    let rounds = 0;
    let regressed = 0;
    let overCount = 0;
    const lastSeen: Record<string, (number | string)[]> = {};
    let stableUntil = Infinity;
    for (let round = 0; ; round++) {
      const roundStart = mono();
      if (roundStart - healAt > settings.convergenceTimeoutMs || roundStart > stableUntil) break;
      rounds++;
      const results = await Promise.all(
        nodes.flatMap((n) =>
          slugs.map(async (s, i) => {
            const v = await statsTotal(n, s, 2000).catch((err: Error) =>
              /answered (\d+)/.exec(err.message)?.[1]
                ? `http ${/answered (\d+)/.exec(err.message)![1]}`
                : err.name === 'TimeoutError'
                  ? 'timeout'
                  : 'error',
            );
            (lastSeen[n.name] ??= [])[i] = v;
            const ok = v === want[i];
            if (typeof v === 'number' && v > want[i]!) overCount++;
            const key = `${n.name}/${s}`;
            if (ok && !firstExact.has(key)) firstExact.set(key, mono() - healAt);
            return ok;
          }),
        ),
      );
      const all = results.every(Boolean);
      if (convergedMs === null && all) {
        convergedMs = mono() - healAt;
        convergedRoundStartMs = roundStart - healAt;
        stableUntil = mono() + 1000; // keep polling 1 s: totals must stay exact
      } else if (convergedMs !== null && !all) regressed++;
      const next = roundStart + settings.convergencePollMs;
      const wait = next - mono();
      if (wait > 0) await sleep(wait);
    }
    // The sockets: when each saw the final total of every link.
    const socketsExact = await waitFor(
      'every socket to see the final totals',
      async () => (watchers.every((x) => slugs.every((s, i) => x.latest[i] === served.get(s))) ? true : undefined),
      10_000,
      20,
    ).then(
      () => true,
      () => false,
    );
    const socketsMs = socketsExact ? Math.max(...watchers.flatMap((x) => x.latestAt.map((t) => t - healAt))) : null;
    const staleSockets: {
      socketOn: string;
      slug: string;
      saw: number;
      want: number;
      lastPacketMsAfterHeal: number;
      viewCounterPrimaries: string[];
    }[] = [];
    if (!socketsExact) {
      for (const x of watchers)
        for (const [i, slug] of slugs.entries())
          if (x.latest[i] !== want[i])
            staleSockets.push({
              socketOn: nodes[x.node]!.name,
              slug,
              saw: x.latest[i]!,
              want: want[i]!,
              lastPacketMsAfterHeal: Math.round(x.latestAt[i]! - healAt),
              viewCounterPrimaries: (await channelPrimaries(slug)).primaries,
            });
      log(
        `partition run ${run}: sockets still stale 10 s after the heal: ${staleSockets.map((x) => `socket on ${x.socketOn}, link ${x.slug} (view counter primaries ${x.viewCounterPrimaries.join(',')}): saw ${x.saw}, want ${x.want}, last packet ${x.lastPacketMsAfterHeal} ms after the heal`).join('; ')}`,
      );
    }
    // Does one more click on each stale link bring its sockets up to date?
    let staleRecovery: { clicked: string[]; exactAfterMs: number | null } | undefined;
    if (staleSockets.length > 0) {
      const stale = [...new Set(staleSockets.map((x) => x.slug))];
      const tr = mono();
      for (const slug of stale) {
        const c = await click(n2, slug, {
          link: slugs.indexOf(slug),
          node: 1,
          sentAt: 0,
          scheduledAt: 0,
          status: 0,
          doneAt: 0,
        });
        if (c.status === 302) addServed(slug, 1);
      }
      const ok = await waitFor(
        'stale sockets to catch up after one more click',
        async () => (watchers.every((x) => slugs.every((s, i) => x.latest[i] === served.get(s))) ? true : undefined),
        5_000,
        20,
      ).then(
        () => true,
        () => false,
      );
      staleRecovery = { clicked: stale, exactAfterMs: ok ? Math.round(mono() - tr) : null };
      log(
        `partition run ${run}: one more click on each stale link (through n2): every socket ${ok ? `exact ${staleRecovery.exactAfterMs} ms later` : 'STILL not exact after 5 s'}`,
      );
    }
    const perNodeMs: Record<string, number | null> = {};
    for (const n of nodes) {
      const times = slugs.map((s) => firstExact.get(`${n.name}/${s}`));
      perNodeMs[n.name] = times.every((t) => t !== undefined) ? Math.round(Math.max(...(times as number[]))) : null;
    }
    log(
      `partition run ${run}: ${convergedMs === null ? `NOT converged within ${settings.convergenceTimeoutMs} ms` : `every node exact ${Math.round(convergedMs)} ms after the heal`}; sockets ${socketsMs === null ? 'NOT all exact' : `exact after ${Math.round(socketsMs)} ms`}`,
    );
    return {
      run,
      partitionSeconds: settings.partitionSeconds,
      settleBeforeMs: Math.round(settleMs),
      sides,
      servedTotal: r.served302,
      statsReadsDuringPartition: duringReads,
      healRequestMs: Math.round(healRequestMs),
      /** Heal to the end of the first poll round in which every node reported every link's exact total. */
      convergedMs: convergedMs === null ? null : Math.round(convergedMs),
      /** The same, to the start of that round (a lower bound). */
      convergedRoundStartMs: convergedRoundStartMs === null ? null : Math.round(convergedRoundStartMs),
      perNodeMs,
      pollRounds: rounds,
      roundsNotExactAfterConvergence: regressed,
      overCountedReads: overCount,
      lastSeen: convergedMs === null ? lastSeen : undefined,
      expected: convergedMs === null ? want : undefined,
      socketsExactMs: socketsMs === null ? null : Math.round(socketsMs),
      /** When some socket did not see the final totals within 10 s: what each socket saw last, per link, against the 302s served. */
      staleSockets,
      staleRecovery,
      socketsLastSeen: socketsExact
        ? undefined
        : watchers.map((x) => ({
            node: nodes[x.node]!.name,
            connected: x.socket.connected,
            latest: [...x.latest],
            lastChangeMsAfterHeal: x.latestAt.map((t) => Math.round(t - healAt)),
          })),
      socketsExpected: socketsExact ? undefined : want,
      cpu,
      goalMs: settings.goals.convergenceMs,
      goalMet: convergedMs !== null && convergedMs <= settings.goals.convergenceMs,
    };
  }

  // -------------------------------------------------------------------------------------
  // Phase 3: fan-out to many sockets, held by worker threads

  async function phaseFanout() {
    const want = settings.fanoutSockets;
    const selfLimit = fdLimit('self');
    const nodeLimits = Object.fromEntries(nodes.map((n) => [n.name, fdLimit(n.proc.pid!)]));
    const portRange = (() => {
      try {
        return readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
      } catch {
        return null;
      }
    })();
    const limitNotes: string[] = [];
    let target = want;
    // Every client socket is one fd here (worker threads share the process's table), plus a margin.
    if (selfLimit && selfLimit.soft < want + 512) {
      target = Math.max(0, selfLimit.soft - 512);
      limitNotes.push(
        `the bench process's fd limit (ulimit -n) is ${selfLimit.soft}: at most ${target} sockets (asked ${want})`,
      );
    }
    for (const [name, l] of Object.entries(nodeLimits))
      if (l && l.soft < Math.ceil(target / nodes.length) + 512)
        limitNotes.push(`${name}'s fd limit ${l.soft} is below its share of sockets`);
    if (
      portRange &&
      portRange.length === 2 &&
      portRange[1]! - portRange[0]! + 1 < Math.ceil(target / nodes.length) + 1000
    )
      limitNotes.push(
        `the ephemeral port range ${portRange.join('-')} is small for ${Math.ceil(target / nodes.length)} connections per node`,
      );

    const [slug] = await createLinks(1, 'fanout');
    served.set(slug!, 0);
    const rssBefore = await rssMiB();
    const W = Math.max(1, settings.fanoutWorkers);
    type Pending = { resolve: (v: any) => void; reject: (e: Error) => void };
    const pend = new Map<number, Pending>();
    let reqId = 0;
    let allWaiters: (() => void) | undefined;
    let allCount = 0;
    const ws: Worker[] = [];
    for (let i = 0; i < W; i++) {
      const w = new Worker(new URL(import.meta.url));
      workers.add(w);
      ws.push(w);
      w.on('message', (m: { req?: number; body?: unknown; error?: string; type?: string }) => {
        if (m.type === 'all') {
          allCount++;
          allWaiters?.();
          return;
        }
        const p = pend.get(m.req!);
        if (!p) return;
        pend.delete(m.req!);
        if (m.error) p.reject(new Error(`worker: ${m.error}`));
        else p.resolve(m.body);
      });
      w.on('error', (err) => {
        for (const p of pend.values()) p.reject(err);
        pend.clear();
      });
    }
    const call = <T>(w: Worker, msg: Record<string, unknown>): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        const req = ++reqId;
        pend.set(req, { resolve, reject });
        w.postMessage({ ...msg, req });
      });
    /** Worker 0's first socket's packets, gathered over collects until taken. */
    let sampled: { at: number; json: string }[] = [];
    const collectAll = async (): Promise<CollectReply[]> => {
      const r = await Promise.all(ws.map((w) => call<CollectReply>(w, { type: 'collect' })));
      sampled.push(...r[0]!.sample);
      return r;
    };
    const takeSample = () => {
      const x = sampled;
      sampled = [];
      return x;
    };

    try {
      // Open: batches of 200 at a time, spread over the nodes and the workers.
      log(
        `fan-out: opening ${target} sockets (${settings.fanoutBatch} at a time, ${W} worker threads) subscribed to ${slug}`,
      );
      const connectMs: number[] = [];
      const errors: Record<string, number> = {};
      let opened = 0;
      let failed = 0;
      let consecutiveFailedBatches = 0;
      let stopReason: string | null = null;
      const tOpen = mono();
      const loop = loopMonitor();
      const cpu0 = cpuSnapshot();
      for (let start = 0; start < target; start += settings.fanoutBatch) {
        if (interrupted) throw new Error('interrupted');
        const n = Math.min(settings.fanoutBatch, target - start);
        const urls: string[][] = ws.map(() => []);
        for (let j = 0; j < n; j++) urls[j % W]!.push(nodes[(start + j) % nodes.length]!.url);
        const replies = await Promise.all(
          ws.map((w, i) =>
            call<OpenReply>(w, { type: 'open', urls: urls[i]!, cookie, slug: slug!, timeoutMs: 20_000 }),
          ),
        );
        let batchFailed = 0;
        for (const r of replies) {
          opened += r.opened;
          failed += r.failed;
          batchFailed += r.failed;
          connectMs.push(...r.connectMs);
          for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
        }
        if ((start / settings.fanoutBatch) % 10 === 9 || start + n >= target)
          log(`fan-out: ${opened} open, ${failed} failed (${((mono() - tOpen) / 1000).toFixed(1)} s)`);
        consecutiveFailedBatches = batchFailed === n ? consecutiveFailedBatches + 1 : 0;
        if (consecutiveFailedBatches >= 3) {
          stopReason = `3 batches in a row failed entirely (errors: ${JSON.stringify(errors)})`;
          break;
        }
      }
      const openSeconds = (mono() - tOpen) / 1000;
      const openCpu = cpuSince(cpu0);
      const openLoop = loop();
      const rssConnected = await rssMiB();
      log(
        `fan-out: ${opened} sockets open and subscribed in ${openSeconds.toFixed(1)} s (${failed} failed); node RSS ${JSON.stringify(rssConnected)} MiB`,
      );

      // The idle cost of holding the sockets (pings, gossip, the watchdog): the baseline of the per-click CPU figures.
      await sleep(1000);
      const idle0 = cpuSnapshot();
      await sleep(3000);
      const idle = cpuSince(idle0);
      const idleCpuMsPerSecond = {
        nodes: Math.round(idle.nodesCpuMs / idle.wallSeconds),
        bench: Math.round(idle.benchCpuMs / idle.wallSeconds),
      };

      // Trials: arm every worker with the next total, one click, wait for every socket.
      const trials = [];
      const allArrivals: number[] = [];
      const cpuTrials0 = cpuSnapshot();
      let total = 0;
      for (let t = 0; t < settings.fanoutTrials; t++) {
        if (interrupted) throw new Error('interrupted');
        // Every worker idle first (the last trial's packets, trailing publishes included, all handled).
        const quietMs = 600;
        let pre = await collectAll();
        const tQuiet = mono();
        while (pre.some((r) => r.idleMs < quietMs) && mono() - tQuiet < 30_000) {
          await sleep(100);
          pre = await collectAll();
        }
        const eventsNow = pre.reduce((a, r) => a + r.events, 0);
        const prev = trials[trials.length - 1];
        if (prev) {
          prev.statsPacketsPerSocket = round2((eventsNow - prev.eventsAtArm) / Math.max(1, prev.sockets));
          prev.onePacketLog.push(...packetLog(takeSample(), prev.sentAt));
          prev.cpuClickToQuiet = cpuSince(prev.cpuAtClick);
        } else packetLog(takeSample(), 0); // the packets of the subscribes
        const connected = pre.reduce((s, r) => s + r.sockets, 0);
        const staleSockets = pre.some((r) => r.sockets > 0 && (r.latestMin !== total || r.latestMax !== total));
        allCount = 0;
        const armed = await Promise.all(ws.map((w) => call<{ armed: number }>(w, { type: 'arm', target: total + 1 })));
        const armedWorkers = armed.filter((a) => a.armed > 0).length;
        const node = nodes[t % nodes.length]!;
        const loopT = loopMonitor();
        const cpuAtClick = cpuSnapshot();
        const c = await click(node, slug!, {
          link: 0,
          node: t % nodes.length,
          sentAt: 0,
          scheduledAt: 0,
          status: 0,
          doneAt: 0,
        });
        if (c.status !== 302) throw new Error(`fan-out click on ${node.name} answered ${c.status} ${c.error ?? ''}`);
        total++;
        served.set(slug!, total);
        const allArrived = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => {
            allWaiters = undefined;
            resolve(false);
          }, 15_000);
          allWaiters = () => {
            if (allCount >= armedWorkers) {
              clearTimeout(timer);
              allWaiters = undefined;
              resolve(true);
            }
          };
          allWaiters();
        });
        const waitedMs = mono() - c.sentAt;
        const lp = loopT();
        const post = await collectAll();
        const lat: number[] = [];
        let missing = 0;
        for (const r of post)
          for (const a of r.arrivals)
            if (Number.isNaN(a)) missing++;
            else if (a >= 0) lat.push(a - c.sentAt);
        const s = summarize(lat);
        allArrivals.push(...lat);
        const disconnects: Record<string, number> = {};
        for (const r of post)
          for (const [k, v] of Object.entries(r.disconnects)) disconnects[k] = (disconnects[k] ?? 0) + v;
        trials.push({
          trial: t + 1,
          clickedOn: node.name,
          eventsAtArm: eventsNow,
          /** `stats` packets each socket got for this one click (publish, trailing publish, stats merges). */
          statsPacketsPerSocket: NaN,
          sentAt: c.sentAt,
          cpuAtClick,
          /** CPU from the click until every worker was quiet for 600 ms (the click's whole fan-out, trailing publishes included). */
          cpuClickToQuiet: undefined as ReturnType<typeof cpuSince> | undefined,
          /** One socket's packets for this click: ms after the click, total, and whether anything differs from its previous packet. */
          onePacketLog: packetLog(takeSample(), c.sentAt),
          sockets: connected,
          received: lat.length,
          missing,
          allArrived,
          httpMs: round1(c.doneAt - c.sentAt),
          arrivalMs: s,
          untilLastMs: s.max,
          spreadMs: round1(s.max - s.min),
          staleBefore: staleSockets,
          workerEventLoopUtilization: post.map((r) => r.elu),
          benchEventLoopDelay: lp,
          disconnectsSoFar: disconnects,
        });
        log(
          `fan-out trial ${t + 1}: click on ${node.name}; ${lat.length}/${connected} sockets got the new total: p50 ${s.p50} ms, p99 ${s.p99} ms, last ${s.max} ms${missing ? `, ${missing} missing after ${Math.round(waitedMs)} ms` : ''}`,
        );
      }
      {
        // The last trial's packet count.
        let post = await collectAll();
        const tQuiet = mono();
        while (post.some((r) => r.idleMs < 600) && mono() - tQuiet < 30_000) {
          await sleep(100);
          post = await collectAll();
        }
        const prev = trials[trials.length - 1];
        if (prev) {
          prev.statsPacketsPerSocket = round2(
            (post.reduce((a, r) => a + r.events, 0) - prev.eventsAtArm) / Math.max(1, prev.sockets),
          );
          prev.onePacketLog.push(...packetLog(takeSample(), prev.sentAt));
          prev.cpuClickToQuiet = cpuSince(prev.cpuAtClick);
        }
      }
      const trialsCpu = cpuSince(cpuTrials0);
      const rssAfter = await rssMiB();
      const disconnects: Record<string, number> = {};
      const last = await collectAll();
      for (const r of last)
        for (const [k, v] of Object.entries(r.disconnects)) disconnects[k] = (disconnects[k] ?? 0) + v;
      const benchRssMiB = round1(process.memoryUsage().rss / 2 ** 20);
      const benchFds = openFds('self');
      await Promise.all(ws.map((w) => call(w, { type: 'close' })));
      const perNodeSockets = Math.round(opened / nodes.length);
      const rssPerSocketKiB = Object.fromEntries(
        nodes.map((n) => [
          n.name,
          round2(((rssConnected[n.name]! - rssBefore[n.name]!) * 1024) / Math.max(1, perNodeSockets)),
        ]),
      );
      return {
        socketsAsked: want,
        socketsTarget: target,
        socketsOpen: opened,
        socketsFailed: failed,
        connectErrors: errors,
        stopReason,
        limitNotes,
        fdLimit: { bench: selfLimit, nodes: nodeLimits },
        ephemeralPortRange: portRange,
        benchOpenFdsWithSockets: benchFds,
        workers: W,
        connect: {
          seconds: round1(openSeconds),
          perSecond: Math.round(opened / openSeconds),
          perSocketMs: summarize(connectMs),
          cpu: openCpu,
          benchEventLoopDelay: openLoop,
        },
        nodeRssMiB: { before: rssBefore, connected: rssConnected, afterTrials: rssAfter },
        nodeRssPerSocketKiB: rssPerSocketKiB,
        benchRssMiB,
        trials: trials.map(({ cpuAtClick: _c, eventsAtArm: _e, sentAt: _s, ...rest }) => rest),
        trialsCpu,
        idleCpuMsPerSecond,
        allTrialsArrivalMs: summarize(allArrivals),
        disconnects,
      };
    } finally {
      for (const w of ws) {
        workers.delete(w);
        await w.terminate().catch(() => 0);
      }
    }
  }

  let lastSampleJson = '';
  function packetLog(
    sample: { at: number; json: string }[],
    since: number,
  ): { ms: number; total: number; changed: boolean }[] {
    return sample.map((e) => {
      const changed = e.json !== lastSampleJson;
      lastSampleJson = e.json;
      return { ms: round1(e.at - since), total: (JSON.parse(e.json) as StatsEvent).total, changed };
    });
  }

  // -------------------------------------------------------------------------------------
  // Report

  type Results = {
    latency?: Awaited<ReturnType<typeof phaseLatency>> | { error: string };
    partition?: (Awaited<ReturnType<typeof phasePartition>> | { error: string })[];
    fanout?: Awaited<ReturnType<typeof phaseFanout>> | { error: string };
  };
  const isError = (x: unknown): x is { error: string } => typeof (x as { error?: unknown })?.error === 'string';

  function table(r: Results): string {
    const rows: string[][] = [];
    const ok = (b: boolean) => (b ? 'yes' : 'NO');
    if (r.latency) {
      if (isError(r.latency)) rows.push(['click-to-browser latency', 'FAILED', '', r.latency.error.split('\n')[0]!]);
      else {
        const l = r.latency;
        rows.push([
          'click-to-browser p50 / p99 / max',
          `${l.clickToBrowserMs.p50} / ${l.clickToBrowserMs.p99} / ${l.clickToBrowserMs.max} ms`,
          `p99 <= ${l.goalP99Ms} ms: ${ok(l.clickToBrowserMs.p99 <= l.goalP99Ms)}`,
          `${l.pairs} (click, socket) pairs, ${l.perSocket.length} sockets`,
        ]);
        rows.push([
          'clicks that never showed up',
          String(l.missingPairs),
          `0: ${ok(l.missingPairs === 0)}`,
          `${l.negativePairs} attributed before sent, ${l.overCounted} over-counted`,
        ]);
        rows.push([
          'achieved click rate',
          `${l.load.achievedPerSecond}/s sent, ${l.load.answeredPerSecond}/s 302`,
          `${l.askedPerSecond}/s asked`,
          `${l.load.sent} sent, ${l.load.served302} 302 in ${l.load.seconds} s; send slip p99 ${l.load.sendSlipMs.p99} ms; HTTP p50/p99 ${l.load.httpLatencyMs.p50}/${l.load.httpLatencyMs.p99} ms`,
        ]);
        rows.push([
          '  CPU during clicks',
          `nodes ${pct(l.cpu.nodes)}, bench ${pct(l.cpu.bench)}, others ${pct(l.cpu.others)}`,
          '',
          `bench event-loop delay p99 ${l.benchEventLoopDelay.p99Ms} ms, max ${l.benchEventLoopDelay.maxMs} ms`,
        ]);
      }
    }
    for (const p of r.partition ?? []) {
      if (isError(p)) rows.push(['convergence after heal', 'FAILED', '', p.error.split('\n')[0]!]);
      else
        rows.push([
          `convergence after heal (run ${p.run})`,
          p.convergedMs === null ? 'not converged' : `${p.convergedMs} ms`,
          `<= ${p.goalMs} ms: ${ok(p.goalMet)}`,
          `per node ${Object.entries(p.perNodeMs)
            .map(([k, v]) => `${k} ${v ?? '-'}`)
            .join(', ')}; sockets ${
            p.socketsExactMs !== null
              ? `exact after ${p.socketsExactMs} ms`
              : `NOT exact 10 s after the heal: ${p.staleSockets.length} (socket, link) pairs stale (${p.staleSockets
                  .slice(0, 3)
                  .map(
                    (x) =>
                      `on ${x.socketOn} ${x.slug} saw ${x.saw} want ${x.want}, owner candidates ${x.viewCounterPrimaries.join(',')}`,
                  )
                  .join(
                    '; ',
                  )}${p.staleSockets.length > 3 ? '; ...' : ''}); after one more click ${p.staleRecovery?.exactAfterMs != null ? `exact in ${p.staleRecovery.exactAfterMs} ms` : 'still stale'}`
          }; ${p.servedTotal} clicks in ${p.partitionSeconds} s partition (n1 ${p.sides.n1.served302}/${p.sides.n1.sent}, n2+n3 ${p.sides['n2+n3'].served302}/${p.sides['n2+n3'].sent} 302)`,
        ]);
    }
    if (r.fanout) {
      if (isError(r.fanout)) rows.push(['fan-out', 'FAILED', '', r.fanout.error.split('\n')[0]!]);
      else {
        const f = r.fanout;
        rows.push([
          'fan-out sockets',
          `${f.socketsOpen} of ${f.socketsAsked}`,
          '',
          `${f.socketsFailed} failed; fd limit ${f.fdLimit.bench ? `${f.fdLimit.bench.soft}/${f.fdLimit.bench.hard}` : '?'}${f.stopReason ? `; stopped: ${f.stopReason}` : ''}${f.limitNotes.length ? `; ${f.limitNotes.join('; ')}` : ''}`,
        ]);
        rows.push([
          '  connect + subscribe',
          `${f.connect.seconds} s (${f.connect.perSecond}/s)`,
          '',
          `per socket p50/p99 ${f.connect.perSocketMs.p50}/${f.connect.perSocketMs.p99} ms, ${settings.fanoutBatch} at a time`,
        ]);
        for (const t of f.trials)
          rows.push([
            `  trial ${t.trial} (click on ${t.clickedOn})`,
            `p50 ${t.arrivalMs.p50} / p99 ${t.arrivalMs.p99} / last ${t.untilLastMs} ms`,
            '',
            `${t.received}/${t.sockets} got it${t.missing ? `, ${t.missing} MISSING` : ''}; first socket ${t.arrivalMs.min} ms, first to last ${t.spreadMs} ms; worker loop busy ${t.workerEventLoopUtilization.map(pct).join('/')}; CPU for this click: nodes ${t.cpuClickToQuiet?.nodesCpuMs ?? '?'} ms, bench ${t.cpuClickToQuiet?.benchCpuMs ?? '?'} ms; ${t.statsPacketsPerSocket} stats packets per socket for this click (one socket's, ms after the click, * = content changed: ${t.onePacketLog.map((e: { ms: number; changed: boolean }) => `${Math.round(e.ms)}${e.changed ? '*' : ''}`).join(' ')})`,
          ]);
        rows.push([
          '  idle CPU with the sockets open',
          `nodes ${f.idleCpuMsPerSecond.nodes} ms/s, bench ${f.idleCpuMsPerSecond.bench} ms/s`,
          '',
          'the baseline included in the per-click CPU figures (from the click until every worker was quiet 600 ms)',
        ]);
        rows.push([
          '  CPU during trials',
          `nodes ${pct(f.trialsCpu.nodes)}, bench ${pct(f.trialsCpu.bench)}, others ${pct(f.trialsCpu.others)}`,
          '',
          `over ${f.trialsCpu.wallSeconds} s (trials and the pauses between them)`,
        ]);
        rows.push([
          '  all trials',
          `p50 ${f.allTrialsArrivalMs.p50} / p99 ${f.allTrialsArrivalMs.p99} / max ${f.allTrialsArrivalMs.max} ms`,
          '',
          `${f.allTrialsArrivalMs.n} arrivals`,
        ]);
        rows.push([
          '  node RSS (MiB)',
          Object.entries(f.nodeRssMiB.connected)
            .map(([k, v]) => `${k} ${v}`)
            .join(', '),
          '',
          `before ${Object.entries(f.nodeRssMiB.before)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}; after trials ${Object.entries(f.nodeRssMiB.afterTrials)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}; ~${Object.values(f.nodeRssPerSocketKiB).join('/')} KiB per socket`,
        ]);
        rows.push([
          '  bench process',
          `RSS ${f.benchRssMiB} MiB`,
          '',
          `${f.benchOpenFdsWithSockets} open fds with the sockets; ${f.workers} worker threads; disconnects ${JSON.stringify(f.disconnects)}`,
        ]);
      }
    }
    const head = ['measure', 'value', 'goal', 'notes'];
    const widths = [0, 1, 2].map((i) => Math.max(head[i]!.length, ...rows.map((row) => row[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join('  ');
    return [line(head), [...widths, 5].map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
  }
  const pct = (x: number) => `${Math.round(x * 100)}%`;

  // -------------------------------------------------------------------------------------
  // Main

  const startedAt = new Date();
  const machine = {
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.cpus().length,
    availableParallelism: os.availableParallelism(),
    memoryGiB: round2(os.totalmem() / 2 ** 30),
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    socketIoClient: (require('socket.io-client/package.json') as { version: string }).version,
    socketIo: (require('socket.io/package.json') as { version: string }).version,
    fdLimit: fdLimit('self'),
    cpuBusyBefore: await cpuBusy(1000),
    loadAverageBefore: os.loadavg().map(round2),
    loadAverageAfter: [] as number[],
  };
  if (machine.cpuBusyBefore > 0.15)
    log(
      `warning: the CPUs were ${Math.round(machine.cpuBusyBefore * 100)}% busy before the benchmark started: other work is running and will skew the figures`,
    );
  log(
    `${machine.cpus}x ${machine.cpuModel}, node ${machine.node}, socket.io-client ${machine.socketIoClient}; fd limit ${machine.fdLimit?.soft}/${machine.fdLimit?.hard}`,
  );

  const results: Results = {};
  const notes: string[] = [];
  let code = 0;
  const watchers: Watcher[] = [];
  try {
    await startCluster();
    startWatchdog();
    const warmMs = await warmCreates();
    log(`creates quick through every node after ${(warmMs / 1000).toFixed(1)} s`);
    let slugs: string[] = [];
    if (only.has('latency') || only.has('partition')) {
      slugs = await createLinks(settings.links, 'latency');
      for (const s of slugs) served.set(s, 0);
      log(`${slugs.length} links created through ${nodes.map((n) => n.name).join(', ')} by one session`);
      for (const [i] of nodes.entries())
        for (let k = 0; k < settings.socketsPerNodeForLatency; k++) watchers.push(await openWatcher(i, slugs));
    }
    if (only.has('latency')) {
      try {
        results.latency = await phaseLatency(slugs, watchers);
        if (results.latency.missingPairs > 0 || results.latency.overCounted > 0) code = 1;
      } catch (err) {
        if (interrupted) throw err;
        results.latency = { error: (err as Error).message };
        log(`latency failed: ${(err as Error).message}`);
        code = 1;
      }
    } else if (only.has('partition')) {
      for (const s of slugs) served.set(s, 0);
    }
    if (only.has('partition')) {
      results.partition = [];
      for (let run = 1; run <= settings.partitionRuns; run++) {
        try {
          const p = await phasePartition(slugs, watchers, run);
          results.partition.push(p);
          if (p.convergedMs === null || p.overCountedReads > 0 || p.staleSockets.length > 0) code = 1;
        } catch (err) {
          if (interrupted) throw err;
          results.partition.push({ error: (err as Error).message });
          log(`partition run ${run} failed: ${(err as Error).message}`);
          code = 1;
          // Heal whatever is left before going on.
          await Promise.all(nodes.map((n) => setBlocked(n.proc, [], 5_000).catch(() => undefined)));
        }
      }
    }
    for (const w of watchers) {
      if (w.disconnects.length)
        notes.push(`latency socket on ${nodes[w.node]!.name} disconnected: ${w.disconnects.join('; ')}`);
      w.socket.close();
    }
    if (only.has('fanout')) {
      try {
        await waitSettled(60_000);
        results.fanout = await phaseFanout();
        if (
          results.fanout.trials.some((t) => t.missing > 0) ||
          results.fanout.socketsOpen < results.fanout.socketsTarget
        )
          code = 1;
      } catch (err) {
        if (interrupted) throw err;
        results.fanout = { error: (err as Error).message };
        log(`fan-out failed: ${(err as Error).message}`);
        code = 1;
      }
    }
  } catch (err) {
    if (!interrupted) {
      console.error((err as Error).stack ?? err);
      notes.push(`aborted: ${(err as Error).message}`);
    }
    code = 1;
  }
  // Anything the nodes wrote (LOG_LEVEL=warn): warnings, errors, crashes.
  const nodeOutput: Record<string, string> = {};
  for (const n of nodes) {
    const text = n.proc.output().trim();
    if (text) nodeOutput[n.name] = text.slice(-8000);
    if (!n.proc.alive && !stopping) notes.push(`${n.name} exited during the benchmark`);
  }
  await stopAll();
  if (interrupted) return;

  console.log(
    `\nlive-updates benchmark: ${machine.cpus}x ${machine.cpuModel}, node ${machine.node}, socket.io ${machine.socketIo} / socket.io-client ${machine.socketIoClient}; ${settings.nodes} nodes${quick ? ' (--quick)' : ''}\n`,
  );
  console.log(table(results));
  for (const n of notes) console.log(`note: ${n}`);
  if (clusterEvents.length)
    console.log(`\nmembership changes and exits seen during the run:\n  ${clusterEvents.join('\n  ')}`);
  for (const [name, text] of Object.entries(nodeOutput))
    console.log(`\n${name} wrote (last lines):\n${text.split('\n').slice(-10).join('\n')}`);
  if (warnings.length) console.log(`\nwarnings in the bench process: ${[...new Set(warnings)].join('; ')}`);

  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = startedAt
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '-');
  const file = join(dir, `live-${stamp}.json`);
  machine.loadAverageAfter = os.loadavg().map(round2);
  const json = {
    benchmark: 'live',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    command: `npm run bench:live${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine,
    settings,
    results,
    notes,
    clusterEvents,
    nodeOutput,
    warnings: [...new Set(warnings)],
  };
  writeFileSync(`${file}.tmp`, `${JSON.stringify(json, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  console.log(`\nwrote ${relative(root, file)}`);
  if (argv.json) console.log(JSON.stringify(json));
  const jsonOut = argv['json-out'];
  if (jsonOut) {
    mkdirSync(dirname(jsonOut), { recursive: true });
    writeFileSync(`${jsonOut}.tmp`, `${JSON.stringify(json, null, 2)}\n`);
    renameSync(`${jsonOut}.tmp`, jsonOut);
  }
  process.exit(code);
}
