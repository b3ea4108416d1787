// A cluster of real `dist/server.mjs` processes for the chaos scenarios, each node with its
// own DATA_DIR, in one of two network modes:
//   loopback  every node on 127.0.0.1 at a free port; partitions through the transport fault
//             hook (POST /api/admin/faults, RINGLINK_TEST_FAULTS=1)
//   netns     every node in its own network namespace (testkit/netns.ts); partitions are
//             iptables DROPs by address, one-way partitions included
// Faults: SIGKILL / SIGTERM / SIGINT and restart with the same DATA_DIR, SIGSTOP / SIGCONT,
// partitions (groups, bridge, one-way), and wall-clock jumps through libfaketime (every node
// started with LD_PRELOAD and its own FAKETIME_TIMESTAMP_FILE, re-read on every clock read).
//
// The processes are testkit's (a Harness with the test profile); this adds what the checkers
// need: slots, process lives, a timeline of every fault, and the nodes' warnings.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { faketimeEnv, Harness, NetNs, type RingProcess, waitReady, waitSettled, writeClock } from '../testkit';

export type NetMode = 'loopback' | 'netns';
export type StopSignal = 'SIGKILL' | 'SIGTERM' | 'SIGINT';

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

/** A node process with its slot in the cluster and its life. */
export type ChaosNode = RingProcess & { readonly slot: number; readonly life: Life };

/** Log lines at warn level or worse, kept per cluster for the report (bounded). */
export interface NodeLogLine {
  node: string;
  gen: number;
  level: number;
  msg: string;
}

/** The /24 of slot 0..4999 inside 10.200.0.0-10.219.255.255 (apart from the tests' namespaces). */
function chaosSubnet(slot: number): string {
  return `10.${200 + (slot % 20)}.${Math.floor(slot / 20) % 250}`;
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
  private readonly harness = new Harness();
  private readonly clockFiles: string[] = [];
  private readonly netns: NetNs | undefined;
  private readonly tmp: string;
  private gens: number[];
  private torn = false;

  constructor(readonly spec: ClusterSpec) {
    this.names = Array.from({ length: spec.size }, (_, i) => `n${i + 1}`);
    this.gens = this.names.map(() => 0);
    this.tmp = mkdtempSync(join(tmpdir(), `ringlink-chaos-${spec.tag}-`));
    if (spec.mode === 'netns') {
      this.netns = new NetNs({ prefix: 'rlc', tag: spec.tag, size: spec.size, subnet: chaosSubnet(spec.netSlot) });
    }
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
      const clock = join(this.tmp, `${this.names[i]}.faketime`);
      this.clockFiles.push(clock);
      if (this.spec.faketime) writeClock(clock, '+0');
    }
    const first = await this.spawnLife(0);
    await waitReady(first, 30_000);
    const rest = await Promise.all(this.names.slice(1).map((_, j) => this.spawnLife(j + 1)));
    await Promise.all(rest.map((n) => waitReady(n, 60_000)));
    await waitSettled(this.nodes, 90_000);
    this.note(`cluster of ${this.spec.size} up (${this.spec.mode}${this.spec.faketime ? ', libfaketime' : ''})`);
  }

  /** A new life of the node in `slot`: its first start, or a restart with the same port and DATA_DIR. */
  private async spawnLife(slot: number): Promise<ChaosNode> {
    const name = this.names[slot]!;
    const previous = this.nodes[slot];
    const proc = previous
      ? await this.harness.respawn(previous)
      : await this.harness.spawnNode({
          name,
          ...(this.netns ? { host: this.netns.ip(slot), port: 8080, wrap: this.netns.exec(slot) } : {}),
          seeds: slot === 0 ? [] : [this.nodes[0]!],
          dataDir: join(this.tmp, name),
          env: {
            RATE_LIMIT_CREATE_PER_MIN: '0',
            ...this.spec.env,
            ...(this.spec.faketime ? faketimeEnv(this.clockFiles[slot]!) : {}),
          },
        });
    const life: Life = { slot, name, gen: ++this.gens[slot]!, pid: proc.pid, startedAt: performance.now() };
    this.lives.push(life);
    const node = Object.assign(proc, { slot, life }) as ChaosNode;
    this.watchLog(node);
    void node.exited.then(({ code, signal }) => {
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
        let level: number;
        let msg = line;
        try {
          const j = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
          level = j.level ?? 40;
          msg = `${j.msg ?? ''}${j.err?.message ? `: ${j.err.message}` : ''}`;
        } catch {
          level = 50; // not pino: a stack trace or a crash message
        }
        if (this.logLines.length < 400)
          this.logLines.push({ node: node.name, gen: node.life.gen, level, msg: msg.slice(0, 300) });
        else this.logLinesDropped++;
      }
    };
    node.child.stdout?.on('data', onData);
    node.child.stderr?.on('data', onData);
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
    const stopping = this.harness.stop(n, signal, timeoutMs);
    this.note(`${signal} ${n.name}`);
    const r = await stopping;
    if (r.forced) this.note(`${n.name} did not exit within ${timeoutMs} ms of ${signal}: SIGKILL`);
    else if (r.exit && signal !== 'SIGKILL') {
      const how = `code ${r.exit.code}${r.exit.signal ? `, signal ${r.exit.signal}` : ''}`;
      this.note(`${n.name} exited (${how}) ${Math.round(r.ms)} ms after ${signal}`);
    }
  }

  /** Start a stopped node again with its DATA_DIR, port and name; waits for /readyz (failing as soon as it exits). */
  async restart(slot: number, readyTimeoutMs = 60_000): Promise<ChaosNode> {
    if (this.nodes[slot]?.alive) throw new Error(`restart: ${this.names[slot]} is still running`);
    const n = await this.spawnLife(slot);
    this.note(`restart ${n.name} (life ${n.life.gen})`);
    await waitReady(n, readyTimeoutMs);
    n.life.readyAt = performance.now();
    this.note(`${n.name} ready`);
    return n;
  }

  pause(slot: number): void {
    const n = this.nodes[slot]!;
    if (!n.alive || n.pid === undefined) return;
    this.harness.pause(n);
    this.paused.add(slot);
    this.note(`SIGSTOP ${n.name}`);
  }

  resume(slot: number): void {
    const n = this.nodes[slot]!;
    this.paused.delete(slot);
    if (!n.alive || n.pid === undefined) return;
    this.harness.resume(n);
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
      await this.harness.partition(this.nodes, sees);
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
    else await this.harness.heal(this.nodes);
    this.note('network healed');
  }

  /** Jump a node's wall clock: offset as libfaketime reads it, e.g. "+3600" (seconds) or "+0". */
  setClock(slot: number, offset: string): void {
    if (!this.spec.faketime) throw new Error('setClock needs a cluster started with faketime');
    writeClock(this.clockFiles[slot]!, offset);
    this.note(`clock of ${this.names[slot]} set to ${offset} s`);
  }

  /** Kill whatever runs, remove namespaces and data. Idempotent and bounded. */
  async teardown(): Promise<void> {
    if (this.torn) return;
    this.torn = true;
    for (const n of this.nodes) if (n?.alive) n.life.end ??= 'SIGKILL';
    await this.harness.cleanup();
    this.netns?.teardown();
    rmSync(this.tmp, { recursive: true, force: true, maxRetries: 3 });
  }
}
