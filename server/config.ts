// The process is configured by environment only (README.md, Running a node). Bad config exits 1
// with one line naming the variable and what it must be.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { isZoneName, zoneCharsMax } from '../ring';

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
    /**
     * This node's failure domain (availability zone, rack): a key's N_VAL replicas go to
     * distinct zones when the members span at least N_VAL of them. Unset: no zone.
     */
    ZONE: z
      .string()
      .refine(isZoneName, `must be 1-${zoneCharsMax} characters of A-Z a-z 0-9 . _ - (e.g. eu-west-1a)`)
      .optional(),
    SEEDS: z
      .string()
      .default('')
      .transform((s) =>
        s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      )
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
    /**
     * 1: SIGTERM makes the node leave the ring (hand every partition off) before it exits.
     * Default 0: SIGTERM is a restart, as Kubernetes, compose and systemd send it: stop
     * without leaving, as SIGINT does. Leaving is `ringctl leave NODE` or the admin API.
     */
    LEAVE_ON_SIGTERM: z.enum(['0', '1']).default('0'),
    /** 1: with SEEDS set, found the cluster when this node has no ring state and no seed is ready (server/main.ts). */
    FOUNDER: z.enum(['0', '1']).default('0'),
    PUBLIC_URL: z.string().url().optional(),
    /**
     * Hosts (host:port) this node answers to besides its own addresses, when PUBLIC_URL is
     * unset: a request's Host is used for short URLs only when it is one of them.
     */
    ALLOWED_HOSTS: z
      .string()
      .default('')
      .transform((s) =>
        s
          .split(',')
          .map((x) => x.trim().toLowerCase())
          .filter(Boolean),
      )
      .pipe(
        z.array(
          z
            .string()
            .regex(
              /^[a-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-f:]+\](:\d{1,5})?$/,
              'must be a comma-separated list of host or host:port',
            ),
        ),
      ),
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
    if (!c.CLUSTER_SECRET && !isLoopbackHost(c.HOST)) {
      ctx.addIssue({
        code: 'custom',
        path: ['CLUSTER_SECRET'],
        message: `is required when HOST (${c.HOST}) is not a loopback address: set the same random secret (openssl rand -hex 32) on every node`,
      });
    } else if (!c.CLUSTER_SECRET && c.NODE_ENV === 'production') {
      ctx.addIssue({ code: 'custom', path: ['CLUSTER_SECRET'], message: 'is required when NODE_ENV=production' });
    }
  });

export type ServerConfig = z.infer<typeof schema> & {
  nodeName: string;
  advertiseAddr: string;
  clusterSecret: string;
  /** True when CLUSTER_SECRET was unset: the secret is random to this process, so no peer can join it. */
  clusterSecretGenerated: boolean;
};

/**
 * Loopback only: 127.0.0.0/8, ::1 and localhost. Anything else (0.0.0.0 and :: included, which
 * listen on every interface) is reachable from the network and needs a real CLUSTER_SECRET.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return v4 !== null && v4.slice(1).every((o) => Number(o) <= 255);
}

export class ConfigError extends Error {}

export function loadConfig(env: Record<string, string | undefined> = process.env): ServerConfig {
  const relevant = Object.fromEntries(
    Object.keys(schema.shape).map((k) => [
      k,
      env[k] === '' && k !== 'SEEDS' && k !== 'ALLOWED_HOSTS' ? undefined : env[k],
    ]),
  );
  const parsed = schema.safeParse(relevant);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    const got = env[name];
    const message = issue.message
      .replace(/^Invalid (input|option): /, '')
      .replace(/^expected one of (.+)$/, 'must be one of $1')
      .replace(/^expected number, received NaN$/, 'must be a number')
      .replace(/^expected (.+), received .+$/, 'must be $1');
    throw new ConfigError(`config: ${name} ${message}${got !== undefined ? ` (got ${JSON.stringify(got)})` : ''}`);
  }
  const c = parsed.data;
  return {
    ...c,
    nodeName: c.NODE_NAME ?? `node-${c.PORT}`,
    advertiseAddr: c.ADVERTISE_ADDR ?? `${c.HOST}:${c.PORT}`,
    // No built-in secret: a loopback node without one gets a random secret of its own, so it
    // can serve alone (development) and nobody, on this machine or off it, can join it.
    clusterSecret: c.CLUSTER_SECRET ?? randomBytes(32).toString('hex'),
    clusterSecretGenerated: c.CLUSTER_SECRET === undefined,
  };
}
