// The document `npm run bench` writes (bench/results/bench-<timestamp>.json), the figures it
// pulls out of each benchmark's own JSON, and the rows of the summary table (printed by
// bench/all.ts, written to BENCHMARKS.md by bench/report.ts). Shared by both.

export const benchNames = [
  'redirect',
  'creates',
  'links',
  'live',
  'cluster',
  'sim',
  'quorum',
  'placement',
  'ring-scale',
] as const;
export type BenchName = (typeof benchNames)[number];

export interface Machine {
  cpuModel: string;
  cpus: number;
  availableParallelism: number;
  memoryGiB: number;
  platform: string;
  node: string;
  gitCommit: string | null;
  /** Files changed in the working tree (git status --porcelain, untracked excluded) when the run started. */
  gitDirtyFiles: number | null;
  versions: Record<string, string | null>;
  loadAverageBefore: number[];
  /** Share of all cores busy in the second before the run (nothing of the benchmark running yet). */
  cpuBusyBefore: number;
}

export interface BenchEntry {
  name: BenchName;
  title: string;
  /** The command that reproduces this benchmark's figures on its own. */
  command: string;
  /** What bench/all.ts ran (relative to the repository root). */
  argv: string[];
  /** The benchmark's own settings (from its JSON), or the arguments when it wrote none. */
  parameters: Record<string, unknown>;
  startedAt: string;
  wallSeconds: number;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Share of all cores busy in the second before it started (other processes only). */
  cpuBusyBefore: number;
  /** Share of all cores used by processes outside this benchmark while it ran (null off Linux). */
  othersCpu: number | null;
  loadAverageBefore: number[];
  /** The benchmark's own results file (bench:redirect and bench:live write one). */
  resultFile: string | null;
  /** Why there are no figures, or what went wrong (exit code, missing output). */
  error: string | null;
  /** The last lines of its output when it failed. */
  outputTail: string | null;
  /** The benchmark's own JSON document, as it wrote it. */
  result: unknown;
  figures: Figures | null;
}

export interface BenchDoc {
  benchmark: 'all';
  formatVersion: 1;
  startedAt: string;
  finishedAt: string;
  wallSeconds: number;
  command: string;
  quick: boolean;
  only: BenchName[];
  machine: Machine;
  benchmarks: BenchEntry[];
  /** Benchmarks left out (--only/--skip). */
  skipped: BenchName[];
}

// ---------------------------------------------------------------------------------------
// Figures: what the table shows, pulled out of each benchmark's JSON

export interface RedirectServer {
  target: string;
  reqPerSec: number;
  /** The full-load generator's percentiles (autocannon: 1 ms resolution). */
  fullP50Ms: number;
  fullP99Ms: number;
  halfRate: number;
  halfReqPerSec: number;
  /** Half load: each response's own time (µs resolution) when present, else autocannon's. */
  halfP50Ms: number;
  halfP99Ms: number;
  halfLatencySource: 'raw' | 'autocannon';
  countedExactly: boolean;
  countDetail: string;
  othersCpuMax: number | null;
  /** Paired rounds (bare and ringlink): req/s per round; reqPerSec is their median. */
  rounds: number[] | null;
  /** Paired ringlink targets: the median of the per-round ratios to bare, and their range. */
  vsBare: { median: number; min: number; max: number } | null;
}

export type RedirectRole = 'bare' | 'next' | 'local' | 'forwarded';
export const redirectRoles: RedirectRole[] = ['bare', 'next', 'local', 'forwarded'];
export const redirectLabels: Record<RedirectRole, string> = {
  bare: 'bare node:http + Map',
  next: 'Next.js route + Redis',
  local: 'ringlink, replica (local)',
  forwarded: 'ringlink, non-replica (forwarded)',
};

export interface RedirectFigures {
  kind: 'redirect';
  /** The full-load generator (settings.generator: wrk or autocannon; autocannon when the benchmark does not say). */
  generator: string;
  connections: number | null;
  durationSeconds: number | null;
  ringlinkNodes: number | null;
  servers: Partial<Record<RedirectRole, RedirectServer>>;
  failed: { target: string; error: string }[];
  /** req/s and half-load latency ratios between the servers of the same run. */
  ratios: Record<string, number>;
}

export interface LinksFigures {
  kind: 'links';
  concurrency: number;
  createsPerSecond: number;
  created: number;
  createFailed: number;
  createP50Ms: number;
  createP99Ms: number;
  links: number;
  loadSeconds: number;
  loadLinksPerSecond: number;
  rssBytesPerCopy: number;
  rssBytesPerLink: number;
  heapBytesPerCopy: number;
  /** Through POST /api/links after a forced GC (null in runs before it was measured). */
  apiLinks: number | null;
  apiRssBytesPerCopy: number | null;
  apiHeapBytesPerCopy: number | null;
  nVal: number;
}

export interface CreatesFigures {
  kind: 'creates';
  connections: number;
  persistence: string;
  redisPerSecond: number;
  ringlinkPerSecond: number;
  /** Median of the per-round ratios ringlink / redis. */
  ratio: number;
  targetRatio: number;
  ringlinkP50Ms: number;
  ringlinkP99Ms: number;
  redisP50Ms: number;
  redisP99Ms: number;
  /** The paced run: half the goal's load (targetRatio x redis / 2). */
  halfRate: number;
  halfRinglinkP99Ms: number;
  halfRedisP99Ms: number;
  failed: number;
  /** CPU time of the servers per create (ms; ringlink: its three nodes; redis: the server + redis-server). */
  ringlinkCpuMsPerCreate: number | null;
  redisCpuMsPerCreate: number | null;
}

