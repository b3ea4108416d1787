import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BASE62,
  isMintedSlug,
  MINTED_SLUG_RANDOM_CHARS,
  mintedSlug,
  RANDOM_SLUG_LENGTH,
  TARGET_MAX_LENGTH,
  randomSlug,
  trimEdgeJunk,
  validateSlug,
  validateTarget,
} from '../../server/links/rules';
import type { TargetOptions } from '../../server/links/rules';
import { SLUG_PATTERN } from '../../contract/slug';
import { reservedSlugs } from '../../server/http/reservedSlugs';

const OPTS: TargetOptions = {
  selfHosts: ['rl.example', 'https://short.example', 'node1.example:3000', '127.0.0.1:3001'],
};

function code(input: string, opts: TargetOptions = OPTS): string {
  const r = validateTarget(input, opts);
  return r.ok ? 'ok' : r.code;
}

function accepted(input: string, opts: TargetOptions = OPTS): string {
  const r = validateTarget(input, opts);
  if (!r.ok) throw new Error(`expected ${JSON.stringify(input)} to be accepted, got ${r.code}: ${r.message}`);
  return r.url;
}

describe('validateTarget: accepted targets', () => {
  it.each([
    ['https://example.com', 'https://example.com/'],
    ['http://example.com/a/b?q=1#frag', 'http://example.com/a/b?q=1#frag'],
    ['HTTPS://Example.COM/Path', 'https://example.com/Path'],
    ['  https://example.com/x \n', 'https://example.com/x'],
    ['\t\u0000https://example.com/x\u001f', 'https://example.com/x'],
    ['http:example.com', 'http://example.com/'],
    ['https://example.com:8443/x', 'https://example.com:8443/x'],
    ['https://example.com:443/x', 'https://example.com/x'],
    ['https://example.com./x', 'https://example.com./x'],
    ['https://bücher.example/', 'https://xn--bcher-kva.example/'],
    ['https://example.com/a b', 'https://example.com/a%20b'],
    ['http://8.8.8.8/', 'http://8.8.8.8/'],
    ['http://134744072/', 'http://8.8.8.8/'],
    ['http://0x8.0x8.0x8.0x8/', 'http://8.8.8.8/'],
    ['http://[2606:4700:4700::1111]/', 'http://[2606:4700:4700::1111]/'],
    ['http://[::ffff:8.8.8.8]/', 'http://[::ffff:808:808]/'],
    ['http://[64:ff9b::8.8.8.8]/', 'http://[64:ff9b::808:808]/'],
    ['http://[2002:808:808::1]/', 'http://[2002:808:808::1]/'],
    ['https://sub.rl.example/x', 'https://sub.rl.example/x'],
    ['https://rl.example.evil.test/x', 'https://rl.example.evil.test/x'],
    ['https://node1.example/x', 'https://node1.example/x'],
    ['https://172.32.0.1/', 'https://172.32.0.1/'],
    ['https://100.128.0.1/', 'https://100.128.0.1/'],
    ['https://192.169.0.1/', 'https://192.169.0.1/'],
    ['https://localhost.example.com/', 'https://localhost.example.com/'],
  ])('%j -> %s', (input, href) => {
    expect(accepted(input)).toBe(href);
  });

  it('accepts exactly 2048 characters and rejects 2049', () => {
    const base = 'https://example.com/';
    const at = base + 'a'.repeat(TARGET_MAX_LENGTH - base.length);
    expect(at).toHaveLength(2048);
    expect(accepted(at)).toBe(at);
    expect(code(at + 'a')).toBe('too_long');
    // The limit also holds for the normalised form (percent-encoding makes it longer).
    const grows = base + ' '.repeat(TARGET_MAX_LENGTH - base.length - 1) + 'x';
    expect(grows.length).toBeLessThanOrEqual(2048);
    expect(code(grows)).toBe('too_long');
  });
});

