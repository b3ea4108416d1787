// Delta-state counters (Almeida, Shoker, Baquero 2015), G and PN. An increment only
// touches this node's own slot, in memory: the hot path is a Map update. Every flush interval the
// dirty keys' slot values (cumulative, so duplicates and reordering are harmless) go to
// each key's replicas, batched per replica node; a key is flushed once W replicas
// acknowledged its value. A crash loses exactly the increments not yet acknowledged.
//
// The slot id names this process life and a rotation number: a restarted node never
// reuses a slot, and rotating bounds the memory of per-key slot totals.
import { ringError, type Callback, type NodeContext } from '../node/context';
import { scatter } from '../node/scatter';
import { encodeEntry, type WireEntry } from '../storage/entry';
import { isGCounter, mergeGCounter, type GCounter } from './gcounter';
import { emptyPNCounter, isPNCounter, mergePNCounter, type PNCounter } from './pncounter';
import type { CrdtType } from '../storage/datatype';

interface SlotTotal {
  /** Sum of this slot's increments (the P side of a PN-counter). */
  total: number;
  /** Highest total a write quorum acknowledged. */
  acked: number;
  /** Sum of this slot's decrements, as a positive number (PN-counters only). */
  neg: number;
  ackedNeg: number;
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

  /** Add `by` (negative: subtract, PN-counters only) to this node's slot of the counter. */
  increment(key: string, by: number, done?: Callback<true>): void {
    // Hot path: a key with a slot total here was validated as a counter when it got one.
    const known = this.totals.get(key);
    if (known !== undefined && by > 0 && Number.isSafeInteger(by)) {
      known.total += by;
      this.dirty.add(key);
      return done?.(null, true);
    }
    const type = this.ctx.store.typeOf(key);
    if (type.kind !== 'crdt' || !type.counter)
      return done?.(ringError('invalid', `type ${type.name} is not a counter`));
    if (!Number.isSafeInteger(by) || by === 0)
      return done?.(ringError('invalid', `increment must be a non-zero integer, got ${by}`));
    if (by < 0 && type.counter === 'g')
      return done?.(
        ringError('invalid', `${type.name} is a grow-only counter: increments must be positive, got ${by}`),
      );
    let t = this.totals.get(key);
    if (!t) this.totals.set(key, (t = { total: 0, acked: 0, neg: 0, ackedNeg: 0 }));
    if (by > 0) t.total += by;
    else t.neg -= by;
    this.dirty.add(key);
    done?.(null, true);
  }

  /**
   * This node's slot as a state of the key's counter type: what a flush ships, and what reads merge in (read your
   * writes).
   */
  localDelta(key: string): GCounter | PNCounter | undefined {
    const t = this.totals.get(key);
    return t ? this.slotState(key, t.total, t.neg) : undefined;
  }

  private slotState(key: string, total: number, neg: number): GCounter | PNCounter {
    const type = this.ctx.store.typeOf(key);
    if (type.kind === 'crdt' && type.counter === 'pn')
      return { p: total > 0 ? { [this.slot]: total } : {}, n: neg > 0 ? { [this.slot]: neg } : {} };
    return { [this.slot]: total };
  }

  /** Increments (and decrements) not yet acknowledged by a write quorum, per key: what a crash now would lose. */
  unacknowledged(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [key, t] of this.totals)
      if (t.total > t.acked || t.neg > t.ackedNeg) out.set(key, t.total - t.acked + (t.neg - t.ackedNeg));
    return out;
  }

  slotTotals(): ReadonlyMap<string, { total: number; acked: number; neg: number; ackedNeg: number }> {
    return this.totals;
  }

  pending(): number {
    return this.dirty.size;
  }

  /** Nothing unshipped and no flush waiting for acknowledgements. */
  idle(): boolean {
    return this.dirty.size === 0 && !this.inFlight;
  }

  flush(): void {
    if (this.inFlight || this.dirty.size === 0) {
      if (this.dirty.size === 0 && !this.inFlight) this.maybeRotate();
      return;
    }
    const keys = [...this.dirty].slice(0, this.ctx.config.counterFlushBatchKeysMax);
    for (const k of keys) this.dirty.delete(k);
    const sent = new Map<string, [number, number]>();
    const byNode = new Map<string, [string, WireEntry][]>();
    const needed = new Map<string, number>();
    for (const key of keys) {
      const t = this.totals.get(key)!;
      sent.set(key, [t.total, t.neg]);
      const wire = encodeEntry(this.ctx.store.typeOf(key), {
        kind: 'crdt',
        value: this.slotState(key, t.total, t.neg),
      });
      const p = this.ctx.partitionOf(key);
      const targets = this.ctx.targets(p);
      const { w } = this.ctx.quorum(p);
      needed.set(key, targets.length >= w ? w : Infinity);
      for (const node of targets) {
        let list = byNode.get(node);
        if (!list) byNode.set(node, (list = []));
        list.push([key, wire]);
      }
    }
    this.inFlight = true;
    this.ctx.stats.counterFlushes++;
    scatter(this.ctx.rpc, [...byNode.keys()], 'store', undefined, {
      timeoutMs: this.ctx.config.requestTimeoutMs,
      bodyFor: (node) => ({ entries: byNode.get(node)! }),
      allAnswered: (got) => {
        const acks = new Map<string, number>();
        for (const node of got.accepted.keys()) {
          for (const [key] of byNode.get(node)!) acks.set(key, (acks.get(key) ?? 0) + 1);
        }
        for (const key of keys) {
          const t = this.totals.get(key)!;
          if ((acks.get(key) ?? 0) >= needed.get(key)!) {
            const [total, neg] = sent.get(key)!;
            t.acked = Math.max(t.acked, total);
            t.ackedNeg = Math.max(t.ackedNeg, neg);
          }
          if (t.total > t.acked || t.neg > t.ackedNeg) this.dirty.add(key);
        }
        this.inFlight = false;
      },
    });
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
    counter: 'g',
    empty: () => ({}),
    merge: mergeGCounter,
    encode: (v) => v,
    decode: (wire) => {
      if (!isGCounter(wire)) throw new Error(`${name}: not a G-counter`);
      return wire;
    },
  };
}

/** A ring data type for PN-counters (increments and decrements), to register under any name. */
export function pncounterType(name: string): CrdtType<PNCounter> {
  return {
    name,
    kind: 'crdt',
    counter: 'pn',
    empty: emptyPNCounter,
    merge: mergePNCounter,
    encode: (v) => v,
    decode: (wire) => {
      if (!isPNCounter(wire)) throw new Error(`${name}: not a PN-counter`);
      return wire;
    },
  };
}
