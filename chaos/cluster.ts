// A cluster of real `dist/server.mjs` processes for the chaos scenarios, each node with its
// own DATA_DIR, in one of two network modes:
//   loopback  every node on 127.0.0.1 at a free port; partitions through the transport fault
//             hook (POST /api/admin/faults, RINGLINK_TEST_FAULTS=1)
//   netns     every node in its own network namespace (chaos/netns.ts); partitions are iptables
//             DROPs by address, one-way partitions included
// Faults: SIGKILL / SIGTERM / SIGINT and restart with the same DATA_DIR, SIGSTOP / SIGCONT,
// partitions (groups, bridge, one-way), and wall-clock jumps through libfaketime (every node
// started with LD_PRELOAD and its own FAKETIME_TIMESTAMP_FILE, re-read on every clock read).
//
// Nodes are RingProcess objects (tests/cluster/harness.ts) with the URL of their mode, so the
// harness's helpers (waitReady, waitSettled, admin, cluster) work on them unchanged.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { admin, freePort, RingProcess, SECRET_A, sleep, testNodeEnv, waitFor, waitReady, waitSettled } from '../tests/cluster/harness';
import { bundlePath as serverBundle, repoRoot as root } from './paths';
import { NetNs } from './netns';

export type NetMode = 'loopback' | 'netns';
export type StopSignal = 'SIGKILL' | 'SIGTERM' | 'SIGINT';

/** Debian's libfaketime (apt-get install faketime), wherever this architecture keeps it. */
export const FAKETIME_LIB =
  [`/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu/faketime/libfaketime.so.1`, '/usr/lib/faketime/libfaketime.so.1', '/usr/local/lib/faketime/libfaketime.so.1'].find((p) => existsSync(p)) ??
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

export function faketimeAvailable(): boolean {
  return existsSync(FAKETIME_LIB);
}

export interface ClusterSpec {
  size: number;
  mode: NetMode;
  /** Unique per run (names of namespaces and temporary directories). */
  tag: string;
  /** Which /24 the namespaces use (netns mode). */
  netSlot: number;
  faketime?: boolean;
  env?: Record<string, string>;
}

/** One process life of a node: a restart is a new life (a new G-counter slot, new caches). */
export interface Life {
  slot: number;
  name: string;
  gen: number;
  pid: number | undefined;
  startedAt: number;
  readyAt?: number;
  endedAt?: number;
  /** When the client saw the process exit (after endedAt when we sent the signal). */
  exitedAt?: number;
  /** How this life ended: a signal we sent, or 'exit' when it exited by itself. */
  end?: StopSignal | 'exit';
  exit?: { code: number | null; signal: string | null };
}

export class ChaosNode extends RingProcess {
  constructor(
    name: string,
    port: number,
    host: string,
    dataDir: string,
    proc: ChildProcess,
    readonly slot: number,
    readonly life: Life,
  ) {
    super(name, port, { seeds: [], secret: SECRET_A, env: {}, dataDir }, proc);
    // The mode's address (RingProcess assumes 127.0.0.1).
    Object.assign(this, { url: `http://${host}:${port}`, addr: `${host}:${port}` });
  }
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Log lines at warn level or worse, kept per cluster for the report (bounded). */
export interface NodeLogLine {
  node: string;
  gen: number;
  level: number;
  msg: string;
}

export class ChaosCluster {
  readonly names: string[];
  readonly nodes: ChaosNode[] = [];
  readonly lives: Life[] = [];
  readonly paused = new Set<number>();
  readonly timeline: { at: number; what: string }[] = [];
  readonly logLines: NodeLogLine[] = [];
  logLinesDropped = 0;
  readonly t0 = performance.now();
  private readonly ports: number[] = [];
  private readonly hosts: string[] = [];
  private readonly dataDirs: string[] = [];
  private readonly clockFiles: string[] = [];
  private readonly clockOffsets: string[] = [];
  private readonly netns: NetNs | undefined;
  private readonly tmp: string;
  private gens: number[];
  private torn = false;

  constructor(readonly spec: ClusterSpec) {
    this.names = Array.from({ length: spec.size }, (_, i) => `n${i + 1}`);
    this.gens = this.names.map(() => 0);
    this.tmp = mkdtempSync(join(tmpdir(), `ringlink-chaos-${spec.tag}-`));
    if (spec.mode === 'netns') this.netns = new NetNs(spec.tag, spec.size, spec.netSlot);
  }

  note(what: string): void {
    this.timeline.push({ at: Math.round(performance.now() - this.t0), what });
  }

  get mode(): NetMode {
    return this.spec.mode;
  }

