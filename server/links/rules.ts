// Input rules for links (docs/api.md, Links: "Inputs"): which targets may be shortened and which
// slugs may be used. Pure functions: no network, no DNS. Everything is decided on the URL as
// the WHATWG URL parser normalises it, so alternative spellings of an address (decimal,
// octal, hex or short IPv4, expanded IPv6, IDN look-alikes of localhost) are judged in the
// same canonical form a browser following the redirect would use.
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { slugFormatFailure } from '../../contract/slug';

export type RuleFailure = { ok: false; code: string; message: string };

export type TargetResult = { ok: true; url: string } | RuleFailure;
export type SlugResult = { ok: true } | RuleFailure;

export interface TargetOptions {
  /** Hosts of this service (host, host:port, or a base URL such as PUBLIC_URL). */
  selfHosts: readonly string[];
  /** Allow loopback, private, link-local, reserved addresses and local names (dev only). */
  allowPrivate?: boolean;
  /**
   * Schemes allowed in addition to http and https (e.g. ['mailto']), with or without the
   * trailing colon. javascript:, vbscript: and data: are never allowed.
   */
  allowedSchemes?: readonly string[];
}

export const TARGET_MAX_LENGTH = 2048;
export const RANDOM_SLUG_LENGTH = 7;
/**
 * Random characters of a minted slug (see mintedSlug): 62^14 = 1.24e25 slugs, so among a
 * billion of them the chance that any two are equal is about 1e18 / 2 / 1.24e25 = 4.0e-8.
 */
export const MINTED_SLUG_RANDOM_CHARS = 14;
/** A minted slug: its random characters, then one check character. */
export const MINTED_SLUG_LENGTH = MINTED_SLUG_RANDOM_CHARS + 1;
export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

const DEFAULT_SCHEMES = ['http', 'https'] as const;
/** Schemes that run code in the visitor's browser: never allowed, whatever the deployment says. */
const NEVER_SCHEMES = new Set(['javascript', 'vbscript', 'data']);
/** Schemes the scheme-less heuristic must not reinterpret as "host:port". */
const KNOWN_SCHEMES = new Set([
  'javascript',
  'vbscript',
  'data',
  'file',
  'ftp',
  'blob',
  'about',
  'mailto',
  'tel',
  'sms',
  'ws',
  'wss',
]);
const DEFAULT_PORTS: Record<string, string> = {
  'http:': '80',
  'https:': '443',
  'ws:': '80',
  'wss:': '443',
  'ftp:': '21',
};
const SPECIAL_SCHEMES = new Set(['http:', 'https:', 'ws:', 'wss:', 'ftp:', 'file:']);

function fail(code: string, message: string): RuleFailure {
  return { ok: false, code, message };
}

// Every regular expression here runs on user input in linear time: each is anchored at the
// start and has no two quantifiers that can match the same characters (no nested or adjacent
// overlapping repeats), so a failed match never retries a run it already scanned:
//   SLUG_PATTERN (contract/slug.ts)  one bounded class {3,64}, and only after the length check
//   /^\d{1,5}(?:[/?#]|$)/    one bounded class, then one character
//   /^[a-z][a-z0-9+.-]*:\/\//i   the class excludes ":", so the star has one way to end
//   parseDottedIPv4, parseIPv6   bounded classes ({1,3}, {1,4}) separated by literal dots
// Trimming runs of characters at either end is done with loops (trimEdgeJunk, trimTrailingDots):
// an unanchored `[...]+$` retries from every position of a long run and is quadratic
// (8 KB of spaces between two letters took 60 ms, 64 KB took 4.7 s).

