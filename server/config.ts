// The process is configured by environment only (DESIGN.md, Contract). Bad config exits 1
// with one line naming the variable and what it must be.
import { z } from 'zod';

const isPow2 = (x: number) => x > 0 && (x & (x - 1)) === 0;
const hostPort = /^[A-Za-z0-9.-]+:\d{1,5}$/;

const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: z.coerce.number().int().min(1).max(65535).default(3000),
    NODE_NAME: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ -')
      .optional(),
    /** How peers reach this node, when it differs from HOST:PORT (containers, NAT). */
    ADVERTISE_ADDR: z.string().regex(hostPort, 'must be host:port').optional(),
    SEEDS: z
      .string()
      .default('')
      .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
      .pipe(z.array(z.string().regex(hostPort, 'must be a comma-separated list of host:port'))),
    CLUSTER_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
    DATA_DIR: z.string().min(1).optional(),
    FSYNC: z.enum(['always', 'interval']).default('interval'),
    FSYNC_INTERVAL_MS: z.coerce.number().int().min(1).max(10_000).default(100),
    REDIS_URL: z.string().url().optional(),
    RING_SIZE: z.coerce.number().int().min(8).max(4096).refine(isPow2, 'must be a power of two').default(64),
    N_VAL: z.coerce.number().int().min(1).max(7).default(3),
    R: z.coerce.number().int().min(1).max(7).default(2),
    W: z.coerce.number().int().min(1).max(7).default(2),
    AUTO_DOWN_MS: z.coerce.number().int().min(0).default(0),
    LEAVE_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(120_000),
    PUBLIC_URL: z.string().url().optional(),
    /** Link creations per client address and per owner, cluster-wide; 0 turns these limits off. */
    RATE_LIMIT_CREATE_PER_MIN: z.coerce.number().int().min(0).default(30),
    /** Edits, deletes, API key changes and sign-outs per client address and per owner, cluster-wide; 0: off. */
    RATE_LIMIT_WRITES_PER_MIN: z.coerce.number().int().min(0).default(60),
    ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    /** Serve the Next.js pages (needs `npm run build`); 0 serves only redirects and the API. */
    SERVE_UI: z.enum(['0', '1']).default('1'),
    /** Behind a reverse proxy: take the client address from the last X-Forwarded-For entry. */
    TRUST_PROXY: z.enum(['0', '1']).default('0'),
    /** Allow links to loopback, private and link-local addresses (development only). */
    ALLOW_PRIVATE_TARGETS: z.enum(['0', '1']).default('0'),
    /** Live updates: at most one `stats` snapshot per link per this interval. */
    LIVE_STATS_INTERVAL_MS: z.coerce.number().int().min(10).max(10_000).default(100),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Test-only: enables POST /api/admin/faults (drop traffic to named peers inside the transport). */
    RINGLINK_TEST_FAULTS: z.enum(['0', '1']).default('0'),
  })
  .superRefine((c, ctx) => {
    if (c.R > c.N_VAL) ctx.addIssue({ code: 'custom', path: ['R'], message: `must not exceed N_VAL (${c.N_VAL})` });
    if (c.W > c.N_VAL) ctx.addIssue({ code: 'custom', path: ['W'], message: `must not exceed N_VAL (${c.N_VAL})` });
    if (c.NODE_ENV === 'production' && !c.CLUSTER_SECRET) ctx.addIssue({ code: 'custom', path: ['CLUSTER_SECRET'], message: 'is required when NODE_ENV=production' });
  });

export type ServerConfig = z.infer<typeof schema> & { nodeName: string; advertiseAddr: string; clusterSecret: string };

/** Development default, so `npm start` works with no setup; production requires CLUSTER_SECRET. */
const devClusterSecret = 'ringlink-dev-secret-do-not-use-in-production';

export class ConfigError extends Error {}

export function loadConfig(env: Record<string, string | undefined> = process.env): ServerConfig {
  const relevant = Object.fromEntries(Object.keys(schema.shape).map((k) => [k, env[k] === '' && k !== 'SEEDS' ? undefined : env[k]]));
  const parsed = schema.safeParse(relevant);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    const got = env[name];
    const message = issue.message.replace(/^Invalid (input|option): /, '').replace(/^expected one of (.+)$/, 'must be one of $1').replace(/^expected number, received NaN$/, 'must be a number').replace(/^expected (.+), received .+$/, 'must be $1');
    throw new ConfigError(`config: ${name} ${message}${got !== undefined ? ` (got ${JSON.stringify(got)})` : ''}`);
  }
  const c = parsed.data;
  return {
    ...c,
    nodeName: c.NODE_NAME ?? `node-${c.PORT}`,
    advertiseAddr: c.ADVERTISE_ADDR ?? `${c.HOST}:${c.PORT}`,
    clusterSecret: c.CLUSTER_SECRET ?? devClusterSecret,
  };
}
