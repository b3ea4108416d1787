// The link shortener over real node processes (4 nodes, N=3, so for any key one node is not
// a replica and serves from its cache). Every claim of docs/api.md that users rely on:
// redirects from any node, exact counting with bots and HEAD apart, edits and deletes
// visible everywhere within 1 s, slugs and usernames granted once, max clicks exact and
// never exceeded, sessions and accounts on any node, API keys, passwords, expiry, input
// errors as 4xx, rate limits, and creates under a partition.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  admin,
  ADMIN_TOKEN,
  ApiClient,
  ensureBuilt,
  Harness,
  pool,
  type RingProcess,
  sleep,
  visit,
  waitFor,
  waitReady,
  waitSettled,
} from '../../testkit';
import { rawRequest } from './rawHttp';

let h: Harness;
let nodes: RingProcess[];

beforeAll(async () => {
  ensureBuilt();
  h = new Harness();
  const env = { RATE_LIMIT_CREATE_PER_MIN: '0', SERVE_UI: '0' };
  nodes = await h.startCluster(['n1', 'n2', 'n3', 'n4'], { env, settleTimeoutMs: 30_000 });
}, 180_000);

afterAll(async () => {
  await h?.cleanup();
}, 30_000);

const bot = 'Mozilla/5.0 (compatible; Twitterbot/1.0)';

async function statsOf(c: ApiClient, slug: string) {
  const r = await c.get(`/api/links/${slug}/stats`);
  expect(r.status).toBe(200);
  return r.body as {
    total: number;
    bots: number;
    uniques: number;
    series: { n: number }[];
    referrers: { host: string; n: number }[];
    devices: { device: string; n: number }[];
    nodes: { name: string; role: string; up: boolean }[];
    partition: number;
  };
}

