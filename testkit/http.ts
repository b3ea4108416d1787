// Small HTTP helpers over a node's public and admin API, and the cluster-level waits built on
// them. Every call has a timeout and every wait is bounded.
import type { RingProcess } from './node';
import { pool, sleep, waitFor } from './wait';

export interface HttpResult<T = any> {
  status: number;
  body: T;
}

interface RequestOptions {
  timeoutMs?: number;
  /** Send the node's admin token. */
  admin?: boolean;
  body?: unknown;
}

export async function request<T = any>(
  node: RingProcess,
  method: string,
  path: string,
  opts: RequestOptions = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = {};
  if (opts.admin) headers.authorization = `Bearer ${node.adminToken}`;
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

/** GET any URL; the body parsed as JSON when it is JSON, else its text. */
export async function getJson<T = any>(
  url: string,
  headers: Record<string, string> = {},
  timeoutMs = 5000,
): Promise<HttpResult<T>> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: res.status, body: body as T };
}

export function get<T = any>(node: RingProcess, path: string, opts: RequestOptions = {}): Promise<HttpResult<T>> {
  return request<T>(node, 'GET', path, opts);
}

export function admin<T = any>(
  node: RingProcess,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 5000,
): Promise<HttpResult<T>> {
  return request<T>(node, method, `/api/admin/${path}`, { admin: true, body, timeoutMs });
}

export interface KvRead {
  status: number;
  value?: unknown;
  siblings?: number;
  context?: string;
  body: unknown;
}

type KvWrite = { status: number; context?: string; body: any };

