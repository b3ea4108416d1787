// GET /api/links checks its query (limit, cursor, q, sort, order) before any service is
// reached: bad input gets a 400 naming the field and what to do, from a node with no ring.
// The cursor is opaque to clients but must round-trip exactly and refuse anything else.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeLinkCursor, encodeLinkCursor } from '../../server/http/routes/links';
import { contains, linkTextFilter, linkType } from '../../server/links/linkDoc';
import { startFront, type TestFront } from './httpApp';

let front: TestFront;

beforeAll(async () => {
  front = await startFront();
});

afterAll(async () => {
  await front.close();
});

describe('GET /api/links query', () => {
  it.each([
    ['limit=0', 'limit', 'invalid_limit'],
    ['limit=201', 'limit', 'invalid_limit'],
    ['limit=-1', 'limit', 'invalid_limit'],
    ['limit=1.5', 'limit', 'invalid_limit'],
    ['limit=1e2', 'limit', 'invalid_limit'],
    ['limit=', 'limit', 'invalid_limit'],
    ['limit=fifty', 'limit', 'invalid_limit'],
    ['cursor=%%%', 'cursor', 'invalid_cursor'],
    ['cursor=abc', 'cursor', 'invalid_cursor'],
    [`cursor=${Buffer.from('{"a":1}').toString('base64url')}`, 'cursor', 'invalid_cursor'],
    [`cursor=${Buffer.from('[-5,"abc"]').toString('base64url')}`, 'cursor', 'invalid_cursor'],
    [`cursor=${Buffer.from('[5,"a/b"]').toString('base64url')}`, 'cursor', 'invalid_cursor'],
    [`q=${'q'.repeat(201)}`, 'q', 'invalid_q'],
    ['sort=total', 'sort', 'invalid_sort'],
    ['sort=slug', 'sort', 'invalid_sort'],
    ['order=asc', 'order', 'invalid_order'],
  ])('%s answers 400 %s/%s before the caller or the ring is looked at', async (query, field, code) => {
    const r = await fetch(`${front.url}/api/links?${query}`);
    expect(r.status).toBe(400);
    const body = (await r.json()) as { field?: string; code?: string; detail?: string };
    expect({ field: body.field, code: body.code }).toEqual({ field, code });
    expect(body.detail?.length).toBeGreaterThan(10);
  });
});

describe('the link list cursor', () => {
  it('round-trips (createdAt, slug) and refuses what it did not make', () => {
    const at = [1_767_225_600_123, 'link/Ab_9-x'] as const;
    const c = encodeLinkCursor(at);
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeLinkCursor(c)).toEqual(at);
    expect(decodeLinkCursor(c.slice(0, -2))).toBeUndefined();
    expect(decodeLinkCursor('')).toBeUndefined();
    expect(decodeLinkCursor('x'.repeat(401))).toBeUndefined();
    expect(decodeLinkCursor(Buffer.from('[1.5,"abc"]').toString('base64url'))).toBeUndefined();
    expect(decodeLinkCursor(Buffer.from('[1,"ab"]').toString('base64url'))).toBeUndefined();
  });
});

describe('the owner index entry and search filter of a link', () => {
  const doc = {
    slug: 'AbC-x9',
    url: 'https://Example.com/Path%C3%A9?q=1',
    owner: 'a:someone',
    createdAt: 1_000,
    updatedAt: 1_000,
    expiresAt: null,
    maxClicks: null,
    redirectStatus: 302 as const,
    password: null,
    deletedAt: null,
  };

  it('lists a live link under its owner by createdAt, and a deleted one nowhere', () => {
    expect(linkType.index!(doc)).toEqual([{ name: 'owner', term: 'a:someone', sort: 1_000 }]);
    expect(linkType.index!({ ...doc, deletedAt: 2_000 })).toEqual([]);
  });

  it('matches a lower-case substring of the slug or the target, case-insensitively', () => {
    for (const q of ['abc', 'c-x9', 'example.com/path', '%c3%a9', 'q=1', 'https://'])
      expect(linkTextFilter.match(doc, q), q).toBe(true);
    for (const q of ['abd', 'other', 'x9x']) expect(linkTextFilter.match(doc, q), q).toBe(false);
  });

  it('matches exactly as lower-casing the text would, with or without characters beyond ASCII', () => {
    const texts = ['AbC-X9', 'https://Example.COM/Path', 'ÉCOLE/Straße', 'xİy', 'K\u212A', 'aB', '', 'ZZé'];
    const queries = ['abc', 'x9', 'example.com/p', 'école', 'straße', 'i̇', 'xi', 'kk', 'k', 'ab', 'b', 'zzé', 'zz', ''];
    for (const s of texts)
      for (const q of queries) expect(contains(s, q), `${s} / ${q}`).toBe(s.toLowerCase().includes(q));
  });
});
