// The client workload of a chaos scenario and its history. Every operation is recorded with
// its outcome, Jepsen style:
//   ok    acknowledged (201 create, 200 edit, 204 delete, 302 redirect, 200 CAS)
//   fail  certainly not done (a 4xx answer, a refused connection, a 404/410 redirect)
//   info  unknown: a timeout, a reset connection, a 5xx answer; it may or may not have happened
//
// Clients (all bounded in count and time; every request has a timeout):
//   users     browsers with a session cookie: create links (random slugs), edit their target,
//             delete them, read them back; one operation at a time per browser, so each link's
//             writes are a sequence
//   visitors  follow short links (GET /:slug, counted as a view) through random nodes; every
//             302 is recorded with the node process life that answered it; a refused
//             connection is sent on to another node, as a load balancer does (users' requests too)
//   racer     every so often, three browsers create the same custom slug through three nodes
//             at once: at most one may get 201
//   cas       compare-and-set operations on a few registers through the admin CAS route (as in
//             tests/cluster/histories.test.ts), keys rotating every epoch so each key's history
//             stays small enough for the linearizability checker
import type { CasOp, HistoryEntry, RegisterValue } from '../ring/sim';
import { ADMIN_TOKEN, casReplyOf, casRequestBody, type CasReply } from '../testkit';
import type { ChaosCluster, ChaosNode, Life } from './cluster';
import { Browser, call, type Outcome, visit } from './http';

export type Status = 'ok' | 'fail' | 'info';

export interface WriteRec {
  url: string;
  status: Status;
  t0: number;
  t1: number;
  node: string;
}

export interface DeleteRec {
  status: Status;
  t0: number;
  t1: number;
  node: string;
}

export interface LinkRec {
  slug: string;
  user: number;
  /** Set when the create's answer carried a new session cookie: the link belongs to that session, not to the browser's. */
  ownerCookie?: string;
  /** The create first, then every edit of the target, in issue order. */
  writes: WriteRec[];
  deletes: DeleteRec[];
  expiresAt: number | null;
  /** 302 answers, per node life, with the time the answer arrived. */
  visits: Map<Life, number[]>;
  visitsInfo: number;
  visitsFail: number;
  /** 302 answers to a visit started after a delete of the link was acknowledged (stale reads, allowed while the network is cut). */
  staleAfterDelete: number;
  /** 404 answers to a visit of this link (acknowledged before the visit began): a replica set the node could not reach answered "no such link". */
  notFound: number;
  /** 410 "expired" answers (clock scenario). */
  expiredAnswers: { node: string; at: number }[];
}

export interface RaceRec {
  slug: string;
  startedAt: number;
  contenders: { user: number; node: string; url: string; status: Status; code?: number }[];
}

export type CasEntry = HistoryEntry & { key: string };

export interface OpCounts {
  ops: number;
  ok: number;
  fail: number;
  info: number;
  /** Why operations failed or are indeterminate: HTTP status or error, with counts. */
  why?: Record<string, number>;
}

export interface WorkloadOptions {
  users: number;
  linksPerUserMax: number;
  visitors: number;
  casClients: number;
  casKeys: number;
  casEpochMs: number;
  raceEveryMs: number;
  opTimeoutMs: number;
  /** Cap on operations (all clients together); clients stop issuing new ones past it. */
  maxOps: number;
  /** Links created at setup with an expiry this far in the future (clock scenario); 0: none. */
  expiringLinks: number;
  expiringInMs: number;
}

export const defaultWorkload: WorkloadOptions = {
  users: 6,
  linksPerUserMax: 40,
  visitors: 4,
  casClients: 3,
  casKeys: 2,
  casEpochMs: 8_000,
  raceEveryMs: 1_500,
  opTimeoutMs: 5_000,
  maxOps: 40_000,
  expiringLinks: 0,
  expiringInMs: 20 * 60_000,
};

const rand = (n: number) => Math.floor(Math.random() * n);
const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const think = (lo: number, hi: number) => sleep(lo + rand(hi - lo));

function statusOf(r: Outcome, ok: readonly number[]): Status {
  if (r.kind !== 'ok') return r.kind;
  if (ok.includes(r.status)) return 'ok';
  return r.status >= 500 ? 'info' : 'fail';
}

