// Link creates through the real API, against what a user would otherwise run: a Node app
// backed by Redis. Both targets run at once, with the same load settings, in one run:
//   redis     a node:http server + ioredis against a real redis-server
//             (bench/baselines/redisCreateServer.ts: bearer key check, URL check, a random
//             7-character slug, `SET link:<slug> <doc> NX`, `SADD owns:<owner> <slug>`, 201);
//   ringlink  a 3-node cluster (dist/server.mjs, N=3, R=2, W=2, the create rate limit off), one
//             account's API key; each POST /api/links mints a random slug, claims it by
//             compare-and-set and writes the link with W=2.
// Full load: wrk, 64 connections split over three wrk processes (one thread each); for ringlink
// each wrk loads another node, for redis all three load the one server. Each request's body
// carries another URL. The rounds alternate (redis, ringlink; then ringlink, redis; ...) so the
// drift of this shared machine's speed hits both; a target's creates/s is the median of its
// rounds, the ratio the median of the per-round ratios (ringlink / redis in the same round).
// Then a paced run per target (each request sent at its own time, over at most the same 64
// connections and URLs) at half the goal's load, `--target-ratio` (0.25) x redis's median / 2:
// p50 and p99 there.
//
// Durability: by default every ringlink node has a DATA_DIR (its record log, FSYNC=interval,
// the README's loss window) and redis-server appends every write to its AOF (appendfsync
// everysec); --memory runs both without persistence.
//
// npm run bench:creates [-- --rounds 3 --duration 8 --connections 64 --half-seconds 8 --memory --quick
//                          --target-ratio 0.25 --json-out FILE]
// Prints a table and writes bench/results/creates-<timestamp>.json (or FILE).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { bundle } from './lib/bundle';
import { freePort, Harness, newAccount, requireBundle, spawnProc, type Proc, waitFor } from '../testkit';

const root = process.cwd();

const { values: argv } = parseArgs({
  options: {
    rounds: { type: 'string' },
    duration: { type: 'string' },
    connections: { type: 'string', default: '64' },
    'half-seconds': { type: 'string' },
    'target-ratio': { type: 'string', default: '0.25' },
    memory: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    'json-out': { type: 'string' },
    'cpu-prof': { type: 'string' },
  },
});
function positive(name: string, v: string, int = true): number {
  const n = Number(v);
  if (!(n > 0) || (int && !Number.isInteger(n))) {
    console.error(`--${name} must be a positive ${int ? 'integer' : 'number'} (got ${v})`);
    process.exit(2);
  }
  return n;
}
const settings = {
  rounds: positive('rounds', argv.rounds ?? (argv.quick ? '1' : '3')),
  durationSeconds: positive('duration', argv.duration ?? (argv.quick ? '3' : '8')),
  connections: positive('connections', argv.connections!),
  halfSeconds: positive('half-seconds', argv['half-seconds'] ?? (argv.quick ? '3' : '8')),
  targetRatio: positive('target-ratio', argv['target-ratio']!, false),
  persistence: argv.memory ? 'none (in memory)' : 'ringlink DATA_DIR (FSYNC=interval), redis AOF (everysec)',
  nodes: 3,
  nVal: 3,
  w: 2,
  warmupSeconds: 2,
};
const cpuProfDir = argv['cpu-prof'];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const round1 = (x: number) => Math.round(x * 10) / 10;
const round3 = (x: number) => Math.round(x * 1000) / 1000;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

// ---------------------------------------------------------------------------------------
// Processes

const procs = new Set<Proc>();
const tempDirs: string[] = [];
const wrkChildren = new Set<ChildProcess>();
const ring = new Harness({
  profile: 'bench',
  group: true,
  nodeArgs: ['--enable-source-maps', ...(cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [])],
  env: { RATE_LIMIT_CREATE_PER_MIN: '0' },
});

async function stopAll(): Promise<void> {
  for (const c of wrkChildren) c.kill('SIGKILL');
  for (const p of procs) {
    p.signal('SIGTERM');
    await Promise.race([p.exited, sleep(3000)]);
    p.signal('SIGKILL', { evenIfExited: true });
  }
  procs.clear();
  // SIGTERM first, so a --cpu-prof node writes its profile.
  await Promise.all(ring.nodes.map(async (n) => (n.signal('SIGTERM'), await Promise.race([n.exited, sleep(5000)]))));
  await ring.cleanup();
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}
let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = true;
    void stopAll().finally(() => process.exit(130));
  });