describe('redirects and counting', () => {
  it('a link created through one node redirects from every node, and every view counts exactly once wherever it lands (bots and HEAD apart)', async () => {
    const owner = new ApiClient(nodes[0]!);
    const created = await owner.post('/api/links', { url: 'https://example.com/landing?x=1' });
    expect(created.status).toBe(201);
    const { slug, shortUrl } = created.body;
    expect(slug).toMatch(/^[A-Za-z0-9]{7}$/);
    expect(shortUrl).toBe(`${nodes[0]!.url}/${slug}`);
    // A create answers without reading counters: nothing was counted yet.
    expect(created.body).toMatchObject({ total: 0, bots: 0, status: 'active', url: 'https://example.com/landing?x=1' });

    const st = await statsOf(owner, slug);
    const primaries = st.nodes.filter((n) => n.role === 'primary').map((n) => n.name);
    expect(primaries).toHaveLength(3);
    expect(nodes.some((n) => !primaries.includes(n.name))).toBe(true);

    const perNode = 10;
    await pool(nodes, 4, async (n) => {
      for (let i = 0; i < perNode; i++) {
        const r = await visit(n, slug, { referer: i % 2 ? 'https://news.example.org/post' : undefined });
        expect(r.status).toBe(302);
        expect(r.location).toBe('https://example.com/landing?x=1');
        expect(r.headers.get('cache-control')).toBe('no-store');
        expect(r.headers.get('x-robots-tag')).toBe('noindex');
      }
    });
    for (const n of nodes) expect((await visit(n, slug, { method: 'HEAD' })).status).toBe(302);
    for (let i = 0; i < 3; i++) expect((await visit(nodes[i]!, slug, { ua: bot })).status).toBe(302);

    const want = nodes.length * perNode;
    for (const n of nodes) {
      const s = await waitFor(
        async () => {
          const s = await statsOf(owner.via(n), slug);
          return s.total === want && s.bots === 3 && s.series.reduce((a, p) => a + p.n, 0) === want ? s : null;
        },
        { timeoutMs: 5_000, intervalMs: 100, what: `exact totals through ${n.name}` },
      );
      expect(s.series.reduce((a, p) => a + p.n, 0)).toBe(want);
      expect(s.referrers.find((r) => r.host === 'news.example.org')?.n).toBe(want / 2);
      expect(s.devices.find((d) => d.device === 'desktop')?.n).toBe(want);
      expect(s.uniques).toBe(1);
    }
  });

  it('unknown slugs answer a 404 page, reserved paths are not slugs', async () => {
    const r = await visit(nodes[1]!, 'nosuchslug1');
    expect(r.status).toBe(404);
    expect(r.text).toContain('does not exist');
    expect((await visit(nodes[1]!, 'api')).status).toBe(404);
  });

  it('an edit and then a delete change the redirect on every node within 1 s', async () => {
    const owner = new ApiClient(nodes[0]!);
    const { slug } = (await owner.post('/api/links', { url: 'https://example.com/v1' })).body;
    for (const n of nodes) expect((await visit(n, slug)).location).toBe('https://example.com/v1');

    const t0 = performance.now();
    expect((await owner.via(nodes[1]!).patch(`/api/links/${slug}`, { url: 'https://example.com/v2' })).status).toBe(
      200,
    );
    const tEdit = performance.now();
    await Promise.all(
      nodes.map((n) =>
        waitFor(async () => (await visit(n, slug)).location === 'https://example.com/v2', {
          timeoutMs: 3_000,
          intervalMs: 20,
          what: `edit on ${n.name}`,
        }),
      ),
    );
    const editVisibleMs = performance.now() - tEdit;

    const tDel = performance.now();
    expect((await owner.via(nodes[2]!).del(`/api/links/${slug}`)).status).toBe(204);
    await Promise.all(
      nodes.map((n) =>
        waitFor(async () => (await visit(n, slug)).status === 410, {
          timeoutMs: 3_000,
          intervalMs: 20,
          what: `delete on ${n.name}`,
        }),
      ),
    );
    const deleteVisibleMs = performance.now() - tDel;
    console.log(
      `edit visible on every node ${Math.round(editVisibleMs)} ms after the PATCH answered; delete ${Math.round(deleteVisibleMs)} ms (incl. the DELETE itself); whole edit ${Math.round(tEdit - t0)} ms`,
    );
    expect(editVisibleMs).toBeLessThan(1_000);
    expect(deleteVisibleMs).toBeLessThan(1_000);
    expect((await visit(nodes[3]!, slug)).text).toContain('deleted');
    // The slug is never reissued.
    expect((await new ApiClient(nodes[3]!).post('/api/links', { url: 'https://example.com/x', slug })).status).toBe(
      409,
    );
  });
});