describe('validateTarget: rejected targets', () => {
  it.each([
    // empty and length
    ['', 'empty'],
    ['   \n\t', 'empty'],
    ['https://example.com/' + 'x'.repeat(3000), 'too_long'],
    // not absolute: never stored relative
    ['example.com/x', 'not_absolute'],
    ['example.com', 'not_absolute'],
    ['www.example.com/a?b=c', 'not_absolute'],
    ['//example.com/x', 'not_absolute'],
    ['/x/y', 'not_absolute'],
    ['x', 'not_absolute'],
    ['example.com:8080/x', 'not_absolute'],
    ['localhost:3000', 'not_absolute'],
    ['example.com:/x', 'not_absolute'],
    // unparseable with a scheme
    ['http://999.1.1.1/', 'invalid_url'],
    ['http://1.2.3.4.5/', 'invalid_url'],
    ['http://exa mple.com/', 'invalid_url'],
    ['http://[::1/', 'invalid_url'],
    // schemes
    ['javascript:alert(1)', 'scheme'],
    [' JaVaScRiPt:alert(1)', 'scheme'],
    ['\u0001javascript:alert(1)', 'scheme'],
    ['\u0000\u001f javascript:alert(1)', 'scheme'],
    ['java\tscript:alert(1)', 'scheme'],
    ['java\nscript:alert(1)', 'scheme'],
    ['\ufeffjavascript:alert(1)', 'scheme'],
    ['javascript://example.com/%0aalert(1)', 'scheme'],
    ['data:text/html,<script>alert(1)</script>', 'scheme'],
    ['DATA:text/html;base64,PHNjcmlwdD4=', 'scheme'],
    ['vbscript:msgbox(1)', 'scheme'],
    ['VBScript:msgbox(1)', 'scheme'],
    ['file:///etc/passwd', 'scheme'],
    ['FILE://server/share', 'scheme'],
    ['ftp://example.com/file', 'scheme'],
    ['mailto:a@example.com', 'scheme'],
    ['about:blank', 'scheme'],
    ['blob:https://example.com/uuid', 'scheme'],
    ['ws://example.com/', 'scheme'],
    // credentials
    ['https://user:pass@example.com/', 'credentials'],
    ['https://user@example.com/', 'credentials'],
    ['https://:pass@example.com/', 'credentials'],
    ['https://example.com@evil.test/', 'credentials'],
    // host
    ['http://./', 'no_host'],
    ['http://../x', 'no_host'],
    // self links
    ['https://rl.example/abc', 'self_link'],
    ['https://RL.EXAMPLE/abc', 'self_link'],
    ['https://rl.example./abc', 'self_link'],
    ['https://rl.example:443/abc', 'self_link'],
    ['http://rl.example:8080/abc', 'self_link'],
    ['https://short.example/x', 'self_link'],
    ['https://short.example:443/x', 'self_link'],
    ['https://node1.example:3000/x', 'self_link'],
    ['http://node1.example:3000/x', 'self_link'],
    ['http://127.0.0.1:3001/abc', 'self_link'],
    ['http://2130706433:3001/abc', 'self_link'],
    // IPv4 literals, all spellings the URL parser folds into dotted quads
    ['http://127.0.0.1/', 'private_address'],
    ['http://127.0.0.1:3000/', 'private_address'],
    ['http://127.0.0.1./', 'private_address'],
    ['http://127.0.0.1%2e/', 'private_address'],
    ['http://2130706433/', 'private_address'],
    ['http://0x7f.1/', 'private_address'],
    ['http://0x7F000001/', 'private_address'],
    ['http://017700000001/', 'private_address'],
    ['http://0177.0.0.1/', 'private_address'],
    ['http://127.1/', 'private_address'],
    ['http://127.0.1/', 'private_address'],
    ['http://１２７.０.０.１/', 'private_address'],
    ['http://0/', 'private_address'],
    ['http://0.0.0.0/', 'private_address'],
    ['http://10.0.0.1/', 'private_address'],
    ['http://167772161/', 'private_address'],
    ['http://172.16.0.1/', 'private_address'],
    ['http://172.31.255.255/', 'private_address'],
    ['http://192.168.1.1/', 'private_address'],
    ['http://0xc0.0xa8.1.1/', 'private_address'],
    ['http://100.64.0.1/', 'private_address'],
    ['http://100.127.255.254/', 'private_address'],
    ['http://169.254.169.254/latest/meta-data/', 'private_address'],
    ['http://0xa9fea9fe/', 'private_address'],
    ['http://224.0.0.1/', 'private_address'],
    ['http://239.255.255.250/', 'private_address'],
    ['http://240.0.0.1/', 'private_address'],
    ['http://255.255.255.255/', 'private_address'],
    ['http://192.0.2.1/', 'private_address'],
    ['http://198.51.100.7/', 'private_address'],
    ['http://203.0.113.9/', 'private_address'],
    ['http://198.18.0.1/', 'private_address'],
    // IPv6 literals
    ['http://[::1]/', 'private_address'],
    ['http://[0:0:0:0:0:0:0:1]/', 'private_address'],
    ['http://[0000:0000:0000:0000:0000:0000:0000:0001]:8080/', 'private_address'],
    ['http://[::]/', 'private_address'],
    ['http://[::ffff:127.0.0.1]/', 'private_address'],
    ['http://[::ffff:7f00:1]/', 'private_address'],
    ['http://[::FFFF:10.1.2.3]/', 'private_address'],
    ['http://[::ffff:169.254.169.254]/', 'private_address'],
    ['http://[::ffff:0:192.168.0.1]/', 'private_address'],
    ['http://[::127.0.0.1]/', 'private_address'],
    ['http://[64:ff9b::127.0.0.1]/', 'private_address'],
    ['http://[64:ff9b::a00:1]/', 'private_address'],
    ['http://[64:ff9b:1::8.8.8.8]/', 'private_address'],
    ['http://[2002:7f00:1::]/', 'private_address'],
    ['http://[2002:c0a8:101::1]/', 'private_address'],
    ['http://[fc00::1]/', 'private_address'],
    ['http://[fd12:3456:789a::1]/', 'private_address'],
    ['http://[FDFF:FFFF::1]/', 'private_address'],
    ['http://[fe80::1]/', 'private_address'],
    ['http://[febf::1]/', 'private_address'],
    ['http://[fec0::1]/', 'private_address'],
    ['http://[ff02::1]/', 'private_address'],
    ['http://[2001:db8::1]/', 'private_address'],
    ['http://[100::1]/', 'private_address'],
    // names
    ['http://localhost/', 'private_name'],
    ['http://LOCALHOST./', 'private_name'],
    ['http://localhost:3000/x', 'private_name'],
    ['http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/', 'private_name'],
    ['http://app.localhost/', 'private_name'],
    ['http://x%2elocalhost/', 'private_name'],
    ['http://printer.local/', 'private_name'],
    ['http://metadata.google.internal/', 'private_name'],
    ['http://router.home.arpa/', 'private_name'],
    ['http://intranet/', 'private_name'],
    ['http://intranet./', 'private_name'],
    ['https://wiki/page', 'private_name'],
  ])('%j -> %s', (input, expected) => {
    expect(code(input)).toBe(expected);
  });

  it('suggests the https form for a URL without a scheme', () => {
    const r = validateTarget('example.com/x', OPTS);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain('https://example.com/x');
    const r2 = validateTarget('//example.com/x', OPTS);
    if (!r2.ok) expect(r2.message).toContain('https://example.com/x');
    else expect.fail('protocol-relative URL accepted');
    const r3 = validateTarget('example.com:8080/x', OPTS);
    if (!r3.ok) expect(r3.message).toContain('https://example.com:8080/x');
    else expect.fail('host:port accepted');
  });

  it('gives messages a person can act on', () => {
    const msg = (input: string, opts: TargetOptions = OPTS): string => {
      const r = validateTarget(input, opts);
      if (r.ok) throw new Error(`accepted ${input}`);
      return r.message;
    };
    expect(msg('javascript:alert(1)')).toMatch(/^Only http and https links can be shortened/);
    expect(msg('mailto:x@example.com', { ...OPTS, allowedSchemes: ['ftp'] })).toMatch(
      /^Only http, https and ftp links/,
    );
    expect(msg('https://a:b@example.com/')).toMatch(/user name or password/);
    expect(msg('https://rl.example/x')).toMatch(/loop/);
    expect(msg('http://127.1/')).toMatch(/127\.0\.0\.1 is a loopback address/);
    expect(msg('http://100.64.0.1/')).toMatch(/carrier-grade NAT/);
    expect(msg('http://intranet/')).toMatch(/intranet\.example\.com/);
    expect(msg('x'.repeat(3000))).toMatch(/at most 2048 characters/);
    for (const input of ['', 'x', 'http://[::1]/', 'http://printer.local/', 'http://999.1.1.1/', 'http://./']) {
      expect(msg(input).length).toBeGreaterThan(20);
    }
  });

  it('never treats an input as relative to anything', () => {
    for (const input of ['x', '/x', '?q=1', '#f', '.', '..', 'example.com']) {
      expect(validateTarget(input, OPTS).ok).toBe(false);
    }
  });
});

