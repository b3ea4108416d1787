// The OpenAPI 3.1 document of the HTTP API (GET /api/openapi.json, linked from docs/api.md),
// generated from the route table and its zod schemas by @asteasolutions/zod-to-openapi, so it
// cannot drift from what the server validates and answers. API-key users generate clients
// from it. Test hooks and routes marked hidden are left out.
import {
  OpenAPIRegistry,
  OpenApiGeneratorV31,
  type ResponseConfig,
  type RouteConfig,
} from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { problemSchema } from '../../contract/schemas';
import pkg from '../../package.json' with { type: 'json' };
import type { Auth, Route } from './router';
import { sessionCookie } from './sessionCookie';

/** `/api/links/:slug` → `/api/links/{slug}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

const security: Record<Auth, RouteConfig['security']> = {
  none: [],
  session: [{ sessionCookie: [] }, {}],
  caller: [{ apiKey: [] }, { sessionCookie: [] }, {}],
  account: [{ apiKey: [] }, { sessionCookie: [] }],
  admin: [{ adminToken: [] }],
  test: [{ adminToken: [] }],
};

const problemContent = { 'application/problem+json': { schema: problemSchema } };

function operationId(method: string, path: string): string {
  const words = `${method.toLowerCase()} ${path}`.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return words.map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join('');
}

function responsesOf(route: Route<never>): RouteConfig['responses'] {
  const out: Record<string, ResponseConfig> = {};
  for (const [status, r] of Object.entries(route.doc.responses)) {
    const ok = Number(status) < 400;
    out[status] = {
      description: r.description,
      ...(r.schema ? { content: { 'application/json': { schema: r.schema } } } : ok ? {} : { content: problemContent }),
    };
  }
  out['4XX'] = {
    description: 'The request cannot be served as sent: RFC 9457 problem details (docs/api.md).',
    content: problemContent,
  };
  out['5XX'] = {
    description: 'The cluster cannot serve it right now; Retry-After says when to try again.',
    content: problemContent,
  };
  return out;
}

export function openApiDocument(routes: readonly Route<never>[]): ReturnType<OpenApiGeneratorV31['generateDocument']> {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key (rl_...), created on the API keys page by a signed-in account.',
  });
  registry.registerComponent('securitySchemes', 'sessionCookie', {
    type: 'apiKey',
    in: 'cookie',
    name: sessionCookie,
    description: "A browser's session; its writes must carry an Origin of this site.",
  });
  registry.registerComponent('securitySchemes', 'adminToken', {
    type: 'http',
    scheme: 'bearer',
    description: 'The ADMIN_TOKEN of the node.',
  });
  for (const route of routes) {
    if (route.doc.hidden || route.auth === 'test') continue;
    const names = [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
    registry.registerPath({
      method: route.method.toLowerCase() as RouteConfig['method'],
      path: openApiPath(route.path),
      operationId: operationId(route.method, route.path),
      summary: route.doc.summary,
      tags: [route.doc.tag],
      security: security[route.auth],
      request: {
        ...(names.length > 0 ? { params: z.object(Object.fromEntries(names.map((n) => [n, z.string()]))) } : {}),
        ...(route.doc.query ? { query: route.doc.query } : {}),
        ...(route.body ? { body: { required: true, content: { 'application/json': { schema: route.body } } } } : {}),
      },
      responses: responsesOf(route),
    });
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'ringlink',
      version: pkg.version,
      description:
        'A link shortener whose web servers are also its database. ' +
        'Errors are RFC 9457 problem details; see docs/api.md.',
    },
  });
}