export class Workload {
  readonly browsers: Browser[];
  readonly links: LinkRec[] = [];
  readonly races: RaceRec[] = [];
  readonly cas: CasEntry[] = [];
  readonly counts = new Map<string, OpCounts>();
  /** Creates whose answer never came: a link may exist under a slug nobody knows. */
  createsUnknown = 0;
  /** Requests a refused connection sent on to another node (see balanced). */
  movedOnRefusal = 0;
  private stopped = false;
  private running: Promise<void>[] = [];
  private seq = 0;
  private opId = 0;
  private total = 0;
  readonly t0 = performance.now();
  startedAt = 0;
  stoppedAt = 0;

  constructor(
    readonly cluster: ChaosCluster,
    readonly opts: WorkloadOptions,
    readonly tag: string,
  ) {
    this.browsers = Array.from({ length: opts.users }, (_, i) => new Browser(`u${i}`));
  }

  private count(kind: string, s: Status, r?: Outcome | null): void {
    let c = this.counts.get(kind);
    if (!c) this.counts.set(kind, (c = { ops: 0, ok: 0, fail: 0, info: 0, why: {} }));
    c.ops++;
    c[s]++;
    this.total++;
    if (s !== 'ok' && c.why) {
      const why =
        r === undefined ? s : r === null ? 'no answer or non-200' : r.kind === 'ok' ? String(r.status) : r.error;
      c.why[why] = (c.why[why] ?? 0) + 1;
    }
  }

  private get more(): boolean {
    return !this.stopped && this.total < this.opts.maxOps;
  }

  /** A node to send the next request to: any running process (a paused one too: clients cannot tell). */
  private target(): ChaosNode | undefined {
    const up = this.cluster.running();
    return up.length > 0 ? pick(up) : undefined;
  }

  /**
   * Before the faults: every browser creates its first link (which gives it a session), with
   * retries (bounded); the clock scenario's expiring links too.
   */
  async setup(timeoutMs = 30_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    await Promise.all(
      this.browsers.map(async (b, u) => {
        const want = u === 0 ? 1 + this.opts.expiringLinks : 1;
        let made = 0;
        while (made < want && performance.now() < deadline) {
          const expiring = u === 0 && made >= 1;
          const rec = await this.create(u, expiring ? Date.now() + this.opts.expiringInMs : null);
          if (rec) made++;
          else await sleep(300);
        }
        if (made < want)
          throw new Error(`workload setup: browser ${b.id} could not create its first links within ${timeoutMs} ms`);
      }),
    );
  }

  start(): void {
    this.startedAt = performance.now();
    for (let u = 0; u < this.opts.users; u++) this.running.push(this.userLoop(u));
    for (let v = 0; v < this.opts.visitors; v++) this.running.push(this.visitorLoop());
    for (let c = 0; c < this.opts.casClients; c++) this.running.push(this.casLoop(c));
    if (this.opts.raceEveryMs > 0) this.running.push(this.raceLoop());
  }

