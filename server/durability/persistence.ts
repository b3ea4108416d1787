// Maps a ring node's durable state to records of the crash-safe log (recordLog.ts): the
// node's journal port (DurableJournal) hands over every store mutation, CAS acceptor change
// and ring change as it happens, and each is appended; the log is compacted into a snapshot
// of the whole state (RingNode.durableSnapshot) when it grows. On start the snapshot and the
// log's tail are replayed into the state the node starts from (DurableRestorer), record by record as they are read.
import {
  DurableRestorer,
  decodeEntry,
  encodeEntry,
  typeOfKey,
  type AcceptorState,
  type DataTypeRegistry,
  type DurableChange,
  type DurableJournal,
  type DurableState,
  type Readiness,
  type RingState,
  type WireEntry,
} from '../../ring';
import { RecordLog, type FsyncPolicy, type OpenResult } from './recordLog';

type LogRecord =
  | { t: 'meta'; bootId: string; seq: number }
  | { t: 'ring'; ring: RingState }
  | { t: 's'; p: number; k: string; e: WireEntry | null; si?: number }
  | { t: 'c'; p: number; k: string; s: AcceptorState }
  | { t: 'cr'; p: number; r: Readiness | null }
  | { t: 'cb'; n: number };

/** Compact once the log passes this size. */
export const logCompactBytes = 64 * 1024 * 1024;

export interface Restored {
  durable: DurableState | undefined;
  stats: OpenResult['stats'] & { keys: number };
}

/** The node as the log sees it: where compaction takes the whole state from. */
export interface SnapshotSource {
  durableSnapshot(): Iterable<DurableChange>;
}

/** Records a journal batch (Persistence.batch) holds before it writes them early. */
export const batchRecordsMax = 4096;

export class Persistence implements DurableJournal {
  private source: SnapshotSource | undefined;
  /** Records of the batch under way (batch), written when it ends; undefined outside one. */
  private pending: LogRecord[] | undefined;

  private constructor(
    private readonly log: RecordLog,
    private readonly types: DataTypeRegistry,
    /** attach() writes a snapshot first (see attach). */
    private readonly compactOnAttach: boolean,
  ) {}

  /** Open DATA_DIR and rebuild the node's state from it (undefined when the directory is new). */
  static open(
    dir: string,
    opts: {
      fsync: FsyncPolicy;
      types: DataTypeRegistry;
      ringSize: number;
      bucketCount: number;
      logger: { warn(m: string, f?: object): void; info(m: string, f?: object): void };
    },
  ): { persistence: Persistence; restored: Restored } {
    // Each record is applied as it is decoded (never a list of a million records and their changes).
    const restorer = new DurableRestorer({
      types: opts.types,
      ringSize: opts.ringSize,
      bucketCount: opts.bucketCount,
      now: Date.now(),
      newBootId: () => `restored@${Math.random().toString(16).slice(2, 10)}`,
    });
    const onRecord = (r: unknown) => restorer.apply(changeOf(r as LogRecord, opts.types));
    const opened = RecordLog.open(dir, { fsync: opts.fsync, logger: opts.logger, onRecord });
    const empty = opened.stats.snapshotRecords + opened.stats.tailRecords === 0;
    const restored = empty ? undefined : checkRingSize(restorer.finish(), opts.ringSize);
    // A snapshot already holds the node's identity (meta), and replaying its log's tail gives the
    // state a new snapshot would hold: rewriting it on every start only delays being ready (a
    // second per 100,000 keys). The log still compacts once it passes logCompactBytes.
    const compactOnAttach = opened.stats.snapshotRecords === 0 || opened.log.sizeBytes() > logCompactBytes;
    const persistence = new Persistence(opened.log, opts.types, compactOnAttach);
    const stats = { ...opened.stats, keys: restored?.keys ?? 0 };
    return { persistence, restored: { durable: restored?.durable, stats } };
  }

  /**
   * Start recording the node that journals here (RingNodeOptions.journal): writes a compacted
   * snapshot of its state first when the directory has none yet (or its log is due for
   * compaction), and takes later snapshots from it when the log grows.
   */
  attach(node: SnapshotSource): void {
    this.source = node;
    if (this.compactOnAttach) this.compact();
  }

