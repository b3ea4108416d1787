import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Transport, WireMessage } from '../../ring/runtime';
import { SimRandom } from '../../ring/sim/prng';
import { SimScheduler, SimSchedulerLivelockError } from '../../ring/sim/scheduler';
import { SimNetwork } from '../../ring/sim/network';
import type { NetworkFaults } from '../../ring/sim/network';
import { simClock } from '../../ring/sim/clock';

// ---------------------------------------------------------------- helpers

type Received = { at: number; from: string; to: string; msg: WireMessage };

function world(
  seed = 1,
  faults: Partial<NetworkFaults> = {},
  names = ['a', 'b', 'c', 'd', 'e'],
  cloneMessages = false,
) {
  const sched = new SimScheduler();
  const net = new SimNetwork(sched, { random: new SimRandom(seed), faults, cloneMessages });
  const got: Received[] = [];
  const transports = new Map<string, Transport>();
  for (const name of names) {
    const t = net.transportFor(name);
    t.onMessage((from, msg) => got.push({ at: sched.now(), from, to: name, msg }));
    transports.set(name, t);
  }
  const send = (from: string, to: string, msg: WireMessage = { t: 'ping' }) => transports.get(from)!.send(to, msg);
  return { sched, net, got, transports, send };
}

function invariant(net: SimNetwork): void {
  const s = net.stats;
  expect(s.sent + s.duplicated).toBe(s.delivered + s.dropped + s.inFlight);
  expect(Object.values(s.droppedBy).reduce((x, y) => x + y, 0)).toBe(s.dropped);
}

/** A 5-node gossip scenario with every fault kind; returns its full trace. */
function scenarioTrace(seed: number): string[] {
  const root = new SimRandom(seed);
  const sched = new SimScheduler();
  const net = new SimNetwork(sched, {
    random: root,
    faults: { dropRate: 0.05, duplicateRate: 0.05, minDelayMs: 1, maxDelayMs: 20, reorder: true },
  });
  const lines: string[] = [];
  net.onTrace((l) => lines.push(l));
  const names = ['n1', 'n2', 'n3', 'n4', 'n5'];
  const boot = (name: string) => {
    const rng = root.fork(`node:${name}`);
    const timers = sched.timersFor(name);
    const transport = net.transportFor(name);
    let hops = 0;
    transport.onMessage((_from, msg) => {
      if (++hops > 200) return;
      transport.send(rng.pick(names), { t: `gossip-${(msg.n as number) + 1}`, n: (msg.n as number) + 1 });
    });
    const tick = () => {
      transport.send(rng.pick(names), { t: 'tick', n: 0 });
      timers.setTimeout(tick, rng.range(5, 50));
    };
    timers.setTimeout(tick, rng.range(1, 10));
  };
  names.forEach(boot);
  const chaos = root.fork('chaos');
  sched.at(300, () =>
    net.partition([
      ['n1', 'n2'],
      ['n3', 'n4', 'n5'],
    ]),
  );
  sched.at(500, () => {
    const victim = chaos.pick(names);
    sched.timersFor(victim).cancelAll();
    net.crash(victim);
    sched.at(700, () => {
      net.restart(victim);
      boot(victim);
    });
  });
  sched.at(600, () => net.heal());
  sched.runUntil(1000);
  lines.push(JSON.stringify(net.stats));
  return lines;
}

// ---------------------------------------------------------------- prng

