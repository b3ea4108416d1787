// The public HTTP API's bodies as zod schemas (docs/api.md): the server validates requests with
// them, the OpenAPI document (GET /api/openapi.json) is generated from them, and the wire types
// (./types.ts) are inferred from them. Schemas with an `id` become named components of the
// OpenAPI document. zod only: the web app type-checks this module (it imports ./types.ts).
import { z } from 'zod';
import { slugSchema } from './slug';

// ------------------------------------------------------------------------------ requests

export const maxClicksLimit = 1_000_000_000;

/** An instant as a request gives it: an ISO 8601 date-time or epoch milliseconds; epoch ms after parsing. */
const instant = z
  .union([z.number().int(), z.string().min(1).max(64)])
  .transform((v, ctx) => {
    const ms = typeof v === 'number' ? v : Date.parse(v);
    if (!Number.isFinite(ms)) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be an ISO 8601 date-time such as 2030-01-31T12:00:00Z, or epoch milliseconds',
      });
      return z.NEVER;
    }
    return ms;
  })
  .meta({ description: 'An ISO 8601 date-time such as 2030-01-31T12:00:00Z, or epoch milliseconds.' });

export const redirectStatusSchema = z
  .union([z.literal(301), z.literal(302), z.literal(307), z.literal(308)], { error: 'must be 301, 302, 307 or 308' })
  .meta({ id: 'RedirectStatus', description: 'The status of the redirect: 302 unless chosen.' });
const maxClicks = z
  .number({ error: 'must be a whole number' })
  .int('must be a whole number')
  .min(1, 'must be at least 1')
  .max(maxClicksLimit, `must be at most ${maxClicksLimit}`);
const linkPassword = z.string().min(4, 'must be at least 4 characters').max(128, 'must be at most 128 characters');

export const createLinkBody = z
  .strictObject({
    url: z
      .string({ error: 'is required: the address to shorten' })
      .min(1, 'is required: the address to shorten')
      .max(8192, 'is too long')
      .meta({ description: 'The absolute http(s) address to shorten (at most 2048 characters once normalized).' }),
    slug: slugSchema.optional(),
    expiresAt: instant.nullable().optional(),
    password: linkPassword.nullable().optional(),
    maxClicks: maxClicks.nullable().optional(),
    redirectStatus: redirectStatusSchema.optional(),
  })
  .meta({ id: 'NewLink' });

/** Absent fields stay as they are; `null` clears expiresAt, password and maxClicks. */
export const updateLinkBody = z
  .strictObject({
    url: z.string().min(1).max(8192).optional(),
    expiresAt: instant.nullable().optional(),
    password: linkPassword.nullable().optional(),
    maxClicks: maxClicks.nullable().optional(),
    redirectStatus: redirectStatusSchema.optional(),
  })
  .meta({ id: 'LinkChanges' });

/** GET /api/links: the query string (checked by the route, which answers 400 with its own codes). */
export const linkListQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(200)
    .optional()
    .meta({ description: 'Links per page, 1-200 (default 50).' }),
  cursor: z.string().optional().meta({ description: "The previous page's nextCursor: the page after it." }),
  q: z.string().max(200).optional().meta({
    description: 'Only links whose slug or target contains this, case-insensitively (at most 200 characters).',
  }),
  sort: z
    .enum(['created'])
    .optional()
    .meta({ description: 'Newest first is the only order (sorting by views or slug cannot page through millions).' }),
  order: z.enum(['desc']).optional(),
});

export const credentialsBody = z
  .strictObject({
    username: z
      .string({ error: 'is required' })
      .max(256)
      .meta({ description: '3-32 characters of a-z 0-9 _ -, case-insensitive.' }),
    password: z.string({ error: 'is required' }).max(1024).meta({ description: '8-256 characters.' }),
  })
  .meta({ id: 'Credentials' });

export const newApiKeyBody = z
  .strictObject({
    name: z
      .string({ error: 'is required' })
      .trim()
      .min(1, 'must not be empty')
      .max(64, 'must be at most 64 characters'),
  })
  .meta({ id: 'NewApiKey' });

// ----------------------------------------------------------------------------- responses

const isoTime = z.string().meta({ format: 'date-time' });

export const userSchema = z.object({ id: z.string(), username: z.string() }).meta({ id: 'User' });
export const sessionViewSchema = z.object({ user: userSchema.nullable() }).meta({ id: 'Session' });
export const signInResultSchema = z
  .object({
    user: userSchema,
    migrated: z.number().int().meta({ description: 'Links of the anonymous session moved to the account.' }),
  })
  .meta({ id: 'SignInResult' });

