// Simulated shortener clients. Each client is a browser: it gets a session (and keeps its
// cookie), creates links with custom slugs that other clients want too or with random
// slugs, some with a maximum of clicks, follows short links (as a person or as a bot), and
// reads totals, each step on a random node that is up. What a client receives is recorded
// for the checkers (checkers.ts); an answer from a node life that crashed before sending
// it never reached the client and is not recorded.
import type { FaultSchedule, SimRandom, SimWorld } from '../../ring/sim';
import { hashSessionId } from '../auth/sessions';
import { botsKey, sessionKey, viewsKey } from '../datatypes/keys';
import type { CreateRecord, EnsureRecord } from './checkers';
import { botAgent, humanAgent, type ShortenerNode } from './services';

/** Custom slugs every client wants now and then, each always asked for with the same maximum of clicks. */
export const customSlugs: readonly { slug: string; max: number | null }[] = [
  { slug: 'launch', max: 6 },
  { slug: 'promo-x', max: null },
  { slug: 'docs-v2', max: 3 },
  { slug: 'summer_24', max: 9 },
  { slug: 'team-a', max: null },
];

export interface ShortenerWorkloadOptions {
  clients: number;
  /** Mean think time between a client's steps. */
  thinkMs: number;
  /** A client gives up on a request after this long (its node may have crashed). */
  requestTimeoutMs: number;
}

interface Client {
  readonly name: string;
  cookie: string | undefined;
  owner: string | undefined;
}

/** What the clients received, per node life and per counter slot. */
export class ShortenerHistory {
  readonly creates: CreateRecord[] = [];
  readonly ensures: EnsureRecord[] = [];
  /** Sessions a client received: each was stored before the answer went out. */
  readonly sessionsReceived = new Set<string>();
  /** slug → life → redirects received. */
  readonly served = new Map<string, Map<string, number>>();
  /** counter key (views/…, bots/…) → slot → views the redirect path counted there. */
  readonly counted = new Map<string, Map<string, number>>();
  /** Slugs a client learned (granted creates), plus the custom ones. */
  readonly known: string[] = customSlugs.map((c) => c.slug);
  readonly stats = {
    ops: 0,
    ok: 0,
    failed: 0,
    timedOut: 0,
    redirects: 0,
    creates: 0,
    taken: 0,
    sessions: 0,
    replaced: 0,
  };

  /** A redirect a client received from `sn`: one click spent by its life and one view counted in its slot. */
  redirected(sn: ShortenerNode, slug: string, agent: string): void {
    bump(this.served, slug, sn.life);
    bump(this.counted, agent === botAgent ? botsKey(slug) : viewsKey(slug), sn.counterSlot);
    this.stats.redirects++;
  }
}

function bump(m: Map<string, Map<string, number>>, a: string, b: string): void {
  let inner = m.get(a);
  if (!inner) m.set(a, (inner = new Map()));
  inner.set(b, (inner.get(b) ?? 0) + 1);
}

/** The code of a domain error (a 409 slug_taken), wherever the error keeps it. */
function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; extras?: { code?: unknown } } | null;
  const code = e?.extras?.code ?? e?.code;
  return typeof code === 'string' ? code : undefined;
}

export class ShortenerWorkload {
  readonly history = new ShortenerHistory();
  private readonly clients: Client[];
  private stopped = false;
  private urlSeq = 0;
  private inFlight = 0;

  constructor(
    private readonly world: SimWorld,
    private readonly services: ReadonlyMap<string, ShortenerNode>,
    private readonly faults: FaultSchedule,
    private readonly random: SimRandom,
    private readonly opts: ShortenerWorkloadOptions,
  ) {
    this.clients = Array.from({ length: opts.clients }, (_, i) => ({
      name: `b${i}`,
      cookie: undefined,
      owner: undefined,
    }));
  }

  start(): void {
    for (const c of this.clients) this.schedule(c);
  }

  stop(): void {
    this.stopped = true;
  }

  /** Requests still waiting for an answer (each is bounded by requestTimeoutMs). */
  pending(): number {
    return this.inFlight;
  }

  /** The node `a` can exchange messages with `b` right now (ground truth, not a failure detector's guess). */
  reachable(a: string, b: string): boolean {
    if (a === b) return true;
    return !!this.world.nodes.get(b)?.up && this.world.net.linkOpen(a, b) && this.world.net.linkOpen(b, a);
  }

  private schedule(c: Client): void {
    this.world.scheduler.after(1 + this.random.int(this.opts.thinkMs * 2), () => {
      if (this.stopped) return;
      void this.guarded(c).then(() => this.schedule(c));
    });
  }

