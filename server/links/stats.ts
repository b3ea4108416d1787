// Per-link view statistics as one state-based CRDT: per-minute series, referrer hosts and
// device classes as G-counters (one slot per node life), unique visitors as a HyperLogLog.
// Replicas merge by per-slot max and per-register max, so stats are exact (unique
// visitors: estimated) once every node's deltas arrive, whatever the order.
//
// The series keeps the last `seriesRetentionMinutes` minutes before the newest bucket it
// holds; pruning relative to the state's own newest bucket keeps merge a join (the
// same result in any order), unlike pruning against a wall clock.
import {
  emptyHll,
  gcounterValue,
  hllAddHash53,
  hllEstimate,
  isGCounter,
  isHll,
  mergeGCounter,
  mergeHll,
  type CrdtType,
  type GCounter,
  type Hll,
} from '../../ring';

export const seriesRetentionMinutes = 24 * 60;
/** Distinct referrer hosts a node records per link; later ones count as "(other)". */
export const referrerHostsMax = 200;
/** HLL precision: 2^10 one-byte registers, about 3% standard error. */
export const uniquesPrecision = 10;

// Referrer hosts come from visitors and every key from peers, so none may be an ordinary
// property name: "__proto__" as a key of a plain object hits the prototype setter (the
// counts vanish and the record stops being plain), and msgpackr, which the ring transport
// and the disk log use, renames a "__proto__" key to "__proto_" and, when a record has a
// "hasOwnProperty" key, also ships the keys of its prototype. Counter maps are therefore
// null-prototype records, read with Object.hasOwn, and travel as [key, counter] pairs.

/** Key (minute index, referrer host, device class) → G-counter. A null-prototype record. */
export type CounterMap = Readonly<Record<string, GCounter>>;

export interface LinkStats {
  /** Minute index (ms / 60000) → views. */
  readonly m: CounterMap;
  /** Referrer host → views. */
  readonly r: CounterMap;
  /** Device class → views. */
  readonly d: CounterMap;
  readonly u: Hll;
}

/** A null-prototype record from entries: any key, "__proto__" included, becomes an own property. */
export function counterMap(entries: Iterable<readonly [string, GCounter]> = []): Record<string, GCounter> {
  const out = Object.create(null) as Record<string, GCounter>;
  for (const [k, v] of entries) out[k] = v;
  return out;
}

/** The counter under `key`, never an inherited property. */
export function counterAt(map: CounterMap, key: string): GCounter | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

export function emptyStats(): LinkStats {
  return { m: counterMap(), r: counterMap(), d: counterMap(), u: emptyHll(uniquesPrecision) };
}

function mergeCounters(a: CounterMap, b: CounterMap): Record<string, GCounter> {
  const out = counterMap(Object.entries(a));
  for (const [k, v] of Object.entries(b)) {
    const mine = counterAt(out, k);
    out[k] = mine ? mergeGCounter(mine, v) : v;
  }
  return out;
}

function pruneSeries(m: Record<string, GCounter>): Record<string, GCounter> {
  let newest = -Infinity;
  for (const k of Object.keys(m)) newest = Math.max(newest, Number(k));
  const oldest = newest - seriesRetentionMinutes;
  for (const k of Object.keys(m)) if (Number(k) <= oldest) delete m[k];
  return m;
}

export function mergeStats(a: LinkStats, b: LinkStats): LinkStats {
  return {
    m: pruneSeries(mergeCounters(a.m, b.m)),
    r: mergeCounters(a.r, b.r),
    d: mergeCounters(a.d, b.d),
    u: mergeHll(a.u, b.u),
  };
}

type WirePairs = [key: string, counter: GCounter][];

interface WireStats {
  m: WirePairs;
  r: WirePairs;
  d: WirePairs;
  u: { p: number; b: string };
}

/** Pairs sorted by key, so equal states encode to equal bytes (anti-entropy digests compare them). */
function toPairs(map: CounterMap): WirePairs {
  return Object.entries(map).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
}

/**
 * Pairs, or the record form that states were encoded in before pairs (older disk logs and
 * peers); undefined when neither. Keys must be strings and counters valid G-counters.
 */
function decodeCounterMap(x: unknown): Record<string, GCounter> | undefined {
  let entries: [unknown, unknown][];
  if (Array.isArray(x)) {
    if (!x.every((e) => Array.isArray(e) && e.length === 2)) return undefined;
    entries = x as [unknown, unknown][];
  } else if (isPlainObject(x)) entries = Object.entries(x);
  else return undefined;
  const out = counterMap();
  for (const [k, v] of entries) {
    if (typeof k !== 'string' || !isGCounter(v)) return undefined;
    const mine = counterAt(out, k);
    out[k] = mine ? mergeGCounter(mine, v) : v;
  }
  return out;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null) return false;
  const proto: unknown = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

