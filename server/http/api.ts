// The public JSON API (docs/api.md): sessions and accounts, links, stats and API keys.
// Routes are thin: they parse with zod, find the caller, and call the services.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { slugSchema } from '../../contract/slug';
import { USERNAME_PATTERN, type Accounts } from '../auth/accounts';
import type { ApiKeys } from '../auth/apiKeys';
import type { Session, Sessions } from '../auth/sessions';
import { maxClicksLimit, type LinkInput, type LinkService, type LinkView } from '../links/linkService';
import { inputError, HttpError, json, readJson } from './respond';
import type { RateLimits } from './rateLimits';
import { checkOrigin, clientIp } from './security';
import { clearSessionCookie, readSessionId, sendSessionCookie } from './sessionCookie';

/** Largest API request body. */
export const apiBodyBytesMax = 16 * 1024;

export interface ApiDeps {
  links: LinkService;
  sessions: Sessions;
  accounts: Accounts;
  apiKeys: ApiKeys;
  limits: RateLimits;
  /** PUBLIC_URL without a trailing slash, when set. */
  publicUrl: string | undefined;
  /** Without PUBLIC_URL: whether a request's Host is one of this service's own (never reflect another). */
  isOwnHost(host: string): boolean;
  /** Without PUBLIC_URL: the base of short URLs when the Host is not one of ours. */
  defaultBaseUrl: string;
  trustProxy: boolean;
  /** Session cookies get Secure (PUBLIC_URL is https). */
  secureCookies: boolean;
}

interface Caller {
  owner: string;
  account: { id: string; username: string } | null;
  session: Session | null;
  viaApiKey: boolean;
}

const when = z
  .union([z.number().int(), z.string().min(1).max(64)])
  .transform((v, ctx) => {
    const ms = typeof v === 'number' ? v : Date.parse(v);
    if (!Number.isFinite(ms)) {
      ctx.addIssue({ code: 'custom', message: 'must be an ISO 8601 date-time such as 2030-01-31T12:00:00Z, or epoch milliseconds' });
      return z.NEVER;
    }
    return ms;
  });
const redirectStatus = z.union([z.literal(301), z.literal(302), z.literal(307), z.literal(308)], { error: 'must be 301, 302, 307 or 308' });
const maxClicks = z.number({ error: 'must be a whole number' }).int('must be a whole number').min(1, 'must be at least 1').max(maxClicksLimit, `must be at most ${maxClicksLimit}`);
const password = z.string().min(4, 'must be at least 4 characters').max(128, 'must be at most 128 characters');

const createBody = z.strictObject({
  url: z.string({ error: 'is required: the address to shorten' }).min(1, 'is required: the address to shorten').max(8192, 'is too long'),
  slug: slugSchema.optional(),
  expiresAt: when.nullable().optional(),
  password: password.nullable().optional(),
  maxClicks: maxClicks.nullable().optional(),
  redirectStatus: redirectStatus.optional(),
});
const patchBody = z.strictObject({
  url: z.string().min(1).max(8192).optional(),
  expiresAt: when.nullable().optional(),
  password: password.nullable().optional(),
  maxClicks: maxClicks.nullable().optional(),
  redirectStatus: redirectStatus.optional(),
});
const credentials = z.strictObject({
  username: z.string({ error: 'is required' }).max(256),
  password: z.string({ error: 'is required' }).max(1024),
});
const keyBody = z.strictObject({ name: z.string({ error: 'is required' }).trim().min(1, 'must not be empty').max(64, 'must be at most 64 characters') });

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  if (body === undefined) body = {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw inputError(400, undefined, 'body_not_object', 'The request body must be a JSON object.');
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.map(String).join('.') || undefined;
  // A rule with its own code (contract/slug.ts): its message is already the sentence to show.
  if (issue.code === 'custom' && typeof issue.params?.code === 'string') throw inputError(422, field, issue.params.code, issue.message);
  const message = issue.code === 'unrecognized_keys' ? `Unknown field${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}.` : `${field ?? 'body'} ${issue.message.replace(/^Invalid input: /, '')}`;
  throw inputError(422, issue.code === 'unrecognized_keys' ? issue.keys[0] : field, 'invalid_input', message.endsWith('.') ? message : `${message}.`);
}

async function body(req: IncomingMessage): Promise<unknown> {
  const type = String(req.headers['content-type'] ?? '');
  const declared = Number(req.headers['content-length'] ?? 0);
  if ((declared > 0 || req.headers['transfer-encoding']) && !/^application\/(.+\+)?json\b/i.test(type)) throw inputError(415, undefined, 'json_required', 'Send the body as JSON with Content-Type: application/json.');
  return readJson(req, apiBodyBytesMax);
}

