// LinkDirectory (the redirect's read path) against a fake node and RingClient: the test
// decides which members are up and what each read answers, so stale-if-error, authoritative
// absence and invalidations play out exactly; and the redirect path answers from it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { ReadResult, RingNode } from '../../ring';
import { createRedirector } from '../../server/http/redirect';
import type { RateLimits } from '../../server/http/rateLimits';
import type { ClickBudget } from '../../server/links/clickBudget';
import { LinkDirectory, type LinkDirectoryLimits } from '../../server/links/linkDirectory';
import type { LinkDoc } from '../../server/links/linkDoc';
import type { ViewRecorder } from '../../server/links/viewRecorder';
import { RingCallError, type RingClient } from '../../server/ringClient';
import { SimScheduler } from '../../ring/sim';

const limits: LinkDirectoryLimits = {
  cacheEntriesMax: 100,
  freshMs: 1_000,
  refreshAfterMs: 700,
  staleIfErrorMs: 60_000,
  staleIfSlowMs: 250,
};

function linkDoc(slug: string, url = `https://example.com/${slug}`, updatedAt = 1): LinkDoc {
  return {
    slug,
    url,
    owner: 'o',
    createdAt: 1,
    updatedAt,
    expiresAt: null,
    maxClicks: null,
    redirectStatus: 302,
    password: null,
    deletedAt: null,
  };
}

const found = (doc: LinkDoc): ReadResult => ({ found: true, deleted: false, values: [doc], value: doc, context: {} });
type Answer = ReadResult | 'timeout' | 'unavailable' | 'hang';

/** Five members n1..n5; `down` are the ones this node (n1) cannot reach; reads answer what the test says. */
class World {
  t = 10_000;
  readonly down = new Set<string>();
  quorum: (key: string) => Answer = () => ({ found: false });
  everywhere: (key: string) => Answer = () => ({ found: false });
  readonly reads = { quorum: 0, everywhere: 0 };
  readonly sent: unknown[] = [];
  private handler: ((from: string, body: unknown) => void) | undefined;

  readonly node = {
    app: {
      on: (_m: unknown, h: (from: string, body: unknown) => void) => (this.handler = h),
      broadcast: (_m: unknown, body: unknown) => this.sent.push(body),
    },
    localRead: () => undefined,
    members: () => ['n1', 'n2', 'n3', 'n4', 'n5'].map((name) => ({ name, addr: name, status: 'valid' })),
    isUp: (name: string) => !this.down.has(name),
  } as unknown as RingNode;

  private answer(a: Answer): Promise<ReadResult> {
    if (a === 'hang') return new Promise(() => {});
    if (a === 'timeout' || a === 'unavailable')
      return Promise.reject(new RingCallError({ kind: a, message: `${a} (test)` }));
    return Promise.resolve(a);
  }
  readonly ring = {
    get: (key: string) => (this.reads.quorum++, this.answer(this.quorum(key))),
    getEverywhere: (key: string) => (this.reads.everywhere++, this.answer(this.everywhere(key))),
  } as unknown as RingClient;

  readonly sched = new SimScheduler();
  directory(writeQuorum = 2, timers = false) {
    const t = timers ? this.sched.timersFor('n1') : undefined;
    return new LinkDirectory(this.node, this.ring, () => this.t, limits, writeQuorum, t);
  }
  /** A member's invalidation arrives. */
  deliver(body: unknown) {
    this.handler!('n2', body);
  }
  partition() {
    for (const n of ['n3', 'n4', 'n5']) this.down.add(n);
  }
}

