// The redirect fast path, ahead of Next.js: GET /:slug is a Map lookup (local replica or
// cache), a counter increment in memory, and a 302. HEAD answers the same and never counts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isbot } from 'isbot';
import UAParser from 'ua-parser-js';
import { hash53 } from '../../ring';
import { verifyPassword } from '../auth/passwords';
import { RingCallError } from '../ringClient';
import type { ClickBudget } from '../links/clickBudget';
import type { LinkDirectory } from '../links/linkDirectory';
import type { LinkDoc } from '../links/linkDoc';
import type { ViewRecorder } from '../links/viewRecorder';
import { readBody } from './respond';
import { gonePage, notFoundPage, passwordPage, tooManyGuessesPage, unavailablePage } from './pages';
import type { RateLimits } from './rateLimits';
import { clientAddress, clientIp, setStaticPageHeaders, type RedirectHeads } from './security';

/** Largest password form body. */
const passwordFormBytesMax = 4 * 1024;
/** User agents whose classification (bot or not, device) a node remembers; the memo starts over when full. */
const uaCacheEntriesMax = 5_000;
/** Referrer URLs whose host a node remembers; the memo starts over when full. */
const referrerCacheEntriesMax = 5_000;
/** Longest user agent or referrer (characters) the memos keep: bounds them at about 2.5 MB each. */
const memoKeyCharsMax = 512;

export interface RedirectDeps {
  directory: LinkDirectory;
  recorder: ViewRecorder;
  budget: ClickBudget;
  limits: RateLimits;
  now: () => number;
  trustProxy: boolean;
}

interface UaClass {
  human: boolean;
  device: string;
  /** 32 bits of the user agent's hash: the seed of its visitors' hashes. */
  seed: number;
}

// Plain Maps that start over when full rather than LRU caches: a hit is one Map lookup, and
// real traffic has few distinct user agents and referrers per node.
const uaCache = new Map<string, UaClass>();
const referrerCache = new Map<string, string>();

/** Bot or person, and the device class: cached per user agent (isbot's pattern alone costs microseconds). */
export function classifyUserAgent(ua: string): UaClass {
  let c = uaCache.get(ua);
  if (c === undefined) {
    const type = new UAParser(ua).getDevice().type;
    const device =
      type === 'mobile' || type === 'tablet'
        ? type
        : type === 'smarttv' || type === 'console' || type === 'wearable'
          ? 'other'
          : ua
            ? 'desktop'
            : 'unknown';
    c = { human: ua !== '' && !isbot(ua), device, seed: hash53(ua) >>> 0 };
    if (ua.length <= memoKeyCharsMax) {
      if (uaCache.size >= uaCacheEntriesMax) uaCache.clear();
      uaCache.set(ua, c);
    }
  }
  return c;
}

function referrerHost(ref: string | undefined): string {
  if (!ref) return '(direct)';
  let host = referrerCache.get(ref);
  if (host === undefined) {
    try {
      host = new URL(ref).hostname || '(direct)';
    } catch {
      host = '(invalid)';
    }
    if (ref.length <= memoKeyCharsMax) {
      if (referrerCache.size >= referrerCacheEntriesMax) referrerCache.clear();
      referrerCache.set(ref, host);
    }
  }
  return host;
}