function tempDir(prefix: string): string {
  const d = mkdtempSync(join(os.tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}

const LINK_BASE = 'https://example.com/bench/';
const body = (n: number | string) => JSON.stringify({ url: `${LINK_BASE}${n}` });

interface Target {
  name: 'redis' | 'ringlink';
  /** One URL per load generator: connections are split evenly over them. */
  urls: string[];
  key: string;
  /** The target's server processes (their CPU time is read from /proc). */
  pids: () => number[];
}

/** CPU time (user + system, every thread) of `pids` so far, in ms (Linux /proc; 0 elsewhere). */
function cpuMsOf(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // not Linux, or gone
    }
  }
  return (ticks * 1000) / 100; // USER_HZ = 100
}

async function startRedis(): Promise<Target> {
  const redisPort = await freePort();
  const persist = argv.memory
    ? ['--save', '', '--appendonly', 'no']
    : ['--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', tempDir('ringlink-bench-redis-')];
  const redis = spawnProc(
    'redis-server',
    'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', ...persist, '--daemonize', 'no', '--loglevel', 'warning'],
    { group: true },
  );
  procs.add(redis);
  const key = `bench-${Math.random().toString(36).slice(2)}`;
  const file = await bundle('bench/baselines/redisCreateServer.ts', 'redisCreateServer.mjs');
  // redis-server takes a moment to listen; the server's ioredis client retries until it does.
  const server = spawnProc('redis baseline', process.execPath, [file], {
    group: true,
    env: { ...process.env, PORT: '0', REDIS_URL: `redis://127.0.0.1:${redisPort}`, API_KEY: key, OWNER: 'bench' },
  });
  procs.add(server);
  const port = await waitFor(async () => Number(/\{"port":(\d+)\}/.exec(server.output())?.[1]) || undefined, {
    timeoutMs: 10_000,
    what: 'the redis baseline to listen',
  });
  const url = `http://127.0.0.1:${port}/api/links`;
  await waitFor(async () => (await post(url, key, 'check')) === 201 || undefined, {
    timeoutMs: 10_000,
    what: 'the redis baseline to create a link',
  });
  return { name: 'redis', urls: [url, url, url], key, pids: () => [redis.pid!, server.pid!] };
}

async function startRinglink(): Promise<Target> {
  const nodes = await ring.startCluster(['c1', 'c2', 'c3'], {
    readyTimeoutMs: 30_000,
    settled: { noHandoffs: true },
    dataDir: !argv.memory,
  });
  const key = (await (await newAccount(nodes[0]!, 'bench')).createKey('bench')).key;
  const urls = nodes.map((n) => `${n.url}/api/links`);
  // Compare-and-set serves once every acceptor caught up after the joins (a few seconds).
  const quick = async () => {
    for (const u of urls) {
      const t = performance.now();
      if ((await post(u, key, 'warm')) !== 201 || performance.now() - t > 100) return undefined;
    }
    return true;
  };
  await waitFor(quick, { timeoutMs: 60_000, intervalMs: 50, what: 'creates to be quick on every node' });
  return { name: 'ringlink', urls, key, pids: () => nodes.map((n) => n.pid!) };
}

async function post(url: string, key: string, n: string): Promise<number> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: body(n),
    signal: AbortSignal.timeout(5000),
  });
  await r.arrayBuffer();
  return r.status;
}

// ---------------------------------------------------------------------------------------
// Load

/** Connections per load generator: `total` split over `parts` (64 over 3: 22, 21, 21). */
const split = (total: number, parts: number) =>
  Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));

/**
 * wrk posts with another URL in every body and counts what it wrote; one JSON line at the end
 * (its `summary.errors.status` counts answers other than 2xx/3xx).
 */
const wrkScript = (key: string) => `
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) sent = 0; prefix = args[1] end
function request()
  sent = sent + 1
  local body = '{"url":"${LINK_BASE}' .. prefix .. '-' .. sent .. '"}'
  return wrk.format("POST", nil, {["content-type"] = "application/json", ["authorization"] = "Bearer ${key}"}, body)
end
function done(summary, latency, requests)
  local s = 0
  for _, t in ipairs(threads) do s = s + t:get("sent") end
  local e = summary.errors
  io.write(string.format('WRKJSON {"sent":%d,"responses":%d,"durationUs":%d,"errors":%d,"status":%d,"timeout":%d,' ..
    '"p50":%d,"p99":%d}\\n', s, summary.requests, summary.duration, e.connect + e.read + e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99)))
end
`;

