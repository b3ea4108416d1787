// Redirect throughput and latency: GET /:slug answered with a 302, with the same settings for
// every target, one target at a time. Full load: wrk (one thread, a C load generator, with a
// Lua script counting the requests it writes) when installed, else autocannon; half load:
// autocannon (programmatic API in this process, paced with overallRate):
//   bare             a bare node:http server, links in a Map (bench/baselines/bareServer.ts):
//                    the physical limit of a Node redirect on this machine;
//   next+redis       the default build: a Next.js 16 App Router route handler reading the
//                    target from Redis (ioredis GET) and INCR-ing a counter
//                    (bench/baselines/next-redis, `next build` + `next start`; a redis-server
//                    started here with --save '' --appendonly no);
//   ringlink local   a 4-node ringlink cluster (dist/server.mjs, default RING_SIZE and N_VAL=3),
//                    loaded on a node that is a primary replica of the slug;
//   ringlink cached/forwarded
//                    the same cluster, loaded on the one node that is not a primary of the slug
//                    (it answers from its cache and ships the counts to the replicas).
// The machine is a small VM whose speed drifts by +-20% over seconds (the bare server alone
// measured 19k-32k req/s in consecutive 5 s runs), so bare and the ringlink targets are
// measured in paired rounds: all their servers run at once, and they take turns, one
// full-load run each per round (the order rotating per round), for --rounds rounds. While one
// target is loaded, every other target's processes are paused with SIGSTOP (and resumed with
// SIGCONT), so neither the idle ring nodes nor the bare server take CPU from the one under
// test. A target's req/s is the median of its rounds; its ratio to bare is the median of
// the per-round ratios (each against bare's run in the same round, minutes apart at most).
// next+redis, 20x slower, is measured on its own first: a warm-up, one full-load run.
// Then each target gets a warm-up-free run at half of its median rate (autocannon
// overallRate: latency below saturation; autocannon paces each connection per second, so
// that load comes in bursts). Then every target's own counter must match the redirects the
// load generators received over all its runs (ringlink: total + bots from GET
// /api/links/:slug/stats, a fresh link per ringlink target).
//
// npm run bench:redirect [-- --connections 64 --duration 4 --rounds 10 --warmup 2 --quick --only bare,next,ringlink --persist --user-agent UA]
//   --quick      3 rounds of 3 s runs after a 1 s warm-up (smoke run, about 90 s)
//   --rounds     paired full-load rounds (default 10) of --duration seconds (default 4) each;
//                half-load runs take 8 s (3 s with --quick)
//   --generator  wrk (default when installed) or autocannon, for the full-load runs
//   --only       a subset of targets: bare, next, ringlink
//   --pin        pin processes to CPUs with taskset: the server under load gets CPU 1 alone
//                (all its threads), the load generator and every other process share
//                CPU 0. Measured: it lowers ringlink (its GC threads then share the core)
//   --persist    give the ringlink nodes a DATA_DIR (record log on disk); default in memory,
//                like the redis-server baseline
//   --user-agent sent with every request (default: a desktop Chrome, so ringlink counts human
//                views; autocannon sends none by default, which ringlink counts as a bot)
// The machine is shared: every run also records how much CPU other processes used meanwhile
// ("others' CPU"); figures taken while that is high are not comparable.
// Prints a table and writes bench/results/redirect-<timestamp>.json.
//
// Every process started here runs in its own process group and is killed (the whole group)
// when a target is done, on errors, on SIGINT/SIGTERM and at exit. Only 127.0.0.1 is used.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  lstatSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { bundle } from './lib/bundle';
import { machineCpuTimes, processGroupsCpuMs } from './lib/cpu';
import {
  canPin,
  freePort,
  getJson,
  Harness,
  outputTail,
  pinToCpu,
  type Proc as KitProc,
  requireBundle,
  type RingProcess,
  spawnProc,
  waitFor as kitWaitFor,
} from '../testkit';

// npm runs scripts from the package root (this file is bundled to node_modules/.cache first).
const root = process.cwd();
const require = createRequire(join(root, 'package.json'));

// ---------------------------------------------------------------------------------------
// Options

