// Links (docs/api.md, Links): create, list, read, edit, delete, stats. Inputs are checked
// (schema, then the link rules) before the caller is resolved or the ring is touched, so bad
// input gets its 4xx even from a node that cannot reach a quorum.
import {
  createLinkBody,
  linkListQuery,
  linkListSchema,
  linkStatsViewSchema,
  linkViewSchema,
  updateLinkBody,
} from '../../../contract/schemas';
import type { LinkList, LinkStatsView, LinkView } from '../../../contract/types';
import type { IndexCursor } from '../../../ring';
import { linkKey } from '../../datatypes/keys';
import { validateSlug } from '../../links/rules';
import { baseUrl, callerOf, requireCaller, type Api } from '../callers';
import { inputError, json } from '../respond';
import { routesFor } from '../router';
import { clientIp } from '../security';

const route = routesFor<Api>();
const tag = 'Links';
const notYours = { description: "No such link among the caller's." };
const link = { description: 'The link.', schema: linkViewSchema };
/** Links per page of GET /api/links unless `limit` says otherwise, and the most `limit` may ask for. */
export const linkPageDefault = 50;
export const linkPageMax = 200;
/** The longest `q` accepted (characters). */
const listQueryMaxChars = 200;

/** The opaque cursor of GET /api/links: where the previous page ended (createdAt, slug), base64url JSON. */
export function encodeLinkCursor(at: IndexCursor): string {
  return Buffer.from(JSON.stringify([at[0], at[1].slice(linkKey('').length)])).toString('base64url');
}

export function decodeLinkCursor(cursor: string): IndexCursor | undefined {
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(cursor)) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(v) || v.length !== 2) return undefined;
    const [sort, slug] = v as unknown[];
    if (typeof sort !== 'number' || !Number.isSafeInteger(sort) || sort < 0) return undefined;
    if (typeof slug !== 'string' || !validateSlug(slug, new Set()).ok) return undefined;
    return [sort, linkKey(slug)];
  } catch {
    return undefined;
  }
}

export const linkRoutes = [
  route({
    method: 'GET',
    path: '/api/links',
    auth: 'caller',
    doc: {
      summary: "The caller's links, newest first, a page at a time",
      tag,
      query: linkListQuery,
      responses: {
        200: { description: "One page, the next page's cursor and the exact total.", schema: linkListSchema },
        400: { description: 'A limit outside 1-200, a malformed cursor, a q too long, or a sort other than created.' },
      },
    },
    async handler({ req, res, url }, api) {
      const p = url.searchParams;
      const limitText = p.get('limit');
      const limit = limitText === null ? linkPageDefault : Number(limitText);
      if (!/^\d{1,3}$/.test(limitText ?? '50') || !Number.isInteger(limit) || limit < 1 || limit > linkPageMax)
        throw inputError(400, 'limit', 'invalid_limit', `limit must be a whole number from 1 to ${linkPageMax}.`);
      const cursorText = p.get('cursor');
      const after = cursorText === null || cursorText === '' ? undefined : decodeLinkCursor(cursorText);
      if (cursorText && !after)
        throw inputError(
          400,
          'cursor',
          'invalid_cursor',
          'cursor is not one this API returned: pass nextCursor from the previous page unchanged, or leave it out.',
        );
      const q = (p.get('q') ?? '').toLowerCase();
      if (q.length > listQueryMaxChars)
        throw inputError(400, 'q', 'invalid_q', `q must be at most ${listQueryMaxChars} characters.`);
      const sort = p.get('sort') ?? 'created';
      if (sort !== 'created')
        throw inputError(
          400,
          'sort',
          'invalid_sort',
          'Links are listed newest first only (sort=created): ' +
            'sorting by views or slug cannot page through millions of links.',
        );
      if ((p.get('order') ?? 'desc') !== 'desc')
        throw inputError(400, 'order', 'invalid_order', 'Links are listed newest first only (order=desc).');
      const c = await callerOf(api, req, res, { write: false });
      if (!c) return json(res, 200, { links: [], nextCursor: null, total: 0 } satisfies LinkList);
      const page = await api.links.list(c.owner, { limit, ...(after ? { after } : {}), ...(q ? { q } : {}) });
      const links = await api.links.views(page.docs, baseUrl(api, req));
      json(res, 200, {
        links,
        nextCursor: page.next ? encodeLinkCursor(page.next) : null,
        total: page.total,
      } satisfies LinkList);
    },
  }),
  route({
    method: 'POST',
    path: '/api/links',
    auth: 'caller',
    body: createLinkBody,
    doc: {
      summary: 'Shorten a link',
      tag,
      responses: {
        201: { description: 'Created; Location names it.', schema: linkViewSchema },
        409: { description: 'The slug is taken.' },
      },
    },
    async handler({ req, res, body }, api) {
      api.links.checkInput(body);
      const c = (await callerOf(api, req, res, { write: true, create: true }))!;
      await api.limits.create(clientIp(req, api.trustProxy), c.owner);
      const doc = await api.links.create(c.owner, body);
      json(res, 201, api.links.createdView(doc, baseUrl(api, req)) satisfies LinkView, {
        location: `/api/links/${doc.slug}`,
      });
    },
  }),
  route({
    method: 'GET',
    path: '/api/links/:slug',
    auth: 'caller',
    doc: { summary: "A link of the caller's", tag, responses: { 200: link, 404: notYours } },
    async handler({ req, res, params }, api) {
      const c = await requireCaller(api, req, res, false);
      const { doc } = await api.links.owned(c.owner, params.slug!);
      json(res, 200, (await api.links.view(doc, baseUrl(api, req))) satisfies LinkView);
    },
  }),
  route({
    method: 'PATCH',
    path: '/api/links/:slug',
    auth: 'caller',
    body: updateLinkBody,
    doc: {
      summary: 'Edit a link',
      tag,
      responses: { 200: link, 404: notYours, 410: { description: 'The link was deleted.' } },
    },
    async handler({ req, res, params, body }, api) {
      api.links.checkInput(body);
      const c = await requireCaller(api, req, res, true);
      await api.limits.write(clientIp(req, api.trustProxy), c.owner);
      const doc = await api.links.update(c.owner, params.slug!, body);
      json(res, 200, (await api.links.view(doc, baseUrl(api, req))) satisfies LinkView);
    },
  }),
  route({
    method: 'DELETE',
    path: '/api/links/:slug',
    auth: 'caller',
    doc: {
      summary: 'Delete a link',
      tag,
      responses: {
        204: { description: 'Deleted: the short URL answers 410 from now on, and the slug is never reissued.' },
        404: notYours,
      },
    },
    async handler({ req, res, params }, api) {
      const c = await requireCaller(api, req, res, true);
      await api.limits.write(clientIp(req, api.trustProxy), c.owner);
      await api.links.remove(c.owner, params.slug!);
      res.writeHead(204, { 'cache-control': 'no-store' });
      res.end();
    },
  }),
  route({
    method: 'GET',
    path: '/api/links/:slug/stats',
    auth: 'caller',
    doc: {
      summary: "A link's views: per minute, referrers, devices, and where it is stored",
      tag,
      responses: { 200: { description: 'The stats.', schema: linkStatsViewSchema }, 404: notYours },
    },
    async handler({ req, res, params }, api) {
      const c = await requireCaller(api, req, res, false);
      await api.links.owned(c.owner, params.slug!);
      json(res, 200, (await api.links.stats(params.slug!)) satisfies LinkStatsView);
    },
  }),
];
