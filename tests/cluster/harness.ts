import { afterAll, afterEach, beforeEach } from 'vitest';
// Multi-process cluster harness: real `dist/server.mjs` processes on 127.0.0.1.
//
// - ensureBuilt(): rebuilds dist/ (node scripts/build.mjs) when it is missing or older than
//   ring/ or server/; a lock directory under os.tmpdir() serialises concurrent test files.
// - Harness: spawns nodes (each with a bounded log buffer), remembers every process and
//   temporary DATA_DIR it made, and cleanup() SIGKILLs whatever is still running and removes
//   the directories. Use one Harness per test: create it in beforeEach, cleanup in afterEach.
// - Small HTTP helpers over the node's public and admin API; every call has a timeout and
//   every wait is bounded.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const serverBundle = join(root, 'dist', 'server.mjs');
let bundleToRun = serverBundle;
/** Run another bundle than dist/server.mjs (e.g. an instrumented copy while investigating); undefined restores the default. */
export function useBundle(path: string | undefined): void {
  bundleToRun = path ?? serverBundle;
}
export const ADMIN_TOKEN = 'ringlink-cluster-test-admin-token';
export const SECRET_A = 'ringlink-cluster-test-secret-AAAA';
export const SECRET_B = 'ringlink-cluster-test-secret-BBBB';
/** Small ring: fast claims and handoffs. */
export const TEST_RING_SIZE = 32;