export interface LiveFigures {
  kind: 'live';
  clicksPerSecond: number | null;
  clickSeconds: number | null;
  clickP50Ms: number | null;
  clickP99Ms: number | null;
  clickMaxMs: number | null;
  missingPairs: number | null;
  partitionSeconds: number | null;
  /** Per partition run: ms until every node's API reports the exact totals (null: did not converge or failed). */
  convergedMs: (number | null)[];
  socketsExactMs: (number | null)[];
  fanoutSockets: number | null;
  fanoutSocketsOpen: number | null;
  fanoutConnectPerSecond: number | null;
  /** Per trial: ms from the click until the last socket had the new total. */
  fanoutUntilLastMs: number[];
  fanoutMissing: number;
  fanoutRssPerSocketKiB: number | null;
  errors: string[];
}

export interface ClusterFigures {
  kind: 'cluster';
  keys: number;
  loadPutsPerSecond: number;
  firstNodeReadyMs: number;
  joinToReadyMs: number;
  handoffSeconds: number;
  handoffKeysPerSecond: number;
  failureSuspectedMs: number;
  failureDeadMs: number;
  restartToReadyMs: number;
  replayRecords: number;
  replayRecordsPerSecond: number | null;
}

export interface SimFigures {
  kind: 'sim';
  seeds: number;
  start: number | null;
  failures: number;
  seconds: number;
  seedsPerSecond: number;
  workers: number;
  notConverged: number;
}

export interface QuorumFigures {
  kind: 'quorum';
  opsPerSecond: number;
  nodes: number;
  nVal: number;
  r: number;
  w: number;
  clients: number;
  errors: number;
}

export interface PlacementFigures {
  kind: 'placement';
  nVal: number;
  rings: {
    ringSize: number;
    joins: { from: number; to: number; moved: number; ideal: number }[];
    /** Most minus fewest partitions per node, worst over n = 3..8. */
    worstSpread: number;
    /** Preference-list windows not on nVal distinct nodes, where the claim could avoid them (claimGuarantee feasible). */
    violations: number;
    /** The same where no claim can avoid them (e.g. n = 3 with Q not a multiple of 3). */
    unavoidableViolations: number;
    leaveWorstRatio: number;
  }[];
  /** With zones (ZONE), per ring size and zone count, n = zones..12 nodes dealt round-robin; absent in older runs. */
  zoned: {
    ringSize: number;
    zones: number;
    /** Preference lists not on nVal distinct zones, summed over n. */
    prefListsNotZoneDistinct: number;
    /** Most minus fewest partitions per node within a zone, worst over zones and n. */
    worstSpreadWithinZone: number;
    /** Worst join moved / ideal (the joiner's fair share of its zone), joins after zones come into play. */
    joinWorstRatio: number;
  }[];
}

/** bench/ringScale.ts: per cluster size, the membership protocol's costs (ring/sim/scale.ts ScalePoint). */
export interface RingScaleFigures {
  kind: 'ring-scale';
  points: {
    nodes: number;
    ringSize: number;
    /** Steady state, per node: ring gossip and SWIM bytes per second. */
    gossipBytes: number;
    livenessBytes: number;
    changeP50Ms: number;
    changeP99Ms: number;
    /** (node, change) pairs a ring change never reached. */
    changeMissing: number;
    /** Worst partitions moved / ideal over the joins. */
    joinRatio: number;
    /** Mean ownership transfers a join's plan schedules. */
    planTransfers: number;
    /** Worst claim computation over the ring changes. */
    claimMs: number;
    deadP50Ms: number;
    deadP99Ms: number;
    falseSuspectPerHour: number;
    falseDeadPerHour: number;
  }[];
}

export type Figures =
  | RedirectFigures
  | CreatesFigures
  | LinksFigures
  | LiveFigures
  | ClusterFigures
  | SimFigures
  | QuorumFigures
  | PlacementFigures
  | RingScaleFigures;

// ---------------------------------------------------------------------------------------
// Extraction (defensive: the scripts' JSON may grow; a missing field gives no figure)

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
const arr = (x: unknown): unknown[] => (Array.isArray(x) ? x : []);
function need(x: unknown, what: string): number {
  const n = num(x);
  if (n === null) throw new Error(`missing figure: ${what}`);
  return n;
}
const at = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((v, k) => (isObj(v) ? v[k] : undefined), o);
const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Which server a bench:redirect target is ("bare", "next+redis", "ringlink local", "ringlink cached/forwarded"). */
export function redirectRole(target: string): RedirectRole | null {
  const t = target.toLowerCase();
  if (t.startsWith('bare')) return 'bare';
  if (t.startsWith('next')) return 'next';
  if (t.includes('ringlink') && /forward|cached|non-replica|remote/.test(t)) return 'forwarded';
  if (t.includes('ringlink') && /local|replica|primary/.test(t)) return 'local';
  return null;
}