describe('LinkDirectory: stale-if-error', () => {
  it('serves a link it served recently when the read times out, until staleIfErrorMs has passed', async () => {
    const w = new World();
    const d = w.directory();
    const doc = linkDoc('abc');
    w.quorum = () => found(doc);
    expect(await d.load('abc')).toEqual(doc);
    w.partition();
    w.quorum = () => 'timeout';
    w.t += limits.freshMs; // no longer fresh
    expect(d.peek('abc')).toBeUndefined();
    expect(await d.load('abc')).toEqual(doc);
    // The read failed a moment ago: the copy is served at once, and retried in the background.
    w.t += limits.refreshAfterMs;
    const before = w.reads.quorum;
    expect(d.peek('abc')).toEqual(doc);
    expect(w.reads.quorum).toBe(before + 1);
    await Promise.resolve();
    // Past the bound: a 503, not a copy older than staleIfErrorMs.
    w.t += limits.staleIfErrorMs;
    await expect(d.load('abc')).rejects.toBeInstanceOf(RingCallError);
  });

  it('serves the cached link when the read is slow (staleIfSlowMs), and the read still refreshes the cache', async () => {
    const w = new World();
    const d = w.directory(2, true);
    w.quorum = () => found(linkDoc('abc'));
    await d.load('abc');
    w.t += limits.freshMs;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    w.ring.get = () => gate.then(() => found(linkDoc('abc', 'https://example.com/v2', 2)));
    const answer = d.load('abc');
    w.sched.runUntil(limits.staleIfSlowMs);
    expect((await answer)?.url).toBe('https://example.com/abc');
    release();
    await gate;
    await new Promise((r) => setImmediate(r));
    expect(d.peek('abc')?.url).toBe('https://example.com/v2');
    // A link never served here waits for its read: nothing stale to serve.
    w.quorum = () => 'hang';
    w.ring.get = (key: string) => (w.quorum(key) === 'hang' ? new Promise(() => {}) : Promise.reject(new Error()));
    let settled = false;
    void d.load('never').then(() => (settled = true));
    w.sched.runUntil(10 * limits.staleIfSlowMs);
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
  });

  it('serves the cached link when fallbacks alone answer "not found" during a partition', async () => {
    const w = new World();
    const d = w.directory();
    const doc = linkDoc('abc');
    w.quorum = () => found(doc);
    await d.load('abc');
    w.partition();
    w.quorum = () => ({ found: false });
    w.t += limits.freshMs;
    expect(await d.load('abc')).toEqual(doc);
    expect(w.reads.everywhere).toBe(0);
    expect(d.absenceIsAuthoritative('abc')).toBe(false);
  });

  it('never serves a cached "no such link" stale: a 404 then becomes "unavailable"', async () => {
    const w = new World();
    const d = w.directory();
    expect(await d.load('nope')).toBeNull(); // every member up: confirmed by asking them all
    expect(w.reads.everywhere).toBe(1);
    expect(d.peek('nope')).toBeNull();
    w.partition();
    w.quorum = () => 'timeout';
    w.t += limits.freshMs;
    expect(d.peek('nope')).toBeUndefined();
    await expect(d.load('nope')).rejects.toBeInstanceOf(RingCallError);
    w.quorum = () => ({ found: false });
    await expect(d.load('nope')).rejects.toBeInstanceOf(RingCallError);
  });

  it('asks every member when the replicas find nothing: a fallback still holding the link after a heal answers', async () => {
    const w = new World();
    const d = w.directory();
    const doc = linkDoc('new');
    w.quorum = () => ({ found: false }); // the primaries, before hinted handoff
    w.everywhere = () => found(doc); // a fallback holds it
    expect(await d.load('new')).toEqual(doc);
    expect(d.peek('new')).toEqual(doc);
  });
});

describe('LinkDirectory: authoritative absence', () => {
  it('trusts "not found" only with fewer than W members down', () => {
    const w = new World();
    const d2 = w.directory(2);
    const d1 = w.directory(1);
    expect(d2.absenceIsAuthoritative('x')).toBe(true);
    w.down.add('n4');
    expect(d2.absenceIsAuthoritative('x')).toBe(true);
    expect(d1.absenceIsAuthoritative('x')).toBe(false);
    w.down.add('n5');
    expect(d2.absenceIsAuthoritative('x')).toBe(false);
  });

  it('does not cache "not found" when a member went down during the read', async () => {
    const w = new World();
    const d = w.directory();
    w.everywhere = () => {
      w.partition();
      return { found: false };
    };
    await expect(d.load('x')).rejects.toBeInstanceOf(RingCallError);
    expect(d.peek('x')).toBeUndefined();
  });
});