describe('validateTarget: options', () => {
  it('allowPrivate lets private addresses and names through, never self links', () => {
    const dev: TargetOptions = { ...OPTS, allowPrivate: true };
    expect(accepted('http://localhost:3000/x', dev)).toBe('http://localhost:3000/x');
    expect(accepted('http://127.1/', dev)).toBe('http://127.0.0.1/');
    expect(accepted('http://[::1]/', dev)).toBe('http://[::1]/');
    expect(accepted('http://intranet/', dev)).toBe('http://intranet/');
    expect(code('http://127.0.0.1:3001/x', dev)).toBe('self_link');
    expect(code('https://rl.example/x', dev)).toBe('self_link');
    expect(code('javascript:alert(1)', dev)).toBe('scheme');
    expect(code('https://u:p@localhost/', dev)).toBe('credentials');
  });

  it('allowedSchemes opts in to more schemes, case-insensitively, with or without a colon', () => {
    expect(accepted('ftp://example.com/f', { ...OPTS, allowedSchemes: ['FTP:'] })).toBe('ftp://example.com/f');
    expect(accepted('mailto:a@example.com', { ...OPTS, allowedSchemes: ['mailto'] })).toBe('mailto:a@example.com');
    // http and https stay allowed
    expect(accepted('https://example.com/', { ...OPTS, allowedSchemes: ['mailto'] })).toBe('https://example.com/');
    // private checks still apply to opted-in schemes with a host
    expect(code('ftp://127.0.0.1/', { ...OPTS, allowedSchemes: ['ftp'] })).toBe('private_address');
    expect(code('ssh://0x7f.1/', { ...OPTS, allowedSchemes: ['ssh'] })).toBe('private_address');
    expect(code('ftp://rl.example/', { ...OPTS, allowedSchemes: ['ftp'] })).toBe('self_link');
  });

  it('never allows script-running schemes, even when listed', () => {
    const opts: TargetOptions = { ...OPTS, allowedSchemes: ['javascript', 'data:', 'VBScript'] };
    expect(code('javascript:alert(1)', opts)).toBe('scheme');
    expect(code('data:text/html,x', opts)).toBe('scheme');
    expect(code('vbscript:x', opts)).toBe('scheme');
  });

  it('matches self hosts given as URLs, IPv6, or with default ports and trailing dots', () => {
    const opts: TargetOptions = { selfHosts: ['HTTPS://Short.Example.:443/', '[::1]:3000', 'x.example:80'] };
    expect(code('https://short.example/a', opts)).toBe('self_link');
    expect(code('http://short.example:9999/a', opts)).toBe('self_link');
    expect(code('http://[0::1]:3000/a', { ...opts, allowPrivate: true })).toBe('self_link');
    expect(code('http://[::1]:3001/a', { ...opts, allowPrivate: true })).toBe('ok');
    expect(code('https://x.example/a', opts)).toBe('self_link');
    expect(code('https://y.example/a', opts)).toBe('ok');
  });
});

