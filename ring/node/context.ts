// What the node's parts (coordinators, handoff, anti-entropy, CAS, counters, coverage)
// share. Each part is a small module taking this context, in the way riak_core's FSMs
// share the vnode master and the ring manager.
import type { RingConfig } from '../config';
import type { FailureDetector } from '../membership/swim';
import type { RingState } from '../membership/ringState';
import type { PreferenceLists } from '../placement/preference';
import type { Runtime } from '../runtime';
import type { DataTypeRegistry } from '../storage/datatype';
import type { VnodeStore } from '../storage/vnodeStore';
import type { Rpc } from './rpc';

export type RingErrorKind = 'unavailable' | 'timeout' | 'invalid' | 'conflict' | 'stopped' | 'overloaded';

export interface RingError {
  readonly kind: RingErrorKind;
  readonly message: string;
}

export function ringError(kind: RingErrorKind, message: string): RingError {
  return { kind, message };
}

/**
 * Replicas and quorums for one partition: N_VAL, R and W clamped to the ring's active
 * members. A ring with fewer members than N_VAL keeps each key on every member and serves
 * with quorums it can meet (a one-node cluster is a valid cluster); as members join, n
 * grows back to N_VAL. Clamped by membership, never by reachability: a 3-member ring with
 * 2 members down (or cut off) still needs W=2 acknowledgements.
 */
export interface Quorum {
  readonly n: number;
  readonly r: number;
  readonly w: number;
}

export type Callback<T> = (err: RingError | null, result?: T) => void;

export interface NodeStats {
  puts: number;
  gets: number;
  readRepairs: number;
  handoffKeysSent: number;
  handoffKeysReceived: number;
  handoffsCompleted: number;
  antiEntropyExchanges: number;
  antiEntropyKeysRepaired: number;
  tombstonesReaped: number;
  expiredSwept: number;
  casProposals: number;
  casRetries: number;
  counterFlushes: number;
  /** Messages from authenticated peers the ring does not list (other than a join). */
  strangerMessagesDropped: number;
}

export function emptyStats(): NodeStats {
  return {
    puts: 0,
    gets: 0,
    readRepairs: 0,
    handoffKeysSent: 0,
    handoffKeysReceived: 0,
    handoffsCompleted: 0,
    antiEntropyExchanges: 0,
    antiEntropyKeysRepaired: 0,
    tombstonesReaped: 0,
    expiredSwept: 0,
    casProposals: 0,
    casRetries: 0,
    counterFlushes: 0,
    strangerMessagesDropped: 0,
  };
}

export interface NodeContext {
  readonly name: string;
  /** Unique per process life (or per durable identity): the actor prefix for version dots. */
  readonly bootId: string;
  readonly rt: Runtime;
  readonly config: RingConfig;
  readonly types: DataTypeRegistry;
  readonly store: VnodeStore;
  readonly rpc: Rpc;
  readonly detector: FailureDetector;
  readonly stats: NodeStats;
  ring(): RingState;
  prefs(): PreferenceLists;
  partitionOf(key: string): number;
  /** The first N nodes of the key's preference list (primaries, then fallbacks) that are up. */
  targets(partition: number): string[];
  /** N, R and W for a partition (see Quorum). */
  quorum(partition: number): Quorum;
  isUp(name: string): boolean;
  /** Apply a local change to the ring and gossip it. */
  updateRing(change: (ring: RingState) => RingState): void;
  running(): boolean;
  /** Run fn with the journal writing the changes it makes at once, when it ends (DurableJournal.batch). */
  journalBatch<T>(fn: () => T): T;
}