function decodeHll(x: unknown): Hll | undefined {
  if (!isPlainObject(x) || typeof x['b'] !== 'string') return undefined;
  const u = { p: x['p'], registers: new Uint8Array(Buffer.from(x['b'], 'base64')) };
  return isHll(u) ? u : undefined;
}

export const statsType: CrdtType<LinkStats> = {
  name: 'stats',
  kind: 'crdt',
  empty: emptyStats,
  merge: mergeStats,
  // Registers travel as base64 so the value is plain JSON on every path (wire, disk, tests).
  encode: (v): WireStats => ({
    m: toPairs(v.m),
    r: toPairs(v.r),
    d: toPairs(v.d),
    u: { p: v.u.p, b: Buffer.from(v.u.registers).toString('base64') },
  }),
  decode: (w) => {
    const x = isPlainObject(w) ? w : undefined;
    const m = decodeCounterMap(x?.['m']);
    const r = decodeCounterMap(x?.['r']);
    const d = decodeCounterMap(x?.['d']);
    const u = decodeHll(x?.['u']);
    if (!m || !r || !d || !u) throw new Error(`stats: not a link stats state (${describeWire(x)})`);
    return { m, r, d, u };
  },
};

/** Which part of a rejected state is wrong, for the log line that reports it. */
function describeWire(x: Record<string, unknown> | undefined): string {
  if (!x) return 'not an object';
  const bad: string[] = ['m', 'r', 'd'].filter((k) => !decodeCounterMap(x[k]));
  if (!decodeHll(x['u'])) bad.push('u');
  return `invalid fields: ${bad.join(', ')}`;
}

export interface StatsSummary {
  uniques: number;
  series: { t: string; n: number }[];
  referrers: { host: string; n: number }[];
  devices: { device: string; n: number }[];
}

/** What the API shows: the last `minutes` minutes up to `now` (zeros included), top referrers and devices. */
export function summarizeStats(s: LinkStats, now: number, minutes = 60): StatsSummary {
  const last = Math.floor(now / 60_000);
  const series = [];
  for (let i = last - minutes + 1; i <= last; i++)
    series.push({ t: new Date(i * 60_000).toISOString(), n: gcounterValue(counterAt(s.m, String(i)) ?? {}) });
  const ranked = (rec: CounterMap) =>
    Object.entries(rec)
      .map(([k, v]) => [k, gcounterValue(v)] as const)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return {
    uniques: Math.round(hllEstimate(s.u)),
    series,
    referrers: ranked(s.r)
      .slice(0, 20)
      .map(([host, n]) => ({ host, n })),
    devices: ranked(s.d).map(([device, n]) => ({ device, n })),
  };
}

/** One view as the redirect path records it. */
export interface ViewEvent {
  readonly at: number;
  readonly referrer: string;
  readonly device: string;
  /** The visitor's 53-bit hash (client address and user agent). */
  readonly visitor: number;
}

/** This node's cumulative contribution to one link's stats (its slot), built up in memory. */
export class LocalStats {
  readonly m = new Map<number, number>();
  readonly r = new Map<string, number>();
  readonly d = new Map<string, number>();
  u: Hll = emptyHll(uniquesPrecision);
  dirty = false;
  touchedAt = 0;

  constructor(readonly slot: string) {}

  add(e: ViewEvent): void {
    const minute = Math.floor(e.at / 60_000);
    this.m.set(minute, (this.m.get(minute) ?? 0) + 1);
    const host = this.r.has(e.referrer) || this.r.size < referrerHostsMax ? e.referrer : '(other)';
    this.r.set(host, (this.r.get(host) ?? 0) + 1);
    this.d.set(e.device, (this.d.get(e.device) ?? 0) + 1);
    this.u = hllAddHash53(this.u, e.visitor);
    this.dirty = true;
    this.touchedAt = e.at;
  }

  /** The slot's state as a CRDT value: what a flush ships (cumulative, so resending is harmless). */
  state(): LinkStats {
    let newest = -Infinity;
    for (const k of this.m.keys()) newest = Math.max(newest, k);
    for (const k of [...this.m.keys()]) if (k <= newest - seriesRetentionMinutes) this.m.delete(k);
    const slotted = (map: Map<string | number, number>) =>
      counterMap([...map].map(([k, n]) => [String(k), { [this.slot]: n }]));
    return { m: slotted(this.m), r: slotted(this.r), d: slotted(this.d), u: this.u };
  }
}
