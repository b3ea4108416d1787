// The ring's public API: everything code outside ring/ may use. The modules behind it are
// the ring's own business and may change shape; code outside imports from here only (the
// simulator has its own face, ring/sim/index.ts).

// The node: lifecycle, data API (callback style: the simulator controls every step),
// introspection, typed events and app messaging.
export {
  RingNode,
  type MemberChange,
  type MemberView,
  type RingNodeEvents,
  type RingNodeOptions,
} from './node/ringNode';
export { Emitter, type Events, type Listener, type Unsubscribe } from './events';
export {
  appMessage,
  appProtocol,
  appRpc,
  type AppMessage,
  type AppMessages,
  type AppProtocol,
  type AppRequestHandler,
  type AppRpc,
} from './node/appMessages';
export {
  ringError,
  type Callback,
  type NodeStats,
  type Quorum,
  type RingError,
  type RingErrorKind,
} from './node/context';
export type { ReadResult, WriteResult } from './coordinator/quorum';
export type { CoverageQuery, CoverageResult } from './coverage/coverage';
// Secondary indexes (riak 2i): a data type lists values under terms (DataType.index), each
// partition keeps term -> keys ordered by sort, and RingNode.indexPage/indexCount query them.
export {
  indexPageLimitMax,
  type IndexCount,
  type IndexFilter,
  type IndexItem,
  type IndexPage,
  type IndexPageArgs,
  type IndexQueryArgs,
} from './coverage/indexQuery';
export type { IndexCursor } from './storage/secondaryIndex';
export type { HandoffStatus } from './handoff/handoff';
export type { Liveness } from './membership/swim';
export type { Member, MemberStatus, PartitionClaim, RingState } from './membership/ringState';
export type { PreferenceLists } from './placement/preference';

// Placement: the claim algorithm and its measures (bench:placement), and the clockwise walk that
// gives a key's preference list from partition owners (bench:live places its links with it).
export {
  claimGuarantee,
  claimPartitions,
  countMoves,
  ownershipCounts,
  windowViolations,
  type ClaimGuarantee,
  type ClaimInput,
} from './placement/claim';
export { walk } from './placement/preference';
// Zones (ZONE): the name rule servers validate against, and the zone-spread measure (bench:placement).
export { isZoneName, zoneCharsMax } from './membership/ringState';
export { zoneWindowViolations } from './placement/zones';

// Durability: the node's journal port, and the state it is restored from.
export {
  DurableRestorer,
  restoreDurableState,
  type AcceptorState,
  type DurableChange,
  type DurableJournal,
  type DurableState,
  type Readiness,
  type RestoreOptions,
} from './node/durable';

// Configuration and the injected world (clock, timers, randomness, transport, logger).
export { defaultRingConfig, ringConfig, type RingConfig } from './config';
export {
  silentLogger,
  type Clock,
  type Logger,
  type Random,
  type Runtime,
  type TimerHandle,
  type Timers,
  type Transport,
  type WireMessage,
} from './runtime';

// Hashing: keys to partitions, and the hashes the CRDTs and layers above share.
export { hash32, hash53, hash64, initHash, partitionOf } from './hash';

// Data types: how application values are stored, merged, encoded and expired.
export {
  DataTypeRegistry,
  typedKey,
  typeOfKey,
  type CrdtType,
  type DataType,
  type IndexEntry,
  type RegisterType,
} from './storage/datatype';
export { decodeEntry, encodeEntry, liveSiblingValues, type Entry, type WireEntry } from './storage/entry';
export type { VersionVector } from './storage/versions';
export { gcounterType, pncounterType } from './crdt/counterShipper';
export * from './crdt';

// The compare-and-set register's operations, as CASPaxos change functions.
export { applyCasOp, type RegisterCasOp, type RegisterValue } from './cas/registerOps';