export function createApi(deps: ApiDeps) {
  const { links, sessions, accounts, apiKeys, limits } = deps;
  const publicOrigin = deps.publicUrl ? new URL(deps.publicUrl).origin : undefined;

  function baseUrl(req: IncomingMessage): string {
    if (deps.publicUrl) return deps.publicUrl;
    // A Host header is the client's to choose: reflecting it would let anyone mint short
    // URLs on a domain of theirs (Host: attacker.example), so only our own hosts are used.
    const host = req.headers.host;
    return host && deps.isOwnHost(host) ? `http://${host}` : deps.defaultBaseUrl;
  }

  /** Who is calling: an API key, else the session cookie (created on the first write when `create`). */
  async function caller(req: IncomingMessage, res: ServerResponse, opts: { write: boolean; create?: boolean }): Promise<Caller | null> {
    const auth = req.headers.authorization;
    if (auth) {
      const m = /^Bearer\s+(\S+)$/i.exec(auth);
      const key = m ? await apiKeys.authenticate(m[1]!) : null;
      if (!key) throw new HttpError(401, 'Unauthorized', 'The API key is not valid (revoked, mistyped, or not a ringlink key). Create one on the API keys page.', { 'www-authenticate': 'Bearer' });
      return { owner: `a:${key.accountId}`, account: { id: key.accountId, username: key.username }, session: null, viaApiKey: true };
    }
    if (opts.write) checkOrigin(req, publicOrigin);
    const session = opts.create ? await sessions.ensure(readSessionId(req)) : await sessions.current(readSessionId(req));
    sendSessionCookie(res, session, deps.secureCookies);
    if (!session) return null;
    const account = session.doc.accountId ? { id: session.doc.accountId, username: session.doc.username ?? '' } : null;
    return { owner: account ? `a:${account.id}` : `s:${session.idHash}`, account, session, viaApiKey: false };
  }

  async function requireCaller(req: IncomingMessage, res: ServerResponse, write: boolean): Promise<Caller> {
    const c = await caller(req, res, { write });
    if (!c) throw inputError(404, undefined, 'link_not_found', 'There is no such link among yours (you have no session yet).');
    return c;
  }

  async function requireAccount(req: IncomingMessage, res: ServerResponse, write: boolean): Promise<Caller & { account: { id: string; username: string } }> {
    const c = await caller(req, res, { write });
    if (!c?.account) throw new HttpError(401, 'Unauthorized', 'Sign in to manage API keys.');
    return c as Caller & { account: { id: string; username: string } };
  }

  async function signedIn(req: IncomingMessage, res: ServerResponse, account: { id: string; username: string }, status: number): Promise<void> {
    const old = await sessions.current(readSessionId(req));
    sendSessionCookie(res, old, deps.secureCookies);
    let migrated = 0;
    if (old && !old.doc.accountId) migrated = await links.migrate(`s:${old.idHash}`, `a:${account.id}`);
    sendSessionCookie(res, await sessions.signIn(old, account), deps.secureCookies);
    json(res, status, { user: { id: account.id, username: account.username }, migrated });
  }

  async function listLinks(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const c = await caller(req, res, { write: false });
    if (!c) return json(res, 200, { links: [] });
    const q = (url.searchParams.get('q') ?? '').toLowerCase();
    const sort = url.searchParams.get('sort') ?? 'created';
    const order = url.searchParams.get('order') ?? (sort === 'slug' ? 'asc' : 'desc');
    if (!['created', 'total', 'slug'].includes(sort)) throw inputError(400, 'sort', 'invalid_sort', 'sort must be created, total or slug.');
    if (!['asc', 'desc'].includes(order)) throw inputError(400, 'order', 'invalid_order', 'order must be asc or desc.');
    const docs = (await links.list(c.owner)).filter((d) => !q || d.slug.toLowerCase().includes(q) || d.url.toLowerCase().includes(q));
    const views = await links.views(docs, baseUrl(req));
    const key = (v: LinkView): number | string => (sort === 'total' ? v.total : sort === 'slug' ? v.slug.toLowerCase() : v.createdAt);
    views.sort((a, b) => {
      const x = key(a);
      const y = key(b);
      const cmp = x < y ? -1 : x > y ? 1 : 0;
      return order === 'asc' ? cmp : -cmp;
    });
    json(res, 200, { links: views });
  }

  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const ip = clientIp(req, deps.trustProxy);

    if (path === '/api/session' && method === 'GET') {
      const c = await caller(req, res, { write: false }).catch(() => null);
      return json(res, 200, { user: c?.account ? { id: c.account.id, username: c.account.username } : null });
    }
    if (path === '/api/auth/signup' && method === 'POST') {
      checkOrigin(req, publicOrigin);
      const { username, password: pw } = parse(credentials, await body(req));
      const u = username.trim().toLowerCase();
      if (!USERNAME_PATTERN.test(u)) throw inputError(422, 'username', 'invalid_username', 'Usernames are 3-32 characters of a-z, 0-9, "_" and "-".');
      if (pw.length < 8 || pw.length > 256) throw inputError(422, 'password', 'invalid_password', 'Passwords need 8 to 256 characters.');
      await limits.signUp(ip);
      const r = await accounts.signUp(u, pw);
      if (!r.ok) throw inputError(409, 'username', 'username_taken', `The username "${u}" is taken. Choose another one.`);
      return signedIn(req, res, r.account, 201);
    }
    if (path === '/api/auth/signin' && method === 'POST') {
      checkOrigin(req, publicOrigin);
      const { username, password: pw } = parse(credentials, await body(req));
      const u = username.trim().toLowerCase();
      await limits.signIn(ip, u);
      const account = USERNAME_PATTERN.test(u) ? await accounts.verify(u, pw) : null;
      if (!account) throw inputError(401, undefined, 'bad_credentials', 'That username and password do not match an account.');
      await limits.signedIn(ip, u);
      return signedIn(req, res, account, 200);
    }
    if (path === '/api/auth/signout' && method === 'POST') {
      checkOrigin(req, publicOrigin);
      const session = await sessions.current(readSessionId(req));
      sendSessionCookie(res, session, deps.secureCookies);
      // Ending a session is a write too (its record is deleted on the ring).
      if (session) {
        await limits.write(ip, session.doc.accountId ? `a:${session.doc.accountId}` : `s:${session.idHash}`);
        await sessions.signOut(session);
      }
      clearSessionCookie(res, deps.secureCookies);
      res.writeHead(204, { 'cache-control': 'no-store' });
      return void res.end();
    }

    if (path === '/api/links') {
      if (method === 'GET') return listLinks(req, res, url);
      if (method === 'POST') {
        const input = parse(createBody, await body(req));
        links.checkInput(input as LinkInput);
        const c = (await caller(req, res, { write: true, create: true }))!;
        await limits.create(ip, c.owner);
        const doc = await links.create(c.owner, input as LinkInput);
        return json(res, 201, await links.view(doc, baseUrl(req)), { location: `/api/links/${doc.slug}` });
      }
    }
    const linkMatch = /^\/api\/links\/([^/]+)(\/stats)?$/.exec(path);
    if (linkMatch) {
      let slug: string;
      try {
        slug = decodeURIComponent(linkMatch[1]!);
      } catch {
        throw inputError(400, undefined, 'invalid_path', 'The link name in the path is not valid percent-encoding (such as %41 for "A").');
      }
      if (linkMatch[2]) {
        if (method !== 'GET') throw new HttpError(405, 'Method Not Allowed', `${method} is not supported on ${path}; use GET.`, { allow: 'GET' });
        const c = await requireCaller(req, res, false);
        await links.owned(c.owner, slug);
        return json(res, 200, await links.stats(slug));
      }
      if (method === 'GET') {
        const c = await requireCaller(req, res, false);
        const { doc } = await links.owned(c.owner, slug);
        return json(res, 200, await links.view(doc, baseUrl(req)));
      }
      if (method === 'PATCH') {
        const patch = parse(patchBody, await body(req));
        links.checkInput(patch as Partial<LinkInput>);
        const c = await requireCaller(req, res, true);
        await limits.write(ip, c.owner);
        const doc = await links.update(c.owner, slug, patch as Partial<LinkInput>);
        return json(res, 200, await links.view(doc, baseUrl(req)));
      }
      if (method === 'DELETE') {
        const c = await requireCaller(req, res, true);
        await limits.write(ip, c.owner);
        await links.remove(c.owner, slug);
        res.writeHead(204, { 'cache-control': 'no-store' });
        return void res.end();
      }
      throw new HttpError(405, 'Method Not Allowed', `${method} is not supported on ${path}; use GET, PATCH or DELETE.`, { allow: 'GET, PATCH, DELETE' });
    }

    if (path === '/api/keys') {
      if (method === 'GET') {
        const c = await requireAccount(req, res, false);
        const keys = await apiKeys.list(c.account.id);
        return json(res, 200, { keys: keys.map((k) => ({ id: k.id, name: k.name, prefix: k.prefix, createdAt: new Date(k.createdAt).toISOString() })) });
      }
      if (method === 'POST') {
        const { name } = parse(keyBody, await body(req));
        const c = await requireAccount(req, res, true);
        await limits.write(ip, c.owner);
        const r = await apiKeys.create(c.account, name);
        if ('tooMany' in r) throw inputError(422, undefined, 'too_many_keys', 'You have the most API keys an account may hold. Revoke one first.');
        return json(res, 201, { id: r.doc.id, name: r.doc.name, prefix: r.doc.prefix, createdAt: new Date(r.doc.createdAt).toISOString(), key: r.key });
      }
    }
    const keyMatch = /^\/api\/keys\/([A-Za-z0-9]{1,64})$/.exec(path);
    if (keyMatch && method === 'DELETE') {
      const c = await requireAccount(req, res, true);
      await limits.write(ip, c.owner);
      if (!(await apiKeys.revoke(c.account.id, keyMatch[1]!))) throw inputError(404, undefined, 'key_not_found', 'There is no such API key on your account.');
      res.writeHead(204, { 'cache-control': 'no-store' });
      return void res.end();
    }
    throw new HttpError(404, 'Not Found', `There is no API route for ${method} ${path}. See docs/api.md.`);
  }

  return { route };
}