export function extractRedirect(doc: unknown): RedirectFigures {
  const servers: RedirectFigures['servers'] = {};
  const failed: RedirectFigures['failed'] = [];
  for (const r of arr(at(doc, 'results'))) {
    if (!isObj(r)) continue;
    const target = String(r.target ?? '?');
    if (typeof r.error === 'string') {
      failed.push({ target, error: r.error });
      continue;
    }
    const role = redirectRole(target);
    if (!role) continue;
    const raw = at(r, 'half', 'rawLatencyMs');
    const half = isObj(raw) && num(raw.p50) !== null ? raw : at(r, 'half', 'latencyMs');
    const others = arr(r.runs)
      .filter((x) => isObj(x) && x.kind !== 'warmup')
      .map((x) => num((x as Obj).othersCpu))
      .filter((x): x is number => x !== null);
    servers[role] = {
      target,
      reqPerSec: need(r.reqPerSec, `${target} reqPerSec`),
      fullP50Ms: need(at(r, 'latencyMs', 'p50'), `${target} p50`),
      fullP99Ms: need(at(r, 'latencyMs', 'p99'), `${target} p99`),
      halfRate: need(at(r, 'half', 'overallRate'), `${target} half rate`),
      halfReqPerSec: need(at(r, 'half', 'reqPerSec'), `${target} half req/s`),
      halfP50Ms: need(at(half, 'p50'), `${target} half p50`),
      halfP99Ms: need(at(half, 'p99'), `${target} half p99`),
      halfLatencySource: half === raw ? 'raw' : 'autocannon',
      countedExactly: at(r, 'counting', 'exact') === true,
      countDetail: String(at(r, 'counting', 'detail') ?? ''),
      othersCpuMax: others.length ? Math.max(...others) : null,
      rounds: Array.isArray(r.rounds) ? r.rounds.filter((x): x is number => typeof x === 'number') : null,
      vsBare:
        num(at(r, 'vsBare', 'median')) !== null
          ? {
              median: num(at(r, 'vsBare', 'median'))!,
              min: num(at(r, 'vsBare', 'min')) ?? NaN,
              max: num(at(r, 'vsBare', 'max')) ?? NaN,
            }
          : null,
    };
  }
  const ratios: Record<string, number> = {};
  const { bare, next, local, forwarded } = servers;
  const put = (key: string, a: number | undefined, b: number | undefined) => {
    if (a !== undefined && b !== undefined && b > 0) ratios[key] = round(a / b, 3);
  };
  for (const [role, s] of Object.entries(servers) as [RedirectRole, RedirectServer][]) {
    // Paired rounds: the median of the per-round ratios (each against bare's run of the same round).
    if (role !== 'bare') {
      if (s.vsBare && bare) ratios[`${role}.reqPerSec/bare`] = s.vsBare.median;
      else put(`${role}.reqPerSec/bare`, s.reqPerSec, bare?.reqPerSec);
    }
    if (role !== 'next') put(`${role}.reqPerSec/next`, s.reqPerSec, next?.reqPerSec);
    if (role !== 'bare') put(`${role}.halfP50/bare`, s.halfP50Ms, bare?.halfP50Ms);
    if (role !== 'bare') put(`${role}.halfP99/bare`, s.halfP99Ms, bare?.halfP99Ms);
    if (role !== 'next') put(`${role}.halfP50/next`, s.halfP50Ms, next?.halfP50Ms);
    if (role !== 'next') put(`${role}.halfP99/next`, s.halfP99Ms, next?.halfP99Ms);
  }
  put('forwarded.reqPerSec/local', forwarded?.reqPerSec, local?.reqPerSec);
  put('forwarded.halfP50/local', forwarded?.halfP50Ms, local?.halfP50Ms);
  put('forwarded.halfP99/local', forwarded?.halfP99Ms, local?.halfP99Ms);
  return {
    kind: 'redirect',
    generator:
      typeof at(doc, 'settings', 'generator') === 'string'
        ? (at(doc, 'settings', 'generator') as string)
        : 'autocannon',
    connections: num(at(doc, 'settings', 'connections')),
    durationSeconds: num(at(doc, 'settings', 'durationSeconds')),
    ringlinkNodes: num(at(doc, 'settings', 'ringlinkNodes')),
    servers,
    failed,
    ratios,
  };
}

export function extractLinks(doc: unknown): LinksFigures {
  const c = at(doc, 'creates');
  const m = at(doc, 'memory');
  const nVal = num(at(doc, 'settings', 'nVal')) ?? 3;
  const perCopy = need(at(m, 'rssBytesPerCopy'), 'rssBytesPerCopy');
  return {
    kind: 'links',
    concurrency: need(at(c, 'concurrency'), 'concurrency'),
    createsPerSecond: need(at(c, 'perSecond'), 'creates perSecond'),
    created: need(at(c, 'created'), 'created'),
    createFailed: need(at(c, 'failed'), 'create failures'),
    createP50Ms: need(at(c, 'p50Ms'), 'create p50'),
    createP99Ms: need(at(c, 'p99Ms'), 'create p99'),
    links: need(at(m, 'links'), 'links'),
    loadSeconds: need(at(m, 'loadSeconds'), 'loadSeconds'),
    loadLinksPerSecond: need(at(m, 'loadPerSecond'), 'loadPerSecond'),
    rssBytesPerCopy: perCopy,
    rssBytesPerLink: perCopy * nVal,
    heapBytesPerCopy: need(at(m, 'heapBytesPerCopy'), 'heapBytesPerCopy'),
    apiLinks: num(at(doc, 'memoryApi', 'links')) ?? null,
    apiRssBytesPerCopy: num(at(doc, 'memoryApi', 'rssBytesPerCopy')) ?? null,
    apiHeapBytesPerCopy: num(at(doc, 'memoryApi', 'heapBytesPerCopy')) ?? null,
    nVal,
  };
}