  /** The node's journal: append the change before the node acknowledges it (a failed append throws). */
  record(change: DurableChange): void {
    const rec = this.toRecord(change);
    if (!rec) return;
    if (this.pending) {
      this.pending.push(rec);
      if (this.pending.length >= batchRecordsMax) this.writePending();
      return;
    }
    this.log.append(rec);
    if (rec.t === 's' && this.log.sizeBytes() > logCompactBytes) this.compact();
  }

  /** Record what fn changes, written in one append when it ends (DurableJournal.batch); a nested run joins. */
  batch<T>(fn: () => T): T {
    if (this.pending) return fn();
    this.pending = [];
    try {
      return fn();
    } finally {
      this.writePending();
      this.pending = undefined;
    }
  }

  private writePending(): void {
    const records = this.pending!;
    if (records.length === 0) return;
    this.pending = [];
    this.log.appendMany(records);
    if (this.log.sizeBytes() > logCompactBytes) this.compact();
  }

  private toRecord(change: DurableChange): LogRecord | undefined {
    switch (change.kind) {
      case 'meta':
        return undefined;
      case 'ring':
        return { t: 'ring', ring: change.ring };
      case 'entry': {
        const { partition: p, key: k, entry, since } = change;
        const si = since !== undefined ? { si: since } : {};
        const e = entry ? encodeEntry(this.types.get(typeOfKey(k)), entry) : null;
        return e ? { t: 's', p, k, e, ...si } : { t: 's', p, k, e: null };
      }
      case 'cas':
        return { t: 'c', p: change.p, k: change.key, s: change.state };
      case 'casReadiness':
        return { t: 'cr', p: change.p, r: change.readiness ?? null };
      case 'casBallot':
        return { t: 'cb', n: change.counter };
    }
  }

  flush(): void {
    this.log.flush();
  }

  close(): void {
    this.log.close();
  }

  private compact(): void {
    const source = this.source;
    if (!source) return;
    const types = this.types;
    function* all(): Generator<LogRecord> {
      for (const c of source!.durableSnapshot()) {
        switch (c.kind) {
          case 'meta':
            yield { t: 'meta', bootId: c.bootId, seq: c.seq };
            break;
          case 'ring':
            yield { t: 'ring', ring: c.ring };
            break;
          case 'entry': {
            if (!c.entry) break;
            const e = encodeEntry(types.get(typeOfKey(c.key)), c.entry);
            yield { t: 's', p: c.partition, k: c.key, e, si: c.since };
            break;
          }
          case 'cas':
            yield { t: 'c', p: c.p, k: c.key, s: c.state };
            break;
          case 'casReadiness':
            if (c.readiness !== undefined) yield { t: 'cr', p: c.p, r: c.readiness };
            break;
          case 'casBallot':
            yield { t: 'cb', n: c.counter };
            break;
        }
      }
    }
    this.log.compact(all());
  }
}

/** A log record as the node's durable change. */
function changeOf(r: LogRecord, types: DataTypeRegistry): DurableChange {
  switch (r.t) {
    case 'meta':
      return { kind: 'meta', bootId: r.bootId, seq: r.seq };
    case 'ring':
      return { kind: 'ring', ring: r.ring };
    case 's':
      return {
        kind: 'entry',
        partition: r.p,
        key: r.k,
        entry: r.e === null ? undefined : decodeEntry(types.get(typeOfKey(r.k)), r.e),
        ...(r.si !== undefined ? { since: r.si } : {}),
      };
    case 'c':
      return { kind: 'cas', p: r.p, key: r.k, state: r.s };
    case 'cr':
      return { kind: 'casReadiness', p: r.p, readiness: r.r ?? undefined };
    case 'cb':
      return { kind: 'casBallot', counter: r.n };
  }
}

function checkRingSize<T extends { durable: DurableState }>(restored: T, ringSize: number): T {
  const saved = restored.durable.ring.ringSize;
  if (saved !== ringSize) {
    const fix = 'use a fresh DATA_DIR to change it';
    throw new Error(`DATA_DIR holds a ring of ${saved} partitions but RING_SIZE is ${ringSize}; ${fix}`);
  }
  return restored;
}