/** Leading and trailing whitespace and C0 control characters, as the URL parser strips them. */
function isEdgeJunk(code: number): boolean {
  if (code <= 0x20) return true;
  if (code < 0xa0) return false;
  // What `\s` matches beyond ASCII (ECMA-262 WhiteSpace and LineTerminator).
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/** The input without its leading and trailing whitespace and control characters, in one pass. */
export function trimEdgeJunk(input: string): string {
  let start = 0;
  let end = input.length;
  while (start < end && isEdgeJunk(input.charCodeAt(start))) start++;
  while (end > start && isEdgeJunk(input.charCodeAt(end - 1))) end--;
  return start === 0 && end === input.length ? input : input.slice(start, end);
}

function trimTrailingDots(host: string): string {
  let end = host.length;
  while (end > 0 && host.charCodeAt(end - 1) === 0x2e) end--;
  return end === host.length ? host : host.slice(0, end);
}

export function validateTarget(input: string, opts: TargetOptions): TargetResult {
  if (typeof input !== 'string') return fail('invalid_url', 'The link must be given as text.');
  const raw = trimEdgeJunk(input);
  if (raw.length === 0) return fail('empty', 'Enter the link you want to shorten, e.g. https://example.com/page.');
  if (raw.length > TARGET_MAX_LENGTH) return tooLong(raw.length);

  const allowed = new Set<string>(DEFAULT_SCHEMES);
  for (const s of opts.allowedSchemes ?? []) {
    const lower = s.trim().toLowerCase();
    const name = lower.endsWith(':') ? lower.slice(0, -1) : lower;
    if (name && !NEVER_SCHEMES.has(name)) allowed.add(name);
  }

  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return notParsed(raw);
  }

  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (!allowed.has(scheme)) {
    // "example.com:8080/x" parses with the scheme "example.com"; "localhost:3000" with "localhost".
    const rest = raw.slice(raw.indexOf(':') + 1);
    if (scheme.includes('.') || (!KNOWN_SCHEMES.has(scheme) && /^\d{1,5}(?:[/?#]|$)/.test(rest)))
      return notAbsolute(raw);
    return fail('scheme', `Only ${schemeList(allowed)} links can be shortened ("${scheme}:" links are not allowed).`);
  }

  if (url.username !== '' || url.password !== '') {
    return fail(
      'credentials',
      'Links must not contain a user name or password (user:pass@host). Remove them and try again.',
    );
  }

  const opaque = !SPECIAL_SCHEMES.has(url.protocol) && url.host === '';
  const host = canonicalHostname(url.hostname);
  if (!opaque && host === '') return fail('no_host', 'The link needs a host name, e.g. https://example.com/page.');

  if (!opaque && isSelfHost(host, effectivePort(url), opts.selfHosts)) {
    return fail(
      'self_link',
      'Links to this shortener itself are not allowed (they would redirect in a loop). Shorten the original address instead.',
    );
  }

  if (!opaque && !opts.allowPrivate) {
    const addr = classifyHost(host);
    if (addr) {
      return fail(
        'private_address',
        `${host} is ${ADDRESS_KIND[addr]}, which people following the link cannot reach. Only public addresses can be shortened.`,
      );
    }
    const name = classifyName(host);
    if (name === 'single_label') {
      return fail(
        'private_name',
        `"${host}" is not a full domain name (it only works inside a local network). Use the public name, e.g. ${host}.example.com.`,
      );
    }
    if (name) {
      return fail(
        'private_name',
        `"${host}" is a local host name that people following the link cannot reach. Use a public domain name.`,
      );
    }
  }

  const href = url.href;
  if (href.length > TARGET_MAX_LENGTH) return tooLong(href.length);
  return { ok: true, url: href };
}

function tooLong(n: number): RuleFailure {
  return fail('too_long', `Links can be at most ${TARGET_MAX_LENGTH} characters long (this one has ${n}).`);
}

function schemeList(allowed: ReadonlySet<string>): string {
  const names = [...allowed];
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

function notParsed(raw: string): RuleFailure {
  // A scheme followed by something unparseable (http://999.1.1.1/, http://exa mple.com/).
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    return fail(
      'invalid_url',
      'This is not a valid web address. Check the host name for typos, spaces or an impossible IP address.',
    );
  }
  return notAbsolute(raw);
}

/** Never stored relative (Shlink#1715): ask for the scheme and suggest the https form. */
function notAbsolute(raw: string): RuleFailure {
  const candidate = raw.startsWith('//') ? `https:${raw}` : `https://${raw}`;
  let suggestion: string | undefined;
  try {
    const u = new URL(candidate);
    if (u.hostname.includes('.') || u.hostname.startsWith('[') || u.hostname === 'localhost') suggestion = candidate;
  } catch {
    // no suggestion
  }
  const hint =
    suggestion && suggestion.length <= TARGET_MAX_LENGTH
      ? ` Did you mean ${suggestion}?`
      : ' For example: https://example.com/page.';
  return fail('not_absolute', `Links must be complete web addresses starting with http:// or https://.${hint}`);
}

function effectivePort(url: URL): string {
  return url.port || DEFAULT_PORTS[url.protocol] || '';
}

/** Lowercase, without trailing dots, with non-special hosts normalised like special ones. */
function canonicalHostname(hostname: string): string {
  let h = hostname.toLowerCase();
  try {
    // Non-special schemes keep opaque hosts ("foo://0x7f.1"); reparse to get the canonical form.
    h = new URL(`http://${h}/`).hostname;
  } catch {
    // keep as is
  }
  return trimTrailingDots(h);
}

interface SelfHost {
  host: string;
  /** null: any port (no port given, or a default port). */
  port: string | null;
}

function parseSelfHost(entry: string): SelfHost | null {
  const e = entry.trim();
  if (!e) return null;
  const attempts = e.includes('://') ? [e] : [`http://${e}`, `http://[${e}]`];
  for (const a of attempts) {
    try {
      const u = new URL(a);
      const port = u.port && u.port !== '80' && u.port !== '443' ? u.port : null;
      return { host: canonicalHostname(u.hostname), port };
    } catch {
      // try the next form
    }
  }
  return { host: trimTrailingDots(e.toLowerCase()), port: null };
}

function isSelfHost(host: string, port: string, selfHosts: readonly string[]): boolean {
  for (const entry of selfHosts) {
    const self = parseSelfHost(entry);
    if (!self || self.host !== host) continue;
    if (self.port === null || self.port === port) return true;
  }
  return false;
}

type AddressKind = 'loopback' | 'private' | 'link_local' | 'unspecified' | 'shared' | 'multicast' | 'reserved';

const ADDRESS_KIND: Record<AddressKind, string> = {
  loopback: 'a loopback address (the machine itself)',
  private: 'a private network address',
  link_local: 'a link-local address',
  unspecified: 'an unspecified address',
  shared: 'a carrier-grade NAT (100.64.0.0/10) address',
  multicast: 'a multicast address',
  reserved: 'a reserved, documentation or broadcast address',
};

/** Classify a literal IP host (dotted IPv4 or bracketed IPv6); null for names and public addresses. */
export function classifyHost(host: string): AddressKind | null {
  if (host.startsWith('[') && host.endsWith(']')) {
    const words = parseIPv6(host.slice(1, -1));
    return words ? classifyIPv6(words) : 'reserved';
  }
  const v4 = parseDottedIPv4(host);
  return v4 ? classifyIPv4(v4) : null;
}

function parseDottedIPv4(s: string): [number, number, number, number] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const parts = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])] as [number, number, number, number];
  return parts.every((p) => p <= 255) ? parts : null;
}

