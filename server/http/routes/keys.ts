// API keys (docs/api.md, API keys): an account's keys for `Authorization: Bearer`. A key is
// shown once, when it is created.
import { apiKeyListSchema, newApiKeyBody, newApiKeyViewSchema } from '../../../contract/schemas';
import type { ApiKeyList, NewApiKeyView } from '../../../contract/types';
import { requireAccount, type Api } from '../callers';
import { inputError, json } from '../respond';
import { routesFor } from '../router';
import { clientIp } from '../security';

const route = routesFor<Api>();
const tag = 'API keys';
const keyIdPattern = /^[A-Za-z0-9]{1,64}$/;
const iso = (ms: number) => new Date(ms).toISOString();

export const keyRoutes = [
  route({
    method: 'GET',
    path: '/api/keys',
    auth: 'account',
    doc: {
      summary: "The account's API keys",
      tag,
      responses: { 200: { description: 'The keys, without their secrets.', schema: apiKeyListSchema } },
    },
    async handler({ req, res }, api) {
      const c = await requireAccount(api, req, res, false);
      const keys = await api.apiKeys.list(c.account.id);
      json(res, 200, {
        keys: keys.map((k) => ({ id: k.id, name: k.name, prefix: k.prefix, createdAt: iso(k.createdAt) })),
      } satisfies ApiKeyList);
    },
  }),
  route({
    method: 'POST',
    path: '/api/keys',
    auth: 'account',
    body: newApiKeyBody,
    doc: {
      summary: 'Create an API key',
      tag,
      responses: { 201: { description: 'The key, with its secret (shown only here).', schema: newApiKeyViewSchema } },
    },
    async handler({ req, res, body }, api) {
      const c = await requireAccount(api, req, res, true);
      await api.limits.write(clientIp(req, api.trustProxy), c.owner);
      const r = await api.apiKeys.create(c.account, body.name);
      if ('tooMany' in r)
        throw inputError(
          422,
          undefined,
          'too_many_keys',
          'You have the most API keys an account may hold. Revoke one first.',
        );
      const answer: NewApiKeyView = {
        id: r.doc.id,
        name: r.doc.name,
        prefix: r.doc.prefix,
        createdAt: iso(r.doc.createdAt),
        key: r.key,
      };
      json(res, 201, answer);
    },
  }),
  route({
    method: 'DELETE',
    path: '/api/keys/:id',
    auth: 'account',
    doc: {
      summary: 'Revoke an API key',
      tag,
      responses: {
        204: { description: 'Revoked: the key stops working on every node.' },
        404: { description: 'No such key.' },
      },
    },
    async handler({ req, res, params }, api) {
      const id = params.id!;
      if (!keyIdPattern.test(id))
        throw inputError(404, undefined, 'key_not_found', 'There is no such API key on your account.');
      const c = await requireAccount(api, req, res, true);
      await api.limits.write(clientIp(req, api.trustProxy), c.owner);
      if (!(await api.apiKeys.revoke(c.account.id, id)))
        throw inputError(404, undefined, 'key_not_found', 'There is no such API key on your account.');
      res.writeHead(204, { 'cache-control': 'no-store' });
      res.end();
    },
  }),
];