describe('SimRandom', () => {
  it('is a fixed function of the seed (known answers: changing them invalidates recorded seeds)', () => {
    const r = new SimRandom(42);
    expect([r.u32(), r.u32(), r.u32()]).toEqual([1995589210, 3314810758, 1986789304]);
    expect(r.hex(6)).toBe('77aa9149865d');
    expect(r.int(1000)).toBe(8);
    expect(r.fork('network').u32()).toBe(3685273136);
  });

  it('same seed gives the same stream, different seeds differ (including above 2^32)', () => {
    const draw = (seed: number) => {
      const r = new SimRandom(seed);
      return Array.from({ length: 20 }, () => r.u32());
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    expect(draw(1)).not.toEqual(draw(2 ** 32 + 1));
    expect(draw(0)).not.toEqual(draw(2 ** 32));
    expect(() => new SimRandom(1.5)).toThrow(RangeError);
  });

  it('fork depends on the label and parent seed, not on how much the parent was used', () => {
    const a = new SimRandom(9);
    const b = new SimRandom(9);
    for (let i = 0; i < 37; i++) a.next();
    const fa = a.fork('network');
    const fb = b.fork('network');
    const s = (r: SimRandom) => Array.from({ length: 10 }, () => r.u32());
    expect(s(fa)).toEqual(s(fb));
    expect(s(new SimRandom(9).fork('x'))).not.toEqual(s(new SimRandom(9).fork('y')));
    expect(s(new SimRandom(9).fork('x'))).not.toEqual(s(new SimRandom(10).fork('x')));
    expect(s(new SimRandom(9).fork('x'))).not.toEqual(s(new SimRandom(9)));
    expect(s(new SimRandom(9).fork('a').fork('b'))).not.toEqual(s(new SimRandom(9).fork('b').fork('a')));
    expect(new SimRandom(9).fork('a').fork('b').path).toBe('a/b');
  });

  it('draws stay in range and are roughly uniform', () => {
    const r = new SimRandom(3);
    const buckets = new Array<number>(10).fill(0);
    let outOfRange = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = r.next();
      if (!(x >= 0 && x < 1)) outOfRange++;
      buckets[r.int(10)]!++;
    }
    expect(outOfRange).toBe(0);
    for (const n of buckets) expect(Math.abs(n - 10_000)).toBeLessThan(600);
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10_000; i++) {
      const v = r.range(-2, 2);
      if (!(v >= -2 && v <= 2 && Number.isInteger(v))) outOfRange++;
      if (v === -2) lo++;
      if (v === 2) hi++;
    }
    expect(outOfRange).toBe(0);
    expect(lo).toBeGreaterThan(1500);
    expect(hi).toBeGreaterThan(1500);
    const big = r.int(2 ** 40);
    expect(Number.isInteger(big) && big >= 0 && big < 2 ** 40).toBe(true);
    let heads = 0;
    for (let i = 0; i < 10_000; i++) if (r.chance(0.3)) heads++;
    expect(Math.abs(heads - 3000)).toBeLessThan(300);
    expect(r.hex(7)).toMatch(/^[0-9a-f]{14}$/);
    expect(r.hex(0)).toBe('');
    expect(['x', 'y', 'z']).toContain(r.pick(['x', 'y', 'z']));
    expect(() => r.pick([])).toThrow();
    expect(() => r.int(0)).toThrow(RangeError);
    expect(() => r.int(2.5)).toThrow(RangeError);
    expect(r.shuffle([1, 2, 3, 4, 5]).sort()).toEqual([1, 2, 3, 4, 5]);
  });
});

// ---------------------------------------------------------------- scheduler

