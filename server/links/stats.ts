// Per-link view statistics as one state-based CRDT: per-minute series, referrer hosts and
// device classes as G-counters (one slot per node life), unique visitors as a HyperLogLog.
// Replicas merge by per-slot max and per-register max, so stats are exact (unique
// visitors: estimated) once every node's deltas arrive, whatever the order.
//
// The series keeps the last `seriesRetentionMinutes` minutes before the newest bucket it
// holds; pruning relative to the state's own newest bucket keeps merge a join (the
// same result in any order), unlike pruning against a wall clock.
import { gcounterValue, isGCounter, mergeGCounter, type GCounter } from '../../ring/crdt/gcounter';
import { emptyHll, hllAddHash53, hllEstimate, isHll, mergeHll, type Hll } from '../../ring/crdt/hll';
import type { CrdtType } from '../../ring/storage/datatype';

export const seriesRetentionMinutes = 24 * 60;
/** Distinct referrer hosts a node records per link; later ones count as "(other)". */
export const referrerHostsMax = 200;
/** HLL precision: 2^10 one-byte registers, about 3% standard error. */
export const uniquesPrecision = 10;

export interface LinkStats {
  /** Minute index (ms / 60000) → views. */
  readonly m: Readonly<Record<string, GCounter>>;
  /** Referrer host → views. */
  readonly r: Readonly<Record<string, GCounter>>;
  /** Device class → views. */
  readonly d: Readonly<Record<string, GCounter>>;
  readonly u: Hll;
}

export function emptyStats(): LinkStats {
  return { m: {}, r: {}, d: {}, u: emptyHll(uniquesPrecision) };
}

function mergeCounters(a: Readonly<Record<string, GCounter>>, b: Readonly<Record<string, GCounter>>): Record<string, GCounter> {
  const out: Record<string, GCounter> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = out[k] ? mergeGCounter(out[k], v) : v;
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
  return { m: pruneSeries(mergeCounters(a.m, b.m)), r: mergeCounters(a.r, b.r), d: mergeCounters(a.d, b.d), u: mergeHll(a.u, b.u) };
}

function isCounterMap(x: unknown): x is Record<string, GCounter> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && Object.values(x).every(isGCounter);
}

interface WireStats {
  m: Record<string, GCounter>;
  r: Record<string, GCounter>;
  d: Record<string, GCounter>;
  u: { p: number; b: string };
}

export const statsType: CrdtType<LinkStats> = {
  name: 'stats',
  kind: 'crdt',
  empty: emptyStats,
  merge: mergeStats,
  // Registers travel as base64 so the value is plain JSON on every path (wire, disk, tests).
  encode: (v): WireStats => ({ m: v.m, r: v.r, d: v.d, u: { p: v.u.p, b: Buffer.from(v.u.registers).toString('base64') } }),
  decode: (w) => {
    const x = w as Partial<WireStats> | null;
    const u = x?.u ? { p: x.u.p, registers: new Uint8Array(Buffer.from(String(x.u.b), 'base64')) } : undefined;
    if (!x || !isCounterMap(x.m) || !isCounterMap(x.r) || !isCounterMap(x.d) || !isHll(u)) throw new Error('stats: not a link stats state');
    return { m: x.m, r: x.r, d: x.d, u };
  },
};

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
  for (let i = last - minutes + 1; i <= last; i++) series.push({ t: new Date(i * 60_000).toISOString(), n: gcounterValue(s.m[i] ?? {}) });
  const ranked = (rec: Readonly<Record<string, GCounter>>) =>
    Object.entries(rec)
      .map(([k, v]) => [k, gcounterValue(v)] as const)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return {
    uniques: Math.round(hllEstimate(s.u)),
    series,
    referrers: ranked(s.r).slice(0, 20).map(([host, n]) => ({ host, n })),
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
    const slotted = (map: Map<string | number, number>) => Object.fromEntries([...map].map(([k, n]) => [String(k), { [this.slot]: n }]));
    return { m: slotted(this.m), r: slotted(this.r), d: slotted(this.d), u: this.u };
  }
}