describe('uniqueness through CAS', () => {
  it('a custom slug asked for on every node at once is granted exactly once', async () => {
    for (let round = 0; round < 3; round++) {
      const slug = `race-${round}-${Date.now().toString(36)}`;
      const replies = await Promise.all(
        nodes.map((n, i) => new ApiClient(n).post('/api/links', { url: `https://example.com/${i}`, slug })),
      );
      const statuses = replies.map((r) => r.status).sort();
      expect(statuses).toEqual([201, 409, 409, 409]);
      const winner = replies.find((r) => r.status === 201)!.body.url;
      for (const n of nodes) expect((await visit(n, slug)).location).toBe(winner);
      expect(replies.find((r) => r.status === 409)!.body).toMatchObject({ field: 'slug', code: 'slug_taken' });
    }
  });

  it('a username asked for on every node at once is granted exactly once', async () => {
    const username = `user${Date.now().toString(36)}`;
    const replies = await Promise.all(
      nodes.map((n) => new ApiClient(n).post('/api/auth/signup', { username, password: 'long enough pw' })),
    );
    expect(replies.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
  });
});

describe('max clicks', () => {
  it('is never exceeded, and reached exactly, with visits spread over every node at once', async () => {
    const owner = new ApiClient(nodes[0]!);
    const max = 25;
    const { slug } = (await owner.post('/api/links', { url: 'https://example.com/limited', maxClicks: max })).body;
    let served = 0;
    let gone = 0;
    await pool(
      Array.from({ length: 80 }, (_, i) => nodes[i % nodes.length]!),
      16,
      async (n) => {
        const r = await visit(n, slug);
        if (r.status === 302) served++;
        else if (r.status === 410) gone++;
        else throw new Error(`unexpected ${r.status}`);
      },
    );
    expect(served).toBeLessThanOrEqual(max);
    // Clicks a node leased but did not spend go back after 2 s idle; then they are served too.
    const deadline = performance.now() + 10_000;
    while (served < max && performance.now() < deadline) {
      await sleep(500);
      for (const n of nodes) if ((await visit(n, slug)).status === 302) served++;
    }
    console.log(`max clicks ${max}: served ${served}, refused ${gone} in the burst`);
    expect(served).toBe(max);
    for (const n of nodes) expect((await visit(n, slug)).status).toBe(410);
    const s = await waitFor(async () => ((await statsOf(owner, slug)).total === max ? true : null), {
      timeoutMs: 5_000,
      intervalMs: 100,
      what: 'count',
    });
    expect(s).toBe(true);
    expect((await owner.get(`/api/links/${slug}`)).body.status).toBe('used_up');
  });
});

describe('sessions, accounts and API keys', () => {
  it('an anonymous session works on every node, and sign-up moves its links to the account', async () => {
    const browser = new ApiClient(nodes[0]!);
    const a = (await browser.post('/api/links', { url: 'https://example.com/anon-1' })).body.slug;
    const b = (await browser.via(nodes[1]!).post('/api/links', { url: 'https://example.com/anon-2' })).body.slug;
    const listed = (await browser.via(nodes[3]!).get('/api/links')).body.links.map((l: { slug: string }) => l.slug);
    expect(listed.sort()).toEqual([a, b].sort());

    const username = `mover${Date.now().toString(36)}`;
    const signup = await browser.via(nodes[2]!).post('/api/auth/signup', { username, password: 'a good password' });
    expect(signup.status).toBe(201);
    expect(signup.body).toMatchObject({ user: { username }, migrated: 2 });
    expect((await browser.via(nodes[3]!).get('/api/session')).body.user.username).toBe(username);

    const out = browser.via(nodes[1]!);
    expect((await out.post('/api/auth/signout')).status).toBe(204);
    expect((await out.get('/api/session')).body.user).toBeNull();
    expect((await out.get('/api/links')).body.links).toEqual([]);

    const back = new ApiClient(nodes[3]!);
    expect((await back.post('/api/auth/signin', { username, password: 'wrong password' })).status).toBe(401);
    const signin = await back.post('/api/auth/signin', {
      username: username.toUpperCase(),
      password: 'a good password',
    });
    expect(signin.status).toBe(200);
    expect(
      (await back.via(nodes[0]!).get('/api/links')).body.links.map((l: { slug: string }) => l.slug).sort(),
    ).toEqual([a, b].sort());

    // Someone else sees none of it.
    const stranger = new ApiClient(nodes[0]!);
    await stranger.post('/api/links', { url: 'https://example.com/mine' });
    for (const r of [
      await stranger.get(`/api/links/${a}`),
      await stranger.patch(`/api/links/${a}`, { url: 'https://evil.example/' }),
      await stranger.get(`/api/links/${a}/stats`),
      await stranger.del(`/api/links/${a}`),
    ])
      expect(r.status).toBe(404);
    expect((await visit(nodes[2]!, a)).location).toBe('https://example.com/anon-1');
  });

  it('API keys are shown once, authenticate on any node, and stop working everywhere when revoked', async () => {
    const browser = new ApiClient(nodes[1]!);
    expect((await browser.get('/api/keys')).status).toBe(401);
    await browser.post('/api/auth/signup', { username: `keys${Date.now().toString(36)}`, password: 'a good password' });
    const created = await browser.post('/api/keys', { name: 'ci' });
    expect(created.status).toBe(201);
    const key: string = created.body.key;
    expect(key).toMatch(/^rl_/);
    const listed = (await browser.get('/api/keys')).body.keys;
    expect(listed).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(key);

    const script = new ApiClient(nodes[2]!, key);
    const link = await script.call(
      'POST',
      '/api/links',
      { url: 'https://example.com/from-a-script' },
      { origin: 'https://elsewhere.example' },
    );
    expect(link.status).toBe(201);
    expect((await browser.via(nodes[3]!).get('/api/links')).body.links.map((l: { slug: string }) => l.slug)).toContain(
      link.body.slug,
    );

    expect((await browser.del(`/api/keys/${created.body.id}`)).status).toBe(204);
    await Promise.all(
      nodes.map((n) =>
        waitFor(async () => (await new ApiClient(n, key).get('/api/links')).status === 401, {
          timeoutMs: 1_000,
          intervalMs: 50,
          what: `revoked on ${n.name}`,
        }),
      ),
    );
  });
});

describe('my links: pages by cursor', () => {
  it('GET /api/links pages newest first by cursor from every node, with the exact total, q searching on the server, and 400s for a bad limit, cursor or sort', async () => {
    const owner = new ApiClient(nodes[0]!);
    const made: string[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await owner.via(nodes[i % 4]!).post('/api/links', {
        url: `https://example.com/${i % 3 === 0 ? 'needle' : 'hay'}/${i}`,
      });
      expect(r.status).toBe(201);
      made.push(r.body.slug);
    }
    const newestFirst = [...made].reverse();
    for (const n of nodes) {
      const c = owner.via(n);
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 10; page++) {
        const r: { status: number; body: { total: number; links: { slug: string }[]; nextCursor: string | null } } =
          await c.get(`/api/links?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(r.status).toBe(200);
        expect(r.body.total, `total via ${n.name}`).toBe(7);
        expect(r.body.links.length).toBeLessThanOrEqual(3);
        seen.push(...r.body.links.map((l: { slug: string }) => l.slug));
        cursor = r.body.nextCursor;
        if (cursor === null) break;
      }
      expect(seen, `pages via ${n.name}`).toEqual(newestFirst);
      // The default page holds all 7 (50 per page), and says there is no next page.
      const all = await c.get('/api/links');
      expect({ slugs: all.body.links.map((l: { slug: string }) => l.slug), next: all.body.nextCursor }).toEqual({
        slugs: newestFirst,
        next: null,
      });
    }

    // q: slug or target, case-insensitively, with its own exact total.
    const needles = newestFirst.filter((_, i) => (6 - i) % 3 === 0);
    const found = await owner.via(nodes[2]!).get('/api/links?q=NEEDLE&limit=2');
    expect(found.body.total).toBe(needles.length);
    expect(found.body.links.map((l: { slug: string }) => l.slug)).toEqual(needles.slice(0, 2));
    const rest = await owner.via(nodes[1]!).get(`/api/links?q=needle&limit=2&cursor=${found.body.nextCursor}`);
    expect(rest.body.links.map((l: { slug: string }) => l.slug)).toEqual(needles.slice(2));
    const bySlug = await owner.get(`/api/links?q=${made[4]!.toUpperCase()}`);
    expect(bySlug.body.links.map((l: { slug: string }) => l.slug)).toContain(made[4]);

    // A deleted link leaves the list and the total, on every node.
    expect((await owner.call('DELETE', `/api/links/${made[6]}`)).status).toBe(204);
    for (const n of nodes) {
      const r = await owner.via(n).get('/api/links?limit=50');
      expect({ total: r.body.total, slugs: r.body.links.map((l: { slug: string }) => l.slug) }).toEqual({
        total: 6,
        slugs: newestFirst.slice(1),
      });
    }

    // Bad input: 400 with a code naming what is wrong.
    for (const [query, code] of [
      ['limit=0', 'invalid_limit'],
      ['limit=201', 'invalid_limit'],
      ['limit=2.5', 'invalid_limit'],
      ['limit=ten', 'invalid_limit'],
      ['cursor=nope', 'invalid_cursor'],
      [`cursor=${Buffer.from('[1,"a b"]').toString('base64url')}`, 'invalid_cursor'],
      ['sort=total', 'invalid_sort'],
      ['sort=slug', 'invalid_sort'],
      ['order=asc', 'invalid_order'],
      [`q=${'x'.repeat(201)}`, 'invalid_q'],
    ] as const) {
      const r = await owner.get(`/api/links?${query}`);
      expect({ query, status: r.status, code: r.body?.code }).toEqual({ query, status: 400, code });
    }
  });
});

describe('passwords and expiry', () => {
  it('a password-protected link shows a form, never the target, and limits guesses', async () => {
    const owner = new ApiClient(nodes[0]!);
    const { slug, hasPassword } = (
      await owner.post('/api/links', { url: 'https://secret.example.com/plans', password: 'open sesame' })
    ).body;
    expect(hasPassword).toBe(true);
    expect(JSON.stringify((await owner.get(`/api/links/${slug}`)).body)).not.toContain('sesame');
    for (const n of nodes) {
      const page = await visit(n, slug);
      expect(page.status).toBe(200);
      expect(page.text).toContain('<form');
      expect(page.text).not.toContain('secret.example.com');
      expect((await visit(n, slug, { method: 'HEAD' })).location).toBeNull();
    }
    const post = (n: RingProcess, pw: string) =>
      fetch(`${n.url}/${slug}`, {
        method: 'POST',
        redirect: 'manual',
        body: new URLSearchParams({ password: pw }),
        signal: AbortSignal.timeout(10_000),
      });
    const wrong = await post(nodes[1]!, 'guess');
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain('secret.example.com');
    const right = await post(nodes[2]!, 'open sesame');
    expect(right.status).toBe(303);
    expect(right.headers.get('location')).toBe('https://secret.example.com/plans');
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await post(nodes[1]!, `guess${i}`)).status);
    expect(statuses).toContain(429);
    const limited = await post(nodes[1]!, 'open sesame');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('an expired link answers 410 on every node', async () => {
    const owner = new ApiClient(nodes[0]!);
    const { slug } = (
      await owner.post('/api/links', {
        url: 'https://example.com/soon',
        expiresAt: new Date(Date.now() + 1_500).toISOString(),
      })
    ).body;
    expect((await visit(nodes[1]!, slug)).status).toBe(302);
    await sleep(1_700);
    for (const n of nodes) {
      const r = await visit(n, slug);
      expect(r.status).toBe(410);
      expect(r.text).toContain('expired');
    }
    expect((await owner.get(`/api/links/${slug}`)).body.status).toBe('expired');
  });
});

describe('bad input', () => {
  it('every bad request gets a 4xx problem a person can act on, never a 5xx', async () => {
    const c = new ApiClient(nodes[0]!);
    const cases: Array<[string, () => Promise<{ status: number; body: any }>, number, string?]> = [
      ['missing url', () => c.post('/api/links', {}), 422, 'url'],
      ['javascript:', () => c.post('/api/links', { url: 'javascript:alert(1)' }), 422, 'url'],
      ['private address', () => c.post('/api/links', { url: 'http://192.168.1.1/admin' }), 422, 'url'],
      ['loop to itself', () => c.post('/api/links', { url: `${nodes[2]!.url}/abc` }), 422, 'url'],
      ['relative', () => c.post('/api/links', { url: 'example.com/page' }), 422, 'url'],
      ['too long', () => c.post('/api/links', { url: `https://example.com/${'a'.repeat(2100)}` }), 422, 'url'],
      ['reserved slug', () => c.post('/api/links', { url: 'https://example.com', slug: 'Links' }), 422, 'slug'],
      ['short slug', () => c.post('/api/links', { url: 'https://example.com', slug: 'ab' }), 422, 'slug'],
      ['slug charset', () => c.post('/api/links', { url: 'https://example.com', slug: 'a b/c' }), 422, 'slug'],
      [
        'past expiry',
        () => c.post('/api/links', { url: 'https://example.com', expiresAt: '2001-01-01T00:00:00Z' }),
        422,
        'expiresAt',
      ],
      ['bad date', () => c.post('/api/links', { url: 'https://example.com', expiresAt: 'tomorrow' }), 422, 'expiresAt'],
      ['zero max clicks', () => c.post('/api/links', { url: 'https://example.com', maxClicks: 0 }), 422, 'maxClicks'],
      [
        'redirect 303',
        () => c.post('/api/links', { url: 'https://example.com', redirectStatus: 303 }),
        422,
        'redirectStatus',
      ],
      ['unknown field', () => c.post('/api/links', { url: 'https://example.com', admin: true }), 422, 'admin'],
      ['not JSON', () => c.call('POST', '/api/links', '{"url":', { 'content-type': 'application/json' }), 400],
      ['array body', () => c.post('/api/links', [1, 2]), 400],
      [
        'form body',
        () =>
          c.call('POST', '/api/links', 'url=https://example.com', {
            'content-type': 'application/x-www-form-urlencoded',
          }),
        415,
      ],
      ['huge body', () => c.post('/api/links', { url: 'https://example.com', pad: 'x'.repeat(40_000) }), 413],
      [
        'foreign origin',
        () => c.call('POST', '/api/links', { url: 'https://example.com' }, { origin: 'https://evil.example' }),
        403,
      ],
      ['bad bearer', () => new ApiClient(nodes[0]!, 'rl_nope').get('/api/links'), 401],
      [
        'bad username',
        () => c.post('/api/auth/signup', { username: 'x', password: 'long enough pw' }),
        422,
        'username',
      ],
      ['short password', () => c.post('/api/auth/signup', { username: 'someone', password: 'short' }), 422, 'password'],
      ['unknown route', () => c.get('/api/nope'), 404],
      ['wrong method', () => c.call('PUT', '/api/links/abcdef', { url: 'https://example.com' }), 405],
    ];
    for (const [what, run, status, field] of cases) {
      const r = await run();
      expect(r.status, what).toBe(status);
      expect(typeof r.body.detail, what).toBe('string');
      expect(r.body.detail.length, what).toBeGreaterThan(10);
      if (field) expect(r.body.field, what).toBe(field);
    }
  });
});

describe('HTTP details', () => {
  it('read-only routes answer HEAD and refuse other methods with 405; absolute-form targets route by their path; the admin token needs its Bearer prefix', async () => {
    const n = nodes[1]!;
    const port = Number(new URL(n.url).port);
    const host: [string, string] = ['host', `127.0.0.1:${port}`];
    for (const path of ['/api/cluster', '/healthz', '/readyz']) {
      const head = await rawRequest(port, { method: 'HEAD', target: path, headers: [host] });
      expect(head.status, `HEAD ${path}`).toBe(200);
      expect(head.body.length, `HEAD ${path}`).toBe(0);
      const post = await rawRequest(port, {
        method: 'POST',
        target: path,
        headers: [host, ['content-type', 'application/json']],
        body: Buffer.from('{}'),
      });
      expect(post.status, `POST ${path}`).toBe(405);
      expect(post.headers.allow, `POST ${path}`).toBe('GET, HEAD');
      expect(JSON.parse(post.body.toString()).detail, `POST ${path}`).toMatch(/GET or HEAD/);
    }
    // An absolute-form request target is the same request as its origin form.
    const c = new ApiClient(nodes[0]!);
    const created = await c.post('/api/links', { url: 'https://example.com/absolute-form' });
    expect(created.status).toBe(201);
    const abs = await rawRequest(port, {
      method: 'GET',
      target: `http://127.0.0.1:${port}/${created.body.slug}?x=1`,
      headers: [host],
    });
    expect(abs.status).toBe(302);
    expect(abs.headers.location).toBe('https://example.com/absolute-form');
    const absApi = await rawRequest(port, {
      method: 'GET',
      target: `http://127.0.0.1:${port}/api/cluster`,
      headers: [host],
    });
    expect(absApi.status).toBe(200);
    expect(JSON.parse(absApi.body.toString()).node).toBe(n.name);
    // The admin token alone, without "Bearer ", is refused.
    const bare = await rawRequest(port, {
      method: 'GET',
      target: '/api/admin/status',
      headers: [host, ['authorization', ADMIN_TOKEN]],
    });
    expect(bare.status).toBe(401);
    expect(bare.headers['www-authenticate']).toBe('Bearer');
    expect((await admin(n, 'GET', 'status')).status).toBe(200);
  });
});

describe('rate limits', () => {
  it('creates beyond RATE_LIMIT_CREATE_PER_MIN get 429 with Retry-After', async () => {
    const solo = await h.startNode({
      name: 'solo',
      env: { RATE_LIMIT_CREATE_PER_MIN: '3', SERVE_UI: '0', N_VAL: '1', R: '1', W: '1' },
    });
    await waitReady(solo);
    const c = new ApiClient(solo);
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await c.post('/api/links', { url: `https://example.com/${i}` })).status);
    expect(statuses).toEqual([201, 201, 201, 429, 429]);
    const r = await c.post('/api/links', { url: 'https://example.com/again' });
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(r.body.code).toBe('rate_limited');
  });
});