// ------------------------------------------------------------------ property tests

const hexCase = (s: string, upper: boolean): string => (upper ? s.toUpperCase() : s.toLowerCase());

/** Any of the IPv4 spellings WHATWG URL accepts: 1-4 parts, each decimal, octal or hex. */
function ipv4Spelling(n: number): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.integer({ min: 1, max: 4 }),
      fc.array(fc.constantFrom('dec', 'oct', 'hex'), { minLength: 4, maxLength: 4 }),
      fc.boolean(),
      fc.boolean(),
    )
    .map(([k, kinds, upper, trailingDot]) => {
      const parts: number[] = [];
      for (let i = 0; i < k - 1; i++) parts.push((n >>> (24 - 8 * i)) & 0xff);
      const restBits = 32 - 8 * (k - 1);
      parts.push(restBits === 32 ? n >>> 0 : n & ((1 << restBits) - 1));
      const text = parts.map((p, i) => {
        const kind = kinds[i] ?? 'dec';
        if (kind === 'hex') return (upper ? '0X' : '0x') + hexCase(p.toString(16), upper);
        if (kind === 'oct') return '0' + p.toString(8);
        return p.toString(10);
      });
      return text.join('.') + (trailingDot ? '.' : '');
    });
}

const dotted = (n: number): string => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');

const BLOCKED_V4: ReadonlyArray<[string, number]> = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];

const toInt = (d: string): number => d.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);

const blockedV4 = fc
  .tuple(fc.constantFrom(...BLOCKED_V4), fc.integer({ min: 0, max: 0xffffffff }))
  .map(([[base, len], r]) => {
    const hostBits = 32 - len;
    return toInt(base) + (hostBits === 32 ? r : r % 2 ** hostBits);
  });

const publicV4 = fc
  .tuple(fc.constantFrom(1, 8, 9, 11, 23, 45, 66, 93, 104, 151, 185, 208), fc.integer({ min: 0, max: 0xffffff }))
  .map(([a, r]) => a * 2 ** 24 + r);