export function extractCreates(doc: unknown): CreatesFigures {
  const side = (name: string, field: string) => need(at(doc, name, field), `${name} ${field}`);
  return {
    kind: 'creates',
    connections: need(at(doc, 'settings', 'connections'), 'connections'),
    persistence: String(at(doc, 'settings', 'persistence') ?? '?'),
    redisPerSecond: side('redis', 'perSecond'),
    ringlinkPerSecond: side('ringlink', 'perSecond'),
    ratio: need(at(doc, 'ratio', 'median'), 'ratio'),
    targetRatio: need(at(doc, 'ratio', 'target'), 'target ratio'),
    ringlinkP50Ms: side('ringlink', 'p50Ms'),
    ringlinkP99Ms: side('ringlink', 'p99Ms'),
    redisP50Ms: side('redis', 'p50Ms'),
    redisP99Ms: side('redis', 'p99Ms'),
    halfRate: need(at(doc, 'halfLoad', 'rate'), 'half-load rate'),
    halfRinglinkP99Ms: need(at(doc, 'ringlink', 'half', 'p99Ms'), 'ringlink half p99'),
    halfRedisP99Ms: need(at(doc, 'redis', 'half', 'p99Ms'), 'redis half p99'),
    failed: side('ringlink', 'failed') + need(at(doc, 'ringlink', 'half', 'failed'), 'ringlink half failed'),
    ringlinkCpuMsPerCreate: num(at(doc, 'ringlink', 'cpuMsPerCreate')),
    redisCpuMsPerCreate: num(at(doc, 'redis', 'cpuMsPerCreate')),
  };
}

export function extractLive(doc: unknown): LiveFigures {
  const r = at(doc, 'results');
  const errors: string[] = [];
  const lat = at(r, 'latency');
  if (isObj(lat) && typeof lat.error === 'string') errors.push(`latency: ${lat.error.split('\n')[0]}`);
  const parts = arr(at(r, 'partition'));
  const convergedMs: (number | null)[] = [];
  const socketsExactMs: (number | null)[] = [];
  for (const p of parts) {
    if (isObj(p) && typeof p.error === 'string') {
      errors.push(`partition: ${p.error.split('\n')[0]}`);
      convergedMs.push(null);
      socketsExactMs.push(null);
    } else {
      convergedMs.push(num(at(p, 'convergedMs')));
      socketsExactMs.push(num(at(p, 'socketsExactMs')));
    }
  }
  const f = at(r, 'fanout');
  if (isObj(f) && typeof f.error === 'string') errors.push(`fan-out: ${f.error.split('\n')[0]}`);
  const trials = arr(at(f, 'trials'));
  const perSocket = Object.values(isObj(at(f, 'nodeRssPerSocketKiB')) ? (at(f, 'nodeRssPerSocketKiB') as Obj) : {})
    .map(num)
    .filter((x): x is number => x !== null);
  return {
    kind: 'live',
    clicksPerSecond: num(at(lat, 'askedPerSecond')) ?? num(at(doc, 'settings', 'clickRatePerSecond')),
    clickSeconds: num(at(lat, 'load', 'seconds')) ?? num(at(doc, 'settings', 'clickSeconds')),
    clickP50Ms: num(at(lat, 'clickToBrowserMs', 'p50')),
    clickP99Ms: num(at(lat, 'clickToBrowserMs', 'p99')),
    clickMaxMs: num(at(lat, 'clickToBrowserMs', 'max')),
    missingPairs: num(at(lat, 'missingPairs')),
    partitionSeconds: num(at(doc, 'settings', 'partitionSeconds')),
    convergedMs,
    socketsExactMs,
    fanoutSockets: num(at(f, 'socketsTarget')) ?? num(at(doc, 'settings', 'fanoutSockets')),
    fanoutSocketsOpen: num(at(f, 'socketsOpen')),
    fanoutConnectPerSecond: num(at(f, 'connect', 'perSecond')),
    fanoutUntilLastMs: trials.map((t) => num(at(t, 'untilLastMs'))).filter((x): x is number => x !== null),
    fanoutMissing: trials.reduce<number>((s, t) => s + (num(at(t, 'missing')) ?? 0), 0),
    fanoutRssPerSocketKiB: perSocket.length ? round(perSocket.reduce((a, b) => a + b, 0) / perSocket.length, 1) : null,
    errors,
  };
}

export function extractCluster(doc: unknown): ClusterFigures {
  const r = at(doc, 'result');
  const n = (k: string) => need(at(r, k), k);
  return {
    kind: 'cluster',
    keys: n('keys'),
    loadPutsPerSecond: n('loadPutsPerSecond'),
    firstNodeReadyMs: n('firstNodeReadyMs'),
    joinToReadyMs: n('joinToReadyMs'),
    handoffSeconds: n('handoffSeconds'),
    handoffKeysPerSecond: n('handoffKeysPerSecond'),
    failureSuspectedMs: n('failureSuspectedMs'),
    failureDeadMs: n('failureDeadMs'),
    restartToReadyMs: n('restartToReadyMs'),
    replayRecords: n('replayRecords'),
    replayRecordsPerSecond: num(at(r, 'replayRecordsPerSecond')),
  };
}

export function extractSim(doc: unknown): SimFigures {
  const r = at(doc, 'result');
  return {
    kind: 'sim',
    seeds: need(at(r, 'seeds'), 'seeds'),
    start: num(at(doc, 'settings', 'start')),
    failures: need(at(r, 'failures'), 'failures'),
    seconds: need(at(r, 'seconds'), 'seconds'),
    seedsPerSecond: need(at(r, 'seedsPerSecond'), 'seedsPerSecond'),
    workers: need(at(r, 'workers'), 'workers'),
    notConverged: num(at(r, 'notConverged')) ?? 0,
  };
}

export function extractQuorum(doc: unknown): QuorumFigures {
  const r = at(doc, 'result');
  const n = (k: string) => need(at(r, k), k);
  return {
    kind: 'quorum',
    opsPerSecond: n('opsPerSecond'),
    nodes: n('nodes'),
    nVal: n('nVal'),
    r: n('r'),
    w: n('w'),
    clients: n('clients'),
    errors: n('errors'),
  };
}

