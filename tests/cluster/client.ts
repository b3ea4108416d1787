// A small HTTP client for the public API, as a browser would use it: it keeps the session
// cookie, sends Origin on writes, and never follows redirects (tests look at them).
import type { RingProcess } from './harness';

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export class ApiClient {
  /** Shared by every view of the same browser (see via()). */
  private jar: { cookie: string | undefined } = { cookie: undefined };
  constructor(
    public node: RingProcess,
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
  via(node: RingProcess): ApiClient {
    const c = new ApiClient(node, this.bearer);
    c.jar = this.jar;
    return c;
  }

  async call<T = any>(method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<Reply<T>> {
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
}

/** A visitor following a short link: no cookie, a browser user agent by default. */
export async function visit(node: RingProcess, slug: string, opts: { method?: string; ua?: string; referer?: string } = {}): Promise<{ status: number; location: string | null; text: string; headers: Headers }> {
  const res = await fetch(`${node.url}/${slug}`, {
    method: opts.method ?? 'GET',
    redirect: 'manual',
    headers: { 'user-agent': opts.ua ?? 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36', ...(opts.referer ? { referer: opts.referer } : {}) },
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, location: res.headers.get('location'), text: await res.text(), headers: res.headers };
}
