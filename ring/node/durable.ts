// What a node keeps across a restart, and the port through which a layer with a disk keeps
// it: the node reports every change to its journal (RingNodeOptions.journal) as it happens,
// hands out a snapshot of the whole state for compaction, and starts from a state rebuilt
// from those same changes. The ring does no I/O; server/durability writes the changes down.
import { CasAcceptorStore, type AcceptorState, type CasChange, type Readiness } from '../cas/caspaxos';
import { emptyRing, type RingState } from '../membership/ringState';
import type { DataTypeRegistry } from '../storage/datatype';
import type { Entry } from '../storage/entry';
import { VnodeStore } from '../storage/vnodeStore';

/** What survives a restart when the node has a disk (and, in the simulator, a durable crash). */
export interface DurableState {
  bootId: string;
  incarnation: number;
  ring: RingState;
  store: VnodeStore;
  cas: CasAcceptorStore;
}

/** One change of a node's durable state; a snapshot is a sequence of them that rebuilds it. */
export type DurableChange =
  /** The node's identity and its store's sequence floor (snapshots only). */
  | { kind: 'meta'; bootId: string; seq: number }
  | { kind: 'ring'; ring: RingState }
  /** A key's state on this node after a change; `entry` undefined: the key left this node. */
  | { kind: 'entry'; partition: number; key: string; entry: Entry | undefined; since?: number }
  | CasChange;

export type { AcceptorState, Readiness };

/**
 * Where a node writes its durable changes. Called synchronously, in order, before the
 * change is acknowledged to any peer (Paxos needs a promise on disk before it is answered):
 * a throw propagates to the code that made the change, which then answers nothing.
 */
export interface DurableJournal {
  record(change: DurableChange): void;
  /**
   * Optional: run fn, holding the changes it records, and write them all at once before
   * returning (one write for many records; a handoff chunk or repair stores hundreds of
   * keys). The rule above holds for the batch: nothing fn changed is acknowledged before
   * batch returns, so fn must not answer a peer itself. A throw (from fn or the write)
   * propagates after what was recorded is written, as far as the write succeeds.
   */
  batch?<T>(fn: () => T): T;
}

/** The whole state as changes, in the order restoreDurableState applies them. */
export function* durableSnapshot(d: DurableState): Generator<DurableChange> {
  yield { kind: 'meta', bootId: d.bootId, seq: d.store.sequence() };
  yield { kind: 'ring', ring: d.ring };
  for (const [partition, key, stored] of d.store.entries()) {
    yield { kind: 'entry', partition, key, entry: stored.entry, since: stored.since };
  }
  for (const [p, states] of d.cas.states) for (const [key, state] of states) yield { kind: 'cas', p, key, state };
  for (const [p, readiness] of d.cas.readiness) yield { kind: 'casReadiness', p, readiness };
  yield { kind: 'casBallot', counter: d.cas.ballotCounter };
}

export interface RestoreOptions {
  types: DataTypeRegistry;
  ringSize: number;
  /** RingConfig.antiEntropyBucketsPerPartition. */
  bucketCount: number;
  /** The local clock, for the tombstones restored (their collection timer starts now). */
  now: number;
  /** A boot id for a state whose changes carry none. */
  newBootId: () => string;
}

/** Rebuild a node's state from a snapshot and the changes recorded after it, in order. */
export function restoreDurableState(
  changes: Iterable<DurableChange>,
  opts: RestoreOptions,
): { durable: DurableState; keys: number } {
  const restorer = new DurableRestorer(opts);
  for (const c of changes) restorer.apply(c);
  return restorer.finish();
}

/**
 * restoreDurableState one change at a time, for a reader that pushes changes as it decodes
 * them (so a large state is never held as a list of changes as well).
 */
export class DurableRestorer {
  private readonly store: VnodeStore;
  private readonly cas = new CasAcceptorStore();
  private bootId = '';
  private ring: RingState;
  private seqFloor = 0;

  constructor(private readonly opts: RestoreOptions) {
    this.store = new VnodeStore(opts.types, opts.bucketCount);
    this.ring = emptyRing(opts.ringSize);
  }

  apply(c: DurableChange): void {
    const { store, cas } = this;
    switch (c.kind) {
      case 'meta':
        this.bootId = c.bootId;
        this.seqFloor = Math.max(this.seqFloor, c.seq);
        break;
      case 'ring':
        this.ring = c.ring;
        break;
      case 'entry': {
        // Replace, not merge: the changes hold each key's state after every change, in order.
        const stored = store.get(c.partition, c.key);
        if (stored) store.removeIfUnchanged(c.partition, c.key, stored.seq);
        if (c.entry) store.restore(c.partition, c.key, c.entry, c.since ?? store.sequence() + 1, this.opts.now);
        break;
      }
      case 'cas':
        cas.set(c.p, c.key, c.state);
        break;
      case 'casReadiness':
        if (c.readiness === undefined) cas.readiness.delete(c.p);
        else cas.readiness.set(c.p, c.readiness);
        break;
      case 'casBallot':
        cas.ballotCounter = Math.max(cas.ballotCounter, c.counter);
        break;
    }
  }

  finish(): { durable: DurableState; keys: number } {
    const { store, cas, ring } = this;
    store.raiseSequence(this.seqFloor);
    const bootId = this.bootId || this.opts.newBootId();
    return { durable: { bootId, incarnation: 0, ring, store, cas }, keys: store.keyCount() };
  }
}
