// The `cluster` channel: this node's view of the cluster (members with status and
// liveness, the ring with preference lists, handoffs in progress) and a log of what
// changed, pushed to the node's own sockets when the node reports a change (RingNode.events),
// at most one push per `pushGapMinMs`. Each node describes what it sees, so no fan-out is needed.
//
// No periodic push: everything the snapshot shows changes only through an event this feed
// listens to (a member's status or liveness, the ring, a handoff's start, progress or end),
// and a socket that subscribes gets a snapshot at once.
import type { MemberChange, RingNode, TimerHandle, Timers, Unsubscribe } from '../../ring';

export const eventLogMax = 100;
/** Bursts of changes (a rebalance, a gossip round that changes several members) coalesce into one push. */
export const pushGapMinMs = 250;

export interface ClusterEvent {
  at: string;
  kind: 'member' | 'liveness' | 'handoff' | 'ring';
  message: string;
}

export class ClusterFeed {
  private readonly events: ClusterEvent[] = [];
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private timer: TimerHandle | undefined;
  private subscriptions: Unsubscribe[] = [];

  constructor(
    private readonly node: RingNode,
    private readonly view: () => Record<string, unknown>,
    private readonly send: (snapshot: Record<string, unknown>) => void,
    private readonly timers: Timers,
    private readonly now: () => number,
  ) {}

  start(): void {
    // What the node knew before this feed listened: its members, as a first log.
    for (const m of this.node.members()) this.log('member', `${m.name} (${m.addr}) is a member, ${m.status}`);
    const e = this.node.events;
    this.subscriptions = [
      e.on('memberChanged', (c) => this.memberChanged(c)),
      e.on('ringChanged', () => this.schedule()),
      e.on('handoffStarted', (h) => {
        this.log('handoff', `${h.kind} handoff of partition ${h.partition} to ${h.to.join(', ')} started`);
        this.schedule();
      }),
      e.on('handoffProgressed', () => this.schedule()),
      e.on('handoffFinished', (h) => {
        const end = h.ok ? 'finished' : 'stopped before the end (it starts again while still needed)';
        this.log('handoff', `handoff of partition ${h.partition} to ${h.to.join(', ')} ${end}`);
        this.schedule();
      }),
    ];
    this.schedule();
  }

  stop(): void {
    for (const off of this.subscriptions) off();
    this.subscriptions = [];
    if (this.timer) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  snapshot(): Record<string, unknown> {
    const v = this.view();
    const ring = v.ring as Record<string, unknown>;
    const preferenceLists = this.node.preferenceLists().primaries;
    return { ...v, ring: { ...ring, preferenceLists }, events: this.events, at: new Date(this.now()).toISOString() };
  }

  private memberChanged({ member: m, before }: MemberChange): void {
    if (!before) this.log('member', `${m.name} (${m.addr}) is a member, ${m.status}`);
    else {
      if (before.status !== m.status) this.log('member', `${m.name} is now ${m.status}`);
      if (before.liveness !== m.liveness) {
        const seenFrom = m.name === this.node.name ? '' : ` (seen from ${this.node.name})`;
        this.log('liveness', `${m.name} is ${m.liveness}${seenFrom}`);
      }
    }
    this.schedule();
  }

  private log(kind: ClusterEvent['kind'], message: string): void {
    this.events.push({ at: new Date(this.now()).toISOString(), kind, message });
    if (this.events.length > eventLogMax) this.events.splice(0, this.events.length - eventLogMax);
  }

  /** Push soon: never from inside the node's event (the view is read later), at most once per pushGapMinMs. */
  private schedule(): void {
    if (this.timer) return;
    const delay = Math.max(0, this.lastSentAt + pushGapMinMs - this.now());
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.lastSentAt = this.now();
      this.send(this.snapshot());
    }, delay);
  }
}
