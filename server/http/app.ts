// The node's HTTP front, in the order a request meets it: the redirect fast path (one path
// segment that can be a slug, not reserved), socket.io's HTTP requests, the route table
// (./routes/: health, metrics, the cluster view, the public JSON API, the admin API, test
// hooks; ./router.ts answers 404 and 405 from it), and last Next.js for pages. Errors become
// problem+json in one place (./errors.ts). Hot paths never reach Next.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import { isSlugCharCode, slugCharsMax, slugCharsMin } from '../../contract/slug';
import type { RingNode } from '../../ring';
import { RingClient } from '../ringClient';
import { requireAdminToken } from './adminAuth';
import { apiOf, type ApiDeps } from './callers';
import { problemOf } from './errors';
import { openApiDocument } from './openapi';
import { HttpError, inputError, problem } from './respond';
import { reservedSlugs } from './reservedSlugs';
import { createRouter } from './router';
import type { ClusterDeps } from './routes/cluster';
import { mountedRoutes, routeTable } from './routes';
import { checkOrigin, redirectHeads, setApiHeaders, setPageHeaders, type RedirectHeads } from './security';
import { cryptoRandom, nodeTimers } from '../runtime';

/**
 * The slug when the request target is one path segment that could be a slug, with an optional query string; else
 * null.
 */
export function slugOfTarget(target: string): string | null {
  if (target.charCodeAt(0) !== 47 /* / */) return null;
  let i = 1;
  for (; i < target.length; i++) if (!isSlugCharCode(target.charCodeAt(i))) break;
  const n = i - 1;
  if (n < slugCharsMin || n > slugCharsMax || (i < target.length && target.charCodeAt(i) !== 63) /* ? */) return null;
  return target.slice(1, i);
}

