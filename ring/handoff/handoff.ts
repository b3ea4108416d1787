// Handoff moves data to where the ring says it belongs, in bounded chunks, and drops a
// local copy only after every receiver acknowledged it and only if the key did not change
// meanwhile. Two cases, one mechanism:
//  - ownership handoff: this node owns partition q and the ring names `next`: stream the
//    data of every partition whose primaries gain `next`, hand over the CAS acceptor state
//    (sealed), then switch the owner in the ring;
//  - hinted / stale handoff: this node holds data of a partition it is not a primary of
//    (it served as a fallback, lost ownership, or was removed): push it to the primaries
//    once they are all up, then drop it.
import type { CasEngine } from '../cas/caspaxos';
import type { RingState } from '../membership/ringState';
import { placementZones, walk } from '../placement/preference';
import type { NodeContext } from '../node/context';
import { scatter } from '../node/scatter';
import { bytesEstimate, encodeEntry, type WireEntry } from '../storage/entry';

export interface HandoffStatus {
  readonly kind: 'ownership' | 'hinted';
  readonly partition: number;
  readonly to: readonly string[];
  readonly keysSent: number;
  readonly keysTotal: number;
}

/** What a handoff reports to its node, in order: started, progressed after each acknowledged chunk, finished. */
export interface HandoffObserver {
  started(status: HandoffStatus): void;
  progressed(status: HandoffStatus): void;
  /** ok false: it failed or was overtaken by a ring change (a later tick starts it again if still needed). */
  finished(status: HandoffStatus, ok: boolean): void;
}

const ignore: HandoffObserver = { started() {}, progressed() {}, finished() {} };

export class Handoff {
  private readonly active = new Map<string, HandoffStatus & { keysSent: number }>();

  constructor(
    private readonly ctx: NodeContext,
    private readonly cas: CasEngine,
    private readonly observer: HandoffObserver = ignore,
  ) {}

  status(): HandoffStatus[] {
    return [...this.active.values()].map((s) => ({ ...s }));
  }

  busy(): boolean {
    return this.active.size > 0;
  }

  /** Start what the ring asks for, up to the concurrency limit. */
  tick(): void {
    const ring = this.ctx.ring();
    const limit = this.ctx.config.handoffConcurrencyMax;
    for (let q = 0; q < ring.ringSize && this.active.size < limit; q++) {
      const c = ring.partitions[q]!;
      if (
        c.owner === this.ctx.name &&
        c.next &&
        c.next !== this.ctx.name &&
        this.ctx.isUp(c.next) &&
        !this.active.has(`o${q}`) &&
        !this.transferringTo(c.next)
      )
        this.transferOwnership(q, c.next);
    }
    const prefs = this.ctx.prefs();
    for (const p of this.ctx.store.partitionIndexes()) {
      if (this.active.size >= limit) break;
      const primaries = prefs.primaries[p]!;
      // Keep data of partitions this node is a primary of, or is about to become one of
      // (an incoming transfer streams before the owner switch).
      if (
        primaries.includes(this.ctx.name) ||
        prefs.planned[p]!.includes(this.ctx.name) ||
        this.active.has(`h${p}`) ||
        primaries.length === 0
      )
        continue;
      if (!primaries.every((n) => this.ctx.isUp(n))) continue;
      this.pushAndDrop(p, primaries);
    }
  }

  /**
   * An ownership transfer to `to` is under way. One at a time per receiver: transfers of
   * several partitions to one newcomer mostly stream the same partitions (those whose
   * preference lists gain it), so two at once would send the same keys twice; the next one
   * starts when this one ends and streams only what the newcomer is still not a primary of.
   */
  private transferringTo(to: string): boolean {
    for (const s of this.active.values()) if (s.kind === 'ownership' && s.to[0] === to) return true;
    return false;
  }

  private transferOwnership(q: number, to: string): void {
    const id = `o${q}`;
    const ring = this.ctx.ring();
    const epoch = ring.partitions[q]!.epoch;
    const after = primariesAfterSwitch(ring, q, to, this.ctx.config.nVal);
    const prefs = this.ctx.prefs();
    const parts: number[] = [];
    for (let p = 0; p < ring.ringSize; p++)
      if (after[p]!.includes(to) && !prefs.primaries[p]!.includes(to)) parts.push(p);
    const keysTotal = parts.reduce((n, p) => n + (this.ctx.store.partition(p)?.entries.size ?? 0), 0);
    const status = { kind: 'ownership' as const, partition: q, to: [to], keysSent: 0, keysTotal };
    this.begin(id, status);
    const fail = () => this.end(id, status, false);
    this.streamAll(parts, [to], false, status, (ok) => {
      if (!ok || this.ctx.ring().partitions[q]!.epoch !== epoch) return fail();
      // Partitions this node stops being a primary of are sealed and exported; where it stays a
      // primary, the newcomer catches up from all other primaries instead (one replacement at a time).
      const sealed = parts.filter((p) => !after[p]!.includes(this.ctx.name) && this.cas.isReady(p));
      const views = new Map(sealed.map((p) => [p, after[p]!.join(',')]));
      const exported = this.cas.sealAndExport(sealed, q, views);
      this.ctx.rpc.call(to, 'cas-import', { parts: exported }, this.ctx.config.requestTimeoutMs, (err) => {
        if (err) return fail();
        this.ctx.updateRing((r) => {
          const c = r.partitions[q]!;
          if (c.epoch !== epoch || c.owner !== this.ctx.name || c.next !== to) return r;
          const partitions = [...r.partitions];
          partitions[q] = { owner: to, next: null, epoch: epoch + 1 };
          return { ...r, partitions };
        });
        this.ctx.stats.handoffsCompleted++;
        this.end(id, status, true);
        // Start the next transfer now rather than at the next tick: handoff is latency-bound.
        this.tick();
      });
    });
  }