describe('validateTarget: properties', () => {
  const urlish = fc.oneof(
    fc.webUrl({
      withQueryParameters: true,
      withFragments: true,
      authoritySettings: { withIPv4: true, withIPv6: true, withIPv4Extended: true, withPort: true, withUserInfo: true },
    }),
    fc.webUrl({ validSchemes: ['http', 'https', 'HTTP', 'ftp', 'javascript', 'file', 'data'] }),
    fc.string({ unit: 'binary', maxLength: 80 }),
    fc
      .tuple(
        fc.constantFrom('http://', 'https://', 'HtTpS:', ' https://', '//', ''),
        fc.string({ unit: 'binary-ascii', maxLength: 60 }),
      )
      .map(([a, b]) => a + b),
    fc.tuple(fc.webUrl(), fc.integer({ min: 1900, max: 2200 })).map(([u, n]) => u + '/' + 'a'.repeat(n)),
  );

  it('every accepted URL is absolute http(s), at most 2048 characters, credential-free and idempotent', () => {
    fc.assert(
      fc.property(urlish, (input) => {
        const r = validateTarget(input, OPTS);
        if (!r.ok) {
          expect(r.code).toMatch(/^[a-z_]+$/);
          expect(r.message.length).toBeGreaterThan(0);
          return;
        }
        const u = new URL(r.url);
        expect(['http:', 'https:']).toContain(u.protocol);
        expect(u.href).toBe(r.url);
        expect(r.url.length).toBeLessThanOrEqual(TARGET_MAX_LENGTH);
        expect(u.username + u.password).toBe('');
        expect(u.hostname.replace(/\.+$/, '')).not.toBe('');
        const again = validateTarget(r.url, OPTS);
        expect(again).toEqual({ ok: true, url: r.url });
      }),
      { numRuns: 3000 },
    );
  });

  it('rejects every spelling of a blocked IPv4 address', () => {
    fc.assert(
      fc.property(
        blockedV4.chain((n) => fc.tuple(fc.constant(n), ipv4Spelling(n))),
        ([n, spelled]) => {
          const input = `http://${spelled}/x`;
          expect(new URL(input).hostname).toBe(dotted(n)); // the parser really folds it
          expect(code(input)).toBe('private_address');
          expect(code(`http://[::ffff:${dotted(n)}]/`)).toBe('private_address');
          expect(code(`http://[64:ff9b::${dotted(n)}]/`)).toBe('private_address');
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('accepts every spelling of a public IPv4 address, normalised to the dotted form', () => {
    fc.assert(
      fc.property(
        publicV4.chain((n) => fc.tuple(fc.constant(n), ipv4Spelling(n))),
        ([n, spelled]) => {
          expect(accepted(`http://${spelled}/x`)).toBe(`http://${dotted(n)}/x`);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('rejects IPv6 loopback, unique-local, link-local and multicast in any spelling', () => {
    const word = fc.integer({ min: 0, max: 0xffff });
    const blocked6 = fc.oneof(
      fc
        .tuple(fc.integer({ min: 0, max: 0x1ff }), fc.array(word, { minLength: 7, maxLength: 7 }))
        .map(([x, rest]) => [0xfc00 | x, ...rest]),
      fc
        .tuple(fc.integer({ min: 0, max: 0x3f }), fc.array(word, { minLength: 7, maxLength: 7 }))
        .map(([x, rest]) => [0xfe80 | x, ...rest]),
      fc
        .tuple(fc.integer({ min: 0, max: 0xff }), fc.array(word, { minLength: 7, maxLength: 7 }))
        .map(([x, rest]) => [0xff00 | x, ...rest]),
      fc.constant([0, 0, 0, 0, 0, 0, 0, 1]),
      blockedV4.map((n) => [0, 0, 0, 0, 0, 0xffff, n >>> 16, n & 0xffff]),
      blockedV4.map((n) => [0x64, 0xff9b, 0, 0, 0, 0, n >>> 16, n & 0xffff]),
      fc.tuple(blockedV4, word, word).map(([n, a, b]) => [0x2002, n >>> 16, n & 0xffff, a, b, 0, 0, 1]),
    );
    fc.assert(
      fc.property(blocked6, fc.boolean(), fc.boolean(), (words, pad, upper) => {
        const text = words.map((w) => hexCase(pad ? w.toString(16).padStart(4, '0') : w.toString(16), upper)).join(':');
        expect(code(`http://[${text}]/`)).toBe('private_address');
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects dangerous schemes whatever their case, leading controls or embedded tabs and newlines', () => {
    const scheme = fc
      .tuple(
        fc.constantFrom('javascript', 'vbscript', 'data', 'file', 'ftp'),
        fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }),
        fc.array(fc.constantFrom('', '', '', '\t', '\n', '\r'), { minLength: 10, maxLength: 10 }),
      )
      .map(([name, uppers, junk]) => ({
        name,
        spelled: [...name]
          .map((c, i) => (uppers[i] ? c.toUpperCase() : c) + (i < name.length - 1 ? (junk[i] ?? '') : ''))
          .join(''),
      }));
    const lead = fc.string({
      unit: fc.integer({ min: 0, max: 0x20 }).map((c) => String.fromCharCode(c)),
      maxLength: 5,
    });
    fc.assert(
      fc.property(
        lead,
        scheme,
        fc.constantFrom('alert(1)', '//example.com/x', 'text/html,<b>x</b>'),
        (l, { name, spelled }, payload) => {
          const rest = name === 'file' || name === 'ftp' ? '//example.com/x' : payload;
          expect(code(`${l}${spelled}:${rest}`)).toBe('scheme');
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('never throws, whatever the options', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 100 }),
        fc.array(fc.string({ unit: 'binary-ascii', maxLength: 20 }), { maxLength: 3 }),
        fc.boolean(),
        fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }),
        (input, selfHosts, allowPrivate, allowedSchemes) => {
          const r = validateTarget(input, { selfHosts, allowPrivate, allowedSchemes });
          expect(typeof r.ok).toBe('boolean');
        },
      ),
      { numRuns: 2000 },
    );
  });
});

// ------------------------------------------------------------------ slugs

describe('validateSlug', () => {
  it.each([
    ['abc', 'ok'],
    ['a-b_c', 'ok'],
    ['ABC123', 'ok'],
    ['---', 'ok'],
    ['x'.repeat(64), 'ok'],
    ['ab', 'slug_too_short'],
    ['', 'slug_too_short'],
    ['x'.repeat(65), 'slug_too_long'],
    ['has space', 'slug_format'],
    ['dot.ted', 'slug_format'],
    ['slash/x', 'slug_format'],
    ['abc\n', 'slug_format'],
    ['über', 'slug_format'],
    ['abc%20', 'slug_format'],
    ['favicon.ico', 'slug_format'],
    ['robots.txt', 'slug_format'],
    ['socket.io', 'slug_format'],
    ['api', 'slug_reserved'],
    ['API', 'slug_reserved'],
    ['_next', 'slug_reserved'],
    ['Login', 'slug_reserved'],
    ['sign-up', 'slug_reserved'],
    ['healthz', 'slug_reserved'],
    ['READYZ', 'slug_reserved'],
    ['metrics', 'slug_reserved'],
    ['Admin', 'slug_reserved'],
    ['stats', 'slug_reserved'],
    ['qr', 'slug_too_short'],
    ['apis', 'ok'],
  ])('%j -> %s', (slug, expected) => {
    const r = validateSlug(slug, reservedSlugs);
    expect(r.ok ? 'ok' : r.code).toBe(expected);
    if (!r.ok) expect(r.message.length).toBeGreaterThan(10);
  });

  it('reserves the page and API names', () => {
    for (const name of [
      'api',
      '_next',
      'static',
      'login',
      'logout',
      'signin',
      'signup',
      'sign-in',
      'sign-up',
      'account',
      'accounts',
      'settings',
      'admin',
      'dashboard',
      'links',
      'cluster',
      'healthz',
      'readyz',
      'metrics',
      'about',
      'help',
      'privacy',
      'terms',
      'new',
      'edit',
      'delete',
      'stats',
      'qr',
      '_ring',
    ]) {
      expect(reservedSlugs.has(name), name).toBe(true);
    }
    for (const name of reservedSlugs) expect(name).toBe(name.toLowerCase());
  });

  it('compares with a caller-supplied reserved set case-insensitively', () => {
    const custom = new Set(['Promo', 'sale']);
    expect(validateSlug('promo', custom).ok).toBe(false);
    expect(validateSlug('SALE', custom).ok).toBe(false);
    expect(validateSlug('api', custom).ok).toBe(true);
  });

  it('accepts exactly the strings matching the rule that are not reserved', () => {
    const slugChar = fc.constantFrom(...'abcXYZ019_-'.split(''), '.', ' ', '/', 'é', '\n');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: slugChar, maxLength: 70 }),
          fc.constantFrom(...reservedSlugs),
          fc.string({ unit: 'binary', maxLength: 70 }),
        ),
        (s) => {
          const expected = /^[A-Za-z0-9_-]{3,64}$/.test(s) && !reservedSlugs.has(s.toLowerCase());
          expect(validateSlug(s, reservedSlugs).ok).toBe(expected);
        },
      ),
      { numRuns: 3000 },
    );
  });
});

// ------------------------------------------------------------------ random slugs

/** A randomBytes stub that hands out a fixed sequence, then fails loudly. */
function scripted(bytes: number[]): (n: number) => Uint8Array {
  let i = 0;
  return (n) => {
    if (i >= bytes.length) throw new Error('stub exhausted');
    const out = Uint8Array.from(bytes.slice(i, i + n));
    i += n;
    return out;
  };
}

function maxRelativeDeviation(counts: ReadonlyMap<string, number>, total: number): number {
  const expected = total / BASE62.length;
  let worst = 0;
  for (const c of BASE62) worst = Math.max(worst, Math.abs((counts.get(c) ?? 0) - expected) / expected);
  return worst;
}

function countChars(slugs: Iterable<string>): { counts: Map<string, number>; total: number } {
  const counts = new Map<string, number>();
  let total = 0;
  for (const s of slugs) {
    for (const c of s) {
      counts.set(c, (counts.get(c) ?? 0) + 1);
      total++;
    }
  }
  return { counts, total };
}

describe('randomSlug', () => {
  it('is 7 base62 characters, matching the slug rule and never reserved', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), (pool) => {
        // Any byte stream (cycled) yields a valid slug.
        let i = 0;
        const bytes = (n: number) => Uint8Array.from({ length: n }, () => pool[i++ % pool.length] ?? 0);
        const slug = randomSlug(reservedSlugs, bytes);
        expect(slug).toMatch(/^[0-9A-Za-z]{7}$/);
        expect(SLUG_PATTERN.test(slug)).toBe(true);
        expect(validateSlug(slug, reservedSlugs).ok).toBe(true);
      }),
      { numRuns: 500 },
    );
    for (let k = 0; k < 1000; k++) {
      const s = randomSlug(reservedSlugs);
      expect(s).toMatch(/^[0-9A-Za-z]{7}$/);
      expect(validateSlug(s, reservedSlugs).ok).toBe(true);
    }
  });

  it('maps bytes below 248 with % 62 and skips bytes >= 248 (no modulo bias)', () => {
    // 248..255 would map to 0..7 under a plain % 62; they must be dropped.
    const bytes = scripted([248, 249, 250, 251, 252, 253, 254, 255, 10, 36, 61, 62, 247, 0, 255, 1]);
    const slug = randomSlug(reservedSlugs, bytes);
    expect(slug).toBe([10, 36, 61, 0, 247 % 62, 0, 1].map((b) => BASE62[b]).join(''));
    expect(slug).toBe('Aaz0z01');
  });

  it('refuses a source that only returns rejected bytes instead of hanging or biasing', () => {
    let calls = 0;
    expect(() =>
      randomSlug(reservedSlugs, (n) => {
        calls++;
        return new Uint8Array(n).fill(248 + (calls % 8));
      }),
    ).toThrow(/unusable/);
    expect(() => randomSlug(reservedSlugs, () => new Uint8Array(0))).toThrow(/unusable/);
  });

  it('draws again instead of returning a reserved word', () => {
    const idx = (s: string): number[] => [...s].map((c) => BASE62.indexOf(c));
    const slug = randomSlug(reservedSlugs, scripted([...idx('account'), ...idx('Signout'), ...idx('abc1234')]));
    expect(slug).toBe('abc1234');
  });

  it('uses every base62 character with near-uniform frequency over 200k slugs', () => {
    const slugs: string[] = [];
    for (let k = 0; k < 200_000; k++) slugs.push(randomSlug(reservedSlugs));
    const { counts, total } = countChars(slugs);
    expect(total).toBe(1_400_000);
    expect(counts.size).toBe(62);
    // Expected 22,581 per character, sd ~148 (0.66%): 4% is a 6-sigma bound.
    expect(maxRelativeDeviation(counts, total)).toBeLessThan(0.04);
  });

  it('the frequency check catches a modulo-biased generator', () => {
    // What randomSlug would produce without rejection: bytes 248..255 fold onto 0..7.
    const biased = function* (): Generator<string> {
      for (let k = 0; k < 200_000; k++) {
        yield [...cryptoRandomBytes(7)].map((b) => BASE62[b % 62]).join('');
      }
    };
    const { counts, total } = countChars(biased());
    expect(maxRelativeDeviation(counts, total)).toBeGreaterThan(0.04);
  });
});

