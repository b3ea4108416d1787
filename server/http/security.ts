// Security (README.md, Security): headers, the Origin check on cookie-authenticated writes, and client
// addresses (behind a trusted proxy or not). Rate limits are in rateLimits.ts.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { inputError } from './respond';

/** 128 random bits per page response: a nonce an attacker cannot guess or reuse (CSP3 asks for at least 128). */
const nonceBytes = 16;

/**
 * For pages (Next.js): a strict CSP (https://web.dev/articles/strict-csp). Next reads the nonce from the
 * request's CSP header and puts it on its bootstrap and inline scripts; 'strict-dynamic' lets those load
 * the chunks they need, so neither 'unsafe-inline' nor 'unsafe-eval' is allowed for scripts. The server
 * runs Next's production build only (dev: false), which needs no eval.
 * Styles: <style> elements need the nonce (style-src-elem), but style attributes stay allowed
 * (style-src-attr 'unsafe-inline'): React renders style={{...}} props as attributes in server HTML (the
 * ring's colours, bar widths), attributes cannot carry a nonce, and a style attribute cannot run script.
 * style-src keeps 'unsafe-inline' only for browsers without the -elem/-attr directives (before
 * Chrome 75, Firefox 108, Safari 15.4), which then behave as before.
 */
export function pageCsp(nonce: string): string {
  const n = `'nonce-${nonce}'`;
  return [
    "default-src 'self'",
    `script-src 'self' ${n} 'strict-dynamic'`,
    "style-src 'self' 'unsafe-inline'",
    `style-src-elem 'self' ${n}`,
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self' ws: wss:",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "object-src 'none'",
  ].join('; ');
}
/** For the server's own HTML (404/410/password pages): no scripts at all. */
// form-action is checked on the redirect after a form post too, and the password form leads to the link's target.
const staticCsp =
  "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' https: http:; frame-ancestors 'none'; base-uri 'none'";
/** For everything that is not HTML (JSON, problem+json, metrics, socket.io): nothing may load or frame it. */
const apiCsp = "default-src 'none'; frame-ancestors 'none'";

const common: Array<[string, string]> = [
  ['x-content-type-options', 'nosniff'],
  ['referrer-policy', 'strict-origin-when-cross-origin'],
  ['x-frame-options', 'DENY'],
  ['cross-origin-opener-policy', 'same-origin'],
];

/**
 * Before handing a request to Next: response headers set later are dropped, and Next
 * takes the nonce for its scripts from the request's Content-Security-Policy header, so the same
 * policy goes on the request too (replacing any the client sent, report-only ones included).
 */
export function setPageHeaders(req: IncomingMessage, res: ServerResponse): void {
  const csp = pageCsp(randomBytes(nonceBytes).toString('base64'));
  for (const [k, v] of common) res.setHeader(k, v);
  res.setHeader('content-security-policy', csp);
  req.headers['content-security-policy'] = csp;
  delete req.headers['content-security-policy-report-only'];
}

export function setStaticPageHeaders(res: ServerResponse): void {
  for (const [k, v] of common) res.setHeader(k, v);
  res.setHeader('content-security-policy', staticCsp);
  res.setHeader('x-robots-tag', 'noindex');
}

/** Every response that is not a page: JSON, problem+json, /metrics, socket.io's HTTP answers. */
export function setApiHeaders(res: ServerResponse): void {
  for (const [k, v] of common) res.setHeader(k, v);
  res.setHeader('content-security-policy', apiCsp);
}

export function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  return clientAddress(trustProxy ? req.headers['x-forwarded-for'] : undefined, req.socket.remoteAddress);
}

/** The client's address: the last X-Forwarded-For entry (only pass it when a proxy is trusted), else the peer's. */
export function clientAddress(forwardedFor: string | string[] | undefined, peer: string | undefined): string {
  if (forwardedFor !== undefined) {
    const last = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .pop();
    if (last) return last;
  }
  return peer ?? 'unknown';
}

/** The few request headers the redirect path reads. */
export interface RedirectHeads {
  host: string | undefined;
  userAgent: string | undefined;
  referer: string | undefined;
  /** Every X-Forwarded-For line, joined with ", " as Node joins them. */
  forwardedFor: string | undefined;
}

/**
 * Read those headers straight from rawHeaders, first occurrence winning as in Node's
 * req.headers (X-Forwarded-For lines joined), without building req.headers: on the redirect
 * path that object (every header name lower-cased and stored) costs more than the lookup.
 */
export function redirectHeads(raw: readonly string[]): RedirectHeads {
  const out: RedirectHeads = { host: undefined, userAgent: undefined, referer: undefined, forwardedFor: undefined };
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    switch (name.length) {
      case 4:
        if (out.host === undefined && name.toLowerCase() === 'host') out.host = raw[i + 1];
        break;
      case 7:
        if (out.referer === undefined && name.toLowerCase() === 'referer') out.referer = raw[i + 1];
        break;
      case 10:
        if (out.userAgent === undefined && name.toLowerCase() === 'user-agent') out.userAgent = raw[i + 1];
        break;
      case 15:
        if (name.toLowerCase() === 'x-forwarded-for')
          out.forwardedFor = out.forwardedFor === undefined ? raw[i + 1] : `${out.forwardedFor}, ${raw[i + 1]}`;
        break;
    }
  }
  return out;
}

/**
 * Cookie-authenticated writes must come from our own pages: the Origin must be this host
 * (as the client addressed it) or PUBLIC_URL. Browsers send Origin on every cross-site and
 * every non-GET fetch, so a missing one on a cookie write is refused too.
 */
export function checkOrigin(req: IncomingMessage, publicOrigin: string | undefined): void {
  const origin = req.headers.origin;
  if (!origin)
    throw inputError(
      403,
      undefined,
      'origin_required',
      'Requests that change data with a session cookie must carry an Origin header (browsers add it; scripts should use an API key instead).',
    );
  const host = req.headers.host;
  const allowed = new Set<string>();
  if (host) {
    allowed.add(`http://${host}`);
    allowed.add(`https://${host}`);
  }
  if (publicOrigin) allowed.add(publicOrigin);
  if (!allowed.has(origin))
    throw inputError(
      403,
      undefined,
      'origin_mismatch',
      `Requests from ${origin} may not change data here with a session cookie. Use this site's own pages, or an API key.`,
    );
}
