// Simulated clients. Each client owns a few register keys that it writes in a causal
// chain (each write carries the context of its previous acknowledged write), deletes some
// of them for good, reads others' keys, increments shared counters and races other
// clients on shared compare-and-set keys. Every operation is recorded with its virtual
// invocation and completion times for the checkers.
import type { VersionVector } from '../storage/versions';
import { mergeVV } from '../storage/versions';
import type { HistoryEntry, CasOp } from './linearizability';
import { applyCasOp } from '../cas/registerOps';
import type { SimRandom } from './prng';
import type { SimWorld } from './world';

export interface RegisterOp {
  readonly key: string;
  readonly kind: 'put' | 'delete';
  readonly value?: string;
  /** Index of this op in the key's sequence. */
  readonly index: number;
  status: 'pending' | 'ok' | 'unknown';
}

export interface WorkloadOptions {
  clients: number;
  keysPerClient: number;
  casKeys: number;
  counterKeys: number;
  /** Mean think time between a client's operations. */
  thinkMs: number;
}

interface KeyState {
  context: VersionVector;
  ops: RegisterOp[];
  deleted: boolean;
}

export class Workload {
  readonly registerOps = new Map<string, RegisterOp[]>();
  readonly casHistory: (HistoryEntry & { key: string })[] = [];
  /** Increments each node life accepted, by key. */
  readonly increments = new Map<string, number>();
  readonly stats = { ops: 0, acked: 0, failed: 0, reads: 0 };
  private readonly keys = new Map<string, KeyState>();
  private stopped = false;
  private opId = 0;
  private valueSeq = 0;

  constructor(
    private readonly world: SimWorld,
    private readonly random: SimRandom,
    private readonly opts: WorkloadOptions,
  ) {}

  start(): void {
    for (let c = 0; c < this.opts.clients; c++) this.schedule(`c${c}`);
  }

  stop(): void {
    this.stopped = true;
  }

  private schedule(client: string): void {
    const delay = 1 + this.random.int(this.opts.thinkMs * 2);
    this.world.scheduler.after(delay, () => {
      if (this.stopped) return;
      this.step(client, () => this.schedule(client));
    });
  }

  private pickNode(): string | undefined {
    const up = this.world.upNodes().filter((n) => n.node.ready());
    return up.length === 0 ? undefined : this.random.pick(up).name;
  }

  private step(client: string, next: () => void): void {
    const nodeName = this.pickNode();
    if (!nodeName) return next();
    const node = this.world.nodes.get(nodeName)!.node;
    this.stats.ops++;
    const roll = this.random.next();
    if (roll < 0.35) return this.write(client, node, next);
    if (roll < 0.45) return this.read(node, next);
    if (roll < 0.7) return this.increment(node, next);
    return this.casOp(client, node, next);
  }

  private write(client: string, node: import('../node/ringNode').RingNode, next: () => void): void {
    const key = `kv/${client}-${this.random.int(this.opts.keysPerClient)}`;
    let st = this.keys.get(key);
    if (!st) this.keys.set(key, (st = { context: {}, ops: [], deleted: false }));
    if (st.deleted) return next();
    const state = st;
    const ops = this.registerOps.get(key) ?? [];
    this.registerOps.set(key, ops);
    const del = ops.length >= 3 && this.random.chance(0.15);
    const op: RegisterOp = del
      ? { key, kind: 'delete', index: ops.length, status: 'pending' }
      : { key, kind: 'put', value: `${key}#${++this.valueSeq}`, index: ops.length, status: 'pending' };
    ops.push(op);
    if (del) state.deleted = true;
    const done = (err: unknown, res?: { context: VersionVector }) => {
      if (err || !res) {
        op.status = 'unknown';
        this.stats.failed++;
      } else {
        op.status = 'ok';
        this.stats.acked++;
        state.context = mergeVV(state.context, res.context);
      }
      next();
    };
    if (del) node.delete(key, state.context, done);
    else node.put(key, op.value, state.context, done);
  }

  private read(node: import('../node/ringNode').RingNode, next: () => void): void {
    const keys = [...this.keys.keys()];
    if (keys.length === 0) return next();
    const key = this.random.pick(keys);
    this.stats.reads++;
    node.get(key, (err, res) => {
      // A read's context only widens the owner's chain (merge), never narrows it.
      const st = this.keys.get(key)!;
      if (!err && res?.found && !st.deleted) st.context = mergeVV(st.context, res.context);
      next();
    });
  }

  private increment(node: import('../node/ringNode').RingNode, next: () => void): void {
    // G-counters count up; PN-counters also count down.
    const pn = this.random.chance(0.4);
    const key = `${pn ? 'pn' : 'ctr'}/${this.random.int(this.opts.counterKeys)}`;
    const by = pn && this.random.chance(0.5) ? -(1 + this.random.int(5)) : 1 + this.random.int(5);
    node.increment(key, by, (err) => {
      if (!err) {
        this.increments.set(key, (this.increments.get(key) ?? 0) + by);
        this.stats.acked++;
      } else this.stats.failed++;
      next();
    });
  }

  private casOp(client: string, node: import('../node/ringNode').RingNode, next: () => void): void {
    const key = `cas/${this.random.int(this.opts.casKeys)}`;
    const value = `${client}:${++this.valueSeq}`;
    const roll = this.random.next();
    const last = [...this.casHistory].reverse().find((h) => h.key === key && h.output?.value !== undefined);
    const op: CasOp =
      roll < 0.5
        ? { kind: 'create', value }
        : roll < 0.8
          ? { kind: 'cas', expected: (last?.output?.value as string | null | undefined) ?? null, value }
          : { kind: 'read' };
    const entry: HistoryEntry & { key: string } = {
      id: ++this.opId,
      key,
      process: client,
      op,
      invokedAt: this.world.now(),
    };
    this.casHistory.push(entry);
    node.cas(
      key,
      (cur) => applyCasOp(op, cur as string | null),
      (err, res) => {
        if (!err && res) {
          entry.completedAt = this.world.now();
          entry.output = res;
          this.stats.acked++;
        } else this.stats.failed++;
        next();
      },
    );
  }
}