export function extractPlacement(doc: unknown): PlacementFigures {
  const rows = arr(at(doc, 'rings')).filter(isObj);
  const leaves = arr(at(doc, 'leaves')).filter(isObj);
  const sizes = [...new Set(rows.map((r) => need(r.ringSize, 'ringSize')))];
  return {
    kind: 'placement',
    nVal: need(at(doc, 'nVal'), 'nVal'),
    rings: sizes.map((ringSize) => {
      const mine = rows.filter((r) => r.ringSize === ringSize);
      return {
        ringSize,
        // The first row (n = 3) is the ring built from scratch, not a join.
        joins: mine.slice(1).map((r) => ({
          from: need(r.nodes, 'nodes') - 1,
          to: need(r.nodes, 'nodes'),
          moved: need(r.joinMoves, 'joinMoves'),
          ideal: need(r.joinIdeal, 'joinIdeal'),
        })),
        worstSpread: Math.max(...mine.map((r) => need(r.maxPerNode, 'maxPerNode') - need(r.minPerNode, 'minPerNode'))),
        violations: mine.filter((r) => r.feasible !== false).reduce((s, r) => s + (num(r.windowViolations) ?? 0), 0),
        unavoidableViolations: mine
          .filter((r) => r.feasible === false)
          .reduce((s, r) => s + (num(r.windowViolations) ?? 0), 0),
        leaveWorstRatio: Math.max(
          0,
          ...leaves.filter((l) => l.ringSize === ringSize).map((l) => num(l.worstRatio) ?? 0),
        ),
      };
    }),
    zoned: extractZoned(arr(at(doc, 'zoned')).filter(isObj)),
  };
}

function extractZoned(rows: Obj[]): PlacementFigures['zoned'] {
  const keys = [...new Set(rows.map((r) => `${need(r.ringSize, 'ringSize')}/${need(r.zones, 'zones')}`))];
  return keys.map((key) => {
    const [ringSize, zones] = key.split('/').map(Number) as [number, number];
    const mine = rows.filter((r) => r.ringSize === ringSize && r.zones === zones);
    // The first row (n = zones) is the join that brings zones into play, not a join into a zone.
    const joins = mine.filter((r) => r.nodes !== zones);
    return {
      ringSize,
      zones,
      prefListsNotZoneDistinct: mine.reduce((s, r) => s + (num(r.prefListsNotZoneDistinct) ?? 0), 0),
      worstSpreadWithinZone: Math.max(0, ...mine.map((r) => num(r.spreadWithinZone) ?? 0)),
      joinWorstRatio: Math.max(0, ...joins.map((r) => num(r.joinRatio) ?? 0)),
    };
  });
}

export function extractRingScale(doc: unknown): RingScaleFigures {
  return {
    kind: 'ring-scale',
    points: arr(at(doc, 'points'))
      .filter(isObj)
      .map((p) => {
        const changes = arr(p.changes).filter(isObj);
        const joins = changes.filter((c) => String(c.step).startsWith('join'));
        const n = (path: string) =>
          need(
            path.split('.').reduce<unknown>((o, k) => (isObj(o) ? o[k] : undefined), p),
            path,
          );
        return {
          nodes: n('nodes'),
          ringSize: n('ringSize'),
          gossipBytes: n('steady.bytesPerNodePerSec.gossip'),
          livenessBytes: n('steady.bytesPerNodePerSec.liveness'),
          changeP50Ms: n('propagation.p50Ms'),
          changeP99Ms: n('propagation.p99Ms'),
          changeMissing: n('propagation.missing'),
          joinRatio: Math.max(0, ...joins.map((c) => num(c.ratio) ?? 0)),
          planTransfers: joins.length ? joins.reduce((t, c) => t + (num(c.planTransfers) ?? 0), 0) / joins.length : 0,
          claimMs: Math.max(0, ...changes.map((c) => num(c.claimMs) ?? 0)),
          deadP50Ms: n('crashToDead.p50Ms'),
          deadP99Ms: n('crashToDead.p99Ms'),
          falseSuspectPerHour: n('loss.falseSuspectPerHour'),
          falseDeadPerHour: n('loss.falseDeadPerHour'),
        };
      }),
  };
}

export function extractFigures(name: BenchName, doc: unknown): Figures {
  switch (name) {
    case 'redirect':
      return extractRedirect(doc);
    case 'creates':
      return extractCreates(doc);
    case 'links':
      return extractLinks(doc);
    case 'live':
      return extractLive(doc);
    case 'cluster':
      return extractCluster(doc);
    case 'sim':
      return extractSim(doc);
    case 'quorum':
      return extractQuorum(doc);
    case 'placement':
      return extractPlacement(doc);
    case 'ring-scale':
      return extractRingScale(doc);
  }
}

// ---------------------------------------------------------------------------------------
// Table rows

export interface Row {
  bench: BenchName;
  figure: string;
  value: string;
  unit: string;
  vsBare: string;
  vsNext: string;
  vsLocal: string;
}

export const fmtInt = (x: number) => Math.round(x).toLocaleString('en-US');
/** Significant-ish: 3 digits below 10, 1 decimal below 100, integers above. */
export function fmtNum(x: number): string {
  const a = Math.abs(x);
  if (a >= 1000) return fmtInt(x);
  if (a >= 100) return String(Math.round(x));
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}
export const fmtRatio = (x: number | undefined) => (x === undefined ? '' : `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}x`);
export const fmtPct = (x: number | null) => (x === null ? '-' : `${Math.round(x * 100)}%`);
const pair = (a: string, b: string) => (a || b ? `${a || '-'} / ${b || '-'}` : '');