export const kv = {
  async put(node: RingProcess, key: string, value: unknown, context?: string, timeoutMs = 5000): Promise<KvWrite> {
    const r = await admin(node, 'PUT', `kv/${key}`, context === undefined ? { value } : { value, context }, timeoutMs);
    return { status: r.status, context: r.body?.context, body: r.body };
  },
  async get(node: RingProcess, key: string, timeoutMs = 5000): Promise<KvRead> {
    const r = await admin(node, 'GET', `kv/${key}`, undefined, timeoutMs);
    const b = r.body;
    return { status: r.status, value: b?.value, siblings: b?.siblings, context: b?.context, body: b };
  },
  async del(node: RingProcess, key: string, context: string, timeoutMs = 5000): Promise<KvWrite> {
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

/** Why a process is no use to wait for any more (it exited), with the end of its output. */
export function exitedReason(node: RingProcess): string | undefined {
  if (node.alive) return undefined;
  return `${node.name} exited (${node.describeExit()}):\n${node.log.text().slice(-3000)}`;
}

/**
 * Wait for /readyz 200 (failing at once if the process exits); records node.readyAt and returns
 * the join-to-ready time in ms (from spawn).
 */
export async function waitReady(node: RingProcess, timeoutMs = 30_000): Promise<number> {
  await waitFor(() => ready(node), {
    timeoutMs,
    intervalMs: 50,
    what: `${node.name} /readyz 200`,
    failIf: () => exitedReason(node),
  });
  node.readyAt ??= performance.now();
  return node.readyAt - node.startedAt;
}

/** A Prometheus sample's value (summed over label sets); undefined if absent. */
export async function metric(node: RingProcess, name: string): Promise<number | undefined> {
  const r = await get<string>(node, '/metrics', { timeoutMs: 3000 });
  if (r.status !== 200) throw new Error(`/metrics on ${node.name}: ${r.status}`);
  return parseMetrics(String(r.body)).get(name);
}

/** A Prometheus text exposition: sample name (labels dropped) -> value summed over label sets. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m) out.set(m[1]!, (out.get(m[1]!) ?? 0) + Number(m[2]));
  }
  return out;
}

export function kill(node: RingProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  node.signal(signal);
}

/** Wait (bounded) for the process to exit; its exit code (null when killed by a signal). */
export async function waitExit(node: RingProcess, timeoutMs: number): Promise<number | null> {
  const r = await Promise.race([node.exited, sleep(timeoutMs).then(() => undefined)]);
  if (r === undefined) throw new Error(`${node.name} (pid ${node.pid}) did not exit within ${timeoutMs} ms`);
  return r.code;
}

/**
 * The transport's fault hook (RINGLINK_TEST_FAULTS=1): `node` drops every message to and from
 * the members named in `block` (an empty list heals it). Retried until the node answers.
 */
export async function setBlocked(node: RingProcess, block: readonly string[], timeoutMs = 15_000): Promise<void> {
  await waitFor(
    async () => {
      const r = await admin(node, 'POST', 'faults', { block }, 3000);
      if (r.status !== 200) throw new Error(`faults on ${node.name}: ${r.status} ${JSON.stringify(r.body)}`);
      return true;
    },
    { timeoutMs, intervalMs: 300, what: `fault hook on ${node.name}` },
  );
}

// ---------------------------------------------------------------------------------------
// Cluster-level checks

export interface SettledOptions {
  /** Also wait until no node reports a handoff in progress. Default false. */
  noHandoffs?: boolean;
  /** Also wait until no node has CAS partitions catching up (admin status casPending). Default true. */
  casCaughtUp?: boolean;
}

/** Why `view` is not a settled ring of exactly `names` (all valid and alive, no pending move); undefined if it is. */
export function unsettled(view: ClusterView, names: readonly string[], opts: SettledOptions = {}): string | undefined {
  const got = view.members.map((m) => m.name).sort();
  const want = [...names].sort();
  if (got.join() !== want.join()) return `${view.node} sees members [${got}] not [${want}]`;
  const bad = view.members.filter((m) => m.status !== 'valid' || m.liveness !== 'alive');
  if (bad.length > 0) return `${view.node} sees ${bad.map((m) => `${m.name}:${m.status}/${m.liveness}`).join(', ')}`;
  const moving = view.ring.partitions.filter((p) => p.next != null);
  if (moving.length > 0) return `${view.node} has ${moving.length} partitions with next`;
  const unowned = view.ring.partitions.filter((p) => !p.owner || !names.includes(p.owner));
  if (unowned.length > 0) return `${view.node} has ${unowned.length} partitions owned outside the members`;
  if (opts.noHandoffs && view.handoffs.length > 0) return `${view.node} has ${view.handoffs.length} handoffs running`;
  return undefined;
}

/**
 * Wait until every node's /api/cluster shows exactly `nodes` as members, all valid and alive,
 * no partition with `next`, and all views agree on the owners (see SettledOptions for more).
 * Returns the views.
 */
export async function waitSettled(
  nodes: readonly RingProcess[],
  timeoutMs: number,
  opts: SettledOptions = {},
): Promise<ClusterView[]> {
  const names = nodes.map((n) => n.name);
  return waitFor(
    async () => {
      const views = await Promise.all(nodes.map((n) => cluster(n)));
      for (const v of views) {
        const why = unsettled(v, names, opts);
        if (why) throw new Error(why);
      }
      const owners = views.map((v) => v.ring.partitions.map((p) => p.owner).join());
      if (new Set(owners).size !== 1) throw new Error('nodes disagree on partition owners');
      // CAS acceptors catch up after a ring change (a few seconds); until then, a partition
      // that cuts a node off could leave slugs unclaimable on the majority side.
      if (opts.casCaughtUp ?? true) {
        for (const n of nodes) {
          const st = await admin<{ casPending?: number }>(n, 'GET', 'status');
          if (st.status === 200 && (st.body.casPending ?? 0) > 0) {
            throw new Error(`${n.name} has ${st.body.casPending} CAS partitions catching up`);
          }
        }
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
export async function expectReadable(
  nodes: readonly RingProcess[],
  expected: ReadonlyMap<string, unknown>,
  timeoutMs: number,
  concurrency = 12,
): Promise<ReadCheck> {
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
      const total = nodes.length * expected.size;
      const e = samples.join('\n  ');
      throw new Error(`${pending.length} of ${total} reads still wrong after ${timeoutMs} ms, e.g.:\n  ${e}`);
    }
    await sleep(500);
  }
}