// ---------------------------------------------------------------------------------------
// Build

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Whether dist/ (and with `ui`, Next's .next/ build of app/) is missing or older than its sources. */
function bundleIsStale(ui = false): boolean {
  if (!existsSync(serverBundle)) return true;
  const built = statSync(serverBundle).mtimeMs;
  if (['ring', 'server'].some((d) => newestMtime(join(root, d)) > built)) return true;
  if (!ui) return false;
  const buildId = join(root, '.next', 'BUILD_ID');
  return !existsSync(buildId) || newestMtime(join(root, 'app')) > statSync(buildId).mtimeMs;
}

/** The longest a build may take (Next's included) before a waiter gives up on its lock. */
const buildTimeoutMs = 300_000;

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Build dist/server.mjs if it is missing or older than the sources (at most once per call site; cheap
 * when fresh). `ui: true` for tests of pages (SERVE_UI=1): Next's build of app/ must be there too.
 */
export function ensureBuilt(opts: { ui?: boolean } = {}): void {
  if (!bundleIsStale(opts.ui)) return;
  const lock = join(tmpdir(), 'ringlink-cluster-build.lock');
  const deadline = Date.now() + buildTimeoutMs;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Someone else is building; a lock older than a build may take is abandoned.
      try {
        if (Date.now() - statSync(lock).mtimeMs > buildTimeoutMs) rmSync(lock, { recursive: true, force: true });
      } catch {
        // vanished meanwhile
      }
      if (Date.now() > deadline) throw new Error(`ensureBuilt: ${lock} held for over ${buildTimeoutMs / 1000} s`);
      sleepSync(200);
    }
  }
  try {
    if (!bundleIsStale(opts.ui)) return;
    // Next's build takes a minute or more on two busy cores.
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], {
      cwd: root,
      encoding: 'utf8',
      timeout: buildTimeoutMs,
    });
    if (r.status !== 0) throw new Error(`node scripts/build.mjs failed (exit ${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------
// Small utilities

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** What is being waited for, for the timeout message. */
  what?: string;
}

/**
 * Poll fn until it returns something other than undefined/false/null; throws after timeoutMs
 * (always bounded). A throwing fn counts as "not yet"; its last error is in the timeout message.
 */
export async function waitFor<T>(fn: () => T | Promise<T>, opts: WaitOptions): Promise<Exclude<T, false | null | undefined>> {
  const { timeoutMs, intervalMs = 100, what = 'condition' } = opts;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false && v !== null) return v as Exclude<T, false | null | undefined>;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`waitFor: ${what} not reached within ${timeoutMs} ms (last: ${detail})`);
    }
    await sleep(Math.min(intervalMs, Math.max(1, deadline - Date.now())));
  }
}

/** Run fn over items with at most `concurrency` in flight. */
export async function pool<T, R>(items: readonly T[], concurrency: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}

const usedPorts = new Set<number>();

/** A free TCP port on 127.0.0.1 (listen on 0, then close); never the same one twice in a worker. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const addr = srv.address();
        const p = typeof addr === 'object' && addr ? addr.port : 0;
        srv.close(() => resolve(p));
      });
    });
    if (port > 0 && !usedPorts.has(port)) {
      usedPorts.add(port);
      return port;
    }
  }
  throw new Error('freePort: no fresh port after 50 attempts');
}

/** Keeps the last `maxBytes` of a stream's text. */
export class BoundedLog {
  private chunks: string[] = [];
  private bytes = 0;
  dropped = 0;
  constructor(private readonly maxBytes = 64 * 1024) {}
  append(s: string): void {
    this.chunks.push(s);
    this.bytes += s.length;
    while (this.bytes > this.maxBytes && this.chunks.length > 1) {
      const c = this.chunks.shift()!;
      this.bytes -= c.length;
      this.dropped += c.length;
    }
  }
  text(): string {
    return (this.dropped > 0 ? `[... ${this.dropped} earlier characters dropped]\n` : '') + this.chunks.join('');
  }
}

// ---------------------------------------------------------------------------------------
// Nodes

/** Config-relevant variables never inherited from the test runner's environment. */
export const configVars = [
  'NODE_ENV', 'HOST', 'PORT', 'NODE_NAME', 'ADVERTISE_ADDR', 'SEEDS', 'CLUSTER_SECRET', 'DATA_DIR', 'FSYNC', 'FSYNC_INTERVAL_MS',
  'REDIS_URL', 'RING_SIZE', 'N_VAL', 'R', 'W', 'AUTO_DOWN_MS', 'LEAVE_TIMEOUT_MS', 'PUBLIC_URL', 'RATE_LIMIT_CREATE_PER_MIN',
  'RATE_LIMIT_WRITES_PER_MIN', 'ADMIN_TOKEN', 'LOG_LEVEL', 'RINGLINK_TEST_FAULTS', 'NODE_OPTIONS', 'SERVE_UI', 'TRUST_PROXY',
  'ALLOW_PRIVATE_TARGETS', 'ALLOWED_HOSTS',
  'LIVE_STATS_INTERVAL_MS', 'LD_PRELOAD',
];

/**
 * A test node's environment: the runner's own without any config variable (or libfaketime
 * setting), the test defaults, then `extra` on top (an undefined value deletes the variable).
 * The cluster tests and the chaos suite start their nodes with it.
 */
export function testNodeEnv(
  node: { host: string; port: number; name: string; seeds: string; secret: string; dataDir?: string | undefined },
  extra: Record<string, string | undefined> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !configVars.includes(k) && !k.startsWith('FAKETIME')) env[k] = v;
  Object.assign(env, {
    NODE_ENV: 'test',
    HOST: node.host,
    PORT: String(node.port),
    NODE_NAME: node.name,
    SEEDS: node.seeds,
    CLUSTER_SECRET: node.secret,
    ADMIN_TOKEN,
    RINGLINK_TEST_FAULTS: '1',
    SERVE_UI: '0',
    LOG_LEVEL: 'warn',
    RING_SIZE: String(TEST_RING_SIZE),
    LEAVE_TIMEOUT_MS: '30000',
    ...(node.dataDir ? { DATA_DIR: node.dataDir } : {}),
  });
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export interface NodeOptions {
  name: string;
  /** Default: a fresh free port. */
  port?: number;
  /** Nodes or "host:port" strings to join through; empty founds a cluster. */
  seeds?: readonly (RingProcess | string)[];
  /** A directory path, true for a fresh temporary one (removed by cleanup), false/undefined for none. */
  dataDir?: string | boolean;
  /** CLUSTER_SECRET, default SECRET_A. */
  secret?: string;
  /** Extra or overriding environment; a value of undefined removes the variable. */
  env?: Record<string, string | undefined>;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One spawned node process (one life: a restart is a new RingProcess). */
export class RingProcess {
  readonly url: string;
  readonly addr: string;
  readonly log = new BoundedLog();
  readonly stderr = new BoundedLog(16 * 1024);
  readonly exited: Promise<ExitInfo>;
  exit: ExitInfo | null = null;
  /** performance.now() when spawned / when /readyz first answered 200 (waitReady). */
  readonly startedAt = performance.now();
  readyAt: number | undefined;
  constructor(
    readonly name: string,
    readonly port: number,
    readonly options: Required<Pick<NodeOptions, 'seeds' | 'secret' | 'env'>> & { dataDir: string | undefined },
    readonly proc: ChildProcess,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.addr = `127.0.0.1:${port}`;
    proc.stdout?.setEncoding('utf8').on('data', (s: string) => this.log.append(s));
    proc.stderr?.setEncoding('utf8').on('data', (s: string) => {
      this.log.append(s);
      this.stderr.append(s);
    });
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  get alive(): boolean {
    return this.exit === null;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }
}

const allChildren = new Set<ChildProcess>();
// Last resort if the worker exits with nodes still running (e.g. a crash between hooks).
process.once('exit', () => {
  for (const c of allChildren) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

export class Harness {
  readonly nodes: RingProcess[] = [];
  private readonly dirs: string[] = [];

  /** A fresh directory under os.tmpdir(), removed by cleanup(). */
  tempDir(label: string): string {
    const dir = mkdtempSync(join(tmpdir(), `ringlink-${label}-`));
    this.dirs.push(dir);
    return dir;
  }

  /** Spawn a node without waiting for anything. */
  async spawnNode(opts: NodeOptions): Promise<RingProcess> {
    const port = opts.port ?? (await freePort());
    const dataDir = opts.dataDir === true ? this.tempDir(opts.name) : typeof opts.dataDir === 'string' ? opts.dataDir : undefined;
    const seeds = opts.seeds ?? [];
    const secret = opts.secret ?? SECRET_A;
    const extra = opts.env ?? {};
    const env = testNodeEnv({ host: '127.0.0.1', port, name: opts.name, seeds: seeds.map((s) => (typeof s === 'string' ? s : s.addr)).join(','), secret, dataDir }, extra);
    const proc = spawn(process.execPath, [bundleToRun], { cwd: root, env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    allChildren.add(proc);
    proc.once('exit', () => allChildren.delete(proc));
    const node = new RingProcess(opts.name, port, { seeds, secret, env: extra, dataDir }, proc);
    this.nodes.push(node);
    return node;
  }

  /** Spawn a node and wait until /healthz answers (fails at once if the process exits). */
  async startNode(opts: NodeOptions, healthTimeoutMs = 20_000): Promise<RingProcess> {
    const node = await this.spawnNode(opts);
    await waitFor(
      async () => {
        if (!node.alive) throw new Error(`${node.name} exited (${JSON.stringify(node.exit)}) before /healthz:\n${node.log.text()}`);
        const r = await get(node, '/healthz', { timeoutMs: 1000 });
        // Check the name: another process already on this port must not pass for this one.
        return r.status === 200 && r.body?.node === node.name;
      },
      { timeoutMs: healthTimeoutMs, intervalMs: 50, what: `${node.name} /healthz` },
    ).catch((err: Error) => {
      // Surface an early exit rather than a generic timeout.
      if (!node.alive) throw new Error(`${node.name} exited (${JSON.stringify(node.exit)}) before /healthz:\n${node.log.text()}`);
      throw err;
    });
    return node;
  }

  /** Start the same node again (same name, port, seeds, DATA_DIR, secret and env); the old process must have exited. */
  async restart(node: RingProcess, overrides: Partial<NodeOptions> = {}): Promise<RingProcess> {
    if (node.alive) throw new Error(`restart: ${node.name} (pid ${node.pid}) is still running`);
    return this.startNode({
      name: node.name,
      port: node.port,
      seeds: node.options.seeds,
      secret: node.options.secret,
      env: node.options.env,
      ...(node.options.dataDir ? { dataDir: node.options.dataDir } : {}),
      ...overrides,
    });
  }

  /** Every node's captured output, for a failing test. */
  dumpLogs(): string {
    return this.nodes
      .map((n) => `----- ${n.name} pid ${n.pid} port ${n.port} exit ${JSON.stringify(n.exit)} -----\n${n.log.text() || '(no output)'}`)
      .join('\n');
  }

  /** SIGKILL every process still running, wait for them (bounded), remove temporary directories. */
  async cleanup(): Promise<void> {
    const running = this.nodes.filter((n) => n.alive);
    for (const n of running) n.proc.kill('SIGKILL');
    await Promise.race([Promise.all(running.map((n) => n.exited)), sleep(10_000)]);
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

// ---------------------------------------------------------------------------------------
// HTTP

export interface HttpResult<T = any> {
  status: number;
  body: T;
}

interface RequestOptions {
  timeoutMs?: number;
  admin?: boolean;
  body?: unknown;
}

export async function request<T = any>(node: RingProcess, method: string, path: string, opts: RequestOptions = {}): Promise<HttpResult<T>> {
  const headers: Record<string, string> = {};
  if (opts.admin) headers.authorization = `Bearer ${ADMIN_TOKEN}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(node.url + path, {
    method,
    headers,
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    signal: AbortSignal.timeout(opts.timeoutMs ?? 5000),
  });
  const text = await res.text();
  let body: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json')) {
    try {
      body = JSON.parse(text);
    } catch {
      // keep the text
    }
  }
  return { status: res.status, body: body as T };
}

