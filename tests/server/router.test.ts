// What the route table answers by itself (server/http/router.ts): 404 for a path no route has,
// 405 with Allow for a method a path does not take, HEAD wherever GET is, and the 4xx problems
// of a body that is not JSON, not an object or not valid. Test hooks exist only when enabled.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken, startFront, type TestFront } from './httpApp';

let front: TestFront;
let hooks: TestFront;

beforeAll(async () => {
  front = await startFront();
  hooks = await startFront({ testFaults: true });
});

afterAll(async () => {
  await front.close();
  await hooks.close();
});

const admin = { authorization: `Bearer ${adminToken}` };

async function call(
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string } = {},
  on = front,
) {
  const res = await fetch(`${on.url}${path}`, {
    method,
    headers: init.headers ?? {},
    ...(init.body !== undefined ? { body: init.body } : {}),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    text,
    problem: res.headers.get('content-type')?.startsWith('application/problem+json') ? JSON.parse(text) : undefined,
  };
}

describe('404', () => {
  it('answers a problem for a path no route has', async () => {
    for (const path of ['/api/nope', '/api/links/abc/more', '/api/', '/nothing/here']) {
      const r = await call('GET', path);
      expect(r.status, path).toBe(404);
      expect(r.problem.status, path).toBe(404);
      expect(r.problem.detail.length, path).toBeGreaterThan(10);
      expect(r.headers.get('content-security-policy'), path).toBe("default-src 'none'; frame-ancestors 'none'");
    }
  });

  it('asks for the admin token before saying an admin route does not exist', async () => {
    expect((await call('GET', '/api/admin/nothing-here')).status).toBe(401);
    const r = await call('GET', '/api/admin/nothing-here', { headers: admin });
    expect(r.status).toBe(404);
    expect(r.problem.detail).toBe('no admin route for GET /api/admin/nothing-here');
  });

  it('answers 400 for a link path that is not valid percent-encoding', async () => {
    for (const path of ['/api/links/%ZZ', '/api/links/%E0%A4%A/stats']) {
      const r = await call('GET', path);
      expect(r.status, path).toBe(400);
      expect(r.problem.code, path).toBe('invalid_path');
    }
  });
});

describe('405', () => {
  it('lists the methods the path takes in Allow, HEAD wherever GET is', async () => {
    const cases: [string, string, string][] = [
      ['POST', '/healthz', 'GET, HEAD'],
      ['DELETE', '/readyz', 'GET, HEAD'],
      ['PUT', '/metrics', 'GET, HEAD'],
      ['POST', '/api/cluster', 'GET, HEAD'],
      ['PATCH', '/api/cluster/summary', 'GET, HEAD'],
      ['POST', '/api/openapi.json', 'GET, HEAD'],
      ['PUT', '/api/links/abcdef', 'GET, HEAD, PATCH, DELETE'],
      ['DELETE', '/api/links', 'GET, HEAD, POST'],
      ['POST', '/api/links/abcdef/stats', 'GET, HEAD'],
      ['GET', '/api/keys/abc123', 'DELETE'],
      ['PATCH', '/api/session', 'GET, HEAD'],
      ['GET', '/api/auth/signin', 'POST'],
    ];
    for (const [method, path, allow] of cases) {
      const r = await call(method, path);
      expect(r.status, `${method} ${path}`).toBe(405);
      expect(r.headers.get('allow'), `${method} ${path}`).toBe(allow);
      expect(r.problem.title).toBe('Method Not Allowed');
      if (allow === 'GET, HEAD') expect(r.problem.detail).toBe(`${path} is read-only: use GET or HEAD`);
      else
        expect(r.problem.detail).toMatch(
          new RegExp(`^${method} is not supported on ${path.replace(/\./g, '\\.')}; use `),
        );
    }
  });

  it('asks for the admin token before saying which methods an admin route takes', async () => {
    expect((await call('GET', '/api/admin/leave')).status).toBe(401);
    const r = await call('GET', '/api/admin/leave', { headers: admin });
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('POST');
    expect((await call('POST', '/api/admin/kv/a-key', { headers: admin })).headers.get('allow')).toBe(
      'GET, HEAD, PUT, DELETE',
    );
  });

  it('answers HEAD as GET, without a body', async () => {
    for (const path of ['/healthz', '/readyz', '/api/cluster', '/api/openapi.json']) {
      const r = await call('HEAD', path);
      expect(r.status, path).toBe(200);
      expect(r.text, path).toBe('');
    }
  });
});

describe('bodies', () => {
  it('refuses a body not JSON, not an object, too large or not valid, before any service is reached', async () => {
    const json = { 'content-type': 'application/json', origin: front.url };
    const cases: [string, string, Record<string, string>, string, number, string, string?][] = [
      ['POST', '/api/links', { 'content-type': 'text/plain' }, 'url=https://example.com', 415, 'json_required'],
      ['POST', '/api/links', json, '[1, 2]', 400, 'body_not_object'],
      ['POST', '/api/links', json, 'null', 400, 'body_not_object'],
      ['POST', '/api/links', json, '{"url":', 400, ''],
      ['POST', '/api/links', json, JSON.stringify({ url: 'x'.repeat(20_000) }), 413, ''],
      ['POST', '/api/links', json, '{}', 422, 'invalid_input', 'url'],
      [
        'POST',
        '/api/links',
        json,
        JSON.stringify({ url: 'https://example.com', admin: true }),
        422,
        'invalid_input',
        'admin',
      ],
      [
        'POST',
        '/api/links',
        json,
        JSON.stringify({ url: 'https://example.com', slug: 'ab' }),
        422,
        'slug_too_short',
        'slug',
      ],
      [
        'POST',
        '/api/links',
        json,
        JSON.stringify({ url: 'https://example.com', slug: 'a b/c' }),
        422,
        'slug_format',
        'slug',
      ],
      [
        'POST',
        '/api/links',
        json,
        JSON.stringify({ url: 'https://example.com', slug: 'x'.repeat(300) }),
        422,
        'slug_too_long',
        'slug',
      ],
      [
        'POST',
        '/api/links',
        json,
        JSON.stringify({ url: 'https://example.com', redirectStatus: 303 }),
        422,
        'invalid_input',
        'redirectStatus',
      ],
      ['PATCH', '/api/links/abcdef', json, JSON.stringify({ maxClicks: 0 }), 422, 'invalid_input', 'maxClicks'],
      ['POST', '/api/keys', json, JSON.stringify({ name: '  ' }), 422, 'invalid_input', 'name'],
      ['POST', '/api/auth/signup', json, JSON.stringify({ username: 'someone' }), 422, 'invalid_input', 'password'],
    ];
    for (const [method, path, headers, body, status, code, field] of cases) {
      const what = `${method} ${path} ${body.slice(0, 40)}`;
      const r = await call(method, path, { headers, body });
      expect(r.status, what).toBe(status);
      expect(r.problem.status, what).toBe(status);
      expect(r.problem.detail.length, what).toBeGreaterThan(10);
      if (code) expect(r.problem.code, what).toBe(code);
      if (field) expect(r.problem.field, what).toBe(field);
    }
  });

  it('checks the Origin of a cookie session write before reading its body', async () => {
    const r = await call('POST', '/api/auth/signin', {
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body: '{}',
    });
    expect(r.status).toBe(403);
    expect(r.problem.code).toBe('origin_mismatch');
  });

  it('checks the admin token before reading an admin body', async () => {
    expect((await call('POST', '/api/admin/leave', { body: '{"node": 5}' })).status).toBe(401);
    const r = await call('POST', '/api/admin/leave', { headers: admin, body: '{"node": 5}' });
    expect(r.status).toBe(422);
    expect(r.problem.field).toBe('node');
  });
});

describe('test hooks', () => {
  it('are mounted only when enabled', async () => {
    const body = JSON.stringify({ block: ['n2'] });
    expect((await call('POST', '/api/admin/faults', { headers: admin, body })).status).toBe(404);
    expect((await call('POST', '/api/admin/synthetic-links', { headers: admin, body: '{}' })).status).toBe(404);
    const r = await call('POST', '/api/admin/faults', { headers: admin, body }, hooks);
    expect(r.status).toBe(200);
    expect(hooks.blocked).toEqual([['n2']]);
    expect((await call('POST', '/api/admin/faults', { body }, hooks)).status).toBe(401);
  });
});
