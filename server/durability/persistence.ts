// Maps a ring node's durable state to records of the crash-safe log (recordLog.ts):
// every store mutation, CAS acceptor change and ring change is appended as it happens,
// and the log is compacted into a snapshot of the whole state when it grows. On start
// the snapshot and the log's tail are replayed into a DurableState for RingNode.
import { CasAcceptorStore, type AcceptorState, type CasChange, type Readiness } from '../../ring/cas/caspaxos';
import type { DurableState } from '../../ring/node/ringNode';
import { emptyRing, type RingState } from '../../ring/membership/ringState';
import type { DataTypeRegistry } from '../../ring/storage/datatype';
import { typeOfKey } from '../../ring/storage/datatype';
import { decodeEntry, encodeEntry, type WireEntry } from '../../ring/storage/entry';
import { VnodeStore, type StoreMutation } from '../../ring/storage/vnodeStore';
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

export class Persistence {
  private constructor(
    private readonly log: RecordLog,
    private readonly types: DataTypeRegistry,
  ) {}

  /** Open DATA_DIR and rebuild the node's state from it (undefined when the directory is new). */
  static open(dir: string, opts: { fsync: FsyncPolicy; types: DataTypeRegistry; ringSize: number; bucketCount: number; logger: { warn(m: string, f?: object): void; info(m: string, f?: object): void } }): { persistence: Persistence; restored: Restored } {
    const opened = RecordLog.open(dir, { fsync: opts.fsync, logger: opts.logger });
    const records = [...opened.snapshot, ...opened.tail] as LogRecord[];
    const durable = records.length === 0 ? undefined : replay(records, opts.types, opts.ringSize, opts.bucketCount);
    const persistence = new Persistence(opened.log, opts.types);
    return { persistence, restored: { durable, stats: { ...opened.stats, keys: durable?.store.keyCount() ?? 0 } } };
  }

  /** Start recording every change of this state; writes a compacted snapshot first. */
  attach(durable: DurableState): void {
    this.compact(durable);
    durable.store.onMutation = (m) => this.onStore(durable, m);
    durable.cas.onChange = (c) => this.onCas(c);
  }

  recordRing(ring: RingState): void {
    this.log.append({ t: 'ring', ring } satisfies LogRecord);
  }

  flush(): void {
    this.log.flush();
  }

  close(): void {
    this.log.close();
  }

  private onStore(durable: DurableState, m: StoreMutation): void {
    const rec: LogRecord = m.entry
      ? { t: 's', p: m.partition, k: m.key, e: encodeEntry(this.types.get(typeOfKey(m.key)), m.entry), ...(m.since !== undefined ? { si: m.since } : {}) }
      : { t: 's', p: m.partition, k: m.key, e: null };
    this.log.append(rec);
    if (this.log.sizeBytes() > logCompactBytes) this.compact(durable);
  }

  private onCas(c: CasChange): void {
    if (c.kind === 'state') this.log.append({ t: 'c', p: c.p, k: c.key, s: c.state } satisfies LogRecord);
    else if (c.kind === 'readiness') this.log.append({ t: 'cr', p: c.p, r: c.readiness ?? null } satisfies LogRecord);
    else this.log.append({ t: 'cb', n: c.counter } satisfies LogRecord);
  }

  private compact(durable: DurableState): void {
    const types = this.types;
    function* all(): Generator<LogRecord> {
      yield { t: 'meta', bootId: durable.bootId, seq: durable.store.sequence() };
      yield { t: 'ring', ring: durable.ring };
      for (const [p, key, stored] of durable.store.entries()) yield { t: 's', p, k: key, e: encodeEntry(types.get(typeOfKey(key)), stored.entry), si: stored.since };
      for (const [p, states] of durable.cas.states) for (const [key, s] of states) yield { t: 'c', p, k: key, s };
      for (const [p, r] of durable.cas.readiness) yield { t: 'cr', p, r };
      yield { t: 'cb', n: durable.cas.ballotCounter };
    }
    this.log.compact(all());
  }
}

function replay(records: LogRecord[], types: DataTypeRegistry, ringSize: number, bucketCount: number): DurableState {
  const store = new VnodeStore(types, bucketCount);
  const cas = new CasAcceptorStore();
  let bootId = '';
  let ring: RingState = emptyRing(ringSize);
  let seqFloor = 0;
  const now = Date.now();
  for (const r of records) {
    switch (r.t) {
      case 'meta':
        bootId = r.bootId;
        seqFloor = Math.max(seqFloor, r.seq);
        break;
      case 'ring':
        ring = r.ring;
        break;
      case 's': {
        if (r.e === null) {
          const stored = store.get(r.p, r.k);
          if (stored) store.removeIfUnchanged(r.p, r.k, stored.seq);
        } else {
          const type = types.get(typeOfKey(r.k));
          // Replace, not merge: the log holds each key's state after every change, in order.
          const stored = store.get(r.p, r.k);
          if (stored) store.removeIfUnchanged(r.p, r.k, stored.seq);
          store.restore(r.p, r.k, decodeEntry(type, r.e), r.si ?? store.sequence() + 1, now);
        }
        break;
      }
      case 'c':
        cas.set(r.p, r.k, r.s);
        break;
      case 'cr':
        if (r.r === null) cas.readiness.delete(r.p);
        else cas.readiness.set(r.p, r.r);
        break;
      case 'cb':
        cas.ballotCounter = Math.max(cas.ballotCounter, r.n);
        break;
    }
  }
  store.raiseSequence(seqFloor);
  if (ring.ringSize !== ringSize) throw new Error(`DATA_DIR holds a ring of ${ring.ringSize} partitions but RING_SIZE is ${ringSize}; use a fresh DATA_DIR to change it`);
  return { bootId: bootId || `restored@${Math.random().toString(16).slice(2, 10)}`, incarnation: 0, ring, store, cas };
}
