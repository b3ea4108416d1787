// The session cookie's sliding expiry (server/auth/sessions.ts), over a real 3-node cluster
// whose wall clocks move under libfaketime (as the chaos suite's clock-jump scenario does:
// LD_PRELOAD plus a FAKETIME_TIMESTAMP_FILE per node holding an offset, re-read on every
// clock read; monotonic time stays real, so timers, heartbeats and caches are unaffected).
//
// Sessions live 30 days; a session in use whose remaining life is under 29 days is stored
// again with expiresAt = now + 30 days and its cookie re-sent (at most once a day). So a
// session used on day 20 is still valid on day 40, while one left alone since day 0 is not.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import {
  ensureBuilt,
  FAKETIME_LIB,
  faketimeAvailable,
  faketimeEnv,
  type Harness,
  type RingProcess,
  waitFor,
  waitReady,
  waitSettled,
  writeClock,
} from '../../testkit';
import { useHarness } from '../../testkit/vitest';

const DAY_MS = 24 * 3600_000;
const TTL_S = 30 * 24 * 3600;

let h: Harness;
useHarness((x) => (h = x));

interface Answer {
  status: number;
  body: any;
  /** Every Set-Cookie header of the answer. */
  setCookies: string[];
  /** The node's wall clock (its Date header), ms since the epoch. */
  date: number;
}

