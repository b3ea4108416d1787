// The route table's machinery, on find-my-way (Fastify's radix-tree router). A route is a
// method, a path, who may call it, the schema of its body and a handler; the tables live in
// ./routes/. From them the router answers what no handler writes by hand: 404 for a path no
// route has (through the app's fallback), 405 with Allow for a method a path does not take,
// HEAD wherever GET is, and the 4xx problems of a body that is missing, too large, not JSON or
// not valid (docs/api.md). The same tables give the OpenAPI document (./openapi.ts) and the
// reserved slugs (./reservedSlugs.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import FindMyWay from 'find-my-way';
import type { z } from 'zod';
import { HttpError, inputError, readJson } from './respond';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Who may call a route.
 *   none     anyone
 *   session  a browser, by its session cookie (or none yet): a write must carry a matching
 *            Origin (docs/api.md, Who is calling), checked before the body is read
 *   caller   a session cookie or an API key; the handler resolves the caller (./callers.ts)
 *            once its input is checked, so bad input gets its 4xx before the ring is touched
 *   account  as caller, signed in to an account (API keys belong to accounts)
 *   admin    `Authorization: Bearer <ADMIN_TOKEN>`, checked before the body is read
 *   test     as admin, and mounted only when the node runs with RINGLINK_TEST_FAULTS=1
 */
export type Auth = 'none' | 'session' | 'caller' | 'account' | 'admin' | 'test';

/** What the OpenAPI document says of a route (./openapi.ts). */
export interface RouteDoc {
  summary: string;
  tag: string;
  /** Status → what the answer is, and its JSON body's schema when it has one. */
  responses: Readonly<Record<number, { description: string; schema?: z.ZodType }>>;
  /** The query string, when the route reads one. */
  query?: z.ZodObject;
  /** Left out of the document (operator and test routes are not the public API). */
  hidden?: boolean;
}

export interface RequestContext<B> {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** url.pathname: percent-encoded as the client sent it. */
  path: string;
  /** Path parameters, percent-decoded. */
  params: Readonly<Record<string, string | undefined>>;
  /** The body, parsed by the route's schema; undefined when the route has none. */
  body: B;
}

type BodyOf<S> = S extends z.ZodType ? z.output<S> : undefined;

interface RouteSpec<D, S extends z.ZodType | undefined> {
  method: Method;
  /** find-my-way syntax: `/api/links/:slug`. */
  path: string;
  auth: Auth;
  body?: S;
  doc: RouteDoc;
  handler(ctx: RequestContext<BodyOf<S>>, deps: D): Promise<void> | void;
}

export interface Route<D> {
  readonly method: Method;
  readonly path: string;
  readonly auth: Auth;
  readonly body?: z.ZodType;
  readonly doc: RouteDoc;
  handler(ctx: RequestContext<never>, deps: D): Promise<void> | void;
}

/** A route helper for one table: `const route = routesFor<Deps>()`, then `route({...})` types each handler. */
export function routesFor<D>() {
  return <S extends z.ZodType | undefined = undefined>(spec: RouteSpec<D, S>): Route<D> => spec as unknown as Route<D>;
}

/** A route with its dependencies, ready to mount. */
export interface BoundRoute {
  readonly route: Route<never>;
  run(ctx: RequestContext<unknown>): Promise<void> | void;
}

export function bind<D>(routes: readonly Route<D>[], deps: D): BoundRoute[] {
  return routes.map((route) => ({
    route: route as Route<never>,
    run: (ctx) => route.handler(ctx as RequestContext<never>, deps),
  }));
}

/** Largest body of the public API (docs/api.md: at most 16 KiB). */
export const apiBodyBytesMax = 16 * 1024;