export function get<T = any>(node: RingProcess, path: string, opts: RequestOptions = {}): Promise<HttpResult<T>> {
  return request<T>(node, 'GET', path, opts);
}

export function admin<T = any>(node: RingProcess, method: string, path: string, body?: unknown, timeoutMs = 5000): Promise<HttpResult<T>> {
  return request<T>(node, method, `/api/admin/${path}`, { admin: true, body, timeoutMs });
}

export interface KvRead {
  status: number;
  value?: unknown;
  siblings?: number;
  context?: string;
  body: unknown;
}

export const kv = {
  async put(node: RingProcess, key: string, value: unknown, context?: string, timeoutMs = 5000): Promise<{ status: number; context?: string; body: any }> {
    const r = await admin(node, 'PUT', `kv/${key}`, context === undefined ? { value } : { value, context }, timeoutMs);
    return { status: r.status, context: r.body?.context, body: r.body };
  },
  async get(node: RingProcess, key: string, timeoutMs = 5000): Promise<KvRead> {
    const r = await admin(node, 'GET', `kv/${key}`, undefined, timeoutMs);
    return { status: r.status, value: r.body?.value, siblings: r.body?.siblings, context: r.body?.context, body: r.body };
  },
  async del(node: RingProcess, key: string, context: string, timeoutMs = 5000): Promise<{ status: number; context?: string; body: any }> {
    const r = await admin(node, 'DELETE', `kv/${key}?context=${encodeURIComponent(context)}`, undefined, timeoutMs);
    return { status: r.status, context: r.body?.context, body: r.body };
  },
};

