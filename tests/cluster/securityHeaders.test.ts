// Security headers on every kind of answer a node gives (README.md, Security): pages carry a
// strict CSP with a fresh nonce that Next puts on each of its scripts; everything else (health,
// metrics, the cluster view, admin, problem+json errors, socket.io's HTTP answers) carries
// nosniff, Referrer-Policy, X-Frame-Options and a CSP that lets nothing load.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, ensureBuilt, Harness, waitReady, type RingProcess } from '../../testkit';
import { rawRequest } from './rawHttp';

let h: Harness;
let node: RingProcess;

beforeAll(async () => {
  ensureBuilt({ ui: true });
  h = new Harness();
  // One node serving the UI: pages need Next, and a one-node cluster is a valid cluster.
  node = await h.startNode({ name: 'solo', env: { SERVE_UI: '1', N_VAL: '1', R: '1', W: '1' } }, 60_000);
  await waitReady(node);
}, 360_000);

afterAll(async () => {
  await h?.cleanup();
}, 30_000);

/** The directives of a CSP header, by name. */
function directives(csp: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const d of csp.split(';')) {
    const [name, ...values] = d.trim().split(/\s+/);
    if (name) out.set(name.toLowerCase(), values);
  }
  return out;
}

/** The nonce of a page's CSP, after checking that its script-src is strict. */
function strictScriptNonce(csp: string): string {
  const scriptSrc = directives(csp).get('script-src') ?? [];
  expect(scriptSrc).toContain("'strict-dynamic'");
  expect(scriptSrc).not.toContain("'unsafe-inline'");
  expect(scriptSrc).not.toContain("'unsafe-eval'");
  const nonces = scriptSrc.filter((v) => v.startsWith("'nonce-")).map((v) => v.slice("'nonce-".length, -1));
  expect(nonces).toHaveLength(1);
  // 128 bits or more: at least 22 base64 characters.
  expect(nonces[0]!.length).toBeGreaterThanOrEqual(22);
  return nonces[0]!;
}

function expectCommonHeaders(headers: Headers | Record<string, string>, what: string): void {
  const get = (k: string) => (headers instanceof Headers ? headers.get(k) : headers[k]);
  expect(get('x-content-type-options'), what).toBe('nosniff');
  expect(get('referrer-policy'), what).toBe('strict-origin-when-cross-origin');
  expect(get('x-frame-options'), what).toBe('DENY');
}

const pages = ['/', '/signin', '/signup', '/links', '/links/some-slug', '/cluster', '/keys'];

describe('pages', () => {
  it('every page answer has a strict CSP with a fresh nonce, and each of its script tags carries it', async () => {
    const seen = new Set<string>();
    for (const path of pages) {
      for (let round = 0; round < 2; round++) {
        const res = await fetch(node.url + path, { signal: AbortSignal.timeout(10_000) });
        expect(res.status, path).toBe(200);
        expectCommonHeaders(res.headers, path);
        const nonce = strictScriptNonce(res.headers.get('content-security-policy') ?? '');
        expect(seen.has(nonce), `${path}: nonce reused`).toBe(false);
        seen.add(nonce);
        const html = await res.text();
        const scripts = html.match(/<script\b[^>]*>/g) ?? [];
        // Next's bootstrap: its chunks and the inline scripts that stream the RSC payload.
        expect(scripts.length, path).toBeGreaterThan(1);
        for (const tag of scripts) expect(tag, path).toContain(` nonce="${nonce}"`);
        for (const tag of html.match(/<style\b[^>]*>/g) ?? []) expect(tag, path).toContain(` nonce="${nonce}"`);
      }
    }
  });

  it("Next's own not-found page is nonced too", async () => {
    const res = await fetch(`${node.url}/no/such/page`, { signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(404);
    const nonce = strictScriptNonce(res.headers.get('content-security-policy') ?? '');
    const scripts = (await res.text()).match(/<script\b[^>]*>/g) ?? [];
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag).toContain(` nonce="${nonce}"`);
  });

  it('a CSP header sent by the client does not choose the nonce', async () => {
    const res = await fetch(`${node.url}/`, {
      headers: { 'content-security-policy': "script-src 'nonce-chosenByTheClient'" },
      signal: AbortSignal.timeout(10_000),
    });
    const nonce = strictScriptNonce(res.headers.get('content-security-policy') ?? '');
    const html = await res.text();
    expect(html).not.toContain('chosenByTheClient');
    expect(html).toContain(` nonce="${nonce}"`);
  });

  it('style attributes stay allowed, style elements need the nonce', async () => {
    const res = await fetch(`${node.url}/`, { signal: AbortSignal.timeout(10_000) });
    const csp = directives(res.headers.get('content-security-policy') ?? '');
    const nonce = strictScriptNonce(res.headers.get('content-security-policy') ?? '');
    expect(csp.get('style-src-attr')).toEqual(["'unsafe-inline'"]);
    expect(csp.get('style-src-elem')).toEqual(["'self'", `'nonce-${nonce}'`]);
    expect(csp.get('object-src')).toEqual(["'none'"]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
  });
});

describe('everything that is not a page', () => {
  const apiCsp = "default-src 'none'; frame-ancestors 'none'";
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
  interface Case {
    what: string;
    method?: string;
    path: string;
    headers?: Record<string, string>;
    status: number;
  }
  const cases: Case[] = [
    { what: 'health', path: '/healthz', status: 200 },
    { what: 'readiness', path: '/readyz', status: 200 },
    { what: 'metrics', path: '/metrics', status: 200 },
    { what: 'the cluster view', path: '/api/cluster', status: 200 },
    { what: 'the cluster summary', path: '/api/cluster/summary', status: 200 },
    { what: 'admin status', path: '/api/admin/status', headers: admin, status: 200 },
    { what: 'admin without a token (problem)', path: '/api/admin/status', status: 401 },
    { what: 'an unknown admin route (problem)', path: '/api/admin/nothing-here', headers: admin, status: 404 },
    { what: 'a write to a read-only route (problem)', method: 'POST', path: '/healthz', status: 405 },
    { what: 'the public API (problem)', path: '/api/links/no-such-link', status: 404 },
    { what: 'socket.io over plain HTTP', path: '/socket.io/?EIO=4&transport=polling', status: 400 },
  ];
  for (const c of cases) {
    it(`${c.what}: ${c.method ?? 'GET'} ${c.path} carries the security headers`, async () => {
      const res = await fetch(node.url + c.path, {
        method: c.method ?? 'GET',
        headers: c.headers ?? {},
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      expect(res.status).toBe(c.status);
      expectCommonHeaders(res.headers, c.what);
      expect(res.headers.get('content-security-policy')).toBe(apiCsp);
    });
  }

  it('a problem answered before routing (HTTP/1.1 without Host) carries them too', async () => {
    const r = await rawRequest(node.port, { method: 'GET', target: '/healthz', headers: [] });
    expect(r.status).toBe(400);
    expect(r.headers['content-type']).toContain('application/problem+json');
    expectCommonHeaders(r.headers, 'no Host');
    expect(r.headers['content-security-policy']).toBe(apiCsp);
  });
});