describe('validateTarget: cost', () => {
  // Inputs that made the old edge-trimming regex backtrack: a run of whitespace that does not
  // reach the end, so `[...]+$` was retried from every position of the run (quadratic).
  const pathological: ((n: number, i: number) => string)[] = [
    (n) => ' '.repeat(n),
    (n, i) => `x${' '.repeat(n)}x${i}`,
    (n, i) => `x${' \t'.repeat(n / 2)}y${i}`,
    (n, i) => `${'\t'.repeat(n)}\u0000${i}`,
    (n, i) => `https://a${'\u00a0 '.repeat(n / 2)}.example/${i}`,
    (n, i) => `http://a${'.'.repeat(n)}b${i}/`,
    (n, i) => `${'a'.repeat(n)}%${i}`,
    (n, i) => `https://example.com/${'a'.repeat(n)}${i}`,
  ];
  const batch = (n: number) => Array.from({ length: 200 }, (_, i) => pathological[i % pathological.length]!(n, i));

  /**
   * Milliseconds to validate every input, or Infinity once `stopAt` (performance.now()) has
   * passed: the loop is synchronous, so vitest's own timeout could not end a quadratic run,
   * which takes minutes (4.7 s per 64 KB input).
   */
  function timed(inputs: readonly string[], stopAt: number): number {
    const t0 = performance.now();
    for (const input of inputs) {
      validateTarget(input, OPTS);
      if (performance.now() > stopAt) return Infinity;
    }
    return performance.now() - t0;
  }

  it('grows linearly: 200 inputs of 64 KB cost less than 40x 200 of 8 KB (a quadratic regex gives ~64x)', () => {
    const small = batch(8 * 1024);
    const large = batch(64 * 1024);
    // A generous deadline for the whole measurement (the linear code needs well under 1 s).
    const deadline = performance.now() + 30_000;
    timed(small, deadline); // warm up the JIT
    // The fastest of a few rounds, so a pause of the shared machine does not count as cost.
    let smallMs = Infinity;
    for (let round = 0; round < 3; round++) smallMs = Math.min(smallMs, timed(small, deadline));
    // A floor of 1 ms: below it the ratio measures timer resolution, not the algorithm.
    const budgetMs = 40 * Math.max(smallMs, 1);
    let largeMs = Infinity;
    for (let round = 0; round < 3 && largeMs >= budgetMs; round++) {
      largeMs = Math.min(largeMs, timed(large, Math.min(deadline, performance.now() + budgetMs)));
    }
    expect(largeMs, `8 KB inputs took ${smallMs.toFixed(2)} ms, 64 KB ones ${largeMs.toFixed(2)} ms`).toBeLessThan(
      budgetMs,
    );
  }, 60_000);

  it('trims what the URL parser strips plus Unicode whitespace, like the regex it replaced', () => {
    const reference = (s: string) => s.replace(/^[\u0000-\u0020\s\ufeff]+|[\u0000-\u0020\s\ufeff]+$/g, '');
    const junk = fc.constantFrom(
      ' ',
      '\t',
      '\n',
      '\r',
      '\u0000',
      '\u001f',
      '\u00a0',
      '\u2028',
      '\u3000',
      '\ufeff',
      '\u200b',
      'a',
      '.',
      '\u0085',
    );
    fc.assert(
      fc.property(
        fc.array(junk, { maxLength: 30 }).map((a) => a.join('')),
        (s) => {
          expect(trimEdgeJunk(s)).toBe(reference(s));
        },
      ),
      { numRuns: 500 },
    );
  });
});

