// Domain errors map to HTTP in one place (server/http/errors.ts): each kind has its status,
// the problem carries the domain's field and code, and "try again" answers carry Retry-After.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  conflict,
  DomainError,
  forbidden,
  gone,
  invalidInput,
  limitReached,
  notFound,
  unavailable,
  type DomainErrorKind,
} from '../../server/domain/errors';
import { domainErrorStatus, problemOf } from '../../server/http/errors';
import { HttpError } from '../../server/http/respond';
import { RingCallError } from '../../server/ringClient';

describe('problemOf', () => {
  it('maps every domain error kind to its status, title, field and code', () => {
    const cases: [DomainError, number, string, Record<string, string>][] = [
      [
        invalidInput('slug', 'slug_too_short', 'Custom slugs need at least 3 characters.'),
        422,
        'Unprocessable Content',
        { field: 'slug', code: 'slug_too_short' },
      ],
      [
        limitReached('too_many_links', 'You have too many links.'),
        422,
        'Unprocessable Content',
        { code: 'too_many_links' },
      ],
      [notFound('link_not_found', 'There is no link "abc" among yours.'), 404, 'Not Found', { code: 'link_not_found' }],
      [
        conflict('slug', 'slug_taken', 'The slug "abc" is already taken.'),
        409,
        'Conflict',
        { field: 'slug', code: 'slug_taken' },
      ],
      [gone('link_deleted', 'This link was deleted.'), 410, 'Gone', { code: 'link_deleted' }],
      [forbidden('not_yours', 'That is not yours.'), 403, 'Forbidden', { code: 'not_yours' }],
    ];
    for (const [err, status, title, extras] of cases) {
      expect(problemOf(err)).toEqual({ status, title, detail: err.message, headers: {}, extras });
    }
  });

  it('answers unavailable with 503 and Retry-After, and no code', () => {
    expect(problemOf(unavailable('Too few replicas can agree right now. Try again in a moment.'))).toEqual({
      status: 503,
      title: 'Service Unavailable',
      detail: 'Too few replicas can agree right now. Try again in a moment.',
      headers: { 'retry-after': '1' },
      extras: {},
    });
  });

  it('has a status for every kind', () => {
    const kinds: DomainErrorKind[] = [
      'invalid_input',
      'limit_reached',
      'not_found',
      'conflict',
      'gone',
      'forbidden',
      'unavailable',
    ];
    for (const kind of kinds) expect(domainErrorStatus[kind], kind).toBeGreaterThanOrEqual(400);
  });

  it('maps ring errors and passes HTTP errors through', () => {
    const timeout = problemOf(new RingCallError({ kind: 'timeout', message: 'no quorum in 500 ms' }))!;
    expect([timeout.status, timeout.title, timeout.headers]).toEqual([504, 'Gateway Timeout', { 'retry-after': '1' }]);
    expect(timeout.detail).toMatch(/could not complete this request right now \(timeout: no quorum in 500 ms\)/);
    const invalid = problemOf(new RingCallError({ kind: 'invalid', message: 'value too large' }))!;
    expect([invalid.status, invalid.title, invalid.detail, invalid.headers]).toEqual([
      400,
      'Bad Request',
      'invalid: value too large',
      {},
    ]);
    expect(problemOf(new RingCallError({ kind: 'unavailable', message: 'x' }))!.status).toBe(503);
    const http = problemOf(new HttpError(405, 'Method Not Allowed', 'use GET', { allow: 'GET, HEAD' }))!;
    expect([http.status, http.headers]).toEqual([405, { allow: 'GET, HEAD' }]);
    expect(problemOf(new Error('a bug'))).toBeUndefined();
  });
});

describe('layering', () => {
  const root = join(__dirname, '..', '..');
  const sources = (dir: string): string[] =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
    );
  const importsOf = (file: string) =>
    [...readFileSync(join(root, file), 'utf8').matchAll(/^import [^;]*? from '([^']+)'/gms)].map((m) => m[1]!);

  it('the domain (links, auth, domain) imports nothing from the HTTP layer', () => {
    for (const file of [...sources('server/links'), ...sources('server/auth'), ...sources('server/domain')]) {
      for (const spec of importsOf(file))
        expect(spec, `${file} imports ${spec}`).not.toMatch(/(^|\/)http\/|^node:http$/);
    }
  });

  it('auth/ does not import links/ (links/ may use auth/)', () => {
    for (const file of sources('server/auth'))
      for (const spec of importsOf(file)) expect(spec, `${file} imports ${spec}`).not.toMatch(/\/links\//);
  });
});