describe('LinkDirectory: invalidations', () => {
  it('a write broadcasts the slug and its version, never the document', () => {
    const w = new World();
    const d = w.directory();
    d.published('abc', linkDoc('abc', 'https://example.com/v2', 7));
    expect(w.sent).toEqual([{ slug: 'abc', v: 7 }]);
    expect(d.peek('abc')?.url).toBe('https://example.com/v2');
  });

  it('caches nothing on an invalidation, and drops only a copy older than it', async () => {
    const w = new World();
    const d = w.directory();
    w.deliver({ slug: 'other', v: 5 });
    expect(d.cachedCount()).toBe(0);
    w.quorum = () => found(linkDoc('abc', 'https://example.com/v1', 5));
    await d.load('abc');
    w.deliver({ slug: 'abc', v: 5 }); // what this node already has
    expect(d.peek('abc')?.url).toBe('https://example.com/v1');
    w.deliver({ slug: 'abc', v: 6 });
    expect(d.peek('abc')).toBeUndefined();
    // An earlier version's message (the whole document) still invalidates.
    await d.load('abc');
    w.deliver({ slug: 'abc', doc: linkDoc('abc', 'https://example.com/v9', 9) });
    expect(d.peek('abc')).toBeUndefined();
    expect(d.cachedCount()).toBe(0);
  });

  it('a read in flight when the invalidation arrives answers its caller but does not fill the cache', async () => {
    const w = new World();
    const d = w.directory();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    w.ring.get = () => gate.then(() => found(linkDoc('abc', 'https://example.com/old', 1)));
    const reading = d.load('abc');
    w.deliver({ slug: 'abc', v: 2 });
    release();
    expect((await reading)?.url).toBe('https://example.com/old');
    expect(d.peek('abc')).toBeUndefined();
  });
});

describe('the redirect path during a partition', () => {
  class Res {
    statusCode = 0;
    location: string | undefined;
    headersSent = false;
    setHeader() {
      return this;
    }
    writeHead(status: number, headers?: unknown) {
      this.statusCode = status;
      this.headersSent = true;
      if (Array.isArray(headers)) this.location = headers[headers.indexOf('location') + 1] as string;
      return this;
    }
    end() {
      return this;
    }
  }
  async function get(redirector: ReturnType<typeof createRedirector>, slug: string) {
    const res = new Res();
    const req = { method: 'GET', socket: { remoteAddress: '10.0.0.1' }, headers: {} } as unknown as IncomingMessage;
    await redirector.handle(req, res as unknown as ServerResponse, slug, {
      host: 'sho.rt',
      userAgent: 'curl/8',
      referer: undefined,
      forwardedFor: undefined,
    });
    return res;
  }

  it('answers 302 from the cached copy, and 503 (never 404) for a link it never served', async () => {
    const w = new World();
    const directory = w.directory();
    const redirector = createRedirector({
      directory,
      recorder: { record: () => {} } as unknown as ViewRecorder,
      budget: { trySpendLocal: () => true } as unknown as ClickBudget,
      limits: {} as RateLimits,
      now: () => w.t,
      trustProxy: false,
    });
    w.quorum = () => found(linkDoc('abc'));
    expect((await get(redirector, 'abc')).statusCode).toBe(302);
    w.partition();
    w.quorum = () => ({ found: false });
    for (let i = 0; i < 5; i++) {
      w.t += 600;
      const res = await get(redirector, 'abc');
      expect(res.statusCode).toBe(302);
      expect(res.location).toBe('https://example.com/abc');
    }
    expect((await get(redirector, 'elsewhere')).statusCode).toBe(503);
    w.quorum = () => 'unavailable';
    expect((await get(redirector, 'elsewhere')).statusCode).toBe(503);
    // Healed: the link created on the other side is found by asking every member.
    w.down.clear();
    w.everywhere = (key) => (key === 'link/elsewhere' ? found(linkDoc('elsewhere')) : { found: false });
    w.quorum = () => ({ found: false });
    expect((await get(redirector, 'elsewhere')).statusCode).toBe(302);
    expect((await get(redirector, 'really-nothing')).statusCode).toBe(404);
  });
});
