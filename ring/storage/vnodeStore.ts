// A node's in-memory data, split by the partition each key hashes to. Every change gets a
// store-wide sequence number (so handoff can drop exactly what it shipped and nothing
// written since) and updates an XOR digest per hashed bucket (so anti-entropy compares
// two replicas of a partition in one small message).
import { hash32 } from '../hash';
import type { DataType, DataTypeRegistry } from './datatype';
import { typeOfKey } from './datatype';
import { entryFingerprint, isTombstone, mergeEntries, type Entry } from './entry';
import { reindex, type SortedIndex } from './secondaryIndex';

export interface StoredEntry {
  readonly entry: Entry;
  readonly seq: number;
  readonly hash: number;
  /** The seq at which this key last entered this node's store: names the node's version actor for it. */
  readonly since: number;
  /** Local clock when this node first stored the entry in its current tombstone state. */
  readonly tombstoneSince?: number;
}

export interface StoreMutation {
  readonly partition: number;
  readonly key: string;
  /** Undefined when the key was removed from this node. */
  readonly entry: Entry | undefined;
  /** The entry's version-actor seq (see StoredEntry.since); absent on removal. */
  readonly since?: number;
}

export class PartitionData {
  readonly entries = new Map<string, StoredEntry>();
  readonly buckets: Uint32Array;
  /** Secondary indexes by name (./secondaryIndex.ts), kept in step with `entries` by the store. */
  readonly indexes = new Map<string, SortedIndex>();

  constructor(bucketCount: number) {
    this.buckets = new Uint32Array(bucketCount);
  }

  bucketOf(key: string): number {
    return hash32(key, 0x9e3779b9) % this.buckets.length;
  }
}

export class VnodeStore {
  private readonly partitions = new Map<number, PartitionData>();
  private seq = 0;
  private observer: ((m: StoreMutation) => void) | undefined;

  constructor(
    private readonly types: DataTypeRegistry,
    private readonly bucketCount: number,
  ) {}

  /**
   * The node that owns this store: told of every change, in order, before the change is
   * acknowledged to anyone. One owner; a node restarted in the simulator over its
   * predecessor's store takes over.
   */
  attach(observer: (m: StoreMutation) => void): void {
    this.observer = observer;
  }

  partition(p: number): PartitionData | undefined {
    return this.partitions.get(p);
  }

  partitionIndexes(): number[] {
    return [...this.partitions.keys()].sort((a, b) => a - b);
  }

  keyCount(): number {
    let n = 0;
    for (const data of this.partitions.values()) n += data.entries.size;
    return n;
  }

  get(p: number, key: string): StoredEntry | undefined {
    return this.partitions.get(p)?.entries.get(key);
  }

  /** The partition's secondary index `name`, when any key of it is listed there. */
  index(p: number, name: string): SortedIndex | undefined {
    return this.partitions.get(p)?.indexes.get(name);
  }

  typeOf(key: string): DataType {
    return this.types.get(typeOfKey(key));
  }

  /** Merge an incoming entry; returns the stored result and whether anything changed. */
  merge(
    p: number,
    key: string,
    incoming: Entry,
    now: number,
    since?: number,
  ): { stored: StoredEntry; changed: boolean } {
    const data = this.partitionFor(p);
    const current = data.entries.get(key);
    const type = this.typeOf(key);
    const merged = current ? mergeEntries(type, current.entry, incoming) : incoming;
    const hash = hash32(`${key}#${entryFingerprint(type, merged)}`);
    if (current && current.hash === hash) return { stored: current, changed: false };
    const tomb = isTombstone(merged);
    const seq = ++this.seq;
    const stored: StoredEntry = {
      entry: merged,
      seq,
      hash,
      since: current?.since ?? since ?? seq,
      ...(tomb ? { tombstoneSince: current?.tombstoneSince ?? now } : {}),
    };
    this.install(data, p, key, current, stored, type);
    return { stored, changed: true };
  }

  /** Reserve a sequence number no entry will ever get (a fresh version actor for a key not held here). */
  reserveSeq(): number {
    return ++this.seq;
  }

  /** Put an entry back as it was (restoring from disk), keeping its version actor. */
  restore(p: number, key: string, entry: Entry, since: number, now: number): void {
    this.seq = Math.max(this.seq, since);
    this.merge(p, key, entry, now, since);
  }

  /** The highest sequence number handed out; persisted so a restart never reuses one. */
  sequence(): number {
    return this.seq;
  }

  /** After a restart: continue numbering above everything used before. */
  raiseSequence(floor: number): void {
    this.seq = Math.max(this.seq, floor);
  }

  *entries(): Generator<[number, string, StoredEntry]> {
    for (const [p, data] of this.partitions) for (const [key, stored] of data.entries) yield [p, key, stored];
  }

  /** Remove a key only if it has not changed since `seq` (handoff drop, tombstone reap, expiry). */
  removeIfUnchanged(p: number, key: string, seq: number): boolean {
    const data = this.partitions.get(p);
    const current = data?.entries.get(key);
    if (!data || !current || current.seq !== seq) return false;
    data.entries.delete(key);
    data.buckets[data.bucketOf(key)]! ^= current.hash;
    reindex(data.indexes, this.typeOf(key), key, current.entry, undefined, 0);
    if (data.entries.size === 0) this.partitions.delete(p);
    this.observer?.({ partition: p, key, entry: undefined });
    return true;
  }

  /** Drop everything (a node that must not resurrect stale data). */
  clear(): void {
    for (const [p, data] of this.partitions) {
      for (const key of data.entries.keys()) this.observer?.({ partition: p, key, entry: undefined });
    }
    this.partitions.clear();
  }

  private partitionFor(p: number): PartitionData {
    let data = this.partitions.get(p);
    if (!data) {
      data = new PartitionData(this.bucketCount);
      this.partitions.set(p, data);
    }
    return data;
  }

  private install(
    data: PartitionData,
    p: number,
    key: string,
    old: StoredEntry | undefined,
    stored: StoredEntry,
    type: DataType,
  ): void {
    const bucket = data.bucketOf(key);
    if (old) data.buckets[bucket]! ^= old.hash;
    data.buckets[bucket]! ^= stored.hash;
    data.entries.set(key, stored);
    reindex(data.indexes, type, key, old?.entry, stored.entry, stored.hash);
    this.observer?.({ partition: p, key, entry: stored.entry, since: stored.since });
  }
}
