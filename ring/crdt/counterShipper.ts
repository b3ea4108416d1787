// Delta-state G-counters (Almeida, Shoker, Baquero 2015). An increment only touches this
// node's own slot, in memory: the hot path is a Map update. Every flush interval the
// dirty keys' slot values (cumulative, so duplicates and reordering are harmless) go to
// each key's replicas, batched per replica node; a key is flushed once W replicas
// acknowledged its value. A crash loses exactly the increments not yet acknowledged.
//
// The slot id names this process life and a rotation number: a restarted node never
// reuses a slot, and rotating bounds the memory of per-key slot totals.
import { ringError, type Callback, type NodeContext } from '../node/context';
import { encodeEntry, type WireEntry } from '../storage/entry';
import { isGCounter, mergeGCounter, type GCounter } from './gcounter';
import type { CrdtType } from '../storage/datatype';

interface SlotTotal {
  total: number;
  /** Highest total a write quorum acknowledged. */
  acked: number;
}

export class CounterShipper {
  private rotation = 0;
  private readonly life: string;
  private slot: string;
  private totals = new Map<string, SlotTotal>();
  private readonly dirty = new Set<string>();
  private inFlight = false;

  constructor(private readonly ctx: NodeContext) {
    // A durable restart keeps bootId; the nonce keeps this life's slot distinct from the last one's.
    this.life = `${ctx.bootId}:${ctx.rt.random.hex(4)}`;
    this.slot = `${this.life}~0`;
  }

  slotId(): string {
    return this.slot;
  }

  increment(key: string, by: number, done?: Callback<true>): void {
    const type = this.ctx.store.typeOf(key);
    if (type.kind !== 'crdt') return done?.(ringError('invalid', `type ${type.name} is not a counter`));
    if (!Number.isSafeInteger(by) || by <= 0) return done?.(ringError('invalid', `increment must be a positive integer, got ${by}`));
    let t = this.totals.get(key);
    if (!t) this.totals.set(key, (t = { total: 0, acked: 0 }));
    t.total += by;
    this.dirty.add(key);
    done?.(null, true);
  }

  /** This node's not-yet-replicated contribution to a key, to merge into reads (read your writes). */
  localDelta(key: string): GCounter | undefined {
    const t = this.totals.get(key);
    return t ? { [this.slot]: t.total } : undefined;
  }

  /** Increments not yet acknowledged by a write quorum, per key (what a crash now would lose). */
  unacknowledged(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [key, t] of this.totals) if (t.total > t.acked) out.set(key, t.total - t.acked);
    return out;
  }

  slotTotals(): ReadonlyMap<string, { total: number; acked: number }> {
    return this.totals;
  }

  pending(): number {
    return this.dirty.size;
  }

  flush(): void {
    if (this.inFlight || this.dirty.size === 0) {
      if (this.dirty.size === 0 && !this.inFlight) this.maybeRotate();
      return;
    }
    const keys = [...this.dirty].slice(0, this.ctx.config.counterFlushBatchKeysMax);
    for (const k of keys) this.dirty.delete(k);
    const sent = new Map<string, number>();
    const byNode = new Map<string, [string, WireEntry][]>();
    const needed = new Map<string, number>();
    for (const key of keys) {
      const total = this.totals.get(key)!.total;
      sent.set(key, total);
      const wire = encodeEntry(this.ctx.store.typeOf(key), { kind: 'crdt', value: { [this.slot]: total } });
      const targets = this.ctx.targets(this.ctx.partitionOf(key));
      needed.set(key, targets.length >= this.ctx.config.w ? this.ctx.config.w : Infinity);
      for (const node of targets) {
        let list = byNode.get(node);
        if (!list) byNode.set(node, (list = []));
        list.push([key, wire]);
      }
    }
    this.inFlight = true;
    this.ctx.stats.counterFlushes++;
    const acks = new Map<string, number>();
    let pending = byNode.size;
    const settle = () => {
      if (--pending > 0) return;
      for (const key of keys) {
        const t = this.totals.get(key)!;
        if ((acks.get(key) ?? 0) >= needed.get(key)!) t.acked = Math.max(t.acked, sent.get(key)!);
        if (t.total > t.acked) this.dirty.add(key);
      }
      this.inFlight = false;
    };
    if (pending === 0) {
      pending = 1;
      return settle();
    }
    for (const [node, entries] of byNode) {
      const ack = () => {
        for (const [key] of entries) acks.set(key, (acks.get(key) ?? 0) + 1);
      };
      if (node === this.ctx.name) {
        const now = this.ctx.rt.clock.now();
        for (const [key, wire] of entries) this.ctx.store.merge(this.ctx.partitionOf(key), key, { kind: 'crdt', value: this.ctx.store.typeOf(key).decode((wire as { v: unknown }).v) }, now);
        ack();
        settle();
        continue;
      }
      this.ctx.rpc.call(node, 'store', { entries }, this.ctx.config.requestTimeoutMs, (err) => {
        if (!err) ack();
        settle();
      });
    }
  }

  private maybeRotate(): void {
    if (this.totals.size < this.ctx.config.counterSlotKeysMax) return;
    this.rotation++;
    this.slot = `${this.life}~${this.rotation}`;
    this.totals = new Map();
  }
}

/** A ring data type for G-counters, to register under any name. */
export function gcounterType(name: string): CrdtType<GCounter> {
  return {
    name,
    kind: 'crdt',
    empty: () => ({}),
    merge: mergeGCounter,
    encode: (v) => v,
    decode: (wire) => {
      if (!isGCounter(wire)) throw new Error(`${name}: not a G-counter`);
      return wire;
    },
  };
}
