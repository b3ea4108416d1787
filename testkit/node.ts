// One ringlink node: a `dist/server.mjs` process with its environment, address and output.
//
// Two environment profiles, both built from this process's own environment without any config
// variable (so a developer's shell cannot change a run):
//   test   NODE_ENV=test, the fixed ADMIN_TOKEN below, the test hooks on (RINGLINK_TEST_FAULTS=1),
//          a small ring (RING_SIZE=32) for fast claims and handoffs, no UI, warn-level logs;
//   bench  NODE_ENV=production, no UI, warn-level logs, the default ring: what a deployment runs.
import { type ChildProcess, spawn, type StdioOptions } from 'node:child_process';
import { serverBundle } from './paths';
import { Proc } from './proc';

export const ADMIN_TOKEN = 'ringlink-cluster-test-admin-token';
export const SECRET_A = 'ringlink-cluster-test-secret-AAAA';
export const SECRET_B = 'ringlink-cluster-test-secret-BBBB';
/** Small ring: fast claims and handoffs. */
export const TEST_RING_SIZE = 32;

export type EnvProfile = 'test' | 'bench';

/** Config-relevant variables never inherited from the runner's environment. */
export const configVars = [
  'NODE_ENV',
  'HOST',
  'PORT',
  'NODE_NAME',
  'ADVERTISE_ADDR',
  'SEEDS',
  'CLUSTER_SECRET',
  'DATA_DIR',
  'FSYNC',
  'FSYNC_INTERVAL_MS',
  'REDIS_URL',
  'RING_SIZE',
  'N_VAL',
  'R',
  'W',
  'AUTO_DOWN_MS',
  'LEAVE_TIMEOUT_MS',
  'LEAVE_ON_SIGTERM',
  'FOUNDER',
  'PUBLIC_URL',
  'RATE_LIMIT_CREATE_PER_MIN',
  'RATE_LIMIT_WRITES_PER_MIN',
  'ADMIN_TOKEN',
  'LOG_LEVEL',
  'RINGLINK_TEST_FAULTS',
  'NODE_OPTIONS',
  'SERVE_UI',
  'TRUST_PROXY',
  'ALLOW_PRIVATE_TARGETS',
  'ALLOWED_HOSTS',
  'LIVE_STATS_INTERVAL_MS',
  'LD_PRELOAD',
];

/** This process's environment without any config variable or libfaketime setting. */
export function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !configVars.includes(k) && !k.startsWith('FAKETIME')) env[k] = v;
  }
  return env;
}

const profileDefaults: Record<EnvProfile, Record<string, string>> = {
  test: {
    NODE_ENV: 'test',
    RINGLINK_TEST_FAULTS: '1',
    SERVE_UI: '0',
    LOG_LEVEL: 'warn',
    RING_SIZE: String(TEST_RING_SIZE),
    LEAVE_TIMEOUT_MS: '30000',
  },
  bench: { NODE_ENV: 'production', SERVE_UI: '0', LOG_LEVEL: 'warn' },
};

export interface NodeIdentity {
  host: string;
  port: number;
  name: string;
  /** "host:port,..." to join through; empty founds a cluster. */
  seeds: string;
  secret: string;
  dataDir?: string | undefined;
  /** Default: ADMIN_TOKEN. */
  adminToken?: string;
}

/**
 * A node's environment: cleanEnv(), the profile's defaults, the node's identity, then `extra`
 * on top (an undefined value deletes the variable).
 */
export function nodeEnv(
  node: NodeIdentity,
  extra: Record<string, string | undefined> = {},
  profile: EnvProfile = 'test',
): Record<string, string> {
  const env: Record<string, string> = {
    ...cleanEnv(),
    ...profileDefaults[profile],
    HOST: node.host,
    PORT: String(node.port),
    NODE_NAME: node.name,
    SEEDS: node.seeds,
    CLUSTER_SECRET: node.secret,
    ADMIN_TOKEN: node.adminToken ?? ADMIN_TOKEN,
    ...(node.dataDir ? { DATA_DIR: node.dataDir } : {}),
  };
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** How to start a node; the Harness fills in what is left out. */
export interface NodeOptions {
  name: string;
  /** Default: a fresh free port. */
  port?: number;
  /** The address it listens on and is reached at; default 127.0.0.1. */
  host?: string;
  /** Nodes or "host:port" strings to join through; empty founds a cluster. */
  seeds?: readonly (RingProcess | string)[];
  /** A directory path, true for a fresh temporary one (removed by cleanup), false/undefined for none. */
  dataDir?: string | boolean;
  /** CLUSTER_SECRET; default the harness's (SECRET_A for tests). */
  secret?: string;
  /** Extra or overriding environment; a value of undefined removes the variable. */
  env?: Record<string, string | undefined>;
  /** Node.js flags before the bundle, e.g. ['--expose-gc']. */
  nodeArgs?: readonly string[];
  /** A command prefix to run it through, e.g. ['ip', 'netns', 'exec', 'rlc12-0'] (its own network namespace). */
  wrap?: readonly string[];
}

/** A node's options once resolved: what a restart repeats. */
export interface ResolvedNode {
  host: string;
  seeds: readonly (RingProcess | string)[];
  secret: string;
  adminToken: string;
  profile: EnvProfile;
  env: Record<string, string | undefined>;
  dataDir: string | undefined;
  nodeArgs: readonly string[];
  wrap: readonly string[];
  group: boolean;
  logBytes: number | undefined;
}

let bundleToRun = serverBundle;
/** Run another bundle than dist/server.mjs (e.g. an instrumented copy); undefined restores the default. */
export function useBundle(path: string | undefined): void {
  bundleToRun = path ?? serverBundle;
}

/** One spawned node process (one life: a restart is a new RingProcess). */
export class RingProcess extends Proc {
  readonly url: string;
  readonly addr: string;
  /** performance.now() when /readyz first answered 200 (waitReady). */
  readyAt: number | undefined;

  constructor(
    name: string,
    readonly port: number,
    readonly options: ResolvedNode,
    child: ChildProcess,
    onExit?: (p: Proc) => void,
  ) {
    super(name, child, options.group, { logBytes: options.logBytes, ...(onExit ? { onExit } : {}) });
    this.url = `http://${options.host}:${port}`;
    this.addr = `${options.host}:${port}`;
  }

  get adminToken(): string {
    return this.options.adminToken;
  }
}

/** Spawn dist/server.mjs as `name` on `port` with the resolved options (no waiting). */
export function launchNode(
  name: string,
  port: number,
  o: ResolvedNode,
  cwd: string,
  onExit?: (p: Proc) => void,
): RingProcess {
  const seeds = o.seeds.map((s) => (typeof s === 'string' ? s : s.addr)).join(',');
  const identity = { host: o.host, port, name, seeds, secret: o.secret, dataDir: o.dataDir, adminToken: o.adminToken };
  const env = nodeEnv(identity, o.env, o.profile);
  const argv = [...o.wrap, process.execPath, ...o.nodeArgs, bundleToRun];
  const stdio: StdioOptions = ['ignore', 'pipe', 'pipe'];
  const child = spawn(argv[0]!, argv.slice(1), { cwd, env: env as NodeJS.ProcessEnv, stdio, detached: o.group });
  return new RingProcess(name, port, o, child, onExit);
}
