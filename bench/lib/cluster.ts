// A local ringlink cluster for long-running benchmarks (bench/soak.ts, bench/rateLimits.ts):
// testkit's Harness with the bench profile (NODE_ENV=production, a random cluster secret and
// admin token), each node in its own process group with its last 256 KiB of output kept,
// joined one at a time and settled; plus a keep-alive HTTP client per node and per-process
// figures from /proc.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { Harness, requireBundle, type RingProcess } from '../../testkit';

export { parseMetrics } from '../../testkit';

/** A node: its process (testkit's RingProcess) and a keep-alive agent to reach it. */
export type ClusterNode = RingProcess & { readonly agent: http.Agent };

export interface ClusterOptions {
  nodes: number;
  /** Extra environment for every node (on top of the bench profile). */
  env?: Record<string, string>;
  /** Give each node a fresh DATA_DIR under os.tmpdir() (removed by stop()). */
  dataDirs?: boolean;
  log?: (msg: string) => void;
}

export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export class LocalCluster {
  readonly nodes: ClusterNode[] = [];
  private stopping = false;

  private constructor(readonly harness: Harness) {}

  get adminToken(): string {
    return this.harness.adminToken;
  }

  /** Starts the nodes one at a time (each joins a settled ring) and waits for the ring to settle. */
  static async start(opts: ClusterOptions): Promise<LocalCluster> {
    requireBundle('npm run soak builds it');
    const harness: Harness = new Harness({
      profile: 'bench',
      group: true,
      logBytes: 256 * 1024,
      ...(opts.env ? { env: opts.env } : {}),
      onExit: (n) => {
        if (!c?.stopping) opts.log?.(`${n.name} (pid ${n.pid}) exited: ${n.describeExit()}`);
      },
    });
    const c = new LocalCluster(harness);
    try {
      const names = Array.from({ length: opts.nodes }, (_, i) => `n${i + 1}`);
      const started = await harness.startCluster(names, {
        oneAtATime: true,
        ...(opts.dataDirs ? { dataDir: true } : {}),
        readyTimeoutMs: 60_000,
        settleTimeoutMs: 120_000,
        settled: { noHandoffs: true },
      });
      for (const n of started) {
        c.nodes.push(Object.assign(n, { agent: new http.Agent({ keepAlive: true, maxSockets: 32 }) }));
      }
      return c;
    } catch (err) {
      await c.stop();
      throw err;
    }
  }

  /** One HTTP request over the node's keep-alive agent. */
  request(
    node: ClusterNode,
    method: string,
    path: string,
    opts: { headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
  ): Promise<HttpReply> {
    const timeout = opts.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { ...opts.headers };
      if (opts.body !== undefined) headers['content-length'] = Buffer.byteLength(opts.body);
      const target = { host: '127.0.0.1', port: node.port, method, path, headers, agent: node.agent, timeout };
      const req = http.request(target, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }),
        );
        res.on('error', reject);
      });
      const late = () => new Error(`${method} ${path} on ${node.name}: no answer within ${timeout} ms`);
      req.on('timeout', () => req.destroy(late()));
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
    for (const n of this.nodes) n.agent.destroy();
    await this.harness.cleanup();
  }
}

/** Resident set size from /proc/<pid>/status (VmRSS), in bytes; undefined when unreadable. */
export function procRss(pid: number | undefined): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) of a process from /proc/<pid>/stat, in seconds; undefined when unreadable. */
export function procCpuSeconds(pid: number | undefined): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ
  } catch {
    return undefined;
  }
}