export interface PageHandler {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

export interface AppDeps {
  /** The public API's services. */
  api: ApiDeps;
  redirector?: {
    handle(req: IncomingMessage, res: ServerResponse, slug: string, heads: RedirectHeads): void | Promise<void>;
  };
  /** Next.js pages; absent when the UI is off or not built. */
  pages?: PageHandler;
  /** socket.io (engine.io) on /socket.io/. */
  live?: {
    upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
    handleRequest(req: IncomingMessage, res: ServerResponse): void;
  };
  /** GET /api/cluster/summary: cluster-wide figures through a coverage query. */
  summary: ClusterDeps['summary'];
  node: RingNode;
  metrics: Registry;
  adminToken: string | undefined;
  /** Mount the test hooks (RINGLINK_TEST_FAULTS=1). */
  testFaults: boolean;
  ringUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  setBlocked(names: readonly string[]): void;
  /** Body size limit for admin writes. */
  bodyBytesMax: number;
}

/** A problem+json answer written straight to a socket that has no ServerResponse, then closed. */
function rawProblem(socket: Duplex, status: number, title: string, detail: string): void {
  const body = JSON.stringify({
    type: `https://ringlink.dev/problems/${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`,
    title,
    status,
    detail,
  });
  socket.end(
    `HTTP/1.1 ${status} ${title}\r\ncontent-type: application/problem+json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** The route table of this node (./routes/), with what is not in it: pages, and the API's 404s. */
function routerFor(deps: AppDeps) {
  const { node } = deps;
  const ring = new RingClient(node, { timers: nodeTimers(), random: cryptoRandom() });
  const api = apiOf(deps.api);
  const requireAdmin = (req: IncomingMessage) => requireAdminToken(req, deps.adminToken);
  let openapi: object | undefined;
  const routes = mountedRoutes({
    node: { node, metrics: deps.metrics, openapi: () => (openapi ??= openApiDocument(routeTable)) },
    cluster: { node, summary: deps.summary, adminToken: deps.adminToken },
    api,
    admin: { node },
    data: { ring },
    test: { node, links: deps.api.links, setBlocked: deps.setBlocked },
    testFaults: deps.testFaults,
  });

  /** A request no route's path matches: an API 404, else a page. */
  function miss(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (path.startsWith('/api/admin/')) {
      requireAdmin(req);
      throw new HttpError(404, 'Not Found', `no admin route for ${method} ${path}`);
    }
    if (path.startsWith('/api/')) {
      throw new HttpError(404, 'Not Found', `There is no API route for ${method} ${path}. See docs/api.md.`);
    }
    if (deps.pages) {
      setPageHeaders(req, res);
      return deps.pages.handle(req, res);
    }
    throw new HttpError(404, 'Not Found', `no route for ${method} ${path}`);
  }

  return createRouter(routes, {
    requireAdmin,
    requireSameOrigin: (req) => checkOrigin(req, api.publicOrigin),
    adminBodyBytesMax: deps.bodyBytesMax,
    miss,
    badPath(req, res, url) {
      if (/^\/api\/links\/[^/]+(\/stats)?$/.test(url.pathname)) {
        const detail = 'The link name in the path is not valid percent-encoding (such as %41 for "A").';
        throw inputError(400, undefined, 'invalid_path', detail);
      }
      return miss(req, res, url);
    },
  });
}

/** An error as the answer to a request: its problem (./errors.ts), or a 500 for a bug (rethrown, to be logged). */
function fail(res: ServerResponse, err: unknown): void {
  if (res.headersSent) return void res.destroy();
  // The error may come from the redirect path or a page, whose headers were for HTML.
  setApiHeaders(res);
  const p = problemOf(err);
  if (p) return problem(res, p.status, p.title, p.detail, p.headers, p.extras);
  problem(res, 500, 'Internal Server Error', 'unexpected error; see the node log');
  throw err;
}

/**
 * The server's 'clientError': Node's HTTP parser refused the request (bad request line,
 * method or header, headers over the size limit, a body that ends early, a timeout).
 * Answers as Node would (431, 408, else 400) but with a problem+json body, then closes.
 */
function clientError(err: Error & { code?: string }, socket: Duplex): void {
  // Never write into a response already under way on this connection (Node's own rule).
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) return void socket.destroy();
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    const detail = 'The request headers (cookies included) are larger than this server accepts (16 KiB in all).';
    return rawProblem(socket, 431, 'Request Header Fields Too Large', detail);
  }
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return rawProblem(socket, 408, 'Request Timeout', 'The request was not received in time.');
  }
  const detail =
    'The request is not valid HTTP/1.1 (request line, method, a header name or value, or the body framing), ' +
    'so it was not processed.';
  rawProblem(socket, 400, 'Bad Request', detail);
}

function upgrade(deps: AppDeps, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/_ring') return deps.ringUpgrade(req, socket, head);
  if (path === '/socket.io/' && deps.live) return deps.live.upgrade(req, socket, head);
  if (path?.startsWith('/_next/') && deps.pages?.upgrade) return deps.pages.upgrade(req, socket, head);
  const detail = `There is no WebSocket endpoint at ${(path ?? '/').slice(0, 200)}: live updates are on /socket.io/.`;
  rawProblem(socket, 404, 'Not Found', detail);
}

export function createApp(deps: AppDeps) {
  const router = routerFor(deps);

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Concatenate rather than resolve: a target such as "//x" must stay a path, not become a host.
    let url: URL;
    try {
      url = new URL(`http://localhost${req.url?.startsWith('/') ? req.url : '/'}`);
    } catch {
      throw new HttpError(400, 'Bad Request', 'The request path is not a valid URL path.');
    }
    // Every answer below is JSON, metrics text or socket.io's; pages replace the CSP with their own.
    setApiHeaders(res);
    if (url.pathname.startsWith('/socket.io/') && deps.live) return deps.live.handleRequest(req, res);
    return router.dispatch(req, res, url);
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
      const method = req.method;
      const slugMethod = method === 'GET' || method === 'HEAD' || method === 'POST';
      const heads =
        slug !== null && slugMethod && !reservedSlugs.has(slug.toLowerCase()) ? redirectHeads(req.rawHeaders) : null;
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
    clientError,
    /** The server's 'connect' (a CONNECT request): this is not a proxy. */
    connect(_req: IncomingMessage, socket: Duplex): void {
      rawProblem(socket, 405, 'Method Not Allowed', 'CONNECT is not supported: this server is not a proxy.');
    },
    upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => upgrade(deps, req, socket, head),
  };
}
