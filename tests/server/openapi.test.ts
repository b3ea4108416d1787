// The OpenAPI document (GET /api/openapi.json) is valid OpenAPI 3.1, generated from the route
// table, and has every public route of it; it is served public and cacheable.
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument, openApiPath } from '../../server/http/openapi';
import { routeTable } from '../../server/http/routes';
import { startFront, type TestFront } from './httpApp';

let front: TestFront;

beforeAll(async () => {
  front = await startFront();
});

afterAll(async () => {
  await front.close();
});

const publicAuth = new Set(['none', 'session', 'caller', 'account']);

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1 and every reference in it resolves', async () => {
    const doc = openApiDocument(routeTable);
    expect(doc.openapi).toBe('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc) as unknown as Record<string, unknown>);
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(() => validator.resolveRefs()).not.toThrow();
  });

  it('has every public route of the route table, with its body schema and its answers', () => {
    const doc = openApiDocument(routeTable);
    const publicRoutes = routeTable.filter((r) => publicAuth.has(r.auth));
    expect(publicRoutes.length).toBeGreaterThan(15);
    for (const route of publicRoutes) {
      const what = `${route.method} ${route.path}`;
      const op = doc.paths?.[openApiPath(route.path)]?.[route.method.toLowerCase() as 'get'];
      expect(op, what).toBeDefined();
      expect(op!.summary, what).toBe(route.doc.summary);
      if (route.body) expect(op!.requestBody, what).toBeDefined();
      for (const status of Object.keys(route.doc.responses))
        expect(op!.responses?.[status], `${what} ${status}`).toBeDefined();
    }
    // The API's main shapes are named components a client generator turns into types.
    for (const name of [
      'Link',
      'NewLink',
      'LinkChanges',
      'LinkStats',
      'Slug',
      'Problem',
      'ApiKey',
      'CreatedApiKey',
      'Cluster',
      'ClusterSummary',
    ]) {
      expect(doc.components?.schemas?.[name], name).toBeDefined();
    }
    expect(doc.paths?.['/api/links/{slug}']?.patch?.parameters?.[0]).toMatchObject({
      name: 'slug',
      in: 'path',
      required: true,
    });
  });

  it('leaves the test hooks out', () => {
    const doc = openApiDocument(routeTable);
    expect(doc.paths?.['/api/admin/faults']).toBeUndefined();
    expect(doc.paths?.['/api/admin/synthetic-links']).toBeUndefined();
  });

  it('is served at GET /api/openapi.json, public and cacheable', async () => {
    const res = await fetch(`${front.url}/api/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=3600');
    const etag = res.headers.get('etag');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const body = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(body.openapi).toBe('3.1.0');
    expect(Object.keys(body.paths)).toContain('/api/links');
    const again = await fetch(`${front.url}/api/openapi.json`, { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
  });
});
