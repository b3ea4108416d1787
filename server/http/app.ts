// The node's HTTP front, in the order a request meets it: the redirect fast path (one
// path segment that can be a slug), health, readiness, metrics, the cluster view, the
// admin API, the public JSON API, and last Next.js for pages. Hot paths never reach Next.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import type { RingNode } from '../../ring/node/ringNode';
import type { VersionVector } from '../../ring/storage/versions';
import { gcounterValue, type GCounter } from '../../ring/crdt/gcounter';
import type { CasOp } from '../../ring/sim/linearizability';
import { applyCasOp } from '../../ring/cas/registerOps';
import { RingCallError, RingClient } from '../ringClient';
import { cryptoRandom, nodeTimers } from '../runtime';
import { reservedSlugs } from '../links/rules';
import { HttpError, json, problem, readJson } from './respond';
import { redirectHeads, setApiHeaders, setPageHeaders, type RedirectHeads } from './security';

/** Slugs are 3-64 of A-Z a-z 0-9 _ - (links/rules.ts). */
const slugCharsMin = 3;
const slugCharsMax = 64;

/** The slug when the request target is one path segment that could be a slug, with an optional query string; else null. */
export function slugOfTarget(target: string): string | null {
  if (target.charCodeAt(0) !== 47 /* / */) return null;
  let i = 1;
  for (; i < target.length; i++) {
    const c = target.charCodeAt(i);
    // 0-9, A-Z, a-z, -, _
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 95)) break;
  }
  const n = i - 1;
  if (n < slugCharsMin || n > slugCharsMax || (i < target.length && target.charCodeAt(i) !== 63 /* ? */)) return null;
  return target.slice(1, i);
}
const reservedLower = new Set([...reservedSlugs].map((s) => s.toLowerCase()));

