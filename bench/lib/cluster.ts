// A local ringlink cluster of real processes for long-running benchmarks (bench/soak.ts):
// spawn N nodes of dist/server.mjs on 127.0.0.1 (each in its own process group, output kept
// bounded), join them one at a time, wait for the ring to settle, and kill every process
// group on the way out (stop(), process exit, SIGINT/SIGTERM/SIGHUP). Also: a keep-alive
// HTTP client per node, a Prometheus text scraper and per-process figures from /proc.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signalGroup, spawnGroup, type GroupProc } from './proc';
import { freePort, waitFor } from './wait';

/** Config variables never inherited from the caller's environment. */
const configVars = [
  'NODE_ENV', 'HOST', 'PORT', 'NODE_NAME', 'ADVERTISE_ADDR', 'SEEDS', 'CLUSTER_SECRET', 'DATA_DIR', 'FSYNC', 'FSYNC_INTERVAL_MS',
  'REDIS_URL', 'RING_SIZE', 'N_VAL', 'R', 'W', 'AUTO_DOWN_MS', 'LEAVE_TIMEOUT_MS', 'PUBLIC_URL', 'RATE_LIMIT_CREATE_PER_MIN',
  'RATE_LIMIT_WRITES_PER_MIN', 'ADMIN_TOKEN', 'LOG_LEVEL', 'RINGLINK_TEST_FAULTS', 'NODE_OPTIONS', 'SERVE_UI', 'TRUST_PROXY',
  'ALLOW_PRIVATE_TARGETS',
  'LIVE_STATS_INTERVAL_MS',
];

/** A node: its process (output: the last 256 KiB it wrote) and how to reach it. */
export interface ClusterNode extends GroupProc {
  port: number;
  url: string;
  pid: number;
  agent: http.Agent;
  dataDir: string | undefined;
}

export interface ClusterOptions {
  nodes: number;
  /** Extra environment for every node (NODE_ENV production, SERVE_UI 0 and LOG_LEVEL warn by default). */
  env?: Record<string, string>;
  /** Give each node a fresh DATA_DIR under os.tmpdir() (removed by stop()). */
  dataDirs?: boolean;
  /** Where the repository is (dist/server.mjs under it). */
  root: string;
  log?: (msg: string) => void;
}