const { values: argv } = parseArgs({
  options: {
    connections: { type: 'string', default: '64' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    only: { type: 'string', default: 'bare,next,ringlink' },
    persist: { type: 'boolean', default: false },
    pin: { type: 'boolean', default: false },
    'user-agent': { type: 'string' },
    generator: { type: 'string' },
  },
});
/** Sent with every request to every target: a browser's, so ringlink counts human views (its full path: device class, referrer, unique visitor, stats), not bot views. */
const defaultUserAgent =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
/**
 * The full-load runs use wrk when it is installed (installed here from Debian when missing and
 * running as root): a C load generator with one thread takes far less CPU per request than
 * autocannon, so on this 2-core machine the figure is the server's, not the generator's
 * competition with it. The half-load runs always use autocannon (wrk cannot pace requests).
 */
function pickGenerator(asked: string | undefined): 'wrk' | 'autocannon' {
  if (asked !== undefined && asked !== 'wrk' && asked !== 'autocannon')
    usage(`--generator: wrk or autocannon, not ${asked}`);
  if (asked === 'autocannon') return 'autocannon';
  const hasWrk = () => spawnSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' }).status === 0;
  if (!hasWrk() && process.getuid?.() === 0) {
    console.error('[bench] wrk is not installed: apt-get install -y wrk');
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'wrk'], {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  }
  if (hasWrk()) return 'wrk';
  if (asked === 'wrk') usage('--generator wrk: wrk is not installed (apt-get install wrk)');
  console.error(
    '[bench] wrk is not available: the full-load runs use autocannon (figures are then lower, the generator competes for the CPUs)',
  );
  return 'autocannon';
}
const settings = {
  generator: pickGenerator(argv.generator),
  connections: positiveInt('connections', argv.connections!),
  durationSeconds: positiveInt('duration', argv.duration ?? (argv.quick ? '3' : '4')),
  /** The half-load runs (latency below saturation). */
  halfSeconds: argv.quick ? 3 : 8,
  /** Full-load rounds per paired target (bare and the ringlink targets take turns, one round each). */
  rounds: positiveInt('rounds', argv.rounds ?? (argv.quick ? '3' : '10')),
  /** After resuming a paused target's processes, before its run starts. */
  resumeSettleMs: 700,
  warmupSeconds: positiveInt('warmup', argv.warmup ?? (argv.quick ? '1' : '2')),
  quick: argv.quick!,
  pin: argv.pin! && canPin(os.cpus().length),
  ringlinkNodes: 4,
  ringlinkPersistence: argv.persist ? 'DATA_DIR per node (FSYNC=interval)' : 'none (in memory)',
  countCheckDelayMs: 1500,
  userAgent: argv['user-agent'] ?? defaultUserAgent,
};
const only = new Set(
  argv
    .only!.split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
for (const t of only) if (!['bare', 'next', 'ringlink'].includes(t)) usage(`--only: unknown target ${t}`);

function positiveInt(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) usage(`--${name} must be a positive integer (got ${v})`);
  return n;
}
function usage(msg: string): never {
  console.error(
    `${msg}\nusage: npm run bench:redirect -- [--connections 64] [--duration 4] [--rounds 10] [--warmup 2] [--quick] [--only bare,next,ringlink] [--persist] [--pin] [--user-agent UA]`,
  );
  process.exit(2);
}

const LINK_URL = 'https://example.com/bench';

// ---------------------------------------------------------------------------------------
// autocannon (no type declarations ship with it: the part used here)

interface AutocannonOptions {
  url: string;
  headers?: Record<string, string>;
  connections: number;
  duration: number;
  overallRate?: number;
  setupClient?: (client: NodeJS.EventEmitter) => void;
}
interface AutocannonResult {
  requests: { average: number; total: number; sent: number };
  latency: { p50: number; p90: number; p99: number; average: number; max: number };
  statusCodeStats: Record<string, { count: number }>;
  '2xx': number;
  '3xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}
interface AutocannonInstance extends NodeJS.EventEmitter {
  stop(): void;
}
const autocannon = require('autocannon') as (
  opts: AutocannonOptions,
  cb: (err: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance;
const running = new Set<AutocannonInstance>();

interface RunResult {
  kind: 'warmup' | 'max' | 'half';
  generator: 'wrk' | 'autocannon';
  seconds: number;
  connections: number;
  overallRate: number | null;
  /** autocannon: the average of its per-second request samples; wrk: responses / duration. */
  reqPerSec: number;
  /** Responses received; 2xx + 3xx of them. */
  responses: number;
  served: number;
  /** Requests written to the sockets (counted here: autocannon's own `sent` is wrong with overallRate). */
  sent: number;
  statusCodes: Record<string, number>;
  errors: number;
  timeouts: number;
  /** autocannon's latency percentiles (ms; its histogram has 1 ms resolution and, with overallRate, corrects for coordinated omission); wrk's (µs resolution, shown in ms). */
  latencyMs: { p50: number; p90: number; p99: number; mean: number; max: number };
  /** Half-load runs: the same from every response's own time (µs resolution, no correction). */
  rawLatencyMs?: { p50: number; p90: number; p99: number; max: number };
  /** Share of the machine's CPU time (all cores) used by processes this benchmark did not start, during the run. */
  othersCpu: number;
  /** Paired full-load runs: the round (0-based). */
  round?: number;
}

function load(url: string, kind: RunResult['kind'], seconds: number, overallRate?: number): Promise<RunResult> {
  let sent = 0;
  const raw: number[] = [];
  return new Promise((resolve, reject) => {
    const opts: AutocannonOptions = {
      url,
      headers: { 'user-agent': settings.userAgent },
      connections: settings.connections,
      duration: seconds,
      setupClient: (client) => client.on('request', () => sent++),
    };
    if (overallRate) opts.overallRate = overallRate;
    const cpuBefore = cpuSnapshot();
    const instance = autocannon(opts, (err, r) => {
      running.delete(instance);
      if (err) return reject(err);
      const othersCpu = othersCpuSince(cpuBefore);
      const statusCodes = Object.fromEntries(Object.entries(r.statusCodeStats).map(([k, v]) => [k, v.count]));
      const served = r['2xx'] + r['3xx'];
      const run: RunResult = {
        kind,
        generator: 'autocannon',
        seconds,
        connections: overallRate ? Math.min(settings.connections, overallRate) : settings.connections,
        overallRate: overallRate ?? null,
        reqPerSec: Math.round(r.requests.average),
        responses: r.requests.total,
        served,
        sent,
        statusCodes,
        errors: r.errors,
        timeouts: r.timeouts,
        latencyMs: {
          p50: r.latency.p50,
          p90: r.latency.p90,
          p99: r.latency.p99,
          mean: round2(r.latency.average),
          max: r.latency.max,
        },
        othersCpu,
      };
      if (raw.length > 0) {
        raw.sort((a, b) => a - b);
        const q = (p: number) => round3(raw[Math.min(raw.length - 1, Math.ceil((p / 100) * raw.length) - 1)]!);
        run.rawLatencyMs = { p50: q(50), p90: q(90), p99: q(99), max: round3(raw[raw.length - 1]!) };
      }
      resolve(run);
    });
    if (kind === 'half')
      instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => raw.push(ms));
    running.add(instance);
  });
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * wrk reports responses, not requests written: this script counts the requests each thread
 * sends (request() runs once per request) and prints one JSON line at the end, so the count
 * check knows exactly how many were in flight when the run stopped.
 */
const wrkScript = `
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) sent = 0; req = wrk.format() end
function request() sent = sent + 1; return req end
function done(summary, latency, requests)
  local s = 0
  for _, t in ipairs(threads) do s = s + t:get("sent") end
  local e = summary.errors
  io.write(string.format('WRKJSON {"sent":%d,"responses":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"mean":%f,"max":%d}\\n',
    s, summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
`;
let wrkScriptFile: string | undefined;

function loadWrk(url: string, kind: RunResult['kind'], seconds: number): Promise<RunResult> {
  if (!wrkScriptFile) {
    const dir = mkdtempSync(join(os.tmpdir(), 'ringlink-bench-wrk-'));
    tempDirs.push(dir);
    wrkScriptFile = join(dir, 'count.lua');
    writeFileSync(wrkScriptFile, wrkScript);
  }
  const cpuBefore = cpuSnapshot();
  const args = [
    '-t1',
    `-c${settings.connections}`,
    `-d${seconds}s`,
    '--timeout',
    '10s',
    '-H',
    `User-Agent: ${settings.userAgent}`,
    '-s',
    wrkScriptFile,
    url,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    wrkChildren.add(child);
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      wrkChildren.delete(child);
      const line = out.split('\n').find((l) => l.startsWith('WRKJSON '));
      if (code !== 0 || !line) return reject(new Error(`wrk ${args.join(' ')} exited ${code}: ${out.slice(-2000)}`));
      const w = JSON.parse(line.slice('WRKJSON '.length)) as Record<string, number>;
      const responses = w.responses!;
      const served = responses - w.status!;
      const ms = (us: number) => round3(us / 1000);
      resolve({
        kind,
        generator: 'wrk',
        seconds,
        connections: settings.connections,
        overallRate: null,
        reqPerSec: Math.round(responses / (w.durationUs! / 1e6)),
        responses,
        served,
        sent: w.sent!,
        statusCodes: w.status ? { '302': served, 'other (not 2xx/3xx)': w.status } : { '302': served },
        errors: w.connect! + w.read! + w.write!,
        timeouts: w.timeout!,
        latencyMs: { p50: ms(w.p50!), p90: ms(w.p90!), p99: ms(w.p99!), mean: ms(w.mean!), max: ms(w.max!) },
        othersCpu: othersCpuSince(cpuBefore),
      });
    });
  });
}
const wrkChildren = new Set<ChildProcess>();

/** A full-load run (warm-up or max) with the chosen generator. */
function loadFull(url: string, kind: 'warmup' | 'max', seconds: number): Promise<RunResult> {
  return settings.generator === 'wrk' ? loadWrk(url, kind, seconds) : load(url, kind, seconds);
}

// CPU accounting: the machine's busy time minus this process's and its process groups'.
interface CpuSnapshot {
  busyMs: number;
  totalMs: number;
  oursMs: number;
}
const clockTicksPerSecond = 100; // USER_HZ on Linux

function cpuSnapshot(): CpuSnapshot {
  const { busyMs, totalMs } = machineCpuTimes();
  const self = process.cpuUsage();
  let oursMs = (self.user + self.system) / 1000;
  if (process.platform === 'linux') {
    // Reaped children (every wrk run) count as ours too: cutime + cstime of this process.
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    oursMs += ((Number(f[13]) + Number(f[14])) * 1000) / clockTicksPerSecond;
  }
  oursMs += processGroupsCpuMs(new Set([...procs].map((p) => p.pid)));
  return { busyMs, totalMs, oursMs };
}

function othersCpuSince(before: CpuSnapshot): number {
  const now = cpuSnapshot();
  const total = now.totalMs - before.totalMs;
  if (total <= 0) return 0;
  return round2(Math.max(0, (now.busyMs - before.busyMs - (now.oursMs - before.oursMs)) / total));
}
const round3 = (x: number) => Math.round(x * 1000) / 1000;

// ---------------------------------------------------------------------------------------
// Processes: each in its own process group, all killed on the way out

interface Proc extends KitProc {
  /** What stops it: SIGTERM (then SIGKILL after 3 s) by default. */
  stopSignal: NodeJS.Signals;
}
const procs = new Set<Proc>();
const tempDirs: string[] = [];
/**
 * The ringlink nodes: production settings (testkit's bench profile, with the node's default
 * SERVE_UI and no create limit), each in its own process group, source maps on.
 */
const ringlink = new Harness({
  profile: 'bench',
  group: true,
  nodeArgs: ['--enable-source-maps'],
  env: { RATE_LIMIT_CREATE_PER_MIN: '0', SERVE_UI: undefined },
});

function startProc(
  name: string,
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; stopSignal?: NodeJS.Signals } = {},
): Proc {
  const spawned = spawnProc(name, cmd, args, { cwd: opts.cwd ?? root, env: opts.env ?? process.env, group: true });
  const p: Proc = Object.assign(spawned, { stopSignal: opts.stopSignal ?? 'SIGTERM' });
  procs.add(p);
  return p;
}