  /** Set up the network, start every node (n1 first, the rest joining through it), wait until the ring settled. */
  async start(): Promise<void> {
    if (this.netns) this.netns.setup();
    for (let i = 0; i < this.spec.size; i++) {
      this.ports.push(this.netns ? 8080 : await freePort());
      this.hosts.push(this.netns ? this.netns.ip(i) : '127.0.0.1');
      const dir = join(this.tmp, this.names[i]!);
      this.dataDirs.push(dir);
      const clock = join(this.tmp, `${this.names[i]}.faketime`);
      this.clockFiles.push(clock);
      this.clockOffsets.push('+0');
      if (this.spec.faketime) writeFileSync(clock, '+0\n');
    }
    const first = this.spawnLife(0);
    await waitReady(first, 30_000);
    const rest = this.names.slice(1).map((_, j) => this.spawnLife(j + 1));
    await Promise.all(rest.map((n) => waitReady(n, 60_000)));
    await waitSettled(this.nodes, 90_000);
    this.note(`cluster of ${this.spec.size} up (${this.spec.mode}${this.spec.faketime ? ', libfaketime' : ''})`);
  }

  private spawnLife(slot: number): ChaosNode {
    const name = this.names[slot]!;
    const port = this.ports[slot]!;
    const host = this.hosts[slot]!;
    const env = testNodeEnv(
      { host, port, name, seeds: slot === 0 ? '' : `${this.hosts[0]}:${this.ports[0]}`, secret: SECRET_A, dataDir: this.dataDirs[slot]! },
      {
        RATE_LIMIT_CREATE_PER_MIN: '0',
        ...this.spec.env,
        ...(this.spec.faketime ? { LD_PRELOAD: FAKETIME_LIB, FAKETIME_TIMESTAMP_FILE: this.clockFiles[slot]!, FAKETIME_NO_CACHE: '1', DONT_FAKE_MONOTONIC: '1' } : {}),
      },
    );
    const [cmd, args] = this.netns ? ['ip', ['netns', 'exec', this.netns.ns(slot), process.execPath, serverBundle]] : [process.execPath, [serverBundle]];
    const proc = spawn(cmd as string, args as string[], { cwd: root, env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(proc);
    const life: Life = { slot, name, gen: ++this.gens[slot]!, pid: proc.pid, startedAt: performance.now() };
    this.lives.push(life);
    const node = new ChaosNode(name, port, host, this.dataDirs[slot]!, proc, slot, life);
    this.watchLog(node);
    proc.once('exit', (code, signal) => {
      children.delete(proc);
      life.exitedAt = performance.now();
      life.endedAt ??= life.exitedAt;
      life.exit = { code, signal };
      if (!life.end) {
        life.end = 'exit';
        this.note(`${name} (life ${life.gen}) EXITED BY ITSELF (code ${code}, signal ${signal})`);
      }
    });
    this.nodes[slot] = node;
    return node;
  }

  private watchLog(node: ChaosNode): void {
    let partial = '';
    const onData = (s: string) => {
      const lines = (partial + s).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        let level = 40;
        let msg = line;
        try {
          const j = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
          level = j.level ?? 40;
          msg = `${j.msg ?? ''}${j.err?.message ? `: ${j.err.message}` : ''}`;
        } catch {
          level = 50; // not pino: a stack trace or a crash message
        }
        if (this.logLines.length < 400) this.logLines.push({ node: node.name, gen: node.life.gen, level, msg: msg.slice(0, 300) });
        else this.logLinesDropped++;
      }
    };
    node.proc.stdout?.on('data', onData);
    node.proc.stderr?.on('data', onData);
  }

  /** Nodes whose process is running (paused ones included: a client cannot tell). */
  running(): ChaosNode[] {
    return this.nodes.filter((n) => n.alive);
  }

  node(slot: number): ChaosNode {
    return this.nodes[slot]!;
  }

  /** Send a stop signal; waits (bounded) for the exit. SIGTERM is a graceful leave (hand-off), SIGINT a plain stop. */
  async stop(slot: number, signal: StopSignal, timeoutMs = 60_000): Promise<void> {
    const n = this.nodes[slot]!;
    if (!n.alive) return;
    n.life.end = signal;
    n.life.endedAt = performance.now();
    if (this.paused.has(slot)) this.resume(slot); // a stopped process never handles SIGTERM/SIGINT
    n.proc.kill(signal);
    this.note(`${signal} ${n.name}`);
    const t0 = performance.now();
    const r = await Promise.race([n.exited, sleep(timeoutMs).then(() => undefined)]);
    if (r !== undefined && signal !== 'SIGKILL') this.note(`${n.name} exited (code ${r.code}${r.signal ? `, signal ${r.signal}` : ''}) ${Math.round(performance.now() - t0)} ms after ${signal}`);
    if (r === undefined) {
      this.note(`${n.name} did not exit within ${timeoutMs} ms of ${signal}: SIGKILL`);
      n.proc.kill('SIGKILL');
      await Promise.race([n.exited, sleep(10_000)]);
    }
  }

  /** Start a stopped node again with its DATA_DIR, port and name; waits for /readyz. */
  async restart(slot: number, readyTimeoutMs = 60_000): Promise<ChaosNode> {
    if (this.nodes[slot]?.alive) throw new Error(`restart: ${this.names[slot]} is still running`);
    const n = this.spawnLife(slot);
    this.note(`restart ${n.name} (life ${n.life.gen})`);
    // waitReady polls until its timeout even when the process is gone: fail as soon as it exits.
    let settled = false;
    const exitedFirst = n.exited.then((e) => {
      if (!settled) throw new Error(`${n.name} exited (${JSON.stringify(e)}) before /readyz answered 200`);
    });
    exitedFirst.catch(() => {});
    try {
      await Promise.race([waitReady(n, readyTimeoutMs), exitedFirst.then(() => new Promise<never>(() => {}))]);
    } finally {
      settled = true;
    }
    n.life.readyAt = performance.now();
    this.note(`${n.name} ready`);
    return n;
  }

  pause(slot: number): void {
    const n = this.nodes[slot]!;
    if (!n.alive || n.pid === undefined) return;
    process.kill(n.pid, 'SIGSTOP');
    this.paused.add(slot);
    this.note(`SIGSTOP ${n.name}`);
  }

  resume(slot: number): void {
    const n = this.nodes[slot]!;
    this.paused.delete(slot);
    if (!n.alive || n.pid === undefined) return;
    process.kill(n.pid, 'SIGCONT');
    this.note(`SIGCONT ${n.name}`);
  }

  /** Which partitions this cluster can make. */
  canOneWay(): boolean {
    return this.netns !== undefined;
  }

  /**
   * Cut the network so that node i and node j can talk only when `sees(i, j)` (symmetric for
   * groups and bridges). netns: iptables in both namespaces; loopback: the fault hook.
   */
  async partition(sees: (i: number, j: number) => boolean, label: string): Promise<void> {
    const n = this.spec.size;
    if (this.netns) {
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          if (i === j || sees(i, j)) continue;
          this.netns.dropFrom(i, j);
          this.netns.dropTo(i, j);
        }
      }
    } else {
      await Promise.all(
        this.nodes.map((node, i) => {
          const block = this.names.filter((_, j) => j !== i && !sees(i, j));
          return this.setBlocked(node, block);
        }),
      );
    }
    this.note(`partition: ${label}`);
  }