export interface PageHandler {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

export interface AppDeps {
  /** The public API, when this node serves the shortener. */
  api?: { route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> };
  redirector?: { handle(req: IncomingMessage, res: ServerResponse, slug: string, heads: RedirectHeads): void | Promise<void> };
  /** Next.js pages; absent when the UI is off or not built. */
  pages?: PageHandler;
  /** socket.io (engine.io) on /socket.io/. */
  live?: { upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void; handleRequest(req: IncomingMessage, res: ServerResponse): void };
  /** GET /api/cluster/summary: cluster-wide figures through a coverage query. */
  summary?: (withTop: boolean) => Promise<Record<string, unknown>>;
  node: RingNode;
  metrics: Registry;
  adminToken: string | undefined;
  testFaults: boolean;
  ringUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  setBlocked(names: readonly string[]): void;
  /** Body size limit for admin writes. */
  bodyBytesMax: number;
}

const ringErrorStatus: Record<string, number> = { unavailable: 503, timeout: 504, invalid: 400, conflict: 409, stopped: 503, overloaded: 503 };
const keyPattern = /^[A-Za-z0-9_.:-]{1,200}$/;

/** Causal contexts travel as opaque base64url strings. */
export function encodeContext(vv: VersionVector): string {
  return Buffer.from(JSON.stringify(vv)).toString('base64url');
}

function decodeContext(s: unknown): VersionVector {
  if (s === undefined || s === null || s === '') return {};
  try {
    const vv = JSON.parse(Buffer.from(String(s), 'base64url').toString('utf8')) as unknown;
    if (vv && typeof vv === 'object' && Object.values(vv).every((n) => Number.isSafeInteger(n) && (n as number) > 0)) return vv as VersionVector;
  } catch {
    // fall through
  }
  throw new HttpError(400, 'Bad Request', 'context must be the opaque string a previous read or write returned');
}

/** GET /api/cluster: this node's view of members, ring and handoffs (also the live `cluster` feed's base). */
export function clusterSnapshot(node: RingNode) {
  const r = node.ring();
  return {
    node: node.name,
    members: node.members(),
    ring: { size: r.ringSize, nVal: node.preferenceLists().primaries[0]?.length ?? 0, partitions: r.partitions.map((c, index) => ({ index, owner: c.owner, next: c.next })) },
    handoffs: node.handoffs().map((h) => ({ ...h, sent: h.keysSent, total: h.keysTotal })),
  };
}

/** A problem+json answer written straight to a socket that has no ServerResponse, then closed. */
function rawProblem(socket: Duplex, status: number, title: string, detail: string): void {
  const body = JSON.stringify({ type: `https://ringlink.dev/problems/${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`, title, status, detail });
  socket.end(`HTTP/1.1 ${status} ${title}\r\ncontent-type: application/problem+json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${body}`);
}

export function createApp(deps: AppDeps) {
  const { node } = deps;
  const ring = new RingClient(node, { timers: nodeTimers(), random: cryptoRandom() });
  const writeBody = z.object({ value: z.unknown(), context: z.string().optional() });
  const incrementBody = z.object({ by: z.number().int().min(1).max(1_000_000).default(1) });
  const memberBody = z.object({ node: z.string().min(1).optional() });
  const faultsBody = z.object({ block: z.array(z.string()) });
  const syntheticBody = z.object({ count: z.number().int().min(1).max(2_000_000), prefix: z.string().regex(/^[A-Za-z0-9_-]{1,16}$/) });
  const casBody = z.discriminatedUnion('op', [
    z.object({ op: z.literal('read') }),
    z.object({ op: z.literal('create'), value: z.string() }),
    z.object({ op: z.literal('cas'), expected: z.string().nullable(), value: z.string() }),
  ]);

  function requireAdmin(req: IncomingMessage): void {
    if (!deps.adminToken) throw new HttpError(403, 'Forbidden', 'admin routes are disabled: set ADMIN_TOKEN on this node');
    // `\s+(\S.*)` and not `\s+(.+)`: the two quantifiers must not both match spaces, or a long
    // run of them that fails to match at its end is retried at every split (quadratic).
    const m = /^Bearer\s+(\S.*)$/i.exec(String(req.headers.authorization ?? ''));
    if (!m) throw new HttpError(401, 'Unauthorized', 'send Authorization: Bearer <ADMIN_TOKEN>', { 'www-authenticate': 'Bearer' });
    const given = Buffer.from(m[1]!);
    const want = Buffer.from(deps.adminToken);
    if (given.length !== want.length || !timingSafeEqual(given, want)) throw new HttpError(401, 'Unauthorized', 'send Authorization: Bearer <ADMIN_TOKEN>', { 'www-authenticate': 'Bearer' });
  }

  function parse<T>(schema: z.ZodType<T>, body: unknown): T {
    const r = schema.safeParse(body ?? {});
    if (!r.success) {
      const i = r.error.issues[0]!;
      throw new HttpError(422, 'Unprocessable Content', `${i.path.join('.') || 'body'}: ${i.message}`);
    }
    return r.data;
  }

  const clusterView = () => clusterSnapshot(node);

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Concatenate rather than resolve: a target such as "//x" must stay a path, not become a host.
    let url: URL;
    try {
      url = new URL(`http://localhost${req.url?.startsWith('/') ? req.url : '/'}`);
    } catch {
      throw new HttpError(400, 'Bad Request', 'The request path is not a valid URL path.');
    }
    const path = url.pathname;
    const method = req.method ?? 'GET';
    // Every answer below is JSON, metrics text or socket.io's; pages replace the CSP with their own.
    setApiHeaders(res);
    // Read-only routes: HEAD answers as GET (Node sends no body), any other method a 405.
    const read = method === 'GET' || method === 'HEAD';
    if ((path === '/healthz' || path === '/readyz' || path === '/metrics' || path === '/api/cluster' || (path === '/api/cluster/summary' && deps.summary)) && !read) {
      throw new HttpError(405, 'Method Not Allowed', `${path} is read-only: use GET or HEAD`, { allow: 'GET, HEAD' });
    }
    if (path === '/healthz') return json(res, 200, { status: 'ok', node: node.name });
    if (path === '/readyz') return node.ready() ? json(res, 200, { status: 'ready', node: node.name }) : problem(res, 503, 'Not Ready', `${node.name} has not joined the ring yet`);
    if (path === '/metrics') {
      const body = await deps.metrics.metrics();
      res.writeHead(200, { 'content-type': deps.metrics.contentType });
      res.end(body);
      return;
    }
    if (path === '/api/cluster') return json(res, 200, clusterView());
    if (path === '/api/cluster/summary' && deps.summary) {
      // Anyone gets the totals; the top links need the admin token (a wrong one is refused).
      const admin = req.headers.authorization !== undefined;
      if (admin) requireAdmin(req);
      return json(res, 200, await deps.summary(admin));
    }
    if (path.startsWith('/socket.io/') && deps.live) return deps.live.handleRequest(req, res);
    if (!path.startsWith('/api/admin/')) {
      if (path.startsWith('/api/') && deps.api) return deps.api.route(req, res, url);
      if (deps.pages && !path.startsWith('/api/')) {
        setPageHeaders(req, res);
        return deps.pages.handle(req, res);
      }
      throw new HttpError(404, 'Not Found', `no route for ${method} ${path}`);
    }
    requireAdmin(req);
    const rest = path.slice('/api/admin/'.length);
    if (rest === 'status' && method === 'GET') {
      return json(res, 200, { ...clusterView(), ready: node.ready(), keys: node.durable.store.keyCount(), casPending: node.casPendingPartitions(), stats: node.stats });
    }
    if (rest === 'leave' && method === 'POST') {
      const { node: name = node.name } = parse(memberBody, await readJson(req, deps.bodyBytesMax));
      if (!node.requestLeave(name)) throw new HttpError(404, 'Not Found', `${name} is not a member that can leave`);
      return json(res, 202, { leaving: name });
    }
    if (rest === 'remove' && method === 'POST') {
      const { node: name } = parse(memberBody, await readJson(req, deps.bodyBytesMax));
      if (!name) throw new HttpError(422, 'Unprocessable Content', 'node: name the member to remove');
      if (name === node.name) throw new HttpError(409, 'Conflict', 'a node cannot remove itself: ask another member, or use leave');
      if (!node.remove(name)) throw new HttpError(404, 'Not Found', `${name} is not a member`);
      return json(res, 202, { removed: name });
    }
    if (rest === 'faults' && method === 'POST') {
      if (!deps.testFaults) throw new HttpError(404, 'Not Found', 'fault injection is disabled (RINGLINK_TEST_FAULTS=1 enables it)');
      const { block } = parse(faultsBody, await readJson(req, deps.bodyBytesMax));
      deps.setBlocked(block);
      return json(res, 200, { blocked: block });
    }
    if (rest === 'synthetic-links' && method === 'POST') {
      // Test hook for the memory benchmark: store `count` link documents straight through quorum writes.
      if (!deps.testFaults) throw new HttpError(404, 'Not Found', 'test hooks are disabled (RINGLINK_TEST_FAULTS=1 enables them)');
      const { count, prefix } = parse(syntheticBody, await readJson(req, deps.bodyBytesMax));
      const t0 = performance.now();
      let next = 0;
      const now = Date.now();
      const worker = async () => {
        while (next < count) {
          const i = next++;
          const slug = `${prefix}${i.toString(36)}`;
          await ring.put(`link/${slug}`, { slug, url: `https://example.com/${prefix}/${i}`, owner: 's:synthetic', createdAt: now, updatedAt: now, expiresAt: null, maxClicks: null, redirectStatus: 302, password: null, deletedAt: null });
        }
      };
      await Promise.all(Array.from({ length: 256 }, worker));
      return json(res, 200, { stored: count, ms: Math.round(performance.now() - t0) });
    }
    const m = /^(kv|ctr|cas)\/(.+)$/.exec(rest);
    if (!m) throw new HttpError(404, 'Not Found', `no admin route for ${method} ${path}`);
    const [, type, id] = m as unknown as [string, 'kv' | 'ctr' | 'cas', string];
    if (!keyPattern.test(id)) throw new HttpError(400, 'Bad Request', 'keys are 1-200 characters of A-Z a-z 0-9 _ . : -');
    const key = `${type}/${id}`;
    if (type === 'kv') {
      if (method === 'GET') {
        const r = await ring.get(key);
        if (!r.found || r.deleted) throw new HttpError(404, 'Not Found', `${key} does not exist`);
        return json(res, 200, { key, value: r.value, values: r.values, siblings: r.values.length, context: encodeContext(r.context) });
      }
      if (method === 'PUT') {
        const body = parse(writeBody, await readJson(req, deps.bodyBytesMax));
        const w = await ring.put(key, body.value ?? null, decodeContext(body.context));
        return json(res, 200, { key, context: encodeContext(w.context) });
      }
      if (method === 'DELETE') {
        const context = decodeContext(url.searchParams.get('context'));
        const w = await ring.delete(key, context);
        return json(res, 200, { key, deleted: true, context: encodeContext(w.context) });
      }
    } else if (type === 'cas') {
      // A compare-and-set register (CASPaxos; its state lives in the acceptors). A 504 means
      // the outcome is unknown: the change may still be chosen. Values should be unique per
      // operation, so that a retry that finds its own value knows its earlier attempt landed.
      if (method === 'POST') {
        const body = parse(casBody, await readJson(req, deps.bodyBytesMax));
        const op: CasOp = body.op === 'read' ? { kind: 'read' } : body.op === 'create' ? { kind: 'create', value: body.value } : { kind: 'cas', expected: body.expected, value: body.value };
        const result = await ring.cas(key, (cur) => applyCasOp(op, (cur ?? null) as string | null));
        return json(res, 200, { key, ...result });
      }
    } else {
      if (method === 'POST') {
        const { by } = parse(incrementBody, await readJson(req, deps.bodyBytesMax));
        await ring.increment(key, by);
        return json(res, 202, { key, incremented: by });
      }
      if (method === 'GET') {
        const { value } = await ring.readCounter(key);
        return json(res, 200, { key, total: gcounterValue(value as GCounter) });
      }
    }
    throw new HttpError(405, 'Method Not Allowed', `${method} is not supported on ${path}`);
  }

