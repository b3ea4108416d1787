// The admin API's own data (README.md, Operating): a key-value register (kv/), a G-counter
// (ctr/) and a compare-and-set register (cas/), to check a cluster end to end. Keys are
// matched as the client sent them: 1-200 characters of A-Z a-z 0-9 _ . : - (no escapes).
import { z } from 'zod';
import { gcounterValue, type GCounter } from '../../../ring';
import { applyCasOp, type RegisterCasOp } from '../../../ring';
import type { VersionVector } from '../../../ring';
import type { RingClient } from '../../ringClient';
import { HttpError, json } from '../respond';
import { routesFor, type RequestContext } from '../router';

export interface DataDeps {
  ring: RingClient;
}

const route = routesFor<DataDeps>();
const tag = 'Admin data';
const keyPattern = /^[A-Za-z0-9_.:-]{1,200}$/;

const writeBody = z.object({ value: z.unknown(), context: z.string().optional() });
const incrementBody = z.object({ by: z.number().int().min(1).max(1_000_000).default(1) });
const casBody = z.discriminatedUnion('op', [
  z.object({ op: z.literal('read') }),
  z.object({ op: z.literal('create'), value: z.string() }),
  z.object({ op: z.literal('cas'), expected: z.string().nullable(), value: z.string() }),
]);

/** Causal contexts travel as opaque base64url strings. */
export function encodeContext(vv: VersionVector): string {
  return Buffer.from(JSON.stringify(vv)).toString('base64url');
}

function decodeContext(s: unknown): VersionVector {
  if (s === undefined || s === null || s === '') return {};
  try {
    const vv = JSON.parse(Buffer.from(String(s), 'base64url').toString('utf8')) as unknown;
    if (vv && typeof vv === 'object' && Object.values(vv).every((n) => Number.isSafeInteger(n) && (n as number) > 0))
      return vv as VersionVector;
  } catch {
    // fall through
  }
  throw new HttpError(400, 'Bad Request', 'context must be the opaque string a previous read or write returned');
}

/** The ring key a route addresses: `<type>/<id>` with the id as sent (percent-escapes are not keys). */
function keyOf(type: 'kv' | 'ctr' | 'cas', ctx: RequestContext<unknown>): string {
  const id = ctx.path.slice(`/api/admin/${type}/`.length);
  if (!keyPattern.test(id)) throw new HttpError(400, 'Bad Request', 'keys are 1-200 characters of A-Z a-z 0-9 _ . : -');
  return `${type}/${id}`;
}

export const dataRoutes = [
  route({
    method: 'GET',
    path: '/api/admin/kv/:key',
    auth: 'admin',
    doc: {
      summary: 'Read a register: its value, siblings and causal context',
      tag,
      responses: { 200: { description: 'The value.' } },
    },
    async handler(ctx, { ring }) {
      const key = keyOf('kv', ctx);
      const r = await ring.get(key);
      if (!r.found || r.deleted) throw new HttpError(404, 'Not Found', `${key} does not exist`);
      json(ctx.res, 200, {
        key,
        value: r.value,
        values: r.values,
        siblings: r.values.length,
        context: encodeContext(r.context),
      });
    },
  }),
  route({
    method: 'PUT',
    path: '/api/admin/kv/:key',
    auth: 'admin',
    body: writeBody,
    doc: {
      summary: 'Write a register (with the context of the read it replaces)',
      tag,
      responses: { 200: { description: 'Written.' } },
    },
    async handler(ctx, { ring }) {
      const key = keyOf('kv', ctx);
      const w = await ring.put(key, ctx.body.value ?? null, decodeContext(ctx.body.context));
      json(ctx.res, 200, { key, context: encodeContext(w.context) });
    },
  }),
  route({
    method: 'DELETE',
    path: '/api/admin/kv/:key',
    auth: 'admin',
    doc: {
      summary: 'Delete a register (?context= of the read it replaces)',
      tag,
      responses: { 200: { description: 'Deleted.' } },
    },
    async handler(ctx, { ring }) {
      const key = keyOf('kv', ctx);
      const w = await ring.delete(key, decodeContext(ctx.url.searchParams.get('context')));
      json(ctx.res, 200, { key, deleted: true, context: encodeContext(w.context) });
    },
  }),
  route({
    method: 'POST',
    path: '/api/admin/cas/:key',
    auth: 'admin',
    body: casBody,
    doc: {
      summary: 'Read, create or compare-and-set a CASPaxos register',
      tag,
      responses: { 200: { description: 'The outcome.' } },
    },
    async handler(ctx, { ring }) {
      // A compare-and-set register (CASPaxos; its state lives in the acceptors). A 504 means
      // the outcome is unknown: the change may still be chosen. Values should be unique per
      // operation, so that a retry that finds its own value knows its earlier attempt landed.
      const key = keyOf('cas', ctx);
      const b = ctx.body;
      const op: RegisterCasOp =
        b.op === 'read'
          ? { kind: 'read' }
          : b.op === 'create'
            ? { kind: 'create', value: b.value }
            : { kind: 'cas', expected: b.expected, value: b.value };
      const result = await ring.cas(key, (cur) => applyCasOp(op, (cur ?? null) as string | null));
      json(ctx.res, 200, { key, ...result });
    },
  }),
  route({
    method: 'POST',
    path: '/api/admin/ctr/:key',
    auth: 'admin',
    body: incrementBody,
    doc: { summary: 'Increment a G-counter', tag, responses: { 202: { description: 'Counted.' } } },
    async handler(ctx, { ring }) {
      const key = keyOf('ctr', ctx);
      await ring.increment(key, ctx.body.by);
      json(ctx.res, 202, { key, incremented: ctx.body.by });
    },
  }),
  route({
    method: 'GET',
    path: '/api/admin/ctr/:key',
    auth: 'admin',
    doc: { summary: "A G-counter's total", tag, responses: { 200: { description: 'The total.' } } },
    async handler(ctx, { ring }) {
      const key = keyOf('ctr', ctx);
      const { value } = await ring.readCounter(key);
      json(ctx.res, 200, { key, total: gcounterValue(value as GCounter) });
    },
  }),
];