  /** Stop issuing operations and wait for the ones in flight (each is bounded by its timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stoppedAt = performance.now();
    await Promise.race([Promise.all(this.running), sleep(this.opts.opTimeoutMs * 2 + 5_000)]);
  }

  // ---- users ----

  private async create(u: number, expiresAt: number | null): Promise<LinkRec | undefined> {
    const first = this.target();
    if (!first) return undefined;
    const b = this.browsers[u]!;
    const url = `https://example.com/chaos/${this.tag}/u${u}/${++this.seq}`;
    const t0 = performance.now();
    const body = expiresAt === null ? { url } : { url, expiresAt };
    const { node, r } = await this.balanced(first, (n) => b.call(n, 'POST', '/api/links', body, this.opts.opTimeoutMs));
    const t1 = performance.now();
    const s = statusOf(r, [201]);
    this.count('create', s, r);
    if (s === 'info') this.createsUnknown++;
    if (s !== 'ok' || r.kind !== 'ok') return undefined;
    const slug = (r.body as { slug?: string }).slug;
    if (typeof slug !== 'string') return undefined;
    const rec: LinkRec = {
      slug,
      user: u,
      ...(r.replacedWith ? { ownerCookie: r.replacedWith } : {}),
      writes: [{ url, status: 'ok', t0, t1, node: node.name }],
      deletes: [],
      expiresAt,
      visits: new Map(),
      visitsInfo: 0,
      visitsFail: 0,
      staleAfterDelete: 0,
      notFound: 0,
      expiredAnswers: [],
    };
    this.links.push(rec);
    return rec;
  }

  private async userLoop(u: number): Promise<void> {
    const b = this.browsers[u]!;
    while (this.more) {
      const mine = this.links.filter((l) => l.user === u);
      const editable = mine.filter((l) => l.deletes.length === 0);
      const roll = Math.random();
      // Creates keep 6-30 live links per browser while linksPerUserMax (which bounds the links checked at the end) leaves room; deletes only then too.
      const room = mine.length < this.opts.linksPerUserMax;
      if (room && (editable.length < 6 || (roll < 0.2 && editable.length < 30))) {
        await this.create(u, null);
      } else if (editable.length > 0 && roll < 0.7) {
        const l = pick(editable);
        const node = this.target();
        if (!node) {
          await sleep(200);
          continue;
        }
        const url = `https://example.com/chaos/${this.tag}/u${u}/${++this.seq}`;
        const t0 = performance.now();
        const { node: answered, r } = await this.balanced(node, (n) =>
          b.call(n, 'PATCH', `/api/links/${l.slug}`, { url }, this.opts.opTimeoutMs, l.ownerCookie ?? b.cookie),
        );
        const s = statusOf(r, [200]);
        this.count('update', s, r);
        l.writes.push({ url, status: s, t0, t1: performance.now(), node: answered.name });
      } else if (room && editable.length > 3 && roll < 0.76) {
        const l = pick(editable);
        const node = this.target();
        if (!node) {
          await sleep(200);
          continue;
        }
        const t0 = performance.now();
        const { node: answered, r } = await this.balanced(node, (n) =>
          b.call(n, 'DELETE', `/api/links/${l.slug}`, undefined, this.opts.opTimeoutMs, l.ownerCookie ?? b.cookie),
        );
        const s = statusOf(r, [204]);
        this.count('delete', s, r);
        l.deletes.push({ status: s, t0, t1: performance.now(), node: answered.name });
      } else if (mine.length > 0) {
        const l = pick(mine);
        const node = this.target();
        if (!node) {
          await sleep(200);
          continue;
        }
        const { r } = await this.balanced(node, (n) =>
          b.call(n, 'GET', `/api/links/${l.slug}`, undefined, this.opts.opTimeoutMs, l.ownerCookie ?? b.cookie),
        );
        this.count('read', statusOf(r, [200]), r);
      }
      await think(20, 60);
    }
  }

  // ---- visitors ----

  private async visitorLoop(): Promise<void> {
    while (this.more) {
      const pool = this.links;
      if (pool.length === 0) {
        await sleep(50);
        continue;
      }
      // Mostly links not deleted (a few deleted ones: they must answer 410, and must not count).
      const live = pool.filter((l) => l.deletes.length === 0);
      const l = live.length > 0 && Math.random() < 0.9 ? pick(live) : pick(pool);
      const first = this.target();
      if (!first) {
        await sleep(200);
        continue;
      }
      const deleteAckedBefore = l.deletes.some((d) => d.status === 'ok');
      const { node, r } = await this.balanced(first, (n) => visit(n, l.slug, 'GET', this.opts.opTimeoutMs));
      const life = node.life;
      const s = statusOf(r, [302]);
      this.count('visit', s, r);
      if (s === 'ok') {
        let times = l.visits.get(life);
        if (!times) l.visits.set(life, (times = []));
        times.push(performance.now());
        if (deleteAckedBefore) l.staleAfterDelete++;
      } else if (s === 'info') l.visitsInfo++;
      else {
        l.visitsFail++;
        if (r.kind === 'ok' && r.status === 404) l.notFound++;
        if (r.kind === 'ok' && r.status === 410 && /expired/i.test(String(r.body)) && l.expiredAnswers.length < 1000)
          l.expiredAnswers.push({ node: node.name, at: performance.now() });
      }
      await think(2, 12);
    }
  }

  /**
   * A request as a load balancer in front of the cluster sends it (nginx's proxy_next_upstream
   * on a connect error): a node that refuses the connection (stopping, or not listening yet
   * after a restart) did nothing, so the same request goes to another running node, each node
   * at most once. Returns the node that answered last.
   */
  private async balanced<T>(
    first: ChaosNode,
    send: (node: ChaosNode) => Promise<Outcome<T>>,
  ): Promise<{ node: ChaosNode; r: Outcome<T> }> {
    const tried = new Set<string>();
    let node = first;
    for (;;) {
      tried.add(node.name);
      const r = await send(node);
      if (r.kind !== 'fail' || r.error !== 'connection refused') return { node, r };
      const others = this.cluster.running().filter((n) => !tried.has(n.name));
      if (others.length === 0) return { node, r };
      this.movedOnRefusal++;
      node = pick(others);
    }
  }