/** Signal the process's group while its leader runs. */
function killGroup(p: Proc, signal: NodeJS.Signals): void {
  p.signal(signal);
}

/** Send the group its stop signal, SIGKILL it after 3 s; also SIGKILL whatever is left in the group once the leader exited. */
async function stopProc(p: Proc): Promise<void> {
  killGroup(p, p.stopSignal);
  if (p.stopSignal !== 'SIGKILL') await Promise.race([p.exited, sleep(3000)]);
  p.signal('SIGKILL', { evenIfExited: true }); // the group may outlive its leader (e.g. a worker): kill it regardless
  await Promise.race([p.exited, sleep(1000)]);
  procs.delete(p);
}

async function stopAll(): Promise<void> {
  for (const inst of running) inst.stop();
  for (const c of wrkChildren) c.kill('SIGKILL');
  await Promise.all([...procs].map(stopProc));
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
  await ringlink.cleanup(); // nodes of a start that failed half-way, and the data directories
}

/** Synchronous last resort (process 'exit'). */
function killAllNow(): void {
  for (const p of procs) p.signal('SIGKILL', { evenIfExited: true });
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
  ringlink.removeDirs();
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

const procOutput = (p: Proc) => outputTail(p);

// ---------------------------------------------------------------------------------------
// Small helpers

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** Wait (bounded) for fn to give a value, failing early when interrupted or when a process in `watch` exits. */
async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs: number,
  watch: Proc[] = [],
): Promise<T> {
  const failIf = () => {
    if (interrupted) return 'interrupted';
    const dead = watch.find((p) => !p.alive);
    return dead ? `${dead.name} exited\n${procOutput(dead)}` : undefined;
  };
  try {
    return (await kitWaitFor(fn, { timeoutMs, what, failIf })) as T;
  } catch (err) {
    if (failIf() !== undefined) throw err;
    throw new Error(`${(err as Error).message}\n${watch.map(procOutput).join('\n')}`, { cause: err });
  }
}