describe('SimScheduler', () => {
  it('runs events by time, ties in insertion order, including ones scheduled at the current instant', () => {
    const s = new SimScheduler();
    const log: string[] = [];
    s.at(10, () => log.push('10a'));
    s.at(5, () => {
      log.push('5a');
      s.after(0, () => log.push('5c (scheduled by 5a)'));
      s.at(10, () => log.push('10c (scheduled by 5a)'));
    });
    s.at(10, () => log.push('10b'));
    s.at(5, () => log.push('5b'));
    s.at(0, () => log.push('0'));
    expect(s.pending()).toBe(5);
    expect(s.runUntil(9)).toBe(4);
    expect(s.now()).toBe(9);
    expect(s.runUntil(10)).toBe(3);
    expect(log).toEqual(['0', '5a', '5b', '5c (scheduled by 5a)', '10a', '10b', '10c (scheduled by 5a)']);
    expect(s.pending()).toBe(0);
    expect(s.eventsRun).toBe(7);
  });

  it('rejects scheduling in the past or at non-finite times', () => {
    const s = new SimScheduler();
    s.runUntil(100);
    expect(() => s.at(99, () => {})).toThrow(RangeError);
    expect(() => s.at(Number.NaN, () => {})).toThrow(RangeError);
    expect(() => s.at(Infinity, () => {})).toThrow(RangeError);
    expect(() => s.after(-1, () => {})).toThrow(RangeError);
    expect(() => s.runUntil(50)).toThrow(RangeError);
  });

  it('cancelled events do not run; cancel is idempotent and harmless after the event ran', () => {
    const s = new SimScheduler();
    const log: number[] = [];
    const h1 = s.at(1, () => log.push(1));
    const h2 = s.at(2, () => log.push(2));
    s.at(3, () => log.push(3));
    s.cancel(h2);
    s.cancel(h2);
    expect(s.pending()).toBe(2);
    s.runUntil(10);
    s.cancel(h1);
    s.cancel(null);
    expect(log).toEqual([1, 3]);
    expect(s.pending()).toBe(0);
    expect(() => s.cancel({ id: 1 })).toThrow(TypeError);
  });

  it('step and runUntilIdle', () => {
    const s = new SimScheduler();
    const log: number[] = [];
    s.at(4, () => log.push(4));
    s.at(8, () => log.push(8));
    s.cancel(s.at(1, () => log.push(1)));
    expect(s.nextTime()).toBe(4);
    expect(s.step()).toBe(true);
    expect(log).toEqual([4]);
    expect(s.now()).toBe(4);
    expect(s.runUntilIdle(6)).toBe(false);
    expect(s.now()).toBe(6);
    expect(s.runUntilIdle()).toBe(true);
    expect(s.now()).toBe(8);
    expect(s.step()).toBe(false);
    expect(log).toEqual([4, 8]);
  });

  it('matches a sorted-list model under random schedule/cancel/run interleavings (also across heap compaction)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({
              op: fc.constant('at' as const),
              dt: fc.integer({ min: 0, max: 50 }),
              n: fc.integer({ min: 1, max: 3000 }),
            }),
            fc.record({ op: fc.constant('cancel' as const), frac: fc.double({ min: 0, max: 1, noNaN: true }) }),
            fc.record({ op: fc.constant('run' as const), dt: fc.integer({ min: 0, max: 30 }) }),
          ),
          { maxLength: 40 },
        ),
        (ops) => {
          const s = new SimScheduler();
          const ran: number[] = [];
          type M = { time: number; id: number; handle: ReturnType<SimScheduler['at']>; live: boolean };
          const model: M[] = [];
          const expected: number[] = [];
          let id = 0;
          for (const o of ops) {
            if (o.op === 'at') {
              for (let k = 0; k < o.n; k++) {
                const myId = id++;
                const time = s.now() + ((o.dt * 7 + k * 13) % 50);
                model.push({ time, id: myId, handle: s.at(time, () => ran.push(myId)), live: true });
              }
            } else if (o.op === 'cancel') {
              // cancel a large fraction to force compaction
              for (const m of model) {
                if (m.live && (m.id * 2654435761) % 1000 < o.frac * 1000) {
                  s.cancel(m.handle);
                  m.live = false;
                }
              }
            } else {
              const until = s.now() + o.dt;
              const due = model.filter((m) => m.live && m.time <= until).sort((x, y) => x.time - y.time || x.id - y.id);
              for (const m of due) {
                m.live = false;
                expected.push(m.id);
              }
              s.runUntil(until);
            }
            expect(s.pending()).toBe(model.filter((m) => m.live).length);
          }
          expect(ran).toEqual(expected);
        },
      ),
      { numRuns: 60, seed: 1234 },
    );
  });

  it("timersFor(owner).cancelAll cancels exactly that owner's pending timers", () => {
    const s = new SimScheduler();
    const a = s.timersFor('a');
    const b = s.timersFor('b');
    const log: string[] = [];
    const ha = a.setTimeout(() => log.push('a1'), 10);
    a.setTimeout(() => log.push('a2'), 20);
    b.setTimeout(() => log.push('b1'), 15);
    s.at(12, () => log.push('sched'));
    expect(s.timersFor('a')).toBe(a);
    expect(a.pending()).toBe(2);
    expect(s.pending()).toBe(4);
    s.timersFor('a').cancelAll();
    expect(a.pending()).toBe(0);
    expect(s.pending()).toBe(2);
    a.clearTimeout(ha); // already dead: must not be counted twice
    expect(s.pending()).toBe(2);
    a.setTimeout(() => log.push('a3 (after cancelAll)'), 30);
    s.runUntil(100);
    expect(log).toEqual(['sched', 'b1', 'a3 (after cancelAll)']);
    expect(s.pending()).toBe(0);
  });

  it('Timers follow Node delay semantics (clamped to 1 ms) and clearTimeout works', () => {
    const s = new SimScheduler();
    const t = s.timersFor('n');
    const at: number[] = [];
    t.setTimeout(() => at.push(s.now()), 0);
    t.setTimeout(() => at.push(s.now()), Number.NaN);
    t.setTimeout(() => at.push(s.now()), -5);
    t.clearTimeout(t.setTimeout(() => at.push(-1), 3));
    s.runUntilIdle();
    expect(at).toEqual([1, 1, 1]);
  });

  it('cancelAll of many timers among many live events keeps order (heap compaction)', () => {
    const s = new SimScheduler();
    const crashy = s.timersFor('crashy');
    const ran: number[] = [];
    for (let i = 0; i < 20_000; i++) crashy.setTimeout(() => ran.push(-1), 1 + (i % 97));
    for (let i = 0; i < 3000; i++) s.at(1 + ((i * 31) % 101), () => ran.push(i));
    crashy.cancelAll();
    s.at(0, () => {}); // triggers nothing special, just another insert after compaction
    s.runUntilIdle();
    expect(ran).not.toContain(-1);
    expect(ran).toHaveLength(3000);
    const keyed = [...ran].sort((x, y) => ((x * 31) % 101) - ((y * 31) % 101) || x - y);
    expect(ran).toEqual(keyed);
  });

  for (const peers of [0, 100]) {
    it(`mass cancellation from inside a running event keeps order and loses nothing (${peers} peers at the same instant)`, () => {
      const s = new SimScheduler();
      const t = s.timersFor('x');
      const ran: number[] = [];
      const expected: number[] = [];
      s.at(5, () => {
        for (let i = 0; i < 10_000; i++) t.setTimeout(() => ran.push(-1), 1 + (i % 50));
        t.cancelAll();
        const h: ReturnType<SimScheduler['at']>[] = [];
        for (let i = 0; i < 10_000; i++) h.push(s.at(5 + (i % 9), () => ran.push(-2)));
        for (const x of h) s.cancel(x);
        s.at(5, () => ran.push(1000)); // same instant, after everything already queued at 5
        s.at(6, () => ran.push(1001));
        ran.push(0);
      });
      expected.push(0);
      for (let i = 1; i <= peers; i++) s.at(5, () => ran.push(i));
      for (let i = 1; i <= peers; i++) expected.push(i);
      expected.push(1000);
      for (let i = 0; i < 300; i++) s.at(6 + (i % 7), () => ran.push(2000 + i));
      const later = Array.from({ length: 300 }, (_, i) => i).sort((x, y) => (x % 7) - (y % 7) || x - y);
      expected.push(...later.slice(0, 43).map((i) => 2000 + i), 1001, ...later.slice(43).map((i) => 2000 + i));
      s.runUntilIdle();
      expect(ran).toEqual(expected);
      expect(s.pending()).toBe(0);
    });
  }

  it('livelock guard: too many events in one run call throws a clear error', () => {
    const s = new SimScheduler({ maxEvents: 1000 });
    const loop = () => s.after(1, loop);
    s.after(1, loop);
    expect(() => s.runUntil(1e9)).toThrow(SimSchedulerLivelockError);
    expect(() => s.runUntil(1e9)).toThrow(/more than 1000 events/);
    // Below the budget is fine.
    const ok = new SimScheduler({ maxEvents: 1000 });
    const loop2 = () => ok.after(1, loop2);
    ok.after(1, loop2);
    expect(ok.runUntil(999)).toBe(999);
  });

  it('livelock guard: a zero-delay loop that never advances time throws', () => {
    const s = new SimScheduler({ maxEventsPerInstant: 500 });
    const loop = () => s.after(0, loop);
    s.after(5, loop);
    expect(() => s.runUntilIdle(10)).toThrow(/without time advancing/);
    expect(s.now()).toBe(5);
  });

  it('nextTime from inside an event does not disturb the run', () => {
    const s = new SimScheduler();
    const seen: (number | undefined)[] = [];
    const ran: number[] = [];
    s.at(1, () => seen.push(s.nextTime())); // last event at t=1
    s.cancel(s.at(2, () => ran.push(2)));
    s.at(3, () => {
      ran.push(3);
      seen.push(s.nextTime());
    });
    s.at(4, () => ran.push(4));
    s.runUntilIdle();
    expect(seen).toEqual([3, 4]);
    expect(ran).toEqual([3, 4]);
    expect(s.nextTime()).toBeUndefined();
  });

  it('is not reentrant', () => {
    const s = new SimScheduler();
    s.at(1, () => s.runUntil(5));
    expect(() => s.runUntil(10)).toThrow(/not reentrant/);
    s.at(20, () => s.step());
    expect(() => s.runUntil(30)).toThrow(/inside an event/);
  });
});

