// HTTP for the chaos clients: every request has a timeout, and every failure is classified
// the way Jepsen does it:
//   ok    the node answered (any status; the caller decides what the status means)
//   fail  the request certainly did not reach the node (connection refused)
//   info  the outcome is unknown (timeout, reset, malformed answer): it may or may not have
//         taken effect
//
// Browser keeps a session cookie like testkit's ApiClient (Origin on writes,
// no redirects followed), but with a timeout per call, classified errors, and a cookie that
// does not silently change: when a node answers with a different rl_sid (it did not find the
// session and issued a new one), the browser records it and keeps the session it had, so the
// checkers can tell "this user was signed out" from "this user's data is gone".

import { BROWSER_UA, type Endpoint } from '../testkit';

export interface Answer<T = any> {
  kind: 'ok';
  status: number;
  body: T;
  headers: Headers;
  /** The node issued this new session cookie instead of honouring the browser's (recorded in Browser.replacements, not adopted). */
  replacedWith?: string;
}
export interface Failure {
  kind: 'fail' | 'info';
  error: string;
}
export type Outcome<T = any> = Answer<T> | Failure;

export type Target = Endpoint;

function classify(err: unknown): Failure {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return { kind: 'info', error: 'timeout' };
  const code = e?.cause?.code;
  // Refused: nothing listened, so nothing was done. Everything else (reset, socket closed
  // mid-request, DNS-free network errors) may have reached the node.
  if (code === 'ECONNREFUSED') return { kind: 'fail', error: 'connection refused' };
  return { kind: 'info', error: code ?? e?.cause?.message ?? e?.message ?? String(err) };
}

export async function call<T = any>(
  url: string,
  method: string,
  opts: { headers?: Record<string, string>; body?: unknown; timeoutMs: number },
): Promise<Outcome<T>> {
  try {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.body !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(url, {
      method,
      headers,
      redirect: 'manual',
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    const text = await res.text();
    let body: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text) {
      try {
        body = JSON.parse(text);
      } catch {
        return { kind: 'info', error: `malformed JSON (${res.status})` };
      }
    }
    return { kind: 'ok', status: res.status, body: body as T, headers: res.headers };
  } catch (err) {
    return classify(err);
  }
}

export class Browser {
  cookie: string | undefined;
  /** Set-Cookie answers that tried to replace this browser's session (node name, time, path). */
  readonly replacements: { node: string; at: number; path: string }[] = [];
  constructor(readonly id: string) {}

  async call<T = any>(
    node: Target,
    method: string,
    path: string,
    body: unknown,
    timeoutMs: number,
    cookie = this.cookie,
  ): Promise<Outcome<T>> {
    const headers: Record<string, string> = { 'user-agent': BROWSER_UA };
    if (cookie) headers.cookie = cookie;
    if (method !== 'GET' && method !== 'HEAD') headers.origin = node.url;
    const r = await call<T>(node.url + path, method, { headers, body, timeoutMs });
    if (r.kind === 'ok') {
      for (const c of r.headers.getSetCookie()) {
        const [pair] = c.split(';');
        if (!pair?.startsWith('rl_sid=') || pair.endsWith('=')) continue;
        if (this.cookie === undefined) this.cookie = pair;
        else if (pair !== cookie) {
          r.replacedWith = pair;
          if (this.replacements.length < 1000) this.replacements.push({ node: node.name, at: performance.now(), path });
        }
      }
    }
    return r;
  }
}

/** GET (counted) or HEAD (never counted) /:slug as a visitor without a cookie. */
export function visit(node: Target, slug: string, method: 'GET' | 'HEAD', timeoutMs: number): Promise<Outcome<string>> {
  return call<string>(`${node.url}/${slug}`, method, { headers: { 'user-agent': BROWSER_UA }, timeoutMs });
}