/** GET without following redirects. */
async function probe(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: string }> {
  const res = await fetch(url, { redirect: 'manual', headers, signal: AbortSignal.timeout(5000) });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/** The redirect is right before loading it: status, Location, Cache-Control. */
async function checkRedirect(url: string, expected: string): Promise<void> {
  const r = await probe(url);
  const problems: string[] = [];
  if (r.status !== 302) problems.push(`status ${r.status}`);
  if (r.headers.get('location') !== expected) problems.push(`location ${r.headers.get('location')}`);
  if (!/no-store/.test(r.headers.get('cache-control') ?? ''))
    problems.push(`cache-control ${r.headers.get('cache-control')}`);
  if (problems.length)
    throw new Error(
      `GET ${url} is not a 302 to ${expected} with cache-control no-store: ${problems.join(', ')}\n${r.body.slice(0, 500)}`,
    );
}

// ---------------------------------------------------------------------------------------
// Measuring one target

interface Counting {
  /** 2xx + 3xx responses autocannon received over all runs on the counted slug (warm-up included). */
  served: number;
  /** Requests autocannon wrote; sent - served were in flight when a run stopped (or failed). */
  sent: number;
  counted: number;
  /** counted === served, or counted differs only by requests in flight when a run stopped (served <= counted <= sent). */
  exact: boolean;
  detail: string;
}

interface TargetResult {
  target: string;
  url: string;
  notes: string[];
  runs: RunResult[];
  reqPerSec: number;
  latencyMs: RunResult['latencyMs'];
  half: {
    overallRate: number;
    reqPerSec: number;
    latencyMs: RunResult['latencyMs'];
    rawLatencyMs: RunResult['rawLatencyMs'];
  };
  counting: Counting;
  /** Paired targets: req/s of each full-load round (reqPerSec is their median). */
  rounds?: number[];
  /** Paired ringlink targets: the median, least and greatest of the per-round ratios to bare's run in the same round. */
  vsBare?: { median: number; min: number; max: number; rounds: number[] };
  error?: undefined;
}
interface TargetError {
  target: string;
  error: string;
}

/**
 * With --pin (and taskset, and 2+ cores): the server under
 * load gets CPU 1 to itself; this process (the load generator) and every other process it
 * started (Redis, the other ring nodes) share CPU 0. Each target then has one dedicated
 * core, as on a machine of its own, instead of competing with its neighbours.
 */
function pinFor(serverPid: number | undefined): string | undefined {
  if (!settings.pin || serverPid === undefined) return undefined;
  let ok = pinToCpu(process.pid, 0);
  for (const p of procs) if (p.alive && p.pid !== undefined) ok = pinToCpu(p.pid, p.pid === serverPid ? 1 : 0) && ok;
  return ok
    ? 'pinned: the server on CPU 1, the load generator and every other process on CPU 0'
    : 'pinning with taskset failed: unpinned';
}

/** Whether every served redirect was counted, given the runs on a target and its counter's increase. */
function countingOf(runs: RunResult[], counted: number): Counting {
  const served = runs.reduce((s, r) => s + r.served, 0);
  const sent = runs.reduce((s, r) => s + r.sent, 0);
  const exact = served <= counted && counted <= sent;
  const inFlight = sent - served;
  const detail =
    counted === served
      ? `served ${served}, counted ${counted}`
      : counted === sent
        ? `served ${served}, counted ${counted} = served + the ${inFlight} requests in flight when the load generator stopped a run (every request sent was counted)`
        : exact
          ? `served ${served}, counted ${counted}: ${counted - served} of the ${inFlight} requests in flight when the load generator stopped a run were counted`
          : `served ${served}, counted ${counted} (the load generators sent ${sent}: ${inFlight} of them got no response before a run stopped)`;
  return { served, sent, counted, exact, detail };
}

function noteOddRuns(runs: RunResult[], notes: string[]): void {
  for (const r of runs) {
    const other = Object.entries(r.statusCodes).filter(([code]) => code !== '302');
    if (other.length || r.errors || r.timeouts)
      notes.push(
        `${r.kind} run: ${other.map(([c, n]) => `${n}x ${c}`).join(', ')}${r.errors ? ` ${r.errors} errors` : ''}${r.timeouts ? ` ${r.timeouts} timeouts` : ''}`.trim(),
      );
  }
}

/** One target on its own: a warm-up, a full-load run, a half-load run (next+redis). */
async function measure(
  target: string,
  url: string,
  readCount: () => Promise<number>,
  opts: { countDelayMs: number; notes?: string[]; serverPid?: number },
): Promise<TargetResult> {
  const notes = opts.notes ?? []; // shared: readCount may add to it
  const pinned = pinFor(opts.serverPid);
  if (pinned) notes.push(pinned);
  const runs: RunResult[] = [];
  log(`${target}: warm-up ${settings.warmupSeconds} s, ${settings.connections} connections, ${url}`);
  runs.push(await loadFull(url, 'warmup', settings.warmupSeconds));
  log(`${target}: full load ${settings.durationSeconds} s`);
  const max = await loadFull(url, 'max', settings.durationSeconds);
  runs.push(max);
  const rate = Math.max(1, Math.round(max.reqPerSec / 2));
  log(`${target}: ${max.reqPerSec} req/s; half load (${rate} req/s) ${settings.durationSeconds} s`);
  const half = await load(url, 'half', settings.durationSeconds, rate);
  runs.push(half);
  noteOddRuns(runs, notes);
  await sleep(opts.countDelayMs);
  return {
    target,
    url,
    notes,
    runs,
    reqPerSec: max.reqPerSec,
    latencyMs: max.latencyMs,
    half: { overallRate: rate, reqPerSec: half.reqPerSec, latencyMs: half.latencyMs, rawLatencyMs: half.rawLatencyMs },
    counting: countingOf(runs, await readCount()),
  };
}

/** A target measured in paired rounds: its server's processes, and how to read its counter. */
interface PairedTarget {
  target: string;
  url: string;
  /** What this target's server is made of: paused (SIGSTOP) while another target is loaded. */
  group: Proc[];
  serverPid?: number;
  notes: string[];
  readCount: () => Promise<number>;
  /** When the count is not exact at first: watch whether (and when) it converges, for the report. */
  converge?: (r: TargetResult) => Promise<void>;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * Bare and the ringlink targets in turns (see the header): warm-ups, then `settings.rounds`
 * rounds of one full-load run each, the order rotating per round, then a half-load run each.
 * Only the loaded target's processes run; the others are paused meanwhile.
 */
async function measurePaired(targets: PairedTarget[]): Promise<TargetResult[]> {
  const groups = [...new Set(targets.map((t) => t.group))];
  let focused: Proc[][] | undefined;
  const focus = async (t: PairedTarget | null) => {
    const want = t ? [t.group] : groups;
    if (focused && focused.length === want.length && focused.every((g, i) => g === want[i])) return;
    for (const g of groups) if (!want.includes(g)) for (const p of g) killGroup(p, 'SIGSTOP');
    for (const g of want) for (const p of g) killGroup(p, 'SIGCONT');
    focused = want;
    if (t) pinFor(t.serverPid);
    await sleep(settings.resumeSettleMs);
  };
  const runs = new Map<PairedTarget, RunResult[]>(targets.map((t) => [t, []]));
  const maxRuns = new Map<PairedTarget, RunResult[]>(targets.map((t) => [t, []]));
  try {
    for (const t of targets) {
      await focus(t);
      log(`${t.target}: warm-up ${settings.warmupSeconds} s, ${settings.connections} connections, ${t.url}`);
      runs.get(t)!.push(await loadFull(t.url, 'warmup', settings.warmupSeconds));
    }
    for (let round = 0; round < settings.rounds; round++) {
      const line: string[] = [];
      for (let i = 0; i < targets.length; i++) {
        const t = targets[(round + i) % targets.length]!;
        await focus(t);
        const r = await loadFull(t.url, 'max', settings.durationSeconds);
        r.round = round;
        runs.get(t)!.push(r);
        maxRuns.get(t)!.push(r);
        line.push(`${t.target} ${r.reqPerSec}`);
      }
      log(`round ${round + 1}/${settings.rounds} (${settings.durationSeconds} s each): ${line.join(', ')} req/s`);
    }
    const halves = new Map<PairedTarget, { rate: number; run: RunResult }>();
    for (const t of targets) {
      await focus(t);
      const rate = Math.max(1, Math.round(median(maxRuns.get(t)!.map((r) => r.reqPerSec)) / 2));
      log(`${t.target}: half load (${rate} req/s) ${settings.halfSeconds} s`);
      const run = await load(t.url, 'half', settings.halfSeconds, rate);
      runs.get(t)!.push(run);
      halves.set(t, { rate, run });
    }
    await focus(null);
    await sleep(settings.countCheckDelayMs);
    const bare = targets.find((t) => t.target === 'bare');
    const out: TargetResult[] = [];
    for (const t of targets) {
      const all = runs.get(t)!;
      const rounds = maxRuns.get(t)!;
      noteOddRuns(all, t.notes);
      const reqPerSec = Math.round(median(rounds.map((r) => r.reqPerSec)));
      // The run nearest the median gives the full-load latency figures.
      const typical = rounds.reduce((a, b) =>
        Math.abs(b.reqPerSec - reqPerSec) < Math.abs(a.reqPerSec - reqPerSec) ? b : a,
      );
      const { rate, run: half } = halves.get(t)!;
      const result: TargetResult = {
        target: t.target,
        url: t.url,
        notes: t.notes,
        runs: all,
        reqPerSec,
        latencyMs: typical.latencyMs,
        half: {
          overallRate: rate,
          reqPerSec: half.reqPerSec,
          latencyMs: half.latencyMs,
          rawLatencyMs: half.rawLatencyMs,
        },
        counting: countingOf(all, await t.readCount()),
        rounds: rounds.map((r) => r.reqPerSec),
      };
      if (!result.counting.exact && t.converge) await t.converge(result);
      if (bare && t !== bare) {
        const bareRounds = maxRuns.get(bare)!;
        const ratios = rounds.map((r, i) => round3(r.reqPerSec / bareRounds[i]!.reqPerSec));
        result.vsBare = {
          median: round3(median(ratios)),
          min: Math.min(...ratios),
          max: Math.max(...ratios),
          rounds: ratios,
        };
      }
      out.push(result);
    }
    return out;
  } finally {
    for (const g of groups) for (const p of g) killGroup(p, 'SIGCONT');
  }
}

const t0 = performance.now();
function log(msg: string): void {
  console.error(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${msg}`);
}

// ---------------------------------------------------------------------------------------
// bare

/** The bare server, ready to be measured: a paired target. */
async function startBare(): Promise<PairedTarget> {
  const slug = 'bench';
  const file = await bundle('bench/baselines/bareServer.ts', 'bareServer.mjs');
  const p = startProc('bare', process.execPath, [file], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LINKS: JSON.stringify({ [slug]: LINK_URL }) },
  });
  const port = await waitFor(
    'bare server to listen',
    async () => {
      const m = /\{"port":(\d+)\}/.exec(p.output());
      return m ? Number(m[1]) : undefined;
    },
    10_000,
    [p],
  );
  const base = `http://127.0.0.1:${port}`;
  await checkRedirect(`${base}/${slug}`, LINK_URL);
  const before = await bareCount(base, slug); // the check above counted one view
  const readCount = async () => (await bareCount(base, slug)) - before;
  return { target: 'bare', url: `${base}/${slug}`, group: [p], serverPid: p.pid, notes: [], readCount };
}

async function bareCount(base: string, slug: string): Promise<number> {
  return ((await (await fetch(`${base}/__count/${slug}`)).json()) as { count: number }).count;
}

// ---------------------------------------------------------------------------------------
// next+redis

const nextDir = join(root, 'bench', 'baselines', 'next-redis');
const nextBin = join(root, 'node_modules', 'next', 'dist', 'bin', 'next');

/** Hash of what the build depends on: the app's sources and config, and the next version. */
function nextSourcesHash(): string {
  const h = createHash('sha256');
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else {
        h.update(relative(nextDir, p));
        h.update(readFileSync(p));
      }
    }
  };
  walk(join(nextDir, 'app'));
  for (const f of ['next.config.mjs', 'package.json', 'tsconfig.json']) {
    h.update(f);
    h.update(readFileSync(join(nextDir, f)));
  }
  h.update((require('next/package.json') as { version: string }).version);
  return h.digest('hex');
}

/** `next build` into bench/baselines/next-redis/.next unless the last build was of the same sources. */
async function ensureNextBuilt(): Promise<{ built: boolean; seconds: number }> {
  // next, react and ioredis resolve from the repository's node_modules through this symlink.
  const link = join(nextDir, 'node_modules');
  let isLink = false;
  try {
    isLink = lstatSync(link).isSymbolicLink();
  } catch {
    // missing
  }
  if (!isLink) {
    if (existsSync(link)) throw new Error(`${link} exists and is not a symlink to the repository's node_modules`);
    symlinkSync(join('..', '..', '..', 'node_modules'), link, 'dir');
  }
  const stamp = join(nextDir, '.next', 'bench-sources.sha256');
  if (
    existsSync(join(nextDir, '.next', 'BUILD_ID')) &&
    existsSync(stamp) &&
    readFileSync(stamp, 'utf8') === nextSourcesHash()
  )
    return { built: false, seconds: 0 };
  log('next+redis: next build (sources changed or no build yet)');
  const t = performance.now();
  const p = startProc('next build', process.execPath, [nextBin, 'build'], {
    cwd: nextDir,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production' },
  });
  await p.exited;
  await stopProc(p); // whatever the build left in its process group
  if (p.exit?.code !== 0) throw new Error(`next build failed (${p.describeExit()})\n${procOutput(p)}`);
  // Hashed after the build: next build may rewrite tsconfig.json once.
  writeFileSync(stamp, nextSourcesHash());
  return { built: true, seconds: round2((performance.now() - t) / 1000) };
}

function redisVersion(): string | null {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? (/v=(\S+)/.exec(r.stdout)?.[1] ?? r.stdout.trim()) : null;
}

async function benchNextRedis(): Promise<TargetResult> {
  const slug = 'bench';
  const build = await ensureNextBuilt();
  const redisPort = await freePort();
  const redis = startProc('redis-server', 'redis-server', [
    '--port',
    String(redisPort),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
  ]);
  let next: Proc | undefined;
  const { default: Redis } = (await import('ioredis')) as typeof import('ioredis');
  const client = new Redis({
    port: redisPort,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await waitFor(
      'redis-server',
      async () => {
        if (client.status !== 'ready') {
          client.disconnect();
          await client.connect();
        }
        return (await client.ping()) === 'PONG' ? true : undefined;
      },
      10_000,
      [redis],
    );
    await client.set(`link:${slug}`, LINK_URL);
    await client.del(`clicks:${slug}`);
    const port = await freePort();
    next = startProc('next start', process.execPath, [nextBin, 'start', '-p', String(port), '-H', '127.0.0.1'], {
      cwd: nextDir,
      env: {
        ...process.env,
        NODE_ENV: 'production',
        NEXT_TELEMETRY_DISABLED: '1',
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      },
    });
    const base = `http://127.0.0.1:${port}`;
    await waitFor(
      'next start to answer',
      async () => ((await probe(`${base}/${slug}`)).status > 0 ? true : undefined),
      30_000,
      [next, redis],
    );
    await checkRedirect(`${base}/${slug}`, LINK_URL);
    const counter = async () => Number((await client.get(`clicks:${slug}`)) ?? 0);
    const before = await counter();
    const notes = build.built ? [`next build ran first (${build.seconds} s)`] : [];
    const readCount = async () => (await counter()) - before;
    const opts = { countDelayMs: settings.countCheckDelayMs, notes, serverPid: next.pid };
    return await measure('next+redis', `${base}/${slug}`, readCount, opts);
  } finally {
    client.disconnect();
    if (next) await stopProc(next);
    await stopProc(redis);
  }
}

// ---------------------------------------------------------------------------------------
// ringlink

type RingNodeProc = RingProcess & Proc;

/** Four nodes, each joining a settled ring one at a time; waits until the ring settled. */
async function startRinglink(): Promise<RingNodeProc[]> {
  const t = performance.now();
  requireBundle('npm run bench:redirect builds it');
  const names = Array.from({ length: settings.ringlinkNodes }, (_, i) => `n${i + 1}`);
  // SIGTERM would make a node leave the ring gracefully (handing its partitions off): nothing here is worth keeping.
  const track = (n: RingProcess): RingNodeProc => {
    const p = Object.assign(n, { stopSignal: 'SIGKILL' as NodeJS.Signals });
    procs.add(p);
    return p;
  };
  const started = await ringlink.startCluster(names, {
    oneAtATime: true,
    ...(argv.persist ? { dataDir: true } : {}),
    readyTimeoutMs: 60_000,
    settleTimeoutMs: 120_000,
  });
  const nodes = started.map(track);
  log(`ringlink: ${nodes.length} nodes ready and the ring settled in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return nodes;
}

interface CreatedLink {
  slug: string;
  cookie: string;
  via: RingNodeProc;
}

async function createLink(via: RingNodeProc): Promise<CreatedLink> {
  const origin = `http://127.0.0.1:${via.port}`;
  const res = await fetch(`${origin}/api/links`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin },
    body: JSON.stringify({ url: LINK_URL }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (res.status !== 201)
    throw new Error(`POST /api/links on ${via.name} answered ${res.status}: ${text.slice(0, 500)}`);
  const slug = (JSON.parse(text) as { slug?: string }).slug;
  if (!slug) throw new Error(`POST /api/links answered 201 without a slug: ${text.slice(0, 500)}`);
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';', 1)[0]!)
    .find((c) => c.startsWith('rl_sid='));
  if (!cookie)
    throw new Error(`POST /api/links set no rl_sid cookie (set-cookie: ${JSON.stringify(res.headers.getSetCookie())})`);
  return { slug, cookie, via };
}

interface LinkStatsBody {
  total: number;
  bots: number;
  nodes: { name: string; role: string; up?: boolean }[];
}

async function linkStats(link: CreatedLink, node: RingNodeProc = link.via): Promise<LinkStatsBody> {
  const r = await getJson<LinkStatsBody>(`http://127.0.0.1:${node.port}/api/links/${link.slug}/stats`, {
    cookie: link.cookie,
  });
  if (r.status !== 200)
    throw new Error(
      `GET /api/links/${link.slug}/stats on ${node.name} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 500)}`,
    );
  if (typeof r.body.total !== 'number' || typeof r.body.bots !== 'number' || !Array.isArray(r.body.nodes))
    throw new Error(`stats without total/bots/nodes: ${JSON.stringify(r.body).slice(0, 500)}`);
  return r.body;
}

/** The ringlink targets on a running cluster: a fresh link each, loaded on a primary of it (local) and on a node that is not (cached/forwarded). */
async function ringlinkTargets(nodes: RingNodeProc[]): Promise<PairedTarget[]> {
  const out: PairedTarget[] = [];
  const group: Proc[] = nodes;
  for (const kind of ['local', 'cached'] as const) {
    const target = kind === 'local' ? 'ringlink local' : 'ringlink cached/forwarded';
    const link = await createLink(nodes[0]!);
    const stats = await linkStats(link);
    const primaries = new Set(stats.nodes.filter((n) => n.role === 'primary').map((n) => n.name));
    const node =
      kind === 'local' ? nodes.find((n) => primaries.has(n.name)) : nodes.find((n) => !primaries.has(n.name));
    if (!node)
      throw new Error(
        `no node is ${kind === 'local' ? 'a primary' : 'outside the primaries'} of ${link.slug} (stats nodes: ${JSON.stringify(stats.nodes)})`,
      );
    const url = `http://127.0.0.1:${node.port}/${link.slug}`;
    // The probe is a counted view too: count from the stats after it.
    await checkRedirect(url, LINK_URL);
    await sleep(settings.countCheckDelayMs);
    const s0 = await linkStats(link);
    const before = s0.total + s0.bots;
    const notes = [
      `load on ${node.name} (${kind === 'local' ? 'a primary' : 'not a primary'} of ${link.slug}: primaries ${[...primaries].join(', ')}), stats read on ${link.via.name}`,
    ];
    out.push({
      target,
      url,
      group,
      serverPid: node.pid,
      notes,
      readCount: async () => {
        const s = await linkStats(link);
        notes.push(
          `stats after the load: total ${s.total}, bots ${s.bots} (before it: total ${s0.total}, bots ${s0.bots})`,
        );
        return s.total + s.bots - before;
      },
      converge: async (r) => {
        // Not equal after the count delay: see whether (and when) it converges, for the report.
        const t = performance.now();
        let last: { afterMs: number; counted: number } | undefined;
        while (performance.now() - t < 10_000) {
          await sleep(500);
          const s = await linkStats(link);
          last = {
            afterMs: Math.round(settings.countCheckDelayMs + performance.now() - t),
            counted: s.total + s.bots - before,
          };
          if (last.counted >= r.counting.served && last.counted <= r.counting.sent) break;
        }
        if (last)
          r.notes.push(
            `count ${r.counting.counted} after ${settings.countCheckDelayMs} ms; ${last.counted} after ${last.afterMs} ms`,
          );
      },
    });
  }
  return out;
}

/** Bare and ringlink, measured in paired rounds (see measurePaired). */
async function benchPaired(): Promise<(TargetResult | TargetError)[]> {
  const started: Proc[] = [];
  const targets: PairedTarget[] = [];
  const failures: TargetError[] = [];
  try {
    if (only.has('bare')) {
      try {
        const t = await startBare();
        started.push(...t.group);
        targets.push(t);
      } catch (err) {
        if (interrupted) throw err;
        failures.push({ target: 'bare', error: (err as Error).message });
        log(`bare failed: ${(err as Error).message}`);
      }
    }
    if (only.has('ringlink')) {
      try {
        const nodes = await startRinglink();
        started.push(...nodes);
        targets.push(...(await ringlinkTargets(nodes)));
      } catch (err) {
        if (interrupted) throw err;
        failures.push({ target: 'ringlink', error: (err as Error).message });
        log(`ringlink failed: ${(err as Error).message}`);
      }
    }
    return [...(targets.length ? await measurePaired(targets) : []), ...failures];
  } finally {
    await Promise.all(started.map(stopProc));
  }
}

// ---------------------------------------------------------------------------------------
// Report

const failed = (r: TargetResult | TargetError): r is TargetError => typeof r.error === 'string';

function table(results: (TargetResult | TargetError)[]): string {
  const ok = results.filter((r): r is TargetResult => !failed(r));
  const bare = ok.find((r) => r.target === 'bare');
  const next = ok.find((r) => r.target === 'next+redis');
  const ratio = (x: number, base: TargetResult | undefined) =>
    base ? `${(x / base.reqPerSec).toFixed(base === bare ? 2 : 1)}x` : '-';
  // Paired targets: the median of the per-round ratios, not the ratio of the medians.
  const vsBare = (r: TargetResult) => (r.vsBare ? `${r.vsBare.median.toFixed(2)}x` : ratio(r.reqPerSec, bare));
  const head = [
    'target',
    'req/s',
    'vs bare',
    'vs next+redis',
    'p50 ms',
    'p99 ms',
    'half load req/s',
    'half p50/p99 ms',
    'half p50/p99 ms (raw)',
    'counted exactly',
    "others' CPU",
  ];
  const rows = results.map((r) =>
    failed(r)
      ? [r.target, 'failed', '', '', '', '', '', '', '', '', '']
      : [
          r.target,
          String(r.reqPerSec),
          vsBare(r),
          ratio(r.reqPerSec, next),
          String(r.latencyMs.p50),
          String(r.latencyMs.p99),
          `${r.half.reqPerSec} (${r.half.overallRate})`,
          `${r.half.latencyMs.p50} / ${r.half.latencyMs.p99}`,
          r.half.rawLatencyMs ? `${r.half.rawLatencyMs.p50.toFixed(2)} / ${r.half.rawLatencyMs.p99.toFixed(2)}` : '-',
          r.counting.exact ? 'yes' : 'NO',
          `${Math.round(Math.max(...r.runs.filter((x) => x.kind !== 'warmup').map((x) => x.othersCpu)) * 100)}%`,
        ],
  );
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [
    line(head),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map(line),
    '',
    `req/s: bare and ringlink, the median of ${settings.rounds} paired rounds (vs bare: the median of the per-round ratios); next+redis, one run.`,
    `p50/p99: latency percentiles at full load (${settings.generator === 'wrk' ? 'wrk, µs resolution' : 'autocannon, 1 ms resolution'}; paired targets: the round nearest the median). half load: a run at autocannon overallRate = half the`,
    'req/s above (asked rate in parentheses); autocannon paces each connection per second (its share as fast as it can, then idle',
    'until the next second), so it is bursts at full speed, and its percentiles add corrections for coordinated omission; raw =',
    "percentiles of the responses' own times. others' CPU: the most CPU (share of all cores) that processes this benchmark did not",
    'start used during a measured run: figures from runs where it is high are not comparable.',
    '',
  ];
  for (const r of results) {
    if (failed(r)) {
      out.push(`${r.target}: FAILED: ${r.error}`);
      continue;
    }
    out.push(`${r.target}: counted exactly: ${r.counting.exact ? 'yes' : 'no'} (${r.counting.detail})`);
    if (r.rounds) out.push(`  full-load rounds: ${r.rounds.join(', ')} req/s (median ${r.reqPerSec})`);
    if (r.vsBare)
      out.push(
        `  vs bare per round: ${r.vsBare.rounds.map((x) => x.toFixed(2)).join(', ')} (median ${r.vsBare.median.toFixed(2)}x, ${r.vsBare.min.toFixed(2)}-${r.vsBare.max.toFixed(2)})`,
      );
    for (const n of r.notes) out.push(`  ${n}`);
  }
  return out.join('\n');
}

/** Fraction of all CPUs' time spent busy over the next `ms`. */
async function cpuBusy(ms: number): Promise<number> {
  const sample = () =>
    os.cpus().reduce(
      (acc, c) => ({
        idle: acc.idle + c.times.idle,
        total: acc.total + c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle,
      }),
      { idle: 0, total: 0 },
    );
  const a = sample();
  await sleep(ms);
  const b = sample();
  return b.total > a.total ? round2(1 - (b.idle - a.idle) / (b.total - a.total)) : 0;
}

async function main(): Promise<number> {
  const startedAt = new Date();
  const machine = {
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.cpus().length,
    availableParallelism: os.availableParallelism(),
    memoryGiB: round2(os.totalmem() / 2 ** 30),
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    autocannon: (require('autocannon/package.json') as { version: string }).version,
    wrk:
      settings.generator === 'wrk'
        ? `wrk ${/(\d+\.\d+[^\s\]]*)/.exec(spawnSync('wrk', ['-v'], { encoding: 'utf8' }).stdout)?.[1] ?? '(version unknown)'}`
        : null,
    next: (require('next/package.json') as { version: string }).version,
    ioredis: (require('ioredis/package.json') as { version: string }).version,
    redisServer: only.has('next') ? redisVersion() : null,
    /** Other work on the machine skews every figure: how busy the CPUs were in the second before the benchmark (0-1), and the load averages. */
    cpuBusyBefore: await cpuBusy(1000),
    loadAverageBefore: os.loadavg().map(round2),
    loadAverageAfter: [] as number[],
  };
  if (machine.cpuBusyBefore > 0.15)
    log(
      `warning: the CPUs were ${Math.round(machine.cpuBusyBefore * 100)}% busy before the benchmark started: other work is running and will skew the figures`,
    );
  log(
    `${machine.cpus}x ${machine.cpuModel}, node ${machine.node}; ${settings.connections} connections, ${settings.warmupSeconds} s warm-up + ${settings.durationSeconds} s per run`,
  );
  const results: (TargetResult | TargetError)[] = [];
  const attempt = async (target: string, fn: () => Promise<TargetResult | (TargetResult | TargetError)[]>) => {
    try {
      const r = await fn();
      results.push(...(Array.isArray(r) ? r : [r]));
    } catch (err) {
      if (interrupted) throw err;
      results.push({ target, error: (err as Error).message });
      log(`${target} failed: ${(err as Error).message}`);
    }
  };
  // next+redis first, on its own; then bare and ringlink in paired rounds.
  if (only.has('next')) await attempt('next+redis', benchNextRedis);
  if (only.has('bare') || only.has('ringlink')) await attempt('bare and ringlink', benchPaired);
  const order = ['bare', 'next+redis', 'ringlink local', 'ringlink cached/forwarded'];
  results.sort((a, b) => order.indexOf(a.target) - order.indexOf(b.target));

  console.log(
    `\nredirect benchmark: ${machine.cpus}x ${machine.cpuModel}, node ${machine.node}; full load: ${settings.generator === 'wrk' ? machine.wrk : `autocannon ${machine.autocannon}`}, half load: autocannon ${machine.autocannon}; ${settings.connections} connections, ${settings.durationSeconds} s per full-load run (bare and ringlink: ${settings.rounds} paired rounds), ${settings.halfSeconds} s per half-load run, after a ${settings.warmupSeconds} s warm-up (load generator in the same machine)\n`,
  );
  console.log(table(results));

  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = startedAt
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '-');
  const file = join(dir, `redirect-${stamp}.json`);
  machine.loadAverageAfter = os.loadavg().map(round2);
  const json = {
    benchmark: 'redirect',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    command: `npm run bench:redirect${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine,
    settings,
    results,
  };
  writeFileSync(`${file}.tmp`, `${JSON.stringify(json, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  console.log(`\nwrote ${relative(root, file)}`);
  return results.some((r) => failed(r) || !r.counting.exact) ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error(interrupted ? 'interrupted' : ((err as Error).stack ?? err));
} finally {
  await stopAll();
}
if (!interrupted) process.exit(code);