  /** One-way (netns only): node `deaf` drops every packet from the others; its own packets still go out. */
  oneWay(deaf: number): void {
    if (!this.netns) throw new Error('one-way partitions need network namespaces');
    for (let j = 0; j < this.spec.size; j++) if (j !== deaf) this.netns.dropFrom(deaf, j);
    this.note(`one-way: ${this.names[deaf]} hears nobody (its packets still reach the others)`);
  }

  async heal(): Promise<void> {
    if (this.netns) this.netns.heal();
    else await Promise.all(this.nodes.filter((n) => n.alive).map((n) => this.setBlocked(n, [])));
    this.note('network healed');
  }

  private async setBlocked(node: ChaosNode, block: string[]): Promise<void> {
    if (!node.alive) return;
    await waitFor(
      async () => {
        const r = await admin(node, 'POST', 'faults', { block }, 3000);
        if (r.status !== 200) throw new Error(`faults on ${node.name}: ${r.status} ${JSON.stringify(r.body)}`);
        return true;
      },
      { timeoutMs: 15_000, intervalMs: 300, what: `fault hook on ${node.name}` },
    );
  }

  /** Jump a node's wall clock: offset as libfaketime reads it, e.g. "+3600" (seconds) or "+0". */
  setClock(slot: number, offset: string): void {
    if (!this.spec.faketime) throw new Error('setClock needs a cluster started with faketime');
    writeFileSync(this.clockFiles[slot]!, `${offset}\n`);
    this.clockOffsets[slot] = offset;
    this.note(`clock of ${this.names[slot]} set to ${offset} s`);
  }

  /** Kill whatever runs, remove namespaces and data. Idempotent and bounded. */
  async teardown(): Promise<void> {
    if (this.torn) return;
    this.torn = true;
    const running = this.nodes.filter((n) => n?.alive);
    for (const n of running) {
      n.life.end ??= 'SIGKILL';
      n.proc.kill('SIGKILL');
    }
    await Promise.race([Promise.all(running.map((n) => n.exited)), sleep(10_000)]);
    this.netns?.teardown();
    rmSync(this.tmp, { recursive: true, force: true, maxRetries: 3 });
  }
}