function html(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  setStaticPageHeaders(res);
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

const botView = { at: 0, referrer: '', device: '', visitor: 0 };

export function createRedirector(deps: RedirectDeps) {
  const { directory, recorder, budget, now } = deps;

  /**
   * A connection's user agent, its class and (without a trusted proxy) its visitor hash, kept
   * while the connection lives: a kept-alive client sends the same user agent every time.
   */
  const perSocket = new WeakMap<object, { ua: string; cls: UaClass; visitor: number }>();

  function count(req: IncomingMessage, heads: RedirectHeads, slug: string): void {
    const ua = heads.userAgent ?? '';
    let m = perSocket.get(req.socket);
    if (m === undefined || m.ua !== ua) {
      const cls = classifyUserAgent(ua);
      m = { ua, cls, visitor: hash53(clientAddress(undefined, req.socket.remoteAddress), cls.seed) };
      perSocket.set(req.socket, m);
    }
    if (!m.cls.human) return recorder.record(slug, false, botView);
    const visitor = deps.trustProxy
      ? hash53(clientAddress(heads.forwardedFor, req.socket.remoteAddress), m.cls.seed)
      : m.visitor;
    recorder.record(slug, true, { at: now(), referrer: referrerHost(heads.referer), device: m.cls.device, visitor });
  }

  function redirect(res: ServerResponse, doc: LinkDoc, status: number = doc.redirectStatus): void {
    // A flat header array skips Node's per-call object walk on the hot path.
    res.writeHead(status, [
      'location',
      doc.url,
      'cache-control',
      'no-store',
      'x-robots-tag',
      'noindex',
      'content-length',
      '0',
    ]);
    res.end();
  }

  /** Count and redirect, once a click of a max-clicks link is spent; a promise only while a lease is being acquired. */
  function spendAndRedirect(
    req: IncomingMessage,
    heads: RedirectHeads,
    res: ServerResponse,
    doc: LinkDoc,
    status?: number,
  ): void | Promise<void> {
    if (doc.maxClicks === null || budget.trySpendLocal(doc.slug)) {
      count(req, heads, doc.slug);
      return redirect(res, doc, status);
    }
    return budget.spend(doc.slug, doc.maxClicks).then((r) => {
      if (r === 'ok') {
        count(req, heads, doc.slug);
        redirect(res, doc, status);
      } else if (r === 'used_up') html(res, 410, gonePage('used_up'));
      else html(res, 503, unavailablePage(), { 'retry-after': '1' });
    });
  }

  /** Synchronous for every plain redirect; a promise only for a password form or a lease acquisition. */
  function serve(
    req: IncomingMessage,
    heads: RedirectHeads,
    res: ServerResponse,
    slug: string,
    doc: LinkDoc | null,
  ): void | Promise<void> {
    if (!doc) {
      // Not found by fallbacks alone (a partition hides the link's replicas): say "try again", not "no such link".
      if (!directory.absenceIsAuthoritative(slug)) return html(res, 503, unavailablePage(), { 'retry-after': '1' });
      return html(res, 404, notFoundPage(slug));
    }
    if (doc.deletedAt !== null) return html(res, 410, gonePage('deleted'));
    if (doc.expiresAt !== null && doc.expiresAt <= now()) return html(res, 410, gonePage('expired'));
    if (doc.password)
      return req.method === 'POST' ? checkPassword(req, heads, res, doc) : html(res, 200, passwordPage(slug));
    if (req.method === 'HEAD') return redirect(res, doc);
    return spendAndRedirect(req, heads, res, doc);
  }

  async function checkPassword(
    req: IncomingMessage,
    heads: RedirectHeads,
    res: ServerResponse,
    doc: LinkDoc,
  ): Promise<void> {
    const wait = await deps.limits.guess(clientIp(req, deps.trustProxy), doc.slug);
    if (wait > 0) return html(res, 429, tooManyGuessesPage(wait), { 'retry-after': String(wait) });
    let body: Buffer | null;
    try {
      body = await readBody(req, passwordFormBytesMax);
    } catch {
      return void res.destroy(); // the client went away mid-body
    }
    // An oversized form is not worth keeping the connection for (nor reading the rest of).
    if (body === null)
      return html(res, 413, passwordPage(doc.slug, 'That was too long to be the password.'), { connection: 'close' });
    const ok = await verifyPassword(new URLSearchParams(body.toString('utf8')).get('password') ?? '', doc.password!);
    if (!ok) return html(res, 401, passwordPage(doc.slug, 'That password is not right. Try again.'));
    return spendAndRedirect(req, heads, res, doc, 303);
  }

  return {
    /** Answers GET, HEAD and (password form) POST on /:slug. Synchronous on the common path. */
    handle(req: IncomingMessage, res: ServerResponse, slug: string, heads: RedirectHeads): void | Promise<void> {
      const doc = directory.peek(slug);
      const answer =
        doc !== undefined
          ? serve(req, heads, res, slug, doc)
          : directory.load(slug).then((d) => serve(req, heads, res, slug, d));
      return answer?.catch((err: unknown) => {
        if (!(err instanceof RingCallError) || res.headersSent) throw err;
        html(res, 503, unavailablePage(), { 'retry-after': '1' });
      });
    },
  };
}
