// Hostile and random input against every public route of a real node: no 5xx, no crash,
// and nothing of another user's links leaks. (`npm run chaos` runs the same at 10k requests.)
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureBuilt, Harness, waitReady, type RingProcess } from './harness';
import { ApiClient } from './client';

const requests = Number(process.env.FUZZ_REQUESTS ?? 400);
let h: Harness;
let node: RingProcess;
let secret: { slug: string; url: string };

beforeAll(async () => {
  ensureBuilt();
  h = new Harness();
  node = await h.startNode({ name: 'fz', env: { N_VAL: '1', R: '1', W: '1', RATE_LIMIT_CREATE_PER_MIN: '0' } });
  await waitReady(node);
  const owner = new ApiClient(node);
  const r = await owner.post('/api/links', { url: 'https://private.example.net/only-for-the-owner', password: 'owner-secret' });
  secret = { slug: r.body.slug, url: r.body.url };
}, 60_000);

afterAll(async () => {
  await h?.cleanup();
});

const slugish = fc.oneof(fc.constantFrom('abc', 'links', '..', '%2e%2e', 'a'.repeat(300), '%00', '%ZZ', 'ünï', '<script>'), fc.string({ maxLength: 20 }));
const path = fc.oneof(
  { arbitrary: fc.constantFrom('/api/links', '/api/auth/signup', '/api/auth/signin'), weight: 4 },
  fc.constantFrom('/api/links', '/api/session', '/api/auth/signup', '/api/auth/signin', '/api/auth/signout', '/api/keys', '/api/cluster', '/api/nope', '/api//links', '/api/links?sort=bogus', '/api/links?order=sideways&q=%00'),
  slugish.map((s) => `/api/links/${encodeURIComponent(s)}`),
  slugish.map((s) => `/api/links/${encodeURIComponent(s)}/stats`),
  slugish.map((s) => `/api/keys/${encodeURIComponent(s)}`),
  slugish.map((s) => `/${s.replace(/[\s#?]/g, '')}`),
);
const jsonValue = fc.jsonValue({ maxDepth: 3 });
const linkish = fc.record(
  {
    url: fc.oneof(fc.webUrl(), fc.string(), fc.constantFrom('javascript:alert(1)', 'http://[::1]/', 'http://0x7f.1/', 'https://example.com/' + 'x'.repeat(3000), 'file:///etc/passwd', 'http://169.254.169.254/latest')),
    slug: slugish,
    expiresAt: fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.date({ noInvalidDate: true }).map((d) => d.toISOString())),
    password: fc.oneof(fc.string(), fc.constant(null)),
    maxClicks: fc.oneof(fc.integer(), fc.double(), fc.constant(null), fc.string()),
    redirectStatus: fc.oneof(fc.integer({ min: 0, max: 999 }), fc.string()),
    username: fc.string(),
    name: fc.string(),
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  fc.constant(undefined),
  jsonValue.map((v) => JSON.stringify(v)),
  { arbitrary: linkish.map((v) => JSON.stringify(v)), weight: 5 },
  fc.string({ maxLength: 200 }),
  fc.constantFrom('{"url":', '[]', 'null', '"str"', '{"__proto__":{"admin":true},"url":"https://example.com"}', '{"constructor":{"prototype":{"x":1}}}'),
);
const request = fc.record({
  method: fc.oneof({ arbitrary: fc.constant('POST'), weight: 4 }, { arbitrary: fc.constantFrom('GET', 'PATCH', 'DELETE', 'PUT', 'HEAD', 'OPTIONS'), weight: 4 }),
  path,
  body,
  contentType: fc.oneof({ arbitrary: fc.constant('application/json'), weight: 5 }, { arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/problem+json', undefined), weight: 1 }),
  cookie: fc.oneof(fc.constant(undefined), fc.string().map((s) => `rl_sid=${s}`), fc.constant('rl_sid=AAAAAAAAAAAAAAAAAAAAAA')),
  auth: fc.oneof(fc.constant(undefined), fc.string().map((s) => `Bearer ${s}`), fc.constant('Bearer rl_' + 'A'.repeat(43)), fc.string()),
  origin: fc.oneof({ arbitrary: fc.constant('self'), weight: 5 }, { arbitrary: fc.oneof(fc.constant(undefined), fc.webUrl(), fc.constant('null')), weight: 1 }),
});

it(`${requests} random and hostile requests: every answer is below 500 and nothing leaks`, async () => {
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      const headers: Record<string, string> = {};
      if (r.contentType) headers['content-type'] = r.contentType;
      if (r.cookie) headers.cookie = r.cookie.replace(/[^\x20-\x7e]/g, '');
      if (r.auth) headers.authorization = r.auth.replace(/[^\x20-\x7e]/g, '');
      if (r.origin) headers.origin = r.origin === 'self' ? node.url : r.origin;
      const withBody = r.body !== undefined && !['GET', 'HEAD'].includes(r.method);
      const res = await fetch(node.url + r.path, { method: r.method, headers, redirect: 'manual', ...(withBody ? { body: r.body } : {}), signal: AbortSignal.timeout(10_000) });
      const text = await res.text();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      expect(res.status, `${r.method} ${r.path} ${r.body ?? ''}`).toBeLessThan(500);
      expect(text).not.toContain('only-for-the-owner');
      expect(res.headers.get('location') ?? '').not.toContain('only-for-the-owner');
      if (res.status >= 400 && r.path.startsWith('/api/') && r.method !== 'HEAD') expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    }),
    { numRuns: requests },
  );
  console.log(`fuzz: ${requests} requests, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);
  expect(node.alive).toBe(true);
  expect((await fetch(`${node.url}/api/links/${secret.slug}`)).status).toBe(404);
}, 300_000);