export const ctr = {
  async incr(node: RingProcess, key: string, by = 1, timeoutMs = 5000): Promise<number> {
    return (await admin(node, 'POST', `ctr/${key}`, { by }, timeoutMs)).status;
  },
  /** The counter's total, or throws on a non-200 answer. */
  async total(node: RingProcess, key: string, timeoutMs = 5000): Promise<number> {
    const r = await admin(node, 'GET', `ctr/${key}`, undefined, timeoutMs);
    if (r.status !== 200) throw new Error(`ctr.total ${key} via ${node.name}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.total as number;
  },
};

export interface MemberInfo {
  name: string;
  addr: string;
  status: 'joining' | 'valid' | 'leaving' | 'exiting' | 'downed' | 'removed';
  liveness: 'alive' | 'suspect' | 'dead';
}

export interface ClusterView {
  node: string;
  members: MemberInfo[];
  ring: { size: number; nVal: number; partitions: { index: number; owner: string | null; next?: string | null }[] };
  handoffs: unknown[];
}

export async function cluster(node: RingProcess, timeoutMs = 3000): Promise<ClusterView> {
  const r = await get<ClusterView>(node, '/api/cluster', { timeoutMs });
  if (r.status !== 200) throw new Error(`/api/cluster on ${node.name}: ${r.status}`);
  return r.body;
}

/** /readyz answers 200 (false on any error). */
export async function ready(node: RingProcess): Promise<boolean> {
  try {
    return (await get(node, '/readyz', { timeoutMs: 2000 })).status === 200;
  } catch {
    return false;
  }
}

/** Wait for /readyz 200; records node.readyAt and returns the join-to-ready time in ms (from spawn). */
export async function waitReady(node: RingProcess, timeoutMs = 30_000): Promise<number> {
  await waitFor(
    async () => {
      if (!node.alive) throw new Error(`${node.name} exited ${JSON.stringify(node.exit)}`);
      return ready(node);
    },
    { timeoutMs, intervalMs: 50, what: `${node.name} /readyz 200` },
  );
  node.readyAt ??= performance.now();
  return node.readyAt - node.startedAt;
}

/** A Prometheus sample's value (summed over label sets); undefined if absent. */
export async function metric(node: RingProcess, name: string): Promise<number | undefined> {
  const r = await get<string>(node, '/metrics', { timeoutMs: 3000 });
  if (r.status !== 200) throw new Error(`/metrics on ${node.name}: ${r.status}`);
  let sum: number | undefined;
  for (const line of String(r.body).split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && m[1] === name) sum = (sum ?? 0) + Number(m[3]);
  }
  return sum;
}

export function kill(node: RingProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (node.alive) node.proc.kill(signal);
}

/** Wait (bounded) for the process to exit; its exit code (null when killed by a signal). */
export async function waitExit(node: RingProcess, timeoutMs: number): Promise<number | null> {
  const r = await Promise.race([node.exited, sleep(timeoutMs).then(() => undefined)]);
  if (r === undefined) throw new Error(`${node.name} (pid ${node.pid}) did not exit within ${timeoutMs} ms`);
  return r.code;
}

// ---------------------------------------------------------------------------------------
// Cluster-level checks

/** Why `view` is not a settled ring of exactly `names` (all valid and alive, no pending move), or undefined if it is. */
export function unsettled(view: ClusterView, names: readonly string[]): string | undefined {
  const got = view.members.map((m) => m.name).sort();
  const want = [...names].sort();
  if (got.join() !== want.join()) return `${view.node} sees members [${got}] not [${want}]`;
  const bad = view.members.filter((m) => m.status !== 'valid' || m.liveness !== 'alive');
  if (bad.length > 0) return `${view.node} sees ${bad.map((m) => `${m.name}:${m.status}/${m.liveness}`).join(', ')}`;
  const moving = view.ring.partitions.filter((p) => p.next != null);
  if (moving.length > 0) return `${view.node} has ${moving.length} partitions with next`;
  const unowned = view.ring.partitions.filter((p) => !p.owner || !names.includes(p.owner));
  if (unowned.length > 0) return `${view.node} has ${unowned.length} partitions owned outside the members`;
  return undefined;
}

/**
 * Wait until every node's /api/cluster shows exactly `nodes` as members, all valid and alive,
 * no partition with `next`, and all views agree on the owners. Returns the views.
 */
export async function waitSettled(nodes: readonly RingProcess[], timeoutMs: number): Promise<ClusterView[]> {
  const names = nodes.map((n) => n.name);
  return waitFor(
    async () => {
      const views = await Promise.all(nodes.map((n) => cluster(n)));
      for (const v of views) {
        const why = unsettled(v, names);
        if (why) throw new Error(why);
      }
      const owners = views.map((v) => v.ring.partitions.map((p) => p.owner).join());
      if (new Set(owners).size !== 1) throw new Error('nodes disagree on partition owners');
      // CAS acceptors catch up after a ring change (a few seconds); until then, a partition
      // that cuts a node off could leave slugs unclaimable on the majority side.
      for (const n of nodes) {
        const st = await admin<{ casPending?: number }>(n, 'GET', 'status');
        if (st.status === 200 && (st.body.casPending ?? 0) > 0) throw new Error(`${n.name} has ${st.body.casPending} CAS partitions catching up`);
      }
      return views;
    },
    { timeoutMs, intervalMs: 200, what: `ring of [${names}] settled` },
  );
}

/** Partitions owned per member. */
export function ownership(view: ClusterView): Map<string, number> {
  const counts = new Map<string, number>();
  for (const p of view.ring.partitions) if (p.owner) counts.set(p.owner, (counts.get(p.owner) ?? 0) + 1);
  return counts;
}

export interface ReadCheck {
  /** (node, key) reads that did not return the expected value on the first pass. */
  firstPassMisses: number;
  /** How long until every read succeeded. */
  ms: number;
}

/**
 * Every key in `expected` reads back through every node with exactly its value (one sibling).
 * Misses are retried (only the missing pairs) until timeoutMs; the first-pass count is reported.
 */
export async function expectReadable(nodes: readonly RingProcess[], expected: ReadonlyMap<string, unknown>, timeoutMs: number, concurrency = 12): Promise<ReadCheck> {
  const t0 = performance.now();
  let pending: [RingProcess, string][] = [];
  for (const n of nodes) for (const k of expected.keys()) pending.push([n, k]);
  let firstPassMisses = -1;
  let samples: string[] = [];
  for (;;) {
    const results = await pool(pending, concurrency, async ([n, k]) => {
      try {
        const r = await kv.get(n, k);
        const want = expected.get(k);
        if (r.status === 200 && JSON.stringify(r.value) === JSON.stringify(want) && r.siblings === 1) return undefined;
        return `${k} via ${n.name}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)} (want ${JSON.stringify(want)})`;
      } catch (err) {
        return `${k} via ${n.name}: ${(err as Error).message}`;
      }
    });
    const next: [RingProcess, string][] = [];
    samples = [];
    results.forEach((miss, i) => {
      if (miss !== undefined) {
        next.push(pending[i]!);
        if (samples.length < 10) samples.push(miss);
      }
    });
    if (firstPassMisses < 0) firstPassMisses = next.length;
    pending = next;
    if (pending.length === 0) return { firstPassMisses, ms: performance.now() - t0 };
    if (performance.now() - t0 > timeoutMs) {
      throw new Error(`${pending.length} of ${nodes.length * expected.size} reads still wrong after ${timeoutMs} ms, e.g.:\n  ${samples.join('\n  ')}`);
    }
    await sleep(500);
  }
}

/**
 * Give each test a fresh Harness: every process it starts is killed and its data removed
 * afterwards, and on failure the nodes' output is printed.
 */
export function useHarness(assign: (h: Harness) => void): void {
  let current: Harness | undefined;
  beforeEach(({ onTestFailed }) => {
    const mine = new Harness();
    current = mine;
    assign(mine);
    onTestFailed(({ task }) => {
      if (task.fails) return; // an expected failure (it.fails): nothing to debug
      console.log(`node output for the failed test:\n${mine.dumpLogs()}`);
    });
  });
  afterEach(async () => {
    await current?.cleanup();
  }, 30_000);
  afterAll(async () => {
    await current?.cleanup();
  });
}
