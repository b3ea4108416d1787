// The cluster handle: starts dist/server.mjs nodes (one, or a whole settled ring), remembers
// every process and temporary DATA_DIR it made, and stops, kills, pauses, restarts (same name,
// port, seeds and DATA_DIR) and partitions them (through the transport's fault hook). cleanup()
// SIGKILLs whatever still runs and removes the directories. Tests make one per test or file
// (testkit/vitest.ts: useHarness), benchmarks one per run with the bench profile (production
// settings, process groups), and the chaos runner one per scenario, in network namespaces or not.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitedReason, get, setBlocked, type SettledOptions, waitReady, waitSettled } from './http';
import { ADMIN_TOKEN, type EnvProfile, launchNode, type NodeOptions, type RingProcess, SECRET_A } from './node';
import { freePort } from './ports';
import { root } from './paths';
import type { ExitInfo } from './proc';
import { sleep, waitFor } from './wait';

export interface HarnessOptions {
  /** The environment profile of every node (testkit/node.ts); default 'test'. */
  profile?: EnvProfile;
  /** CLUSTER_SECRET of every node unless a node says otherwise; default SECRET_A ('test') or a random one ('bench'). */
  secret?: string;
  /** ADMIN_TOKEN of every node; default ADMIN_TOKEN ('test') or a random one ('bench'). */
  adminToken?: string;
  /** Environment for every node, under each node's own `env`. */
  env?: Record<string, string | undefined>;
  /** Node.js flags for every node, e.g. ['--enable-source-maps']. */
  nodeArgs?: readonly string[];
  /** Each node in a process group of its own (signals reach whatever it started). Default false. */
  group?: boolean;
  /** Output kept per node, in characters; default 64 KiB. */
  logBytes?: number;
  /** Called when a node exits, whoever stopped it. */
  onExit?: (node: RingProcess) => void;
}

export interface ClusterStart {
  /** Environment for these nodes (on top of the harness's). */
  env?: Record<string, string | undefined>;
  /** A fresh temporary DATA_DIR per node (true) or none. */
  dataDir?: boolean;
  /** Start the joiners one at a time, each once the one before is ready (default: all at once). */
  oneAtATime?: boolean;
  /** Per node: for its /readyz; for the ring to settle. Defaults 60 s and 60 s. */
  readyTimeoutMs?: number;
  settleTimeoutMs?: number;
  settled?: SettledOptions;
}

export interface StopResult {
  exit: ExitInfo | undefined;
  /** From the signal to the exit (or to giving up). */
  ms: number;
  /** It did not exit within the bound and was SIGKILLed. */
  forced: boolean;
}

export class Harness {
  readonly nodes: RingProcess[] = [];
  /** Nodes stopped with SIGSTOP and not resumed. */
  readonly paused = new Set<RingProcess>();
  readonly secret: string;
  readonly adminToken: string;
  private readonly dirs: string[] = [];

  constructor(readonly options: HarnessOptions = {}) {
    const bench = options.profile === 'bench';
    this.secret = options.secret ?? (bench ? randomBytes(24).toString('hex') : SECRET_A);
    this.adminToken = options.adminToken ?? (bench ? `bench-${randomBytes(12).toString('hex')}` : ADMIN_TOKEN);
  }

  /** A fresh directory under os.tmpdir(), removed by cleanup(). */
  tempDir(label: string): string {
    const dir = mkdtempSync(join(tmpdir(), `ringlink-${label}-`));
    this.dirs.push(dir);
    return dir;
  }

  /** Spawn a node without waiting for anything. */
  async spawnNode(opts: NodeOptions): Promise<RingProcess> {
    const o = this.options;
    const port = opts.port ?? (await freePort());
    const dataDir =
      opts.dataDir === true ? this.tempDir(opts.name) : typeof opts.dataDir === 'string' ? opts.dataDir : undefined;
    const resolved = {
      host: opts.host ?? '127.0.0.1',
      seeds: opts.seeds ?? [],
      secret: opts.secret ?? this.secret,
      adminToken: this.adminToken,
      profile: o.profile ?? 'test',
      env: { ...o.env, ...opts.env },
      dataDir,
      nodeArgs: opts.nodeArgs ?? o.nodeArgs ?? [],
      wrap: opts.wrap ?? [],
      group: o.group ?? false,
      logBytes: o.logBytes,
    };
    const onExit = o.onExit;
    const node = launchNode(opts.name, port, resolved, root, onExit ? (p) => onExit(p as RingProcess) : undefined);
    this.nodes.push(node);
    return node;
  }

  /** Spawn a node and wait until /healthz answers (fails at once if the process exits). */
  async startNode(opts: NodeOptions, healthTimeoutMs = 20_000): Promise<RingProcess> {
    const node = await this.spawnNode(opts);
    await waitFor(
      async () => {
        const r = await get(node, '/healthz', { timeoutMs: 1000 });
        // Check the name: another process already on this port must not pass for this one.
        return r.status === 200 && r.body?.node === node.name;
      },
      { timeoutMs: healthTimeoutMs, intervalMs: 50, what: `${node.name} /healthz`, failIf: () => exitedReason(node) },
    );
    return node;
  }