  function fail(res: ServerResponse, err: unknown): void {
    if (res.headersSent) return void res.destroy();
    // The error may come from the redirect path or a page, whose headers were for HTML.
    setApiHeaders(res);
    if (err instanceof HttpError) return problem(res, err.status, err.title, err.message, err.headers, err.extras);
    if (err instanceof RingCallError) {
      const status = ringErrorStatus[err.ringError.kind] ?? 503;
      const detail = status >= 500 ? `The cluster could not complete this request right now (${err.message}). Try again in a moment.` : err.message;
      return problem(res, status, status === 504 ? 'Gateway Timeout' : status === 400 ? 'Bad Request' : status === 409 ? 'Conflict' : 'Service Unavailable', detail, status >= 500 ? { 'retry-after': '1' } : {});
    }
    problem(res, 500, 'Internal Server Error', 'unexpected error; see the node log');
    throw err;
  }

  return {
    /** Synchronous on the redirect fast path (no promise per request); a promise otherwise. */
    handle(req: IncomingMessage, res: ServerResponse): void | Promise<void> {
      // Absolute-form targets ("GET http://host/abc HTTP/1.1", which RFC 9112 says a server must
      // accept) are routed by their path and query, as the origin-form would be.
      if (req.url !== undefined && req.url.charCodeAt(0) !== 47 /* / */ && /^https?:\/\//i.test(req.url)) {
        try {
          const u = new URL(req.url);
          req.url = `${u.pathname}${u.search}`;
        } catch {
          setApiHeaders(res);
          return problem(res, 400, 'Bad Request', 'The request target is not a valid absolute URL.');
        }
      }
      const slug = deps.redirector ? slugOfTarget(req.url ?? '') : null;
      const heads = slug !== null && (req.method === 'GET' || req.method === 'HEAD' || req.method === 'POST') && !reservedLower.has(slug.toLowerCase()) ? redirectHeads(req.rawHeaders) : null;
      // The server runs with requireHostHeader off so that this refusal is problem+json too.
      const host = heads ? heads.host : req.headers.host;
      if (host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor >= 1) {
        setApiHeaders(res);
        return problem(res, 400, 'Bad Request', 'HTTP/1.1 requests must carry a Host header.', { connection: 'close' });
      }
      if (heads) {
        try {
          const done = deps.redirector!.handle(req, res, slug!, heads);
          if (done) return done.catch((err: unknown) => fail(res, err));
        } catch (err) {
          return fail(res, err);
        }
        return;
      }
      return route(req, res).catch((err: unknown) => fail(res, err));
    },
    /**
     * The server's 'clientError': Node's HTTP parser refused the request (bad request line,
     * method or header, headers over the size limit, a body that ends early, a timeout).
     * Answers as Node would (431, 408, else 400) but with a problem+json body, then closes.
     */
    clientError(err: Error & { code?: string }, socket: Duplex): void {
      // Never write into a response already under way on this connection (Node's own rule).
      const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
      if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) return void socket.destroy();
      if (err.code === 'HPE_HEADER_OVERFLOW') return rawProblem(socket, 431, 'Request Header Fields Too Large', 'The request headers (cookies included) are larger than this server accepts (16 KiB in all).');
      if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return rawProblem(socket, 408, 'Request Timeout', 'The request was not received in time.');
      rawProblem(socket, 400, 'Bad Request', 'The request is not valid HTTP/1.1 (request line, method, a header name or value, or the body framing), so it was not processed.');
    },
    /** The server's 'connect' (a CONNECT request): this is not a proxy. */
    connect(_req: IncomingMessage, socket: Duplex): void {
      rawProblem(socket, 405, 'Method Not Allowed', 'CONNECT is not supported: this server is not a proxy.');
    },
    upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/_ring') return deps.ringUpgrade(req, socket, head);
      if (path === '/socket.io/' && deps.live) return deps.live.upgrade(req, socket, head);
      if (path?.startsWith('/_next/') && deps.pages?.upgrade) return deps.pages.upgrade(req, socket, head);
      rawProblem(socket, 404, 'Not Found', `There is no WebSocket endpoint at ${(path ?? '/').slice(0, 200)}: live updates are on /socket.io/.`);
    },
  };
}
