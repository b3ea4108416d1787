// The redirect path's hand-written request parsing, checked against what it replaces: the
// slug pattern (a regular expression before) and Node's own req.headers.
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { slugOfTarget } from '../../server/http/app';
import { redirectHeads } from '../../server/http/security';

const RUNS = { numRuns: 2_000 };
const slugPattern = /^\/([A-Za-z0-9_-]{3,64})(?:\?.*)?$/s;

describe('slugOfTarget', () => {
  const slugChar = fc.constantFrom(...'abcXYZ0189-_'.split(''));
  const anyChar = fc.constantFrom(...'aZ09-_/?.%~ #&=\u00e9'.split(''));
  const target = fc.oneof(
    fc
      .tuple(fc.array(slugChar, { maxLength: 70 }), fc.option(fc.string({ maxLength: 10 })))
      .map(([s, q]) => `/${s.join('')}${q === null ? '' : `?${q}`}`),
    fc.array(anyChar, { maxLength: 80 }).map((cs) => cs.join('')),
    fc.string({ maxLength: 80 }),
  );

  it('agrees with the slug pattern on any request target', () => {
    fc.assert(
      fc.property(target, (t) => {
        expect(slugOfTarget(t)).toBe(slugPattern.exec(t)?.[1] ?? null);
      }),
      RUNS,
    );
  });

  it('takes one segment of 3 to 64 slug characters, with or without a query', () => {
    expect(slugOfTarget('/abc')).toBe('abc');
    expect(slugOfTarget('/a-b_C9?utm=x')).toBe('a-b_C9');
    expect(slugOfTarget(`/${'x'.repeat(64)}`)).toBe('x'.repeat(64));
    for (const t of ['/', '/ab', `/${'x'.repeat(65)}`, '/abc/', '/abc/def', '/abc#x', '//abc', 'abc', '/ab%63', '*'])
      expect(slugOfTarget(t)).toBeNull();
  });
});

describe('redirectHeads', () => {
  /** What Node's req.headers makes of the same raw header list. */
  function nodeHeaders(raw: string[]) {
    const msg = new IncomingMessage(new Socket());
    (msg as unknown as { _addHeaderLines(h: string[], n: number): void })._addHeaderLines(raw, raw.length);
    return msg.headers;
  }
  const name = fc.constantFrom(
    'Host',
    'host',
    'HOST',
    'User-Agent',
    'user-agent',
    'USER-AGENT',
    'Referer',
    'referer',
    'X-Forwarded-For',
    'x-forwarded-for',
    'Accept',
    'Cookie',
    'Hostx',
    'Referrer',
    'X-Real-IP',
  );
  const value = fc.string({ maxLength: 12 }).filter((v) => !/[\r\n\0]/.test(v));
  const raw = fc.array(fc.tuple(name, value), { maxLength: 12 }).map((pairs) => pairs.flat());

  it('reads host, user agent, referer and X-Forwarded-For as req.headers would', () => {
    fc.assert(
      fc.property(raw, (r) => {
        const want = nodeHeaders(r);
        const got = redirectHeads(r);
        expect(got.host).toBe(want.host);
        expect(got.userAgent).toBe(want['user-agent']);
        expect(got.referer).toBe(want.referer);
        expect(got.forwardedFor).toBe(want['x-forwarded-for']);
      }),
      RUNS,
    );
  });
});