// ------------------------------------------------------------------ minted slugs

describe('mintedSlug', () => {
  it('is a valid slug of 15 base62 characters, recognised by isMintedSlug, and longer than the short ones', () => {
    for (let k = 0; k < 2_000; k++) {
      const s = mintedSlug();
      expect(s).toMatch(/^[0-9A-Za-z]{15}$/);
      expect(validateSlug(s, reservedSlugs).ok).toBe(true);
      expect(isMintedSlug(s)).toBe(true);
      expect(s.length).toBeGreaterThan(RANDOM_SLUG_LENGTH);
    }
  });

  it('changing the check character breaks the shape; short random slugs and other lengths never have it', () => {
    const s = mintedSlug();
    const last = s[14]!;
    const other = BASE62[(BASE62.indexOf(last) + 1) % 62]!;
    expect(isMintedSlug(s.slice(0, 14) + other)).toBe(false);
    expect(isMintedSlug(s.slice(0, 14))).toBe(false);
    expect(isMintedSlug(`${s.slice(0, 13)}-${last}`)).toBe(false);
    for (let k = 0; k < 1_000; k++) expect(isMintedSlug(randomSlug(reservedSlugs))).toBe(false);
  });

  it('about 1 in 62 strings of 15 base62 characters has the shape (what custom slugs give up)', () => {
    let n = 0;
    const tries = 62_000;
    for (let k = 0; k < tries; k++) {
      let s = '';
      for (const b of cryptoRandomBytes(15)) s += BASE62[b % 62];
      if (isMintedSlug(s)) n++;
    }
    expect(n).toBeGreaterThan(tries / 62 / 2);
    expect(n).toBeLessThan((tries / 62) * 2);
  });

  it('rejects biased bytes like randomSlug, and fails loudly on a broken random source', () => {
    const s = mintedSlug(scripted([248, 255, ...Array(14).fill(1)]));
    expect(s.slice(0, 14)).toBe('1'.repeat(14));
    expect(() => mintedSlug(() => new Uint8Array(0))).toThrow(/unusable/);
  });

  it('states its collision odds: 62^14 slugs, about 4e-8 for any collision among a billion', () => {
    const space = 62 ** MINTED_SLUG_RANDOM_CHARS;
    const n = 1e9;
    const p = -Math.expm1(-(n * (n - 1)) / 2 / space);
    expect(p).toBeLessThan(1e-6);
    expect(p).toBeCloseTo(4.03e-8, 9);
  });
});
