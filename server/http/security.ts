// Security per DESIGN.md: headers, the Origin check on cookie-authenticated writes, and client
// addresses (behind a trusted proxy or not). Rate limits are in rateLimits.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { inputError } from './respond';

/** For pages (Next.js): Next's App Router streams inline scripts, hence 'unsafe-inline' for scripts. */
const pageCsp = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'";
/** For the server's own HTML (404/410/password pages): no scripts at all. */
// form-action is checked on the redirect after a form post too, and the password form leads to the link's target.
const staticCsp = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' https: http:; frame-ancestors 'none'; base-uri 'none'";

const common: Array<[string, string]> = [
  ['x-content-type-options', 'nosniff'],
  ['referrer-policy', 'strict-origin-when-cross-origin'],
  ['x-frame-options', 'DENY'],
  ['cross-origin-opener-policy', 'same-origin'],
];

/** Set before handing a request to Next: headers set later are dropped (PITFALLS.md). */
export function setPageHeaders(res: ServerResponse): void {
  for (const [k, v] of common) res.setHeader(k, v);
  res.setHeader('content-security-policy', pageCsp);
}

export function setStaticPageHeaders(res: ServerResponse): void {
  for (const [k, v] of common) res.setHeader(k, v);
  res.setHeader('content-security-policy', staticCsp);
  res.setHeader('x-robots-tag', 'noindex');
}

export function setApiHeaders(res: ServerResponse): void {
  for (const [k, v] of common) res.setHeader(k, v);
  res.setHeader('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
}

export function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  return clientAddress(trustProxy ? req.headers['x-forwarded-for'] : undefined, req.socket.remoteAddress);
}

/** The client's address: the last X-Forwarded-For entry (only pass it when a proxy is trusted), else the peer's. */
export function clientAddress(forwardedFor: string | string[] | undefined, peer: string | undefined): string {
  if (forwardedFor !== undefined) {
    const last = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',').map((s) => s.trim()).filter(Boolean).pop();
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
        if (name.toLowerCase() === 'x-forwarded-for') out.forwardedFor = out.forwardedFor === undefined ? raw[i + 1] : `${out.forwardedFor}, ${raw[i + 1]}`;
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
  if (!origin) throw inputError(403, undefined, 'origin_required', 'Requests that change data with a session cookie must carry an Origin header (browsers add it; scripts should use an API key instead).');
  const host = req.headers.host;
  const allowed = new Set<string>();
  if (host) {
    allowed.add(`http://${host}`);
    allowed.add(`https://${host}`);
  }
  if (publicOrigin) allowed.add(publicOrigin);
  if (!allowed.has(origin)) throw inputError(403, undefined, 'origin_mismatch', `Requests from ${origin} may not change data here with a session cookie. Use this site's own pages, or an API key.`);
}
