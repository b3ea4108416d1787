// What a vnode stores per key, and how it travels. Values are kept decoded in memory and
// encoded by their data type whenever they leave the process (wire, disk).
import type { DataType, DataTypeRegistry } from './datatype';
import { isDeleted, mergeVersioned, versionFingerprint, type Sibling, type Versioned } from './versions';

export type Entry =
  { readonly kind: 'register'; readonly v: Versioned } | { readonly kind: 'crdt'; readonly value: unknown };

export type WireSibling = { d: [string, number]; v?: unknown; x?: 1; at: number };
export type WireEntry = { k: 'r'; vv: Record<string, number>; s: WireSibling[] } | { k: 'c'; v: unknown };

export function mergeEntries(type: DataType, a: Entry, b: Entry): Entry {
  if (a.kind === 'register' && b.kind === 'register') {
    const v = mergeVersioned(a.v, b.v);
    return v === a.v ? a : { kind: 'register', v };
  }
  if (a.kind === 'crdt' && b.kind === 'crdt' && type.kind === 'crdt')
    return { kind: 'crdt', value: type.merge(a.value, b.value) };
  throw new Error(`cannot merge a ${a.kind} entry with a ${b.kind} entry of type ${type.name}`);
}

export function isTombstone(entry: Entry): boolean {
  return entry.kind === 'register' && isDeleted(entry.v);
}

export function encodeEntry(type: DataType, entry: Entry): WireEntry {
  if (entry.kind === 'crdt') return { k: 'c', v: type.encode(entry.value) };
  const s: WireSibling[] = entry.v.siblings.map((sib) =>
    sib.deleted
      ? { d: [sib.dot[0], sib.dot[1]], x: 1, at: sib.at }
      : { d: [sib.dot[0], sib.dot[1]], v: type.encode(sib.value), at: sib.at },
  );
  return { k: 'r', vv: { ...entry.v.vv }, s };
}

export function decodeEntry(type: DataType, wire: WireEntry): Entry {
  if (wire.k === 'c') {
    if (type.kind !== 'crdt') throw new Error(`type ${type.name} is not a CRDT`);
    return { kind: 'crdt', value: type.decode(wire.v) };
  }
  const siblings: Sibling[] = wire.s.map((s) =>
    s.x
      ? { dot: [s.d[0], s.d[1]] as const, deleted: true as const, at: s.at }
      : { dot: [s.d[0], s.d[1]] as const, value: type.decode(s.v), at: s.at },
  );
  return { kind: 'register', v: { vv: wire.vv, siblings } };
}

export function decodeEntryWith(types: DataTypeRegistry, typeName: string, wire: WireEntry): Entry {
  return decodeEntry(types.get(typeName), wire);
}

/** Canonical JSON (sorted keys, typed arrays as hex) so equal states print equally. */
export function canonicalString(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'undefined';
  if (ArrayBuffer.isView(value))
    return `"${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}"`;
  if (Array.isArray(value)) return `[${value.map(canonicalString).join(',')}]`;
  const record = value as Record<string, unknown>;
  const fields = Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalString(record[k])}`);
  return `{${fields.join(',')}}`;
}

/** A string identifying the entry's state, for anti-entropy digests. */
export function entryFingerprint(type: DataType, entry: Entry): string {
  return entry.kind === 'register' ? versionFingerprint(entry.v) : canonicalString(type.encode(entry.value));
}

function expired(type: DataType, value: unknown, now: number): boolean {
  const at = type.expiresAt?.(value);
  return at !== undefined && at <= now;
}

/**
 * True when every live value of the entry has expired (tombstones are the reaper's).
 * Expiry can only be extended by writes: to end a value early, delete it, since a swept
 * entry leaves no version behind to outrank an older copy.
 */
export function isExpired(type: DataType, entry: Entry, now: number): boolean {
  if (!type.expiresAt) return false;
  if (entry.kind === 'crdt') return expired(type, entry.value, now);
  const live = entry.v.siblings.filter((s) => !s.deleted);
  return live.length > 0 && live.every((s) => expired(type, s.value, now));
}

/** The entry as a reader at `now` sees it: expired sibling values hidden. */
export function liveSiblingValues(type: DataType, entry: Entry & { kind: 'register' }, now: number): unknown[] {
  const out: unknown[] = [];
  for (const s of entry.v.siblings) if (!s.deleted && !expired(type, s.value, now)) out.push(s.value);
  return out;
}

/** Values nested deeper than this count as a fixed size in bytesEstimate (a bound on its work). */
const estimateDepthMax = 8;

/**
 * About how many bytes `value` takes encoded (msgpack or JSON): string lengths (UTF-16 code
 * units, so up to 3x low for non-ASCII text), 9 per number, 1 per other scalar or container
 * header. Cheap enough to run per key while chunking a handoff; not a limit check.
 */
export function bytesEstimate(value: unknown, depth = 0): number {
  if (typeof value === 'string') return value.length + 2;
  if (typeof value === 'number') return 9;
  if (value === null || typeof value !== 'object') return 1;
  if (depth >= estimateDepthMax) return 64;
  if (ArrayBuffer.isView(value)) return value.byteLength + 5;
  let n = 3;
  if (Array.isArray(value)) for (const v of value) n += bytesEstimate(v, depth + 1);
  else for (const k in value) n += k.length + 2 + bytesEstimate((value as Record<string, unknown>)[k], depth + 1);
  return n;
}