  private pushAndDrop(p: number, primaries: readonly string[]): void {
    const id = `h${p}`;
    const status = {
      kind: 'hinted' as const,
      partition: p,
      to: primaries,
      keysSent: 0,
      keysTotal: this.ctx.store.partition(p)?.entries.size ?? 0,
    };
    this.begin(id, status);
    this.streamAll([p], primaries, true, status, (ok) => {
      this.end(id, status, ok);
      if (ok) this.tick();
    });
  }

  private begin(id: string, status: HandoffStatus & { keysSent: number }): void {
    this.active.set(id, status);
    this.observer.started({ ...status });
  }

  private end(id: string, status: HandoffStatus, ok: boolean): void {
    this.active.delete(id);
    this.observer.finished({ ...status }, ok);
  }

  /**
   * Stream partitions chunk by chunk to every receiver, with up to handoffChunksInFlightMax
   * chunks unacknowledged; with drop, remove a chunk's keys once every receiver acknowledged
   * that chunk, each only if unchanged since it was read (chunks hold disjoint keys, so the
   * order in which their acknowledgements arrive does not matter).
   */
  private streamAll(
    parts: readonly number[],
    to: readonly string[],
    drop: boolean,
    status: HandoffStatus & { keysSent: number },
    done: (ok: boolean) => void,
  ): void {
    const queue: [number, string][] = [];
    for (const p of parts) for (const key of this.ctx.store.partition(p)?.entries.keys() ?? []) queue.push([p, key]);
    const { handoffBatchKeysMax: keysMax, handoffChunkBytesMax: bytesMax } = this.ctx.config;
    const windowMax = this.ctx.config.handoffChunksInFlightMax;
    let offset = 0;
    let inFlight = 0;
    let finished = false;
    const finish = (ok: boolean) => {
      if (finished) return;
      finished = true;
      done(ok);
    };
    /** The next chunk of keys still held here: at most keysMax keys and (past its first) bytesMax bytes. */
    const nextChunk = () => {
      const sent: [number, string, number][] = [];
      const entries: [string, WireEntry][] = [];
      let bytes = 0;
      while (offset < queue.length && entries.length < keysMax && bytes < bytesMax) {
        const [p, key] = queue[offset++]!;
        const stored = this.ctx.store.get(p, key);
        if (!stored) continue;
        const wire = encodeEntry(this.ctx.store.typeOf(key), stored.entry);
        sent.push([p, key, stored.seq]);
        entries.push([key, wire]);
        bytes += key.length + bytesEstimate(wire);
      }
      return { sent, entries };
    };
    const pump = () => {
      while (!finished && inFlight < windowMax) {
        if (!this.ctx.running()) return finish(false);
        const { sent, entries } = nextChunk();
        if (entries.length === 0) {
          if (inFlight === 0) finish(true);
          return;
        }
        inFlight++;
        scatter(
          this.ctx.rpc,
          to,
          'store',
          { entries },
          {
            timeoutMs: this.ctx.config.handoffChunkTimeoutMs,
            allAnswered: (got) => {
              inFlight--;
              if (finished) return;
              if (!got.met) return finish(false);
              status.keysSent += entries.length;
              this.ctx.stats.handoffKeysSent += entries.length;
              if (drop) for (const [p, key, seq] of sent) this.ctx.store.removeIfUnchanged(p, key, seq);
              this.observer.progressed({ ...status });
              pump();
            },
          },
        );
      }
    };
    pump();
  }
}

/** Primaries of every partition if q's owner became `to`. */
export function primariesAfterSwitch(ring: RingState, q: number, to: string, nVal: number): string[][] {
  const switched = ring.partitions.map((c, i) => (i === q ? { ...c, owner: to } : c));
  const owners = switched.map((c) => c.owner);
  const zoneOf = placementZones({ ...ring, partitions: switched }, nVal);
  return owners.map((_, p) => walk(owners, p, nVal, zoneOf));
}