interface WrkOut {
  responses: number;
  durationUs: number;
  errors: number;
  status: number;
  timeout: number;
  p50: number;
  p99: number;
}

function wrk(url: string, connections: number, seconds: number, script: string, prefix: string): Promise<WrkOut> {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', script, url, '--', prefix];
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
      resolve(JSON.parse(line.slice('WRKJSON '.length)) as WrkOut);
    });
  });
}

interface Run {
  createsPerSecond: number;
  /** CPU time the target's server processes used per create (ms, summed over them). */
  cpuMsPerCreate?: number;
  created: number;
  /** Answers other than 2xx/3xx, socket errors and timeouts. */
  failed: number;
  /** The slowest of the load generators' percentiles (wrk: per generator, µs resolution). */
  p50Ms: number;
  p99Ms: number;
}

let scriptFile: string | undefined;
async function fullLoad(t: Target, seconds: number, tag: string): Promise<Run> {
  scriptFile ??= join(tempDir('ringlink-bench-creates-'), 'post.lua');
  writeFileSync(scriptFile, wrkScript(t.key));
  const conns = split(settings.connections, t.urls.length);
  const cpuBefore = cpuMsOf(t.pids());
  const outs = await Promise.all(t.urls.map((u, i) => wrk(u, conns[i]!, seconds, scriptFile!, `${tag}-${i}`)));
  const created = outs.reduce((s, o) => s + o.responses - o.status, 0);
  return {
    cpuMsPerCreate: round3((cpuMsOf(t.pids()) - cpuBefore) / Math.max(1, created)),
    createsPerSecond: Math.round(outs.reduce((s, o) => s + (o.responses - o.status) / (o.durationUs / 1e6), 0)),
    created,
    failed: outs.reduce((s, o) => s + o.status + o.errors + o.timeout, 0),
    p50Ms: round3(Math.max(...outs.map((o) => o.p50)) / 1000),
    p99Ms: round3(Math.max(...outs.map((o) => o.p99)) / 1000),
  };
}

/**
 * A paced run: `rate` creates/s, each request sent at its own time (start + i / rate, round
 * robin over the URLs) over at most the same connections (node:http keep-alive agents, split
 * like them). A request's latency counts from its scheduled time, so a generator or a server
 * that falls behind shows in it (no coordinated omission). autocannon's overallRate was not
 * used: it releases each connection's requests of a second at once, and those bursts, not
 * the server, set its percentiles.
 */
async function pacedLoad(t: Target, rate: number, seconds: number): Promise<Run & { rate: number }> {
  const conns = split(settings.connections, t.urls.length);
  const agents = conns.map((c) => new http.Agent({ keepAlive: true, maxSockets: c }));
  const total = Math.max(1, Math.round(rate * seconds));
  const latencies: number[] = [];
  let failed = 0;
  const send = (i: number, at: number) =>
    new Promise<void>((resolve) => {
      const data = body(`paced-${t.name}-${i}`);
      const req = http.request(
        t.urls[i % t.urls.length]!,
        {
          method: 'POST',
          agent: agents[i % t.urls.length],
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(data),
            authorization: `Bearer ${t.key}`,
          },
          timeout: 10_000,
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 201) latencies.push(performance.now() - at);
            else failed++;
            resolve();
          });
        },
      );
      req.on('error', () => (failed++, resolve()));
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.end(data);
    });
  const t0 = performance.now() + 10;
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total && !interrupted; i++) {
    const at = t0 + (i * 1000) / rate;
    const wait = at - performance.now();
    if (wait > 1) await sleep(wait);
    pending.push(send(i, at));
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - t0) / 1000;
  for (const a of agents) a.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => round1(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN);
  return {
    rate: Math.round(rate),
    createsPerSecond: Math.round(latencies.length / elapsed),
    created: latencies.length,
    failed,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
  };
}

// ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  requireBundle('npm run bench:creates builds it');
  const redis = await startRedis();
  const ringlink = await startRinglink();
  const targets = [redis, ringlink];
  console.error(
    `[creates] warm-up ${settings.warmupSeconds} s each; ${settings.rounds} rounds of ` +
      `${settings.durationSeconds} s, ${settings.connections} connections`,
  );
  for (const t of targets) await fullLoad(t, settings.warmupSeconds, `warm-${t.name}`);
  const runs: Record<Target['name'], Run[]> = { redis: [], ringlink: [] };
  const ratios: number[] = [];
  for (let r = 0; r < settings.rounds && !interrupted; r++) {
    const order = r % 2 === 0 ? targets : [...targets].reverse();
    for (const t of order) {
      const run = await fullLoad(t, settings.durationSeconds, `r${r}-${t.name}`);
      runs[t.name].push(run);
      console.error(
        `[creates] round ${r + 1} ${t.name}: ${run.createsPerSecond} creates/s (${run.failed} failed), ` +
          `p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms, CPU ${run.cpuMsPerCreate} ms/create`,
      );
      await sleep(500);
    }
    ratios.push(round3(runs.ringlink[r]!.createsPerSecond / runs.redis[r]!.createsPerSecond));
  }
  const redisRate = median(runs.redis.map((x) => x.createsPerSecond));
  const halfRate = Math.round((settings.targetRatio * redisRate) / 2);
  const paced = {
    redis: await pacedLoad(redis, halfRate, settings.halfSeconds),
    ringlink: await pacedLoad(ringlink, halfRate, settings.halfSeconds),
  };
  const summary = (name: Target['name']) => {
    const rs = runs[name];
    const perSecond = median(rs.map((x) => x.createsPerSecond));
    const near = rs.reduce((a, b) =>
      Math.abs(b.createsPerSecond - perSecond) < Math.abs(a.createsPerSecond - perSecond) ? b : a,
    );
    return {
      perSecond,
      rounds: rs.map((x) => x.createsPerSecond),
      cpuMsPerCreate: round3(median(rs.map((x) => x.cpuMsPerCreate ?? NaN))),
      created: rs.reduce((s, x) => s + x.created, 0),
      failed: rs.reduce((s, x) => s + x.failed, 0),
      p50Ms: near.p50Ms,
      p99Ms: near.p99Ms,
      half: paced[name],
    };
  };
  const result = {
    benchmark: 'creates',
    settings: { ...settings, generator: 'wrk (full load), paced node:http requests (half load)' },
    redis: summary('redis'),
    ringlink: summary('ringlink'),
    ratio: { median: round3(median(ratios)), rounds: ratios, target: settings.targetRatio },
    halfLoad: { rate: halfRate, p99TargetMs: 50 },
  };
  const row = (name: string, s: ReturnType<typeof summary>) =>
    `${name.padEnd(9)} ${String(s.perSecond).padStart(7)} creates/s ` +
    `(rounds ${s.rounds.join(', ')}; ${s.failed} failed)  CPU ${s.cpuMsPerCreate} ms/create  ` +
    `full p50/p99 ${round1(s.p50Ms)}/${round1(s.p99Ms)} ms  ` +
    `at ${s.half.rate}/s: p50/p99 ${s.half.p50Ms}/${s.half.p99Ms} ms (${s.half.failed} failed)`;
  console.log(
    `\ncreates: ${settings.connections} connections, ${settings.rounds} alternating rounds of ` +
      `${settings.durationSeconds} s; persistence: ${settings.persistence}`,
  );
  console.log(row('redis', result.redis));
  console.log(row('ringlink', result.ringlink));
  console.log(
    `ringlink / redis: ${result.ratio.median}x (rounds ${ratios.join(', ')}; goal ${settings.targetRatio}x); ` +
      `p99 at ${halfRate}/s (half the goal's load): ${paced.ringlink.p99Ms} ms (goal <= 50 ms)`,
  );
  const file =
    argv['json-out'] ??
    join(root, 'bench', 'results', `creates-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  if (!argv['json-out']) console.log(`wrote ${relative(root, file)}`);
}

if (spawnSync('sh', ['-c', 'command -v wrk && command -v redis-server'], { stdio: 'ignore' }).status !== 0) {
  console.error('npm run bench:creates needs wrk and redis-server (apt-get install wrk redis-server)');
  process.exit(2);
}
main().then(
  () => stopAll(),
  async (err) => {
    console.error(err);
    console.error(ring.dumpLogs().slice(-6000));
    await stopAll();
    process.exit(1);
  },
);