  /**
   * A settled ring of `names`: the first founds it, the others join through it; every node
   * ready, then the ring settled (waitSettled). Returns the nodes in the order of `names`.
   */
  async startCluster(names: readonly string[], opts: ClusterStart = {}): Promise<RingProcess[]> {
    const readyMs = opts.readyTimeoutMs ?? 60_000;
    const one = (name: string, seeds: RingProcess[]) =>
      this.startNode({ name, seeds, ...(opts.env ? { env: opts.env } : {}), dataDir: opts.dataDir ?? false });
    const first = await one(names[0]!, []);
    await waitReady(first, readyMs);
    const nodes = [first];
    if (opts.oneAtATime) {
      for (const name of names.slice(1)) {
        const n = await one(name, [first]);
        await waitReady(n, readyMs);
        nodes.push(n);
      }
    } else {
      nodes.push(...(await Promise.all(names.slice(1).map((name) => one(name, [first])))));
    }
    await Promise.all(nodes.map((n) => waitReady(n, readyMs)));
    await waitSettled(nodes, opts.settleTimeoutMs ?? 60_000, opts.settled);
    return nodes;
  }

  /** Start the same node again (same name, port, seeds, DATA_DIR, secret and env); the old process must have exited. */
  async restart(node: RingProcess, overrides: Partial<NodeOptions> = {}): Promise<RingProcess> {
    if (node.alive) throw new Error(`restart: ${node.name} (pid ${node.pid}) is still running`);
    return this.startNode(this.sameNode(node, overrides));
  }

  /** Spawn the same node again without waiting (see restart). */
  async respawn(node: RingProcess, overrides: Partial<NodeOptions> = {}): Promise<RingProcess> {
    if (node.alive) throw new Error(`respawn: ${node.name} (pid ${node.pid}) is still running`);
    return this.spawnNode(this.sameNode(node, overrides));
  }

  private sameNode(node: RingProcess, overrides: Partial<NodeOptions>): NodeOptions {
    const o = node.options;
    return {
      name: node.name,
      port: node.port,
      host: o.host,
      seeds: o.seeds,
      secret: o.secret,
      env: o.env,
      nodeArgs: o.nodeArgs,
      wrap: o.wrap,
      ...(o.dataDir ? { dataDir: o.dataDir } : {}),
      ...overrides,
    };
  }

  /**
   * Send a stop signal and wait (bounded) for the exit; SIGKILL if it does not come. SIGTERM is a
   * graceful leave (handoff), SIGINT a plain stop. A paused node is resumed first (a stopped
   * process never handles SIGTERM or SIGINT).
   */
  async stop(node: RingProcess, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 60_000): Promise<StopResult> {
    const t0 = performance.now();
    if (!node.alive) return { exit: node.exit ?? undefined, ms: 0, forced: false };
    if (this.paused.has(node)) this.resume(node);
    node.signal(signal);
    const exit = await Promise.race([node.exited, sleep(timeoutMs).then(() => undefined)]);
    if (exit !== undefined) return { exit, ms: performance.now() - t0, forced: false };
    node.signal('SIGKILL');
    const late = await Promise.race([node.exited, sleep(10_000).then(() => undefined)]);
    return { exit: late, ms: performance.now() - t0, forced: true };
  }

  /** kill -9 (no wait). */
  kill(node: RingProcess): void {
    this.paused.delete(node);
    node.signal('SIGKILL');
  }

  /** SIGSTOP: the process (its group with `group`) stops running; its sockets stay open. */
  pause(node: RingProcess): void {
    if (!node.alive) return;
    node.signal('SIGSTOP');
    this.paused.add(node);
  }

  resume(node: RingProcess): void {
    this.paused.delete(node);
    node.signal('SIGCONT');
  }

  /**
   * Cut the network so that nodes i and j talk only when `sees(i, j)` (indexes into `nodes`),
   * through each node's transport fault hook (RINGLINK_TEST_FAULTS=1; the test profile sets it).
   */
  async partition(nodes: readonly RingProcess[], sees: (i: number, j: number) => boolean): Promise<void> {
    await Promise.all(
      nodes.map((node, i) => {
        if (!node.alive) return undefined;
        return setBlocked(
          node,
          nodes.filter((_, j) => j !== i && !sees(i, j)).map((n) => n.name),
        );
      }),
    );
  }

  /** Undo partition(): every running node talks to everyone again. */
  async heal(nodes: readonly RingProcess[]): Promise<void> {
    await Promise.all(nodes.filter((n) => n.alive).map((n) => setBlocked(n, [])));
  }

  /** Every node's captured output, for a failing test. */
  dumpLogs(): string {
    return this.nodes
      .map((n) => {
        const head = `----- ${n.name} pid ${n.pid} port ${n.port} exit ${JSON.stringify(n.exit)} -----`;
        return `${head}\n${n.log.text() || '(no output)'}`;
      })
      .join('\n');
  }

  /** SIGKILL every process still running (whole groups), wait for them (bounded), remove temporary directories. */
  async cleanup(): Promise<void> {
    const running = this.nodes.filter((n) => n.alive);
    for (const n of this.nodes) n.signal('SIGKILL', { evenIfExited: n.group });
    this.paused.clear();
    await Promise.race([Promise.all(running.map((n) => n.exited)), sleep(10_000)]);
    this.removeDirs();
  }

  /** Remove the temporary directories now (synchronous: also for a process 'exit' handler, after the kills). */
  removeDirs(): void {
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}