function classifyIPv4([a, b, c]: readonly [number, number, number, number]): AddressKind | null {
  if (a === 0) return 'unspecified';
  if (a === 127) return 'loopback';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'private';
  if (a === 100 && b >= 64 && b <= 127) return 'shared';
  if (a === 169 && b === 254) return 'link_local';
  if (a >= 224 && a <= 239) return 'multicast';
  if (a >= 240) return 'reserved';
  if (a === 192 && b === 0 && (c === 0 || c === 2)) return 'reserved';
  if (a === 192 && b === 88 && c === 99) return 'reserved';
  if (a === 198 && (b === 18 || b === 19)) return 'reserved';
  if (a === 198 && b === 51 && c === 100) return 'reserved';
  if (a === 203 && b === 0 && c === 113) return 'reserved';
  return null;
}

function parseIPv6(input: string): number[] | null {
  let s = input.toLowerCase();
  const lastColon = s.lastIndexOf(':');
  if (lastColon >= 0 && s.slice(lastColon + 1).includes('.')) {
    const v4 = parseDottedIPv4(s.slice(lastColon + 1));
    if (!v4) return null;
    s = `${s.slice(0, lastColon + 1)}${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (t: string | undefined): string[] => (t ? t.split(':') : []);
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  if (![...head, ...tail].every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  if (halves.length === 1 && head.length !== 8) return null;
  if (halves.length === 2 && head.length + tail.length > 7) return null;
  const zeros = new Array<string>(8 - head.length - tail.length).fill('0');
  return [...head, ...zeros, ...tail].map((g) => parseInt(g, 16));
}

function v4From(hi: number, lo: number): [number, number, number, number] {
  return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff];
}

function classifyIPv6(w: readonly number[]): AddressKind | null {
  const at = (i: number): number => w[i] ?? 0;
  const zeroUpTo = (n: number): boolean => w.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(8)) return 'unspecified';
  if (zeroUpTo(7) && at(7) === 1) return 'loopback';
  // IPv4-mapped ::ffff:a.b.c.d and IPv4-translated ::ffff:0:a.b.c.d: judge the IPv4 address.
  if (zeroUpTo(5) && at(5) === 0xffff) return classifyIPv4(v4From(at(6), at(7)));
  if (zeroUpTo(4) && at(4) === 0xffff && at(5) === 0) return classifyIPv4(v4From(at(6), at(7)));
  // IPv4-compatible ::a.b.c.d (deprecated).
  if (zeroUpTo(6)) return 'reserved';
  // NAT64: the well-known prefix 64:ff9b::/96 embeds an IPv4 address; 64:ff9b:1::/48 is local use.
  if (at(0) === 0x64 && at(1) === 0xff9b) {
    if (at(2) === 0 && at(3) === 0 && at(4) === 0 && at(5) === 0) return classifyIPv4(v4From(at(6), at(7)));
    if (at(2) === 1) return 'private';
  }
  const first = at(0);
  if ((first & 0xe000) !== 0x2000) {
    // Outside global unicast 2000::/3.
    if ((first & 0xfe00) === 0xfc00) return 'private'; // fc00::/7 unique local
    if ((first & 0xffc0) === 0xfe80) return 'link_local'; // fe80::/10
    if ((first & 0xffc0) === 0xfec0) return 'private'; // fec0::/10 site-local (deprecated)
    if ((first & 0xff00) === 0xff00) return 'multicast'; // ff00::/8
    return 'reserved';
  }
  if (first === 0x2001 && at(1) === 0x0db8) return 'reserved'; // documentation
  if (first === 0x3fff && (at(1) & 0xf000) === 0) return 'reserved'; // 3fff::/20 documentation
  if (first === 0x2001 && at(1) === 0x0002 && at(2) === 0) return 'reserved'; // benchmarking
  if (first === 0x2001 && (at(1) & 0xfff0) === 0x0010) return 'reserved'; // ORCHID
  if (first === 0x2002) return classifyIPv4(v4From(at(1), at(2))); // 6to4
  if (first === 0x2001 && at(1) === 0) return classifyIPv4(v4From(at(6) ^ 0xffff, at(7) ^ 0xffff)); // Teredo client
  return null;
}

const LOCAL_SUFFIXES = ['.localhost', '.local', '.internal', '.localdomain', '.home.arpa'];

function classifyName(host: string): 'local' | 'single_label' | null {
  if (host === 'localhost' || LOCAL_SUFFIXES.some((s) => host.endsWith(s))) return 'local';
  if (host.startsWith('[')) return null;
  if (!host.includes('.')) return 'single_label';
  return null;
}

// ---------------------------------------------------------------------------------- slugs

const loweredSets = new WeakMap<ReadonlySet<string>, ReadonlySet<string>>();

function lowered(set: ReadonlySet<string>): ReadonlySet<string> {
  let l = loweredSets.get(set);
  if (!l || l.size !== set.size) {
    l = new Set([...set].map((s) => s.toLowerCase()));
    loweredSets.set(set, l);
  }
  return l;
}

/** A custom slug's format, and that it is not `reserved` (the site's own names: server/http/reservedSlugs.ts). */
export function validateSlug(slug: string, reserved: ReadonlySet<string>): SlugResult {
  const format = slugFormatFailure(slug);
  if (format) return fail(format.code, format.message);
  if (lowered(reserved).has(slug.toLowerCase())) {
    return fail('slug_reserved', `"${slug}" is reserved for a page of this site. Choose another slug.`);
  }
  return { ok: true };
}

/** Bytes >= 248 are rejected: 248 = 4 * 62, so byte % 62 is uniform over the rest. */
export const BASE62_REJECT_FROM = 248;
const MAX_ROUNDS = 1000;

/**
 * A random slug: 7 base62 characters from a CSPRNG, by rejection sampling (no modulo bias),
 * never one of the reserved words.
 */
export function randomSlug(
  reserved: ReadonlySet<string>,
  randomBytes: (n: number) => Uint8Array = cryptoRandomBytes,
): string {
  const reservedLower = lowered(reserved);
  let out = '';
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const bytes = randomBytes(RANDOM_SLUG_LENGTH - out.length);
    for (const b of bytes) {
      if (b >= BASE62_REJECT_FROM) continue;
      out += BASE62[b % 62];
      if (out.length === RANDOM_SLUG_LENGTH) break;
    }
    if (out.length === RANDOM_SLUG_LENGTH) {
      if (!reservedLower.has(out.toLowerCase())) return out;
      out = '';
    }
  }
  throw new Error('randomSlug: the random source kept returning unusable bytes');
}

/** The check character of a minted slug: FNV-1a (32 bits) of its random characters, mod 62. */
function mintedCheckChar(body: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < body.length; i++) h = Math.imul(h ^ body.charCodeAt(i), 0x01000193) >>> 0;
  return BASE62[h % 62]!;
}

/**
 * A random slug that needs no cluster-wide claim, for creates when no majority of a short
 * slug's claim register is reachable (a network partition): 14 base62 characters from a
 * CSPRNG (no modulo bias) and a check character. It cannot collide in practice: the chance
 * that any two of a billion minted slugs are equal is 4.0e-8 (MINTED_SLUG_RANDOM_CHARS), it
 * is longer than the short random slugs, and no custom slug may have its shape (isMintedSlug),
 * so nobody can take one by naming it.
 */
export function mintedSlug(randomBytes: (n: number) => Uint8Array = cryptoRandomBytes): string {
  let body = '';
  for (let round = 0; round < MAX_ROUNDS && body.length < MINTED_SLUG_RANDOM_CHARS; round++) {
    for (const b of randomBytes(MINTED_SLUG_RANDOM_CHARS - body.length)) {
      if (b >= BASE62_REJECT_FROM) continue;
      body += BASE62[b % 62];
      if (body.length === MINTED_SLUG_RANDOM_CHARS) break;
    }
  }
  if (body.length < MINTED_SLUG_RANDOM_CHARS)
    throw new Error('mintedSlug: the random source kept returning unusable bytes');
  return body + mintedCheckChar(body);
}

/** Whether the slug has a minted slug's shape (length, base62, check character): 1 in 62 such strings do. */
export function isMintedSlug(slug: string): boolean {
  if (slug.length !== MINTED_SLUG_LENGTH) return false;
  for (let i = 0; i < slug.length; i++) {
    const c = slug.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122))) return false;
  }
  return slug[MINTED_SLUG_RANDOM_CHARS] === mintedCheckChar(slug.slice(0, MINTED_SLUG_RANDOM_CHARS));
}