  /** One step, given up on after requestTimeoutMs of virtual time. */
  private async guarded(c: Client): Promise<void> {
    let timer: ReturnType<SimWorld['scheduler']['after']> | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = this.world.scheduler.after(this.opts.requestTimeoutMs, () => {
        this.history.stats.timedOut++;
        resolve();
      });
    });
    this.inFlight++;
    try {
      await Promise.race([this.step(c), timeout]);
    } finally {
      this.inFlight--;
      this.world.scheduler.cancel(timer);
    }
  }

  private pickNode(): ShortenerNode | undefined {
    const up = this.world.upNodes().filter((n) => n.node.ready());
    if (up.length === 0) return undefined;
    return this.services.get(this.random.pick(up).name);
  }

  private async step(c: Client): Promise<void> {
    const sn = this.pickNode();
    if (!sn) return;
    this.history.stats.ops++;
    const roll = this.random.next();
    // Now and then a browser starts afresh (a new profile, cleared cookies): sessions are
    // also created while the faults play, not only at the start.
    if (this.random.chance(0.08)) c.cookie = undefined;
    const from = this.world.now();
    let what: string;
    try {
      if (!c.cookie || roll < 0.25) what = await this.session(c, sn);
      else if (roll < 0.45) what = await this.create(c, sn);
      else if (roll < 0.92) what = await this.follow(c, sn);
      else what = await this.totals(sn);
      this.history.stats.ok++;
    } catch (err) {
      this.history.stats.failed++;
      what = `failed: ${(err as Error).message}`;
    }
    this.world.trace?.push(`${from}-${this.world.now()} CLIENT ${c.name} on ${sn.name}: ${what}`);
  }

  private async totals(sn: ShortenerNode): Promise<string> {
    const slug = this.random.pick(this.history.known);
    const { total, bots } = await sn.links.totals(slug);
    return `totals of ${slug}: ${total} views, ${bots} bots`;
  }

  /** Whether the life that served a request is still the node's current one: else its answer was never sent. */
  private alive(sn: ShortenerNode): boolean {
    return sn.sim.up && sn.sim.life === sn.generation;
  }

  private async session(c: Client, sn: ShortenerNode): Promise<string> {
    const cookie = c.cookie;
    let rec: EnsureRecord | undefined;
    if (cookie) {
      const primaries = sn.sim.node.placement(sessionKey(hashSessionId(cookie))).primaries;
      rec = {
        client: c.name,
        node: sn.name,
        invokedAt: this.world.now(),
        cookie,
        cookieAcked: this.history.sessionsReceived.has(cookie),
        primaries,
        reachable: primaries.filter((p) => this.reachable(sn.name, p)).length,
        networkChanged: false,
        outcome: 'pending',
      };
      this.history.ensures.push(rec);
    }
    const epoch = this.faults.epoch;
    try {
      const s = await sn.ensureSession(cookie);
      if (!this.alive(sn)) throw new Error('the node crashed before it answered');
      if (rec) {
        const networkChanged = epoch !== this.faults.epoch;
        Object.assign(rec, { outcome: 'ok', result: s.id, completedAt: this.world.now(), networkChanged });
      }
      if (s.id !== cookie) {
        this.history.stats.sessions++;
        if (cookie) this.history.stats.replaced++;
      }
      this.history.sessionsReceived.add(s.id);
      c.cookie = s.id;
      c.owner = `s:${s.idHash}`;
      return `session ${cookie?.slice(0, 6) ?? '(none)'} -> ${s.id.slice(0, 6)}`;
    } catch (err) {
      if (rec) rec.outcome = 'failed';
      throw err;
    }
  }

  private async create(c: Client, sn: ShortenerNode): Promise<string> {
    const custom = this.random.chance(0.6) ? this.random.pick(customSlugs) : undefined;
    const maxClicks = custom ? custom.max : this.random.chance(0.5) ? 1 + this.random.int(8) : null;
    const owner = c.owner!;
    const rec: CreateRecord = {
      client: c.name,
      owner,
      node: sn.name,
      invokedAt: this.world.now(),
      custom: custom?.slug,
      outcome: 'pending',
    };
    this.history.creates.push(rec);
    this.history.stats.creates++;
    try {
      const url = `https://example.com/${c.name}/${++this.urlSeq}`;
      const doc = await sn.links.create(owner, { url, slug: custom?.slug, maxClicks });
      if (!this.alive(sn)) throw new Error('the node crashed before it answered');
      Object.assign(rec, { outcome: 'ok', slug: doc.slug, completedAt: this.world.now() });
      if (!custom) this.history.known.push(doc.slug);
      return `create ${custom?.slug ?? '(random)'} for ${owner.slice(0, 8)} max ${maxClicks} -> ${doc.slug}`;
    } catch (err) {
      rec.outcome = errorCode(err) === 'slug_taken' ? 'taken' : 'failed';
      if (rec.outcome !== 'taken') throw err;
      this.history.stats.taken++;
      return `create ${custom?.slug} for ${owner.slice(0, 8)} -> taken`;
    }
  }

  private async follow(c: Client, sn: ShortenerNode): Promise<string> {
    const slug = this.random.pick(this.history.known);
    const agent = this.random.chance(0.15) ? botAgent : humanAgent;
    const status = await sn.redirect(slug, c.name, agent);
    if (!this.alive(sn)) throw new Error('the node crashed before it answered');
    if (status >= 300 && status < 400) this.history.redirected(sn, slug, agent);
    return `GET /${slug}${agent === botAgent ? ' (bot)' : ''} -> ${status}`;
  }
}
