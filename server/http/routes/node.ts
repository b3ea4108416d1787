// The node itself: liveness, readiness, metrics, and the API's OpenAPI document.
import { createHash } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { RingNode } from '../../../ring';
import { healthSchema, readySchema } from '../../../contract/schemas';
import type { Health, Ready } from '../../../contract/types';
import { json, problem } from '../respond';
import { routesFor } from '../router';

export interface NodeDeps {
  node: RingNode;
  metrics: Registry;
  /** The OpenAPI document (built from the route tables once, on first use). */
  openapi(): object;
}

const route = routesFor<NodeDeps>();
const tag = 'Node';

const served = new WeakMap<NodeDeps, { body: string; etag: string }>();

/** The OpenAPI document as served: the same bytes on every request, and an ETag for them. */
function servedDocument(d: NodeDeps): { body: string; etag: string } {
  let cached = served.get(d);
  if (!cached) {
    const body = JSON.stringify(d.openapi());
    cached = { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
    served.set(d, cached);
  }
  return cached;
}

export const nodeRoutes = [
  route({
    method: 'GET',
    path: '/healthz',
    auth: 'none',
    doc: { summary: 'The process is up', tag, responses: { 200: { description: 'Up.', schema: healthSchema } } },
    handler({ res }, d) {
      json(res, 200, { status: 'ok', node: d.node.name } satisfies Health);
    },
  }),
  route({
    method: 'GET',
    path: '/readyz',
    auth: 'none',
    doc: {
      summary: 'The node has joined the ring',
      tag,
      responses: { 200: { description: 'Ready.', schema: readySchema }, 503: { description: 'Not joined yet.' } },
    },
    handler({ res }, d) {
      if (d.node.ready()) return json(res, 200, { status: 'ready', node: d.node.name } satisfies Ready);
      problem(res, 503, 'Not Ready', `${d.node.name} has not joined the ring yet`);
    },
  }),
  route({
    method: 'GET',
    path: '/metrics',
    auth: 'none',
    doc: { summary: 'Prometheus metrics', tag, responses: { 200: { description: 'The Prometheus text format.' } } },
    async handler({ res }, d) {
      const body = await d.metrics.metrics();
      res.writeHead(200, { 'content-type': d.metrics.contentType });
      res.end(body);
    },
  }),
  route({
    method: 'GET',
    path: '/api/openapi.json',
    auth: 'none',
    doc: {
      summary: 'This API as an OpenAPI 3.1 document',
      tag,
      responses: { 200: { description: 'The document (it changes only with a new release).' } },
    },
    handler({ req, res }, d) {
      const { body, etag } = servedDocument(d);
      const headers = { etag, 'cache-control': 'public, max-age=3600' };
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, headers);
        return void res.end();
      }
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        ...headers,
      });
      res.end(body);
    },
  }),
];