describe('under a partition', () => {
  it('creates go on where a majority of replicas is reachable, and a slug is still granted once', async () => {
    const [n1, n2, n3, n4] = nodes as [RingProcess, RingProcess, RingProcess, RingProcess];
    const block = async (n: RingProcess, names: string[]) =>
      expect((await admin(n, 'POST', 'faults', { block: names })).status).toBe(200);
    await block(n4, ['n1', 'n2', 'n3']);
    await Promise.all([n1, n2, n3].map((n) => block(n, ['n4'])));
    try {
      // Wait until both sides see the other as down.
      await sleep(2_500);
      const majority = new ApiClient(n1);
      const created = [];
      for (let i = 0; i < 5; i++)
        created.push(await majority.via(nodes[i % 3]!).post('/api/links', { url: `https://example.com/p${i}` }));
      expect(created.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);

      const slug = `split-${Date.now().toString(36)}`;
      const [left, right] = await Promise.all([
        new ApiClient(n2).post('/api/links', { url: 'https://example.com/left', slug }),
        new ApiClient(n4).post('/api/links', { url: 'https://example.com/right', slug }),
      ]);
      expect(left.status).toBe(201);
      expect(right.status).toBe(503);
      expect(right.body.detail).toMatch(/try again/i);
      for (const r of created) expect((await visit(n3, r.body.slug)).status).toBe(302);

      // The isolated node reaches none of these links' or this session's primary majorities:
      // "not found" there is not an answer. A visit says try again (503, not 404), and the
      // browser's session is kept rather than replaced by a new one that owns nothing.
      for (const r of created) {
        const v = await visit(n4, r.body.slug);
        expect(v.status).toBe(503);
        expect(v.headers.get('retry-after')).toBe('1');
      }
      const cookieBefore = majority.sessionCookie;
      const isolated = await majority.via(n4).post('/api/links', { url: 'https://example.com/isolated' });
      expect(isolated.status).toBe(503);
      expect(isolated.headers.getSetCookie()).toEqual([]);
      expect(majority.sessionCookie).toBe(cookieBefore);
    } finally {
      await Promise.all(nodes.map((n) => block(n, [])));
    }
    await waitFor(
      async () =>
        (await visit(n4, (await new ApiClient(n1).post('/api/links', { url: 'https://example.com/healed' })).body.slug))
          .status === 302,
      { timeoutMs: 10_000, intervalMs: 200, what: 'healed' },
    );
  });
});