export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export class LocalCluster {
  readonly nodes: ClusterNode[] = [];
  readonly adminToken = `bench-${randomBytes(12).toString('hex')}`;
  private stopping = false;
  private readonly onExit = () => this.killAll();

  private constructor(private readonly opts: ClusterOptions) {
    process.on('exit', this.onExit);
  }

  /** Starts the nodes one at a time (each joins a settled ring) and waits for the ring to settle. */
  static async start(opts: ClusterOptions): Promise<LocalCluster> {
    const c = new LocalCluster(opts);
    const server = join(opts.root, 'dist', 'server.mjs');
    if (!existsSync(server)) throw new Error(`${server} is missing: run node scripts/build.mjs`);
    const base: NodeJS.ProcessEnv = { ...process.env };
    for (const k of configVars) delete base[k];
    const secret = randomBytes(24).toString('hex');
    try {
      for (let i = 0; i < opts.nodes; i++) {
        const name = `n${i + 1}`;
        const port = await freePort();
        const dataDir = opts.dataDirs ? mkdtempSync(join(tmpdir(), `ringlink-soak-${name}-`)) : undefined;
        const env: NodeJS.ProcessEnv = {
          ...base,
          NODE_ENV: 'production',
          SERVE_UI: '0',
          LOG_LEVEL: 'warn',
          ...opts.env,
          CLUSTER_SECRET: secret,
          ADMIN_TOKEN: c.adminToken,
          NODE_NAME: name,
          HOST: '127.0.0.1',
          PORT: String(port),
          SEEDS: i === 0 ? '' : c.nodes[0]!.url.replace('http://', ''),
          ...(dataDir ? { DATA_DIR: dataDir } : {}),
        };
        const node = c.spawn(name, port, server, env, dataDir);
        await waitFor(`${name} /readyz`, async () => {
          if (!node.alive) throw new Error(`${name} exited (${node.exit}):\n${node.output().slice(-3000)}`);
          return (await c.get(node, '/readyz', 2000)).status === 200 ? true : undefined;
        }, 60_000);
      }
      await c.waitSettled(120_000);
      return c;
    } catch (err) {
      await c.stop();
      throw err;
    }
  }

  private spawn(name: string, port: number, server: string, env: NodeJS.ProcessEnv, dataDir: string | undefined): ClusterNode {
    const proc = spawnGroup(name, process.execPath, [server], {
      cwd: this.opts.root,
      env,
      keepBytes: 256 * 1024,
      onExit: (p) => {
        if (!this.stopping) this.opts.log?.(`${name} (pid ${p.child.pid}) exited: ${p.exit}`);
      },
    });
    const node: ClusterNode = Object.assign(proc, { port, url: `http://127.0.0.1:${port}`, pid: proc.child.pid!, agent: new http.Agent({ keepAlive: true, maxSockets: 32 }), dataDir });
    this.nodes.push(node);
    return node;
  }

  /** Every node sees every member valid and alive, no handoff, no partition moving, the same owners. */
  async waitSettled(timeoutMs: number): Promise<void> {
    await waitFor(
      'the ring to settle',
      async () => {
        const views = await Promise.all(this.nodes.map(async (n) => JSON.parse((await this.get(n, '/api/cluster', 3000)).body) as { members: { status: string; liveness: string }[]; handoffs: unknown[]; ring: { partitions: { owner: string | null; next?: string | null }[] } }));
        for (const v of views) {
          if (v.members.length !== this.nodes.length || v.members.some((m) => m.status !== 'valid' || m.liveness !== 'alive')) return undefined;
          if (v.handoffs.length > 0 || v.ring.partitions.some((p) => p.next != null || !p.owner)) return undefined;
        }
        return new Set(views.map((v) => v.ring.partitions.map((p) => p.owner).join())).size === 1 ? true : undefined;
      },
      timeoutMs,
    );
  }

  /** One HTTP request over the node's keep-alive agent. */
  request(node: ClusterNode, method: string, path: string, opts: { headers?: Record<string, string>; body?: string; timeoutMs?: number } = {}): Promise<HttpReply> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { ...opts.headers };
      if (opts.body !== undefined) headers['content-length'] = Buffer.byteLength(opts.body);
      const req = http.request({ host: '127.0.0.1', port: node.port, method, path, headers, agent: node.agent, timeout: opts.timeoutMs ?? 10_000 }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} on ${node.name}: no answer within ${opts.timeoutMs ?? 10_000} ms`)));
      req.on('error', reject);
      req.end(opts.body);
    });
  }

  get(node: ClusterNode, path: string, timeoutMs = 5000): Promise<HttpReply> {
    return this.request(node, 'GET', path, { timeoutMs });
  }

  /** Kills every node's process group (SIGKILL), waits for the exits (bounded), removes the data directories. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.killAll();
    await Promise.all(this.nodes.map((n) => Promise.race([n.exited, new Promise((r) => setTimeout(r, 3000))])));
    for (const n of this.nodes) {
      n.agent.destroy();
      if (n.dataDir) rmSync(n.dataDir, { recursive: true, force: true });
    }
    process.off('exit', this.onExit);
  }

  private killAll(): void {
    this.stopping = true;
    for (const n of this.nodes) if (n.alive) signalGroup(n.pid, 'SIGKILL');
  }
}

/** A Prometheus text exposition: sample name (labels dropped) -> value summed over label sets. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m) out.set(m[1]!, (out.get(m[1]!) ?? 0) + Number(m[2]));
  }
  return out;
}

/** Resident set size from /proc/<pid>/status (VmRSS), in bytes; undefined when unreadable. */
export function procRss(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) of a process from /proc/<pid>/stat, in seconds; undefined when unreadable. */
export function procCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ
  } catch {
    return undefined;
  }
}
