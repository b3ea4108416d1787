// A small HTTP client for the public API, as a browser would use it: it keeps the session
// cookie, sends Origin on writes, and never follows redirects (callers look at them). Plus a
// visitor following a short link, and the session and link setup most callers start with.
import { randomBytes } from 'node:crypto';
import { waitFor } from './wait';

/** A desktop Chrome's user agent: a visitor with it is counted as a human view. */
export const BROWSER_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';

/** What a client needs of a node: its base URL. */
export interface Endpoint {
  readonly name: string;
  readonly url: string;
}

/** A 201 answer to POST /api/links (the fields callers read; the rest as the server sent it). */
export type CreatedLink = { slug: string } & Record<string, any>;

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export class ApiClient {
  /** Shared by every view of the same browser (see via()). */
  private jar: { cookie: string | undefined } = { cookie: undefined };
  constructor(
    public node: Endpoint,
    private readonly bearer?: string,
  ) {}

  private get cookie(): string | undefined {
    return this.jar.cookie;
  }
  private set cookie(v: string | undefined) {
    this.jar.cookie = v;
  }

  /** The `rl_sid=...` cookie this browser holds, if any (for socket.io handshakes). */
  get sessionCookie(): string | undefined {
    return this.jar.cookie;
  }

  /** The same browser (one cookie jar), talking to another node. */
  via(node: Endpoint): ApiClient {
    const c = new ApiClient(node, this.bearer);
    c.jar = this.jar;
    return c;
  }

  async call<T = any>(
    method: string,
    path: string,
    body?: unknown,
    extra: Record<string, string> = {},
  ): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...extra };
    if (this.cookie) headers.cookie = this.cookie;
    if (this.bearer) headers.authorization = `Bearer ${this.bearer}`;
    if (method !== 'GET' && method !== 'HEAD' && !('origin' in headers)) headers.origin = this.node.url;
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(this.node.url + path, {
      method,
      headers,
      redirect: 'manual',
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(10_000),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      if (pair?.startsWith('rl_sid=')) this.cookie = pair.endsWith('=') ? undefined : pair;
    }
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  get<T = any>(path: string) {
    return this.call<T>('GET', path);
  }
  post<T = any>(path: string, body?: unknown) {
    return this.call<T>('POST', path, body ?? {});
  }
  patch<T = any>(path: string, body: unknown) {
    return this.call<T>('PATCH', path, body);
  }
  del<T = any>(path: string) {
    return this.call<T>('DELETE', path);
  }

  /**
   * POST /api/links until it answers 201 (a fresh ring claims slugs once its CAS acceptors caught
   * up, a few seconds after the joins); the 201 reply. Bounded by timeoutMs.
   */
  async createLink(body: Record<string, unknown>, timeoutMs = 30_000): Promise<Reply<CreatedLink>> {
    return waitFor(
      async () => {
        const x = await this.post('/api/links', body);
        return x.status === 201 ? x : null;
      },
      { timeoutMs, intervalMs: 200, what: 'a create' },
    );
  }

  /** Sign up (this browser then holds the account's session); throws unless 201. */
  async signUp(username: string, password: string): Promise<Reply> {
    const r = await this.post('/api/auth/signup', { username, password });
    if (r.status !== 201) throw new Error(`sign-up of ${username} answered ${r.status}: ${JSON.stringify(r.body)}`);
    return r;
  }

  /** A new API key of the signed-in account: { key, id }; throws unless 201. */
  async createKey(name: string): Promise<{ key: string; id: string }> {
    const r = await this.post('/api/keys', { name });
    if (r.status !== 201) throw new Error(`POST /api/keys answered ${r.status}: ${JSON.stringify(r.body)}`);
    return { key: r.body.key, id: r.body.id };
  }
}

/** A browser signed in to a fresh account with a random name (`prefix-<hex>`) and password. */
export async function newAccount(node: Endpoint, prefix = 'user'): Promise<ApiClient> {
  const c = new ApiClient(node);
  await c.signUp(`${prefix}-${randomBytes(4).toString('hex')}`, `pw-${randomBytes(8).toString('hex')}`);
  return c;
}

export interface Visit {
  status: number;
  location: string | null;
  text: string;
  headers: Headers;
}

/** A visitor following a short link: no cookie, a browser user agent by default. */
export async function visit(
  node: Endpoint,
  slug: string,
  opts: { method?: string; ua?: string; referer?: string } = {},
): Promise<Visit> {
  const res = await fetch(`${node.url}/${slug}`, {
    method: opts.method ?? 'GET',
    redirect: 'manual',
    headers: { 'user-agent': opts.ua ?? BROWSER_UA, ...(opts.referer ? { referer: opts.referer } : {}) },
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, location: res.headers.get('location'), text: await res.text(), headers: res.headers };
}