describe('cluster-wide figures', () => {
  it('a coverage query counts every link and view once, and stays exact while a node is down', async () => {
    const adminAuth = { authorization: 'Bearer ringlink-cluster-test-admin-token' };
    const summary = async (n: RingProcess) =>
      (await fetch(`${n.url}/api/cluster/summary`, { headers: adminAuth })).json() as Promise<{
        links: number;
        views: number;
        bots: number;
        top: { slug: string; total: number }[];
        partial: boolean;
      }>;
    // Start from a settled ring (every member alive in every view, nothing moving): right after
    // the partition test, views could still ship to fallbacks that hold them as hints.
    await waitSettled(nodes, 30_000);
    const owner = new ApiClient(nodes[0]!);
    // This test makes what it counts (it runs alone with -t, or in any order).
    const others = 11;
    for (let i = 0; i < others; i++)
      expect((await owner.post('/api/links', { url: `https://example.com/summary/${i}` })).status).toBe(201);
    const { slug } = (await owner.post('/api/links', { url: 'https://example.com/popular' })).body;
    const statuses: string[] = [];
    for (let i = 0; i < 60; i++) statuses.push(`${nodes[i % 4]!.name}:${(await visit(nodes[i % 4]!, slug)).status}`);
    expect(statuses.filter((x) => !x.endsWith(':302'))).toEqual([]);
    await waitFor(async () => (await summary(nodes[0]!)).top[0]?.slug === slug, {
      timeoutMs: 5_000,
      intervalMs: 100,
      what: 'the popular link on top',
    });
    // Coverage reads one replica per partition: wait until every node's answer agrees
    // (hinted handoff after the earlier partition), then take a node away.
    const before = await waitFor(
      async () => {
        // Views ship from each node's memory every 100 ms: agreement alone could be on a total not yet complete.
        const all = await Promise.all(nodes.map(summary));
        return all.every((x) => JSON.stringify(x) === JSON.stringify(all[0])) && all[0]!.top[0]?.total === 60
          ? all[0]
          : null;
      },
      {
        timeoutMs: 30_000,
        intervalMs: 500,
        what: 'every node to give the same summary, with all 60 views of the popular link',
      },
    );
    expect(before.partial).toBe(false);
    expect(before.top[0]).toEqual({ slug, total: 60 });
    expect(before.links).toBeGreaterThan(others);
    expect(
      (await fetch(`${nodes[1]!.url}/api/cluster/summary`).then((r) => r.json() as Promise<{ top?: unknown }>)).top,
    ).toBeUndefined();

    const victim = nodes[3]!;
    h.kill(victim);
    await victim.exited;
    try {
      await sleep(2_500);
      // Every partition is still answered (from other replicas) and the popular link is
      // exact. Totals shown to a person never go down: each partition is read on two
      // replicas, and a node never answers less than it answered before.
      for (const n of nodes.slice(0, 3)) {
        const after = await summary(n);
        expect(after.partial).toBe(false);
        expect(after.top[0]).toEqual({ slug, total: 60 });
        expect(after.links).toBeGreaterThanOrEqual(before.links);
        expect(after.views).toBeGreaterThanOrEqual(before.views);
        expect(after.views - before.views).toBeLessThanOrEqual(5);
        expect(after.bots).toBeGreaterThanOrEqual(before.bots);
      }
    } finally {
      // Leave the cluster whole for whatever runs next.
      nodes[3] = await h.restart(victim);
      await waitReady(nodes[3]);
      await waitSettled(nodes, 30_000);
    }
  });
});