function redirectRows(f: RedirectFigures): Omit<Row, 'bench'>[] {
  const out: Omit<Row, 'bench'>[] = [];
  const r = (k: string) => f.ratios[k];
  for (const role of redirectRoles) {
    const s = f.servers[role];
    if (!s) continue;
    // Paired rounds: the median, with the range over the rounds.
    const range =
      s.rounds && s.rounds.length > 1
        ? ` (rounds ${fmtInt(Math.min(...s.rounds))}-${fmtInt(Math.max(...s.rounds))})`
        : '';
    const ratioRange =
      s.vsBare && Number.isFinite(s.vsBare.min) && Number.isFinite(s.vsBare.max)
        ? ` (rounds ${s.vsBare.min.toFixed(2)}-${s.vsBare.max.toFixed(2)})`
        : '';
    out.push({
      figure: `redirects/s, ${redirectLabels[role]}${s.rounds && s.rounds.length > 1 ? `, median of ${s.rounds.length} rounds` : ''}`,
      value: `${fmtInt(s.reqPerSec)}${range}`,
      unit: 'req/s',
      vsBare: role === 'bare' ? '1.00x' : `${fmtRatio(r(`${role}.reqPerSec/bare`))}${ratioRange}`,
      vsNext: role === 'next' ? '1.00x' : fmtRatio(r(`${role}.reqPerSec/next`)),
      vsLocal: role === 'forwarded' ? fmtRatio(r('forwarded.reqPerSec/local')) : '',
    });
  }
  for (const role of redirectRoles) {
    const s = f.servers[role];
    if (!s) continue;
    out.push({
      figure: `half-load p50 / p99${s.halfLatencySource === 'raw' ? '' : ' (autocannon)'}, ${redirectLabels[role]}`,
      value: `${fmtNum(s.halfP50Ms)} / ${fmtNum(s.halfP99Ms)}`,
      unit: 'ms',
      vsBare: role === 'bare' ? '' : pair(fmtRatio(r(`${role}.halfP50/bare`)), fmtRatio(r(`${role}.halfP99/bare`))),
      vsNext: role === 'next' ? '' : pair(fmtRatio(r(`${role}.halfP50/next`)), fmtRatio(r(`${role}.halfP99/next`))),
      vsLocal:
        role === 'forwarded'
          ? pair(fmtRatio(r('forwarded.halfP50/local')), fmtRatio(r('forwarded.halfP99/local')))
          : '',
    });
  }
  const servers = Object.values(f.servers);
  if (servers.length) {
    const notExact = servers.filter((s) => !s.countedExactly).map((s) => s.target);
    out.push({
      figure: 'every served redirect counted exactly',
      value: notExact.length ? `NO: ${notExact.join(', ')}` : `yes (${servers.length} servers)`,
      unit: '',
      vsBare: '',
      vsNext: '',
      vsLocal: '',
    });
  }
  for (const x of f.failed)
    out.push({ figure: `redirects, ${x.target}`, value: 'FAILED', unit: '', vsBare: '', vsNext: '', vsLocal: '' });
  return out;
}

