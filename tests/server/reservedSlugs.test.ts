// Reserved slugs (server/http/reservedSlugs.ts) are derived from the route table and the
// folders of app/: every API route and every page of the web app has its first path segment
// reserved, so no link can take it, and the redirect fast path leaves it to the router.
import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appRouteSegments as generated } from '../../server/http/appRoutes.generated';
import { firstSegment, reservedSlugs } from '../../server/http/reservedSlugs';
import { routeTable } from '../../server/http/routes';
import { validateSlug } from '../../server/links/rules';
import { appRouteSegments } from '../../scripts/app-routes.mjs';
import { startFront, type TestFront } from './httpApp';

const root = join(__dirname, '..', '..');
const appDir = join(root, 'app');

/** Every page and route handler file of the web app, as the URL path Next.js serves it at. */
function appUrlPaths(dir = appDir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    if (e.isDirectory()) return e.name.startsWith('_') ? [] : appUrlPaths(full);
    if (!/^(page|route)\.(tsx|ts|jsx|js|mdx)$/.test(e.name)) return [];
    const segments = relative(appDir, dir)
      .split(sep)
      .filter((s) => s && !/^\(.*\)$/.test(s) && !s.startsWith('@'));
    return [`/${segments.join('/')}`];
  });
}

let front: TestFront;

beforeAll(async () => {
  front = await startFront();
});

afterAll(async () => {
  await front.close();
});

describe('reserved slugs', () => {
  it('hold the first segment of every route in the route table', () => {
    const prefixes = new Set(routeTable.map((r) => firstSegment(r.path)));
    expect([...prefixes].sort()).toEqual(['api', 'healthz', 'metrics', 'readyz']);
    for (const p of prefixes) expect(reservedSlugs.has(p!), p).toBe(true);
  });

  it('hold the first segment of every page of the web app', () => {
    const pages = appUrlPaths();
    expect(pages).toContain('/');
    expect(pages).toContain('/links/[slug]');
    for (const path of pages) {
      const first = path.split('/')[1];
      if (!first || first.startsWith('[')) continue;
      expect(reservedSlugs.has(first.toLowerCase()), `${path} (app/${first}/)`).toBe(true);
    }
  });

  it('are built from the current folders of app/ (npm run build rewrites server/http/appRoutes.generated.ts)', () => {
    expect(generated).toEqual(appRouteSegments(appDir));
    expect(generated).toEqual(expect.arrayContaining(['cluster', 'keys', 'links', 'signin', 'signup']));
  });

  it('hold the fixed extras, all lower-case', () => {
    for (const name of ['_next', '_ring', 'socket.io', 'favicon.ico', 'robots.txt', 'login', 'admin', '__proto__']) {
      expect(reservedSlugs.has(name), name).toBe(true);
    }
    for (const name of reservedSlugs) expect(name).toBe(name.toLowerCase());
  });

  it('can never be custom slugs, in any case', () => {
    for (const name of ['api', 'Healthz', 'METRICS', 'readyz', 'Cluster', 'keys', 'links', 'SignIn', 'signup']) {
      const r = validateSlug(name, reservedSlugs);
      expect(r.ok ? 'ok' : r.code, name).toBe('slug_reserved');
    }
  });

  it('are left by the redirect fast path to the router', async () => {
    for (const path of ['/healthz', '/api', '/signin', '/Links', '/KEYS', '/metrics?x=1']) {
      const res = await fetch(`${front.url}${path}`, { redirect: 'manual' });
      expect(res.status, path).not.toBe(302);
    }
    expect(front.redirected).toEqual([]);
    const res = await fetch(`${front.url}/aZ3kP9q?utm=1`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(front.redirected).toEqual(['aZ3kP9q']);
  });
});