/** One request as a browser holding `cookie` (rl_sid=...) would send it; writes carry the node's Origin. */
async function call(
  node: RingProcess,
  method: 'GET' | 'POST',
  path: string,
  cookie?: string,
  body?: unknown,
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (cookie) headers.cookie = cookie;
  if (method === 'POST') headers.origin = node.url;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(node.url + path, {
    method,
    headers,
    redirect: 'manual',
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  const parsed = (res.headers.get('content-type') ?? '').includes('json') && text ? JSON.parse(text) : text;
  return {
    status: res.status,
    body: parsed,
    setCookies: res.headers.getSetCookie(),
    date: Date.parse(res.headers.get('date') ?? ''),
  };
}

/** The rl_sid cookie an answer sets (`rl_sid=<id>`), checked for its attributes; undefined when it sets none. */
function sessionCookieOf(a: Answer): string | undefined {
  const sids = a.setCookies.filter((c) => c.startsWith('rl_sid='));
  expect(sids.length, `at most one rl_sid cookie per answer: ${JSON.stringify(a.setCookies)}`).toBeLessThanOrEqual(1);
  const c = sids[0];
  if (!c) return undefined;
  const [pair, ...attrs] = c.split(';').map((s) => s.trim());
  expect(pair).toMatch(/^rl_sid=[A-Za-z0-9_-]{22}$/);
  const lower = attrs.map((s) => s.toLowerCase());
  expect(lower).toContain('httponly');
  expect(lower).toContain('samesite=lax');
  expect(lower).toContain('path=/');
  expect(lower).toContain(`max-age=${TTL_S}`);
  expect(lower).not.toContain('secure'); // no https PUBLIC_URL here
  return pair!;
}

function slugsOf(a: Answer): string[] {
  expect(a.status, JSON.stringify(a.body)).toBe(200);
  return (a.body.links as { slug: string }[]).map((l) => l.slug).sort();
}

async function createLink(
  node: RingProcess,
  cookie: string | undefined,
  url: string,
): Promise<{ slug: string; cookie: string | undefined }> {
  const a = await call(node, 'POST', '/api/links', cookie, { url });
  expect(a.status, JSON.stringify(a.body)).toBe(201);
  return { slug: a.body.slug as string, cookie: sessionCookieOf(a) };
}

const reason = faketimeAvailable()
  ? ''
  : ` [skipped: libfaketime is not installed (${FAKETIME_LIB} missing; apt-get install faketime)]`;

it.skipIf(!faketimeAvailable())(
  `a session in use slides past its original 30-day expiry, on every node; an unused one expires${reason}`,
  async () => {
    ensureBuilt();
    // One clock file per node, as the chaos runner has (testkit/faketime.ts writes it atomically).
    const clockDir = h.tempDir('clock');
    const names = ['n1', 'n2', 'n3'];
    const clockFile = (name: string) => join(clockDir, `${name}.faketime`);
    const setClocks = (days: number) => {
      for (const name of names) writeClock(clockFile(name), `+${days * 86_400}`);
    };
    setClocks(0);
    const envOf = (name: string) => ({ RATE_LIMIT_CREATE_PER_MIN: '0', ...faketimeEnv(clockFile(name)) });
    const n1 = await h.startNode({ name: 'n1', env: envOf('n1') });
    const [n2, n3] = await Promise.all([
      h.startNode({ name: 'n2', seeds: [n1], env: envOf('n2') }),
      h.startNode({ name: 'n3', seeds: [n1], env: envOf('n3') }),
    ]);
    const nodes = [n1, n2, n3];
    await Promise.all(nodes.map((n) => waitReady(n, 20_000)));
    await waitSettled(nodes, 20_000);

    /** Move every node's wall clock to `days` after the real time, then wait (bounded) until every node runs on it and the ring is settled. */
    const jumpTo = async (days: number) => {
      setClocks(days);
      for (const n of nodes) {
        await waitFor(
          async () => {
            const a = await call(n, 'GET', '/healthz');
            // The Date header is the node's faked wall clock (Node caches it for up to 1 s).
            return a.status === 200 && Math.abs(a.date - (Date.now() + days * DAY_MS)) < 60_000;
          },
          { timeoutMs: 10_000, intervalMs: 100, what: `${n.name} on day ${days} and healthy` },
        );
      }
      await Promise.all(nodes.map((n) => waitReady(n, 10_000)));
      await waitSettled(nodes, 15_000);
    };

    // Day 0 (sanity): the nodes run on faked time that is, for now, the real time.
    for (const n of nodes) expect(Math.abs((await call(n, 'GET', '/healthz')).date - Date.now())).toBeLessThan(60_000);

    // 1. A new anonymous session: its first write sets the cookie and the session owns the link.
    const a1 = await createLink(n1, undefined, 'https://example.com/sliding/a');
    const cookieA = a1.cookie;
    expect(cookieA, 'the first write sets a session cookie').toBeDefined();
    // The second session, created now and never used again.
    const b1 = await createLink(n3, undefined, 'https://example.com/sliding/b');
    const cookieB = b1.cookie;
    expect(cookieB).toBeDefined();
    expect(cookieB).not.toBe(cookieA);
    for (const n of nodes) {
      const a = await call(n, 'GET', '/api/links', cookieA);
      expect(slugsOf(a), `session A's links via ${n.name} on day 0`).toEqual([a1.slug]);
      expect(sessionCookieOf(a), `a fresh session is not refreshed (via ${n.name})`).toBeUndefined();
    }

    // 2. Day 20: 10 days left (< 29), so the first use refreshes the session and re-sends the cookie...
    await jumpTo(20);
    const refreshed = await call(n2, 'GET', '/api/links', cookieA);
    expect(slugsOf(refreshed), 'session A still owns its link on day 20').toEqual([a1.slug]);
    expect(sessionCookieOf(refreshed), 'day 20: the cookie is re-sent, same id, Max-Age 30 days').toBe(cookieA);
    // ...and a use right after does not (the stored expiry is now 30 days away: at most one refresh a day).
    const again = await call(n2, 'GET', '/api/links', cookieA);
    expect(slugsOf(again)).toEqual([a1.slug]);
    expect(sessionCookieOf(again), 'day 20, shortly after: no second refresh').toBeUndefined();
    // The other nodes serve the same session. They read their own replica, which the refresh
    // (written with W=2) reaches a moment later; should one still have the day-0 copy it would
    // refresh once more, which is harmless but must keep the same id.
    for (const n of [n1, n3]) {
      const a = await call(n, 'GET', '/api/links', cookieA);
      expect(slugsOf(a), `session A's links via ${n.name} on day 20`).toEqual([a1.slug]);
      const c = sessionCookieOf(a);
      if (c !== undefined) expect(c, `a refresh via ${n.name} keeps the id`).toBe(cookieA);
    }

    // 3 and 5. Day 40: the original expiry (day 30) has passed, the refreshed one (day 50) has
    // not. Ask the nodes that did not refresh first: each only knows the refresh through the
    // ring, and would answer "no session" (an empty list, no cookie) with the day-0 expiry.
    await jumpTo(40);
    const day40 = await call(n3, 'GET', '/api/links', cookieA);
    expect(slugsOf(day40), 'day 40 via n3: the session slid past day 30 and still owns its link').toEqual([a1.slug]);
    expect(sessionCookieOf(day40), 'day 40: 10 days left again, so refreshed again, same id').toBe(cookieA);
    for (const n of [n1, n2]) {
      const a = await call(n, 'GET', '/api/links', cookieA);
      expect(slugsOf(a), `day 40 via ${n.name}: session A still owns its link`).toEqual([a1.slug]);
      const c = sessionCookieOf(a);
      if (c !== undefined) expect(c).toBe(cookieA);
    }
    const session = await call(n1, 'GET', '/api/session', cookieA);
    expect(session.status).toBe(200);
    expect(session.body).toEqual({ user: null }); // anonymous, but a session (its links are listed above)

    // 4. Day 40: session B, never used since day 0, expired on day 30 on every node. A read
    // finds no session (and creates none); the next write gets a fresh session, which does
    // not own B's link.
    for (const n of nodes) {
      const a = await call(n, 'GET', '/api/links', cookieB);
      expect(slugsOf(a), `day 40 via ${n.name}: expired session B lists nothing`).toEqual([]);
      expect(sessionCookieOf(a), `day 40 via ${n.name}: a read with an expired cookie sets none`).toBeUndefined();
    }
    const c1 = await createLink(n1, cookieB, 'https://example.com/sliding/c');
    const cookieC = c1.cookie;
    expect(cookieC, 'a write with an expired cookie gets a new session cookie').toBeDefined();
    expect(cookieC).not.toBe(cookieB);
    expect(cookieC).not.toBe(cookieA);
    for (const n of nodes) {
      const a = await call(n, 'GET', '/api/links', cookieC);
      expect(slugsOf(a), `day 40 via ${n.name}: the new session owns only its own link`).toEqual([c1.slug]);
    }
    // B's link itself was not lost, only its (expired) owner: it still redirects.
    const visit = await call(n2, 'GET', `/${b1.slug}`);
    expect(visit.status).toBe(302);
    // And session A is untouched by all this.
    expect(slugsOf(await call(n2, 'GET', '/api/links', cookieA))).toEqual([a1.slug]);
  },
  45_000,
);