function figureRows(f: Figures): Omit<Row, 'bench'>[] {
  const row = (figure: string, value: string, unit: string): Omit<Row, 'bench'> => ({
    figure,
    value,
    unit,
    vsBare: '',
    vsNext: '',
    vsLocal: '',
  });
  switch (f.kind) {
    case 'redirect':
      return redirectRows(f);
    case 'creates':
      return [
        {
          ...row(
            `link creates, ringlink 3 nodes, W=2 (${f.connections} connections)`,
            fmtInt(f.ringlinkPerSecond),
            'creates/s',
          ),
          vsBare: `${fmtRatio(f.ratio)} of redis (goal ${fmtRatio(f.targetRatio)})`,
        },
        row('  node:http + ioredis + redis-server (SET NX + SADD)', fmtInt(f.redisPerSecond), 'creates/s'),
        row(
          '  full load p50 / p99: ringlink, redis',
          `${fmtNum(f.ringlinkP50Ms)} / ${fmtNum(f.ringlinkP99Ms)}, ${fmtNum(f.redisP50Ms)} / ${fmtNum(f.redisP99Ms)}`,
          'ms',
        ),
        row(
          `  p99 at ${fmtInt(f.halfRate)} creates/s (half the goal's load): ringlink, redis (goal <= 50)`,
          `${fmtNum(f.halfRinglinkP99Ms)}, ${fmtNum(f.halfRedisP99Ms)}`,
          'ms',
        ),
        ...(f.ringlinkCpuMsPerCreate !== null && f.redisCpuMsPerCreate !== null
          ? [
              row(
                '  server CPU per create: ringlink (3 nodes), redis (server + redis-server)',
                `${fmtNum(f.ringlinkCpuMsPerCreate)}, ${fmtNum(f.redisCpuMsPerCreate)}`,
                'ms',
              ),
            ]
          : []),
      ];
    case 'links':
      return [
        row(`link creates, W=2 (${f.concurrency} in flight over 3 nodes)`, fmtInt(f.createsPerSecond), 'creates/s'),
        row('link create p50 / p99', `${fmtNum(f.createP50Ms)} / ${fmtNum(f.createP99Ms)}`, 'ms'),
        ...(f.apiLinks !== null && f.apiRssBytesPerCopy !== null && f.apiHeapBytesPerCopy !== null
          ? [
              row(
                `memory per stored copy, ${fmtInt(f.apiLinks)} links by POST /api/links: RSS / V8 heap`,
                `${fmtInt(f.apiRssBytesPerCopy)} / ${fmtInt(f.apiHeapBytesPerCopy)}`,
                'B/copy',
              ),
            ]
          : []),
        row(`memory per link, ${fmtInt(f.links)} links (N=${f.nVal})`, fmtInt(f.rssBytesPerLink), 'B RSS/link'),
        row(
          '  per stored copy: RSS / V8 heap',
          `${fmtInt(f.rssBytesPerCopy)} / ${fmtInt(f.heapBytesPerCopy)}`,
          'B/copy',
        ),
        row('  bulk load (the create path in process)', fmtInt(f.loadLinksPerSecond), 'links/s'),
      ];
    case 'live': {
      const out: Omit<Row, 'bench'>[] = [];
      if (f.clickP50Ms !== null && f.clickP99Ms !== null)
        out.push(
          row(
            `click to browser p50 / p99 (${f.clicksPerSecond === null ? '?' : fmtInt(f.clicksPerSecond)} clicks/s, 3 nodes)`,
            `${fmtNum(f.clickP50Ms)} / ${fmtNum(f.clickP99Ms)}`,
            'ms',
          ),
        );
      if (f.missingPairs !== null)
        out.push(row('  clicks that never reached a socket', fmtInt(f.missingPairs), 'pairs'));
      const conv = f.convergedMs.filter((x): x is number => x !== null);
      if (f.convergedMs.length)
        out.push(
          row(
            `exact totals after a ${f.partitionSeconds ?? '?'} s partition heals (worst of ${f.convergedMs.length})`,
            conv.length === f.convergedMs.length
              ? fmtInt(Math.max(...conv))
              : `NOT CONVERGED (${f.convergedMs.length - conv.length} of ${f.convergedMs.length})`,
            'ms',
          ),
        );
      const sock = f.socketsExactMs.filter((x): x is number => x !== null);
      if (f.socketsExactMs.length)
        out.push(
          row(
            '  every socket exact after the heal (worst)',
            sock.length === f.socketsExactMs.length ? fmtInt(Math.max(...sock)) : 'NO',
            'ms',
          ),
        );
      if (f.fanoutUntilLastMs.length)
        out.push(
          row(
            `fan-out to ${fmtInt(f.fanoutSocketsOpen ?? 0)} sockets: last one updated (median of ${f.fanoutUntilLastMs.length})`,
            fmtInt(median(f.fanoutUntilLastMs)!),
            'ms',
          ),
        );
      if (f.fanoutMissing) out.push(row('  fan-out updates missing', fmtInt(f.fanoutMissing), 'sockets'));
      if (f.fanoutConnectPerSecond !== null)
        out.push(row('  sockets opened (connect + subscribe)', fmtInt(f.fanoutConnectPerSecond), 'sockets/s'));
      if (f.fanoutRssPerSocketKiB !== null)
        out.push(row('  node RSS per socket', fmtNum(f.fanoutRssPerSocketKiB), 'KiB'));
      for (const e of f.errors) out.push(row(e.slice(0, 80), 'FAILED', ''));
      return out;
    }
    case 'cluster':
      return [
        row(`handoff of ${fmtInt(f.keys)} keys to a joining node`, fmtNum(f.handoffSeconds), 's'),
        row('  handoff rate', fmtInt(f.handoffKeysPerSecond), 'keys/s'),
        row('  join to ready (real process)', fmtInt(f.joinToReadyMs), 'ms'),
        row(
          'failure detection after kill -9: suspected / dead',
          `${fmtInt(f.failureSuspectedMs)} / ${fmtInt(f.failureDeadMs)}`,
          'ms',
        ),
        row(`restart with ${fmtInt(f.keys)} keys: ready`, fmtInt(f.restartToReadyMs), 'ms'),
        row('  log replay', f.replayRecordsPerSecond === null ? '-' : fmtInt(f.replayRecordsPerSecond), 'records/s'),
      ];
    case 'sim':
      return [
        row(
          `simulator, ${fmtInt(f.seeds)} seeds on ${f.workers} workers (${f.failures} failing)`,
          fmtNum(f.seedsPerSecond),
          'seeds/s',
        ),
      ];
    case 'quorum':
      return [
        row(
          `quorum put+get in process (${f.nodes} nodes, N=${f.nVal} R=${f.r} W=${f.w})`,
          fmtInt(f.opsPerSecond),
          'ops/s',
        ),
      ];
    case 'placement':
      return f.rings
        .flatMap((ring) => {
          const joins = ring.joins.filter((j) => j.to <= 5);
          return [
            row(
              `partitions moved on join ${joins.map((j) => `${j.from}->${j.to}`).join(' / ')}, Q=${ring.ringSize}`,
              `${joins.map((j) => String(j.moved)).join(' / ')} (ideal ${joins.map((j) => Number(j.ideal.toFixed(1))).join(' / ')})`,
              'partitions',
            ),
            row(`  balance n=3..8, Q=${ring.ringSize}: most - fewest per node`, `<= ${ring.worstSpread}`, 'partitions'),
            row(
              `  windows not on ${f.nVal} distinct nodes, Q=${ring.ringSize}`,
              `${ring.violations}${ring.unavoidableViolations ? ` (+${ring.unavoidableViolations} unavoidable)` : ''}`,
              'windows',
            ),
          ];
        })
        .concat(
          f.zoned.flatMap((z) => [
            row(
              `with ${z.zones} zones, Q=${z.ringSize}, n=${z.zones}..12: preference lists not on ${f.nVal} zones`,
              String(z.prefListsNotZoneDistinct),
              'lists',
            ),
            row(`  balance within a zone: most - fewest per node`, `<= ${z.worstSpreadWithinZone}`, 'partitions'),
            row(`  join into a zone: moved / the joiner's fair share, worst`, fmtRatio(z.joinWorstRatio), ''),
          ]),
        );
    case 'ring-scale': {
      const ps = f.points;
      const each = (g: (p: RingScaleFigures['points'][number]) => string) => ps.map(g).join(' / ');
      const sizes = ps.map((p) => (p.ringSize === 1024 ? `${p.nodes}` : `${p.nodes} (Q=${p.ringSize})`)).join(' / ');
      return [
        row(
          `ring at n = ${sizes}: gossip + SWIM per node, steady`,
          each((p) => fmtInt(p.gossipBytes + p.livenessBytes)),
          'B/s',
        ),
        row(
          '  ring change reaches every node, p99',
          each((p) => `${fmtInt(p.changeP99Ms)}${p.changeMissing ? ` (${p.changeMissing} missed)` : ''}`),
          'ms',
        ),
        row(
          '  partitions moved per join / ideal Q/(n+1), worst',
          each((p) => p.joinRatio.toFixed(2)),
          'ratio',
        ),
        row(
          '  transfers a join schedules',
          each((p) => fmtInt(p.planTransfers)),
          'partitions',
        ),
        row(
          "  claimant's CPU per ring change, worst",
          each((p) => fmtNum(p.claimMs)),
          'ms',
        ),
        row(
          '  crash to dead, p99 over observers',
          each((p) => fmtInt(p.deadP99Ms)),
          'ms',
        ),
        row(
          '  false suspect / dead per hour, 1% loss',
          each((p) => `${fmtInt(p.falseSuspectPerHour)}/${fmtInt(p.falseDeadPerHour)}`),
          'per hour',
        ),
      ];
    }
  }
}