export interface RouterOptions {
  /** Refuses a request without the admin token (401/403). */
  requireAdmin(req: IncomingMessage): void;
  /** Refuses a cookie-authenticated write whose Origin is not ours (403). */
  requireSameOrigin(req: IncomingMessage): void;
  /** Largest body of an admin or test route. */
  adminBodyBytesMax: number;
  /** Where a request that no route's path matches goes (pages, or a 404). */
  miss(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> | void;
  /** A path whose percent-encoding does not decode. */
  badPath(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> | void;
}

const methodOrder = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
type AnyMethod = (typeof methodOrder)[number];

function listed(methods: readonly string[]): string {
  return methods.length === 1 ? methods[0]! : `${methods.slice(0, -1).join(', ')} or ${methods[methods.length - 1]}`;
}

const isOperator = (auth: Auth) => auth === 'admin' || auth === 'test';

export function createRouter(routes: readonly BoundRoute[], opts: RouterOptions) {
  const fmw = FindMyWay({ onBadUrl: () => undefined, maxParamLength: 2_048 });
  for (const bound of routes) {
    const { method, path } = bound.route;
    fmw.on(method, path, () => undefined, bound);
    if (method === 'GET') fmw.on('HEAD', path, () => undefined, bound);
  }

  /** A body of the public API: JSON (415 otherwise), at most 16 KiB, an object. */
  async function apiBody(req: IncomingMessage): Promise<unknown> {
    const type = String(req.headers['content-type'] ?? '');
    const declared = Number(req.headers['content-length'] ?? 0);
    if ((declared > 0 || req.headers['transfer-encoding']) && !/^application\/(.+\+)?json\b/i.test(type)) {
      throw inputError(415, undefined, 'json_required', 'Send the body as JSON with Content-Type: application/json.');
    }
    const read = await readJson(req, apiBodyBytesMax);
    const body = read === undefined ? {} : read;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw inputError(400, undefined, 'body_not_object', 'The request body must be a JSON object.');
    }
    return body;
  }

  async function bodyOf(route: Route<never>, req: IncomingMessage): Promise<unknown> {
    if (!route.body) return undefined;
    // Operators' tools send JSON without always saying so; their bodies are checked by the schema alone.
    const raw = isOperator(route.auth) ? ((await readJson(req, opts.adminBodyBytesMax)) ?? {}) : await apiBody(req);
    return validate(route.body, raw);
  }

  function gate(auth: Auth, req: IncomingMessage, method: string): void {
    if (isOperator(auth)) opts.requireAdmin(req);
    else if (auth === 'session' && method !== 'GET' && method !== 'HEAD') opts.requireSameOrigin(req);
  }

  /** The methods the path takes (405's Allow), and whether one of its routes is an operator's. */
  function allowed(path: string): { methods: AnyMethod[]; operator: boolean } {
    const methods: AnyMethod[] = [];
    let operator = false;
    for (const m of methodOrder) {
      const found = fmw.find(m, path);
      if (found?.store) {
        methods.push(m);
        operator ||= isOperator((found.store as BoundRoute).route.auth);
      }
    }
    return { methods, operator };
  }

  return {
    async dispatch(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
      const path = url.pathname;
      const method = req.method ?? 'GET';
      const found = (methodOrder as readonly string[]).includes(method) ? fmw.find(method as AnyMethod, path) : null;
      if (found && !found.store) return opts.badPath(req, res, url);
      if (!found) {
        const other = allowed(path);
        if (other.methods.length === 0) return opts.miss(req, res, url);
        // Operator routes say nothing, not even which methods they take, before the token.
        if (other.operator) opts.requireAdmin(req);
        const readOnly = other.methods.every((m) => m === 'GET' || m === 'HEAD');
        const detail = readOnly
          ? `${path} is read-only: use GET or HEAD`
          : `${method} is not supported on ${path}; use ${listed(other.methods)}.`;
        throw new HttpError(405, 'Method Not Allowed', detail, { allow: other.methods.join(', ') });
      }
      const bound = found.store as BoundRoute;
      gate(bound.route.auth, req, method);
      const body = await bodyOf(bound.route, req);
      await bound.run({ req, res, url, path, params: found.params, body });
    },
  };
}

/**
 * The body as the schema parses it, or a 422 naming the field at fault with a stable code:
 * `invalid_input`, or the code of a rule that has its own (a custom issue's `params.code`).
 */
export function validate<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.map(String).join('.') || undefined;
  // A rule with its own code (contract/slug.ts): its message is already the sentence to show.
  if (issue.code === 'custom' && typeof issue.params?.code === 'string')
    throw inputError(422, field, issue.params.code, issue.message);
  const message =
    issue.code === 'unrecognized_keys'
      ? `Unknown field${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}.`
      : `${field ?? 'body'} ${issue.message.replace(/^Invalid input: /, '')}`;
  throw inputError(
    422,
    issue.code === 'unrecognized_keys' ? issue.keys[0] : field,
    'invalid_input',
    message.endsWith('.') ? message : `${message}.`,
  );
}