  // ---- slug races ----

  private async raceLoop(): Promise<void> {
    let n = 0;
    while (this.more) {
      await sleep(this.opts.raceEveryMs);
      if (!this.more) break;
      const slug = `race-${this.tag}-${++n}`;
      const nodes = [...this.cluster.running()].sort(() => Math.random() - 0.5);
      if (nodes.length === 0) continue;
      const users = [...this.browsers.keys()].sort(() => Math.random() - 0.5).slice(0, 3);
      const rec: RaceRec = { slug, startedAt: performance.now(), contenders: [] };
      this.races.push(rec);
      await Promise.all(
        users.map(async (u, i) => {
          const node = nodes[i % nodes.length]!;
          const url = `https://example.com/chaos/${this.tag}/race/${n}/u${u}`;
          const r = await this.browsers[u]!.call(node, 'POST', '/api/links', { url, slug }, this.opts.opTimeoutMs);
          const s = statusOf(r, [201]);
          this.count('race-create', s, r);
          rec.contenders.push({
            user: u,
            node: node.name,
            url,
            status: s,
            ...(r.kind === 'ok' ? { code: r.status } : {}),
          });
        }),
      );
    }
  }

  // ---- compare-and-set ----

  casKey(epoch: number, k: number): string {
    return `chaos-${this.tag}-e${epoch}-k${k}`;
  }

  /** Every CAS key the history touched. */
  casKeysUsed(): string[] {
    return [...new Set(this.cas.map((e) => e.key))];
  }

  async casCall(node: ChaosNode, key: string, op: CasOp, timeoutMs: number): Promise<CasReply | null> {
    const r = await call(`${node.url}/api/admin/cas/${key}`, 'POST', {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: casRequestBody(op),
      timeoutMs,
    });
    return r.kind === 'ok' ? casReplyOf(op, r.status, r.body) : null;
  }

  private async casLoop(c: number): Promise<void> {
    const proc = `cas-c${c}`;
    const lastSeen = new Map<string, RegisterValue>();
    while (this.more) {
      const epoch = Math.floor((performance.now() - this.t0) / this.opts.casEpochMs);
      const key = this.casKey(epoch, rand(this.opts.casKeys));
      const value = `${proc}:${++this.seq}`;
      const roll = Math.random();
      const op: CasOp =
        roll < 0.35
          ? { kind: 'create', value }
          : roll < 0.75
            ? { kind: 'cas', expected: lastSeen.get(key) ?? null, value }
            : { kind: 'read' };
      const node = this.target();
      if (!node) {
        await sleep(200);
        continue;
      }
      const entry: CasEntry = { id: ++this.opId, key, process: proc, op, invokedAt: performance.now() };
      this.cas.push(entry);
      const out = await this.casCall(node, key, op, this.opts.opTimeoutMs);
      if (out) {
        entry.completedAt = performance.now();
        entry.output = out;
        if (op.kind === 'read') lastSeen.set(key, out.value ?? null);
        else if (out.ok) lastSeen.set(key, op.value);
      }
      this.count('cas', out ? 'ok' : 'info', out ? undefined : null);
      await think(15, 45);
    }
  }

  /** A final CAS read of `key` through `node`, joining the history (retried, bounded); false when it never answered. */
  async finalCasRead(node: ChaosNode, key: string, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const entry: CasEntry = {
        id: ++this.opId,
        key,
        process: `final-${node.name}`,
        op: { kind: 'read' },
        invokedAt: performance.now(),
      };
      const out = await this.casCall(node, key, { kind: 'read' }, 4000);
      if (out) {
        entry.completedAt = performance.now();
        entry.output = out;
        this.cas.push(entry);
        return true;
      }
      await sleep(300);
    }
    return false;
  }
}