// ---------------------------------------------------------------- clock

describe('simClock', () => {
  it('follows virtual time plus a mutable offset', () => {
    const s = new SimScheduler();
    const c = simClock(s, 1000);
    expect(c.now()).toBe(1000);
    s.runUntil(250);
    expect(c.now()).toBe(1250);
    c.jump(-500);
    expect(c.now()).toBe(750);
    expect(c.offset()).toBe(500);
    c.setOffset(-100);
    expect(c.now()).toBe(150);
    c.jump(60_000);
    expect(c.now()).toBe(60_150);
    expect(simClock(s).now()).toBe(250);
    expect(() => c.setOffset(Number.NaN)).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------- network

describe('SimNetwork', () => {
  it('same seed gives an identical trace; a different seed a different one', () => {
    const t1 = scenarioTrace(123);
    const t2 = scenarioTrace(123);
    const t3 = scenarioTrace(124);
    expect(t1.length).toBeGreaterThan(1000);
    expect(t1).toEqual(t2);
    expect(t1).not.toEqual(t3);
    // The scenario exercised every fault path.
    const text = t1.join('\n');
    for (const needle of ['(loss)', '(partition', 'crash', 'restart', 'deliver', 'heal', 'dup '])
      expect(text).toContain(needle);
  });

  it('delivers with a latency in [minDelayMs, maxDelayMs] and counts consistently', () => {
    const { sched, net, got, send } = world(5, { minDelayMs: 3, maxDelayMs: 9, reorder: true });
    for (let i = 0; i < 500; i++) sched.at(i, () => send('a', 'b', { t: 'x', sentAt: sched.now() }));
    sched.runUntil(250);
    invariant(net);
    expect(net.stats.inFlight).toBeGreaterThan(0);
    sched.runUntilIdle();
    expect(got).toHaveLength(500);
    const delays = new Set(got.map((r) => r.at - (r.msg.sentAt as number)));
    expect([...delays].sort((x, y) => x - y)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(net.stats).toMatchObject({ sent: 500, delivered: 500, dropped: 0, duplicated: 0, inFlight: 0 });
    invariant(net);
  });

  it('symmetric partition blocks exactly the pairs in different groups; ungrouped nodes talk among themselves', () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    const { sched, net, got, send } = world(2, {}, names);
    net.partition([['a', 'b'], ['c']]);
    for (const x of names) for (const y of names) send(x, y, { t: `${x}${y}` });
    sched.runUntilIdle();
    const delivered = new Set(got.map((r) => r.msg.t));
    const allowed = new Set(['aa', 'ab', 'ba', 'bb', 'cc', 'dd', 'de', 'ed', 'ee']);
    expect(delivered).toEqual(allowed);
    for (const x of names) for (const y of names) expect(net.linkOpen(x, y)).toBe(allowed.has(`${x}${y}`));
    expect(net.stats.droppedBy.partition).toBe(25 - allowed.size);
    net.heal();
    got.length = 0;
    for (const x of names) for (const y of names) send(x, y, { t: `${x}${y}` });
    sched.runUntilIdle();
    expect(got).toHaveLength(25);
    invariant(net);
  });

  it('a partition started while messages are in flight drops them at delivery; healing before arrival lets them through', () => {
    const { sched, net, got, send } = world(3, { minDelayMs: 10, maxDelayMs: 10 });
    send('a', 'c', { t: 'doomed' });
    send('c', 'a', { t: 'doomed-back' });
    send('a', 'b', { t: 'same-side' });
    sched.at(5, () =>
      net.partition([
        ['a', 'b'],
        ['c', 'd', 'e'],
      ]),
    );
    sched.runUntilIdle();
    expect(got.map((r) => r.msg.t)).toEqual(['same-side']);
    expect(net.stats.droppedBy.partition).toBe(2);

    got.length = 0;
    send('a', 'c', { t: 'saved' }); // dropped at send: still partitioned
    sched.at(sched.now() + 1, () => net.heal());
    sched.at(sched.now() + 2, () => send('a', 'c', { t: 'sent-after-heal' }));
    sched.at(sched.now() + 3, () => net.partition([['a'], ['c']]));
    sched.at(sched.now() + 4, () => net.heal()); // heals before 'sent-after-heal' lands
    sched.runUntilIdle();
    expect(got.map((r) => r.msg.t)).toEqual(['sent-after-heal']);
    invariant(net);
  });

  it('partition membership applies to nodes registered later', () => {
    const sched = new SimScheduler();
    const net = new SimNetwork(sched, { random: new SimRandom(1) });
    net.partition([['a'], ['late']]);
    const a = net.transportFor('a');
    const late = net.transportFor('late');
    const other = net.transportFor('other');
    const got: string[] = [];
    late.onMessage((from) => got.push(`late<-${from}`));
    other.onMessage((from) => got.push(`other<-${from}`));
    a.send('late', { t: 'x' });
    late.send('other', { t: 'x' });
    sched.runUntilIdle();
    expect(got).toEqual([]);
  });

  it('one-way blocks drop one direction only; unblock and heal restore it', () => {
    const { sched, net, got, send } = world(4);
    net.blockOneWay('a', 'b');
    send('a', 'b', { t: 'ab' });
    send('b', 'a', { t: 'ba' });
    send('a', 'c', { t: 'ac' });
    expect(net.stats.inFlight).toBe(2); // 'ab' was dropped at send time
    sched.runUntilIdle();
    expect(got.map((r) => r.msg.t).sort()).toEqual(['ac', 'ba']);
    expect(net.linkOpen('a', 'b')).toBe(false);
    expect(net.linkOpen('b', 'a')).toBe(true);

    got.length = 0;
    const before = { ...net.stats.droppedBy };
    send('a', 'b', { t: 'still-blocked' }); // dropped at send
    net.unblockOneWay('a', 'b');
    send('a', 'b', { t: 'after-unblock' }); // goes out...
    sched.at(sched.now(), () => net.blockOneWay('a', 'b')); // ...and is dropped at delivery
    sched.runUntilIdle();
    expect(got.map((r) => r.msg.t)).toEqual([]);
    expect(net.stats.droppedBy.partition - before.partition).toBe(2);
    expect(net.stats.inFlight).toBe(0);
    net.unblockOneWay('a', 'b');
    send('a', 'b', { t: 'reopened' });
    sched.runUntilIdle();
    expect(got.map((r) => r.msg.t)).toEqual(['reopened']);

    got.length = 0;
    net.blockOneWay('c', 'd');
    net.heal();
    send('a', 'b', { t: 'ab2' });
    send('c', 'd', { t: 'cd2' });
    sched.runUntilIdle();
    expect(got.map((r) => r.msg.t).sort()).toEqual(['ab2', 'cd2']);
    invariant(net);
  });

  it('crash drops messages in flight to the node and everything it sends or is sent; restart gives a fresh transport', () => {
    const { sched, net, got, send, transports } = world(6, { minDelayMs: 10, maxDelayMs: 10 });
    send('a', 'b', { t: 'in-flight-to-b' });
    send('b', 'c', { t: 'from-b-before-crash' }); // sent from b's first life: may still arrive
    sched.at(5, () => net.crash('b'));
    sched.at(6, () => {
      send('a', 'b', { t: 'to-down-b' });
      send('b', 'c', { t: 'from-down-b' });
    });
    sched.runUntil(50);
    expect(got.map((r) => `${r.from}->${r.to}:${r.msg.t}`)).toEqual(['b->c:from-b-before-crash']);
    expect(net.isUp('b')).toBe(false);
    expect(net.stats.droppedBy).toMatchObject({ down: 2, 'sender-down': 1 });

    // Restart: the old transport (and its handler) belongs to the dead life.
    got.length = 0;
    const old = transports.get('b')!;
    net.restart('b');
    expect(net.transportFor('b')).not.toBe(old);
    send('a', 'b', { t: 'before-new-handler' }); // arrives at t+10, handler installed at t+5: delivered
    sched.at(sched.now() + 5, () => {
      const fresh = net.transportFor('b');
      expect(net.transportFor('b')).toBe(fresh);
      fresh.onMessage((from, msg) => got.push({ at: sched.now(), from, to: 'b(new)', msg }));
      old.send('c', { t: 'zombie-send' }); // old life's transport: dropped
      old.onMessage(() => {
        throw new Error('old handler must never run');
      });
    });
    sched.runUntilIdle();
    expect(got.map((r) => `${r.from}->${r.to}:${r.msg.t}`)).toEqual(['a->b(new):before-new-handler']);

    // A message addressed to a life that ends before it arrives is lost, even if the node is back.
    got.length = 0;
    send('a', 'b', { t: 'to-second-life' });
    sched.at(sched.now() + 2, () => {
      net.restart('b');
      net.transportFor('b').onMessage((from, msg) => got.push({ at: sched.now(), from, to: 'b(3rd)', msg }));
    });
    sched.runUntilIdle();
    expect(got).toEqual([]);
    invariant(net);
  });

  it('drops messages to a node that has no handler yet, and to unknown names', () => {
    const sched = new SimScheduler();
    const net = new SimNetwork(sched, { random: new SimRandom(1) });
    const a = net.transportFor('a');
    net.register('mute');
    a.send('mute', { t: 'x' });
    a.send('nobody', { t: 'x' });
    sched.runUntilIdle();
    expect(net.stats.droppedBy).toMatchObject({ 'no-handler': 1, unknown: 1 });
    expect(() => net.crash('nobody')).toThrow(/unknown node/);
    invariant(net);
  });

  it('preserves per-pair FIFO when reorder is false', () => {
    const { sched, got, send } = world(7, { minDelayMs: 0, maxDelayMs: 50, reorder: false, duplicateRate: 0.1 });
    for (let i = 0; i < 2000; i++) sched.at(i >> 2, () => send('a', 'b', { t: 'seq', i }));
    for (let i = 0; i < 2000; i++) sched.at(i >> 2, () => send('c', 'b', { t: 'seq', i }));
    sched.runUntilIdle();
    for (const from of ['a', 'c']) {
      const seq = got.filter((r) => r.from === from).map((r) => r.msg.i as number);
      expect(seq.length).toBeGreaterThanOrEqual(2000);
      for (let k = 1; k < seq.length; k++) expect(seq[k]!).toBeGreaterThanOrEqual(seq[k - 1]!);
    }
  });

  it('lets messages on one link overtake each other when reorder is true', () => {
    const { sched, got, send } = world(7, { minDelayMs: 0, maxDelayMs: 50, reorder: true });
    for (let i = 0; i < 2000; i++) sched.at(i >> 2, () => send('a', 'b', { t: 'seq', i }));
    sched.runUntilIdle();
    const seq = got.map((r) => r.msg.i as number);
    expect(seq).toHaveLength(2000);
    let inversions = 0;
    for (let k = 1; k < seq.length; k++) if (seq[k]! < seq[k - 1]!) inversions++;
    expect(inversions).toBeGreaterThan(100);
  });

  it('drop and duplicate rates are roughly as configured over 10k messages', () => {
    const { sched, net, got, send } = world(8, { dropRate: 0.1, duplicateRate: 0.05, minDelayMs: 1, maxDelayMs: 3 });
    for (let i = 0; i < 10_000; i++) send('a', 'b', { t: 'm', i });
    sched.runUntilIdle();
    const s = net.stats;
    expect(s.sent).toBe(10_000);
    expect(s.dropped).toBeGreaterThan(850);
    expect(s.dropped).toBeLessThan(1150);
    // duplicates are drawn for the ~9000 survivors
    expect(s.duplicated).toBeGreaterThan(350);
    expect(s.duplicated).toBeLessThan(560);
    expect(got.length).toBe(s.delivered);
    expect(s.delivered).toBe(10_000 - s.dropped + s.duplicated);
    const ids = got.map((r) => r.msg.i as number);
    expect(ids.length - new Set(ids).size).toBe(s.duplicated);
    invariant(net);
  });

  it('rejects invalid fault settings', () => {
    const { net } = world();
    expect(() => net.setFaults({ dropRate: 1.5 })).toThrow(RangeError);
    expect(() => net.setFaults({ minDelayMs: 5, maxDelayMs: 2 })).toThrow(RangeError);
    expect(() => net.setFaults({ minDelayMs: 0.5 })).toThrow(RangeError);
    expect(() => net.partition([['a'], ['a', 'b']])).toThrow(/two groups/);
    net.setFaults({ dropRate: 0.2 });
    expect(net.getFaults()).toMatchObject({ dropRate: 0.2, minDelayMs: 1 });
  });

  it('passes payloads by reference unless cloneMessages is set', () => {
    const payload = { t: 'obj', nested: { v: 1 }, bytes: new Uint8Array([1, 2, 3]) };
    const plain = world(1, {}, ['a', 'b']);
    plain.send('a', 'b', payload);
    plain.sched.runUntilIdle();
    expect(plain.got[0]!.msg).toBe(payload);

    const cloned = world(1, { duplicateRate: 1 }, ['a', 'b'], true);
    cloned.send('a', 'b', payload);
    payload.nested.v = 2; // mutation after send must not leak into the delivered copies
    cloned.sched.runUntilIdle();
    expect(cloned.got).toHaveLength(2);
    const [m1, m2] = cloned.got.map((r) => r.msg);
    expect(m1).not.toBe(payload);
    expect(m1).not.toBe(m2);
    expect((m1!.nested as { v: number }).v).toBe(1);
    expect(m1!.bytes).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('trace lines carry virtual time, endpoints and the message type', () => {
    const { sched, net, send } = world(1, { minDelayMs: 4, maxDelayMs: 4 });
    const lines: string[] = [];
    net.onTrace((l) => lines.push(l));
    sched.runUntil(10);
    send('a', 'b', { t: 'hello' });
    net.crash('c');
    send('a', 'c', { t: 'lost' });
    sched.runUntilIdle();
    net.onTrace(null);
    send('a', 'b', { t: 'untraced' });
    expect(lines).toEqual([
      '[      10ms] send    a -> b hello (due 14)',
      '[      10ms] crash   c',
      '[      10ms] drop    a -> c lost (down)',
      '[      14ms] deliver a -> b hello',
    ]);
  });

  it("the network draws from its own forked streams: other components' draws do not shift it", () => {
    const run = (extraDraws: number) => {
      const root = new SimRandom(77);
      const sched = new SimScheduler();
      const net = new SimNetwork(sched, { random: root, faults: { minDelayMs: 0, maxDelayMs: 1000, reorder: true } });
      for (let i = 0; i < extraDraws; i++) root.next(); // some other component using the root stream
      const at: number[] = [];
      net.transportFor('b').onMessage(() => at.push(sched.now()));
      const a = net.transportFor('a');
      for (let i = 0; i < 50; i++) a.send('b', { t: 'x' });
      sched.runUntilIdle();
      return at;
    };
    expect(run(0)).toEqual(run(13));
  });
});