export const benchTitles: Record<BenchName, string> = {
  redirect: 'redirect throughput and latency',
  creates: 'link creates against node:http + Redis',
  links: 'link creates and memory per link',
  live: 'live updates',
  cluster: 'cluster: handoff, failure detection, restart',
  sim: 'simulator',
  quorum: 'quorum in process',
  placement: 'partition placement',
  'ring-scale': 'the ring at 5 to 256 nodes, simulated',
};

export function rows(doc: BenchDoc): Row[] {
  const out: Row[] = [];
  for (const b of doc.benchmarks) {
    if (b.figures) for (const r of figureRows(b.figures)) out.push({ bench: b.name, ...r });
    // A benchmark that exited non-zero but wrote its figures (e.g. a count off by one) keeps them; the warnings say why.
    if (!b.figures)
      out.push({
        bench: b.name,
        figure: benchTitles[b.name],
        value: 'FAILED',
        unit: '',
        vsBare: '',
        vsNext: '',
        vsLocal: '',
      });
  }
  return out;
}

/** Things a reader must know to trust (or not) the figures of this run. */
export function warnings(doc: BenchDoc): string[] {
  const out: string[] = [];
  if (doc.quick)
    out.push('--quick run: small sizes and short runs to check the pipeline; these figures are not the benchmark.');
  if (doc.machine.cpuBusyBefore > 0.15)
    out.push(`the CPUs were ${fmtPct(doc.machine.cpuBusyBefore)} busy before the run started: other work was running.`);
  if (doc.machine.gitDirtyFiles)
    out.push(
      `the working tree had ${doc.machine.gitDirtyFiles} changed file(s) against commit ${doc.machine.gitCommit?.slice(0, 12)}.`,
    );
  for (const b of doc.benchmarks) {
    if (b.error) out.push(`${b.name}: ${b.error.split('\n')[0]}`);
    if (b.othersCpu !== null && b.othersCpu > 0.1)
      out.push(
        `${b.name}: other processes used ${fmtPct(b.othersCpu)} of the machine's CPU while it ran: its figures are skewed.`,
      );
    const f = b.figures;
    if (f?.kind === 'redirect') {
      for (const s of Object.values(f.servers))
        if (!s.countedExactly)
          out.push(`redirect: ${s.target} did not count every served redirect exactly (${s.countDetail}).`);
      const busy = Object.values(f.servers).filter((s) => s.othersCpuMax !== null && s.othersCpuMax > 0.1);
      if (busy.length)
        out.push(
          `redirect: other processes' CPU during the measured runs (most): ${busy.map((s) => `${s.target} ${fmtPct(s.othersCpuMax)}`).join(', ')}.`,
        );
      for (const x of f.failed) out.push(`redirect: ${x.target} failed: ${x.error.split('\n')[0]}`);
    }
    if (f?.kind === 'sim' && f.failures > 0) out.push(`sim: ${f.failures} of ${f.seeds} seeds failed.`);
    if (f?.kind === 'live' && (f.missingPairs ?? 0) > 0)
      out.push(`live: ${f.missingPairs} (click, socket) pairs never arrived.`);
  }
  return out;
}

/** Plain-text table (console). */
export function textTable(doc: BenchDoc): string {
  const head = ['benchmark', 'figure', 'value', 'unit', 'vs bare', 'vs Next+Redis', 'vs local'];
  let last: BenchName | null = null;
  const body = rows(doc).map((r) => {
    const first = r.bench !== last;
    last = r.bench;
    return [first ? r.bench : '', r.figure, r.value, r.unit, r.vsBare, r.vsNext, r.vsLocal];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const right = new Set([2, 4, 5, 6]);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
