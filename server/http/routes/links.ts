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
import { baseUrl, callerOf, requireCaller, type Api } from '../callers';
import { inputError, json } from '../respond';
import { routesFor } from '../router';
import { clientIp } from '../security';

const route = routesFor<Api>();
const tag = 'Links';
const notYours = { description: "No such link among the caller's." };
const link = { description: 'The link.', schema: linkViewSchema };
const sorts = ['created', 'total', 'slug'];

export const linkRoutes = [
  route({
    method: 'GET',
    path: '/api/links',
    auth: 'caller',
    doc: {
      summary: "The caller's links",
      tag,
      query: linkListQuery,
      responses: { 200: { description: 'Newest first unless sorted.', schema: linkListSchema } },
    },
    async handler({ req, res, url }, api) {
      const c = await callerOf(api, req, res, { write: false });
      if (!c) return json(res, 200, { links: [] } satisfies LinkList);
      const q = (url.searchParams.get('q') ?? '').toLowerCase();
      const sort = url.searchParams.get('sort') ?? 'created';
      const order = url.searchParams.get('order') ?? (sort === 'slug' ? 'asc' : 'desc');
      if (!sorts.includes(sort)) throw inputError(400, 'sort', 'invalid_sort', 'sort must be created, total or slug.');
      if (!['asc', 'desc'].includes(order))
        throw inputError(400, 'order', 'invalid_order', 'order must be asc or desc.');
      const docs = (await api.links.list(c.owner)).filter(
        (d) => !q || d.slug.toLowerCase().includes(q) || d.url.toLowerCase().includes(q),
      );
      const views = await api.links.views(docs, baseUrl(api, req));
      const key = (v: LinkView): number | string =>
        sort === 'total' ? v.total : sort === 'slug' ? v.slug.toLowerCase() : v.createdAt;
      views.sort((a, b) => {
        const x = key(a);
        const y = key(b);
        const cmp = x < y ? -1 : x > y ? 1 : 0;
        return order === 'asc' ? cmp : -cmp;
      });
      json(res, 200, { links: views } satisfies LinkList);
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