export const linkStatusSchema = z.enum(['active', 'expired', 'used_up', 'deleted']).meta({ id: 'LinkStatus' });

export const linkViewSchema = z
  .object({
    slug: z.string(),
    shortUrl: z.string(),
    url: z.string(),
    createdAt: isoTime,
    updatedAt: isoTime,
    expiresAt: isoTime.nullable(),
    maxClicks: z.number().int().nullable(),
    redirectStatus: redirectStatusSchema,
    hasPassword: z.boolean(),
    status: linkStatusSchema,
    total: z.number().int().meta({ description: 'Human views.' }),
    bots: z.number().int().meta({ description: 'Views by known bots and link previews.' }),
  })
  .meta({ id: 'Link' });
export const linkListSchema = z
  .object({
    links: z.array(linkViewSchema).meta({ description: 'Newest first; a page may hold fewer than `limit`.' }),
    nextCursor: z
      .string()
      .nullable()
      .meta({ description: 'Pass as `cursor` for the next page; null when there is none.' }),
    total: z.number().int().meta({ description: "The caller's links (matching q when given), counted exactly." }),
  })
  .meta({ id: 'LinkList' });

const count = z.number().int();
export const linkStatsViewSchema = z
  .object({
    slug: z.string(),
    total: count,
    bots: count,
    uniques: count,
    series: z
      .array(z.object({ t: isoTime, n: count }))
      .meta({ description: 'Human views per minute, the last 60 minutes, oldest first.' }),
    referrers: z.array(z.object({ host: z.string(), n: count })),
    devices: z.array(z.object({ device: z.string(), n: count })),
    partition: count,
    nodes: z
      .array(z.object({ name: z.string(), role: z.enum(['primary', 'fallback']), up: z.boolean() }))
      .meta({ id: 'PreferenceList' }),
  })
  .meta({ id: 'LinkStats' });

export const apiKeyViewSchema = z
  .object({ id: z.string(), name: z.string(), prefix: z.string(), createdAt: isoTime })
  .meta({ id: 'ApiKey' });
export const apiKeyListSchema = z.object({ keys: z.array(apiKeyViewSchema) }).meta({ id: 'ApiKeyList' });
export const newApiKeyViewSchema = apiKeyViewSchema
  .extend({ key: z.string().meta({ description: 'The secret: shown in this answer only.' }) })
  .meta({ id: 'CreatedApiKey' });

export const memberStatusSchema = z.enum(['joining', 'valid', 'leaving', 'exiting', 'downed', 'removed']);
export const livenessSchema = z.enum(['alive', 'suspect', 'dead']);
export const clusterViewSchema = z
  .object({
    node: z.string().meta({ description: 'The node that answered: the view is its own.' }),
    members: z.array(
      z.object({
        name: z.string(),
        addr: z.string(),
        zone: z.string().optional().meta({ description: "The member's ZONE; absent when it has none." }),
        status: memberStatusSchema,
        liveness: livenessSchema,
      }),
    ),
    ring: z.object({
      size: count,
      nVal: count,
      partitions: z.array(z.object({ index: count, owner: z.string(), next: z.string().nullable() })),
    }),
    handoffs: z.array(
      z.object({
        kind: z.enum(['ownership', 'hinted']),
        partition: count,
        to: z.array(z.string()),
        keysSent: count,
        keysTotal: count,
        sent: count,
        total: count,
      }),
    ),
  })
  .meta({ id: 'Cluster' });

export const clusterSummarySchema = z
  .object({
    links: count,
    views: count,
    bots: count,
    top: z
      .array(z.object({ slug: z.string(), total: count }))
      .optional()
      .meta({ description: 'With the admin token only.' }),
    partitions: count,
    partial: z.boolean(),
    missing: z.array(count),
  })
  .meta({ id: 'ClusterSummary' });

export const healthSchema = z.object({ status: z.literal('ok'), node: z.string() }).meta({ id: 'Health' });
export const readySchema = z.object({ status: z.literal('ready'), node: z.string() }).meta({ id: 'Ready' });

/** RFC 9457 problem details: every error of the API. */
export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().meta({ description: 'A sentence a person can act on.' }),
    field: z.string().optional().meta({ description: 'The input at fault.' }),
    code: z.string().optional().meta({ description: 'A stable machine name, such as slug_taken.' }),
  })
  .meta({ id: 'Problem' });
