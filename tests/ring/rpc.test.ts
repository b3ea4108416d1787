// Tests for ring/node/rpc on the simulator runtime (seeded scheduler, network, randomness
// and clocks, wired as ring/sim/world.ts boots a node): replies, timeouts, at-most-once
// execution under duplication, restarted peers, the in-flight bound and failAll.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rpc } from '../../ring/node/rpc';
import type { RpcError, RpcHandler } from '../../ring/node/rpc';
import { silentLogger } from '../../ring/runtime';
import type { Runtime } from '../../ring/runtime';
import { simClock } from '../../ring/sim/clock';
import { SimNetwork } from '../../ring/sim/network';
import type { NetworkFaults } from '../../ring/sim/network';
import { SimRandom } from '../../ring/sim/prng';
import { SimScheduler } from '../../ring/sim/scheduler';

const RUNS = { numRuns: 60 };

interface SimPeer {
  name: string;
  life: number;
  rt: Runtime;
  rpc: Rpc;
}

function simWorld(seed: number, faults: Partial<NetworkFaults> = {}) {
  const sched = new SimScheduler();
  const root = new SimRandom(seed);
  const net = new SimNetwork(sched, { random: root.fork('network'), faults, cloneMessages: true });
  const lives = new Map<string, number>();

  /** Boot (or reboot) a node the way SimWorld.boot does: per-life timers and random stream. */
  const boot = (name: string, inFlightMax = 64): SimPeer => {
    const life = lives.get(name) ?? 0;
    const rt: Runtime = {
      clock: simClock(sched, 1_700_000_000_000),
      timers: sched.timersFor(`${name}#${life}`),
      random: root.fork(`${name}#${life}`),
      transport: net.transportFor(name),
      logger: silentLogger,
    };
    const rpc = new Rpc(rt, inFlightMax, name);
    rt.transport.onMessage((from, m) => {
      rpc.handle(from, m);
    });
    return { name, life, rt, rpc };
  };

  const crash = (p: SimPeer) => {
    sched.timersFor(`${p.name}#${p.life}`).cancelAll();
    net.crash(p.name);
  };

  const restart = (p: SimPeer, inFlightMax = 64): SimPeer => {
    net.restart(p.name);
    lives.set(p.name, p.life + 1);
    return boot(p.name, inFlightMax);
  };

  return { sched, net, boot, crash, restart };
}

/** Records every completion of a call: checks that `done` runs exactly once. */
function recorder() {
  const results: { i: number; at: number; err: RpcError | null; body: unknown }[] = [];
  const doneFor =
    (i: number, now: () => number) =>
    (err: RpcError | null, body?: unknown): void => {
      results.push({ i, at: now(), err, body });
    };
  return { results, doneFor };
}

const echo: RpcHandler = (_from, body, reply) => reply({ echo: body });

describe('Rpc on the simulator', () => {
  it('a call gets its own reply, exactly once, even with duplication and reordering on the network', () => {
    fc.assert(
      fc.property(
        fc.nat(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.boolean(),
        fc.integer({ min: 1, max: 40 }),
        (seed, duplicateRate, reorder, calls) => {
          const w = simWorld(seed, { duplicateRate, reorder, minDelayMs: 1, maxDelayMs: 30 });
          const a = w.boot('a');
          const b = w.boot('b');
          b.rpc.on('echo', echo);
          const { results, doneFor } = recorder();
          for (let i = 0; i < calls; i++)
            a.rpc.call(
              'b',
              'echo',
              { i },
              1000,
              doneFor(i, () => w.sched.now()),
            );
          expect(a.rpc.inFlight()).toBe(calls);
          // Latency is at most 30 ms a hop: every reply is in long before the 1000 ms timeout.
          w.sched.runUntil(500);
          expect(results).toHaveLength(calls);
          expect(new Set(results.map((r) => r.i)).size).toBe(calls);
          for (const r of results) {
            expect(r.err).toBeNull();
            expect(r.body).toEqual({ echo: { i: r.i } });
          }
          expect(a.rpc.inFlight()).toBe(0);
          // Every request timer was cleared when its reply came in.
          expect(w.sched.timersFor('a#0').pending()).toBe(0);
        },
      ),
      RUNS,
    );
  });

  it('a call to a crashed node fails with kind "timeout" exactly timeoutMs after it was made, exactly once', () => {
    fc.assert(
      fc.property(
        fc.nat(),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 500 }),
        (seed, timeoutMs, startAt) => {
          const w = simWorld(seed);
          const a = w.boot('a');
          const b = w.boot('b');
          b.rpc.on('echo', echo);
          w.crash(b);
          const { results, doneFor } = recorder();
          w.sched.at(startAt, () =>
            a.rpc.call(
              'b',
              'echo',
              1,
              timeoutMs,
              doneFor(0, () => w.sched.now()),
            ),
          );
          w.sched.runUntil(startAt + timeoutMs - 1);
          expect(results).toHaveLength(0);
          expect(a.rpc.inFlight()).toBe(1);
          w.sched.runUntilIdle();
          expect(results).toHaveLength(1);
          expect(results[0]!.err?.kind).toBe('timeout');
          expect(results[0]!.at).toBe(startAt + timeoutMs);
          expect(a.rpc.inFlight()).toBe(0);
        },
      ),
      RUNS,
    );
  });

  it('a reply that arrives after the timeout is ignored: done runs once, with "timeout"', () => {
    const w = simWorld(1, { minDelayMs: 1, maxDelayMs: 1 });
    const a = w.boot('a');
    const b = w.boot('b');
    b.rpc.on('slow', (_from, body, reply) => b.rt.timers.setTimeout(() => reply(body), 500));
    const { results, doneFor } = recorder();
    a.rpc.call(
      'b',
      'slow',
      'x',
      100,
      doneFor(0, () => w.sched.now()),
    );
    w.sched.runUntilIdle();
    expect(results.map((r) => r.err?.kind)).toEqual(['timeout']);
    expect(results[0]!.at).toBe(100);
  });

  it('with duplicateRate 1.0 every request is delivered twice but its handler runs exactly once', () => {
    fc.assert(
      fc.property(fc.nat(), fc.boolean(), fc.integer({ min: 1, max: 30 }), (seed, reorder, calls) => {
        const w = simWorld(seed, { duplicateRate: 1, reorder, minDelayMs: 1, maxDelayMs: 20 });
        const a = w.boot('a');
        const b = w.boot('b');
        const runs = new Map<number, number>();
        b.rpc.on('inc', (_from, body: { i: number }, reply) => {
          runs.set(body.i, (runs.get(body.i) ?? 0) + 1);
          reply(body.i);
        });
        const { results, doneFor } = recorder();
        for (let i = 0; i < calls; i++)
          a.rpc.call(
            'b',
            'inc',
            { i },
            1000,
            doneFor(i, () => w.sched.now()),
          );
        w.sched.runUntilIdle();
        expect(w.net.stats.duplicated).toBeGreaterThanOrEqual(calls);
        expect([...runs.values()]).toEqual(Array.from({ length: calls }, () => 1));
        expect(runs.size).toBe(calls);
        expect(results).toHaveLength(calls);
        for (const r of results) expect(r.body).toBe(r.i);
      }),
      RUNS,
    );
  });

  it('a duplicate that arrives after the handler replied does not run the handler again (long delays, reordering)', () => {
    fc.assert(
      fc.property(fc.nat(), (seed) => {
        const w = simWorld(seed, { duplicateRate: 1, reorder: true, minDelayMs: 1, maxDelayMs: 2000 });
        const a = w.boot('a');
        const b = w.boot('b');
        let runs = 0;
        b.rpc.on('once', (_from, _body, reply) => {
          runs++;
          reply('ok');
        });
        const { results, doneFor } = recorder();
        a.rpc.call(
          'b',
          'once',
          null,
          10_000,
          doneFor(0, () => w.sched.now()),
        );
        w.sched.runUntilIdle();
        expect(runs).toBe(1);
        expect(results).toHaveLength(1);
        expect(results[0]!.body).toBe('ok');
      }),
      RUNS,
    );
  });

  it('a restarted peer (new Rpc, same name) whose request ids restart at 1 gets its requests executed, not dropped as duplicates', () => {
    fc.assert(
      fc.property(
        fc.nat(),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 3 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (seed, perLife, restarts, duplicateRate) => {
          const w = simWorld(seed, { duplicateRate, minDelayMs: 1, maxDelayMs: 10 });
          const server = w.boot('server');
          const seen: string[] = [];
          server.rpc.on('do', (_from, body: string, reply) => {
            seen.push(body);
            reply(body);
          });
          let client = w.boot('client');
          const expected: string[] = [];
          const answered: string[] = [];
          for (let life = 0; life <= restarts; life++) {
            for (let i = 0; i < perLife; i++) {
              const tag = `life${life}-req${i}`;
              expected.push(tag);
              client.rpc.call('server', 'do', tag, 1000, (err, body) => {
                expect(err).toBeNull();
                answered.push(String(body));
              });
            }
            w.sched.runUntilIdle();
            w.crash(client);
            client = w.restart(client);
          }
          expect(seen.sort()).toEqual([...expected].sort());
          expect(answered.sort()).toEqual([...expected].sort());
        },
      ),
      RUNS,
    );
  });

  it('a restarted server (new Rpc) executes requests again: the dedup memory is per life', () => {
    const w = simWorld(7);
    const client = w.boot('client');
    let server = w.boot('server');
    let runs = 0;
    const install = (s: typeof server) =>
      s.rpc.on('do', (_from, _body, reply) => {
        runs++;
        reply(runs);
      });
    install(server);
    const { results, doneFor } = recorder();
    client.rpc.call(
      'server',
      'do',
      null,
      1000,
      doneFor(0, () => w.sched.now()),
    );
    w.sched.runUntilIdle();
    w.crash(server);
    server = w.restart(server);
    install(server);
    client.rpc.call(
      'server',
      'do',
      null,
      1000,
      doneFor(1, () => w.sched.now()),
    );
    w.sched.runUntilIdle();
    expect(runs).toBe(2);
    expect(results.map((r) => [r.i, r.err, r.body])).toEqual([
      [0, null, 1],
      [1, null, 2],
    ]);
  });

  it('more than inFlightMax concurrent calls fail fast (synchronously) with kind "overloaded"; the rest complete normally; capacity frees up after', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 20 }), (seed, max, extra) => {
        const w = simWorld(seed);
        const a = w.boot('a', max);
        const b = w.boot('b');
        b.rpc.on('echo', echo);
        const { results, doneFor } = recorder();
        for (let i = 0; i < max + extra; i++)
          a.rpc.call(
            'b',
            'echo',
            i,
            1000,
            doneFor(i, () => w.sched.now()),
          );
        // The overflow failed before any event ran.
        expect(results.map((r) => r.i)).toEqual(Array.from({ length: extra }, (_, k) => max + k));
        for (const r of results) {
          expect(r.err?.kind).toBe('overloaded');
          expect(r.at).toBe(0);
        }
        expect(a.rpc.inFlight()).toBe(max);
        w.sched.runUntilIdle();
        expect(results).toHaveLength(max + extra);
        for (const r of results.slice(extra)) {
          expect(r.err).toBeNull();
          expect(r.body).toEqual({ echo: r.i });
        }
        // Capacity is back once the replies are in.
        let ok = false;
        a.rpc.call('b', 'echo', 'again', 1000, (err) => (ok = err === null));
        w.sched.runUntilIdle();
        expect(ok).toBe(true);
      }),
      RUNS,
    );
  });

  it('failAll fails every pending call once with kind "refused"; late replies and timers do nothing afterwards', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 0, max: 20 }), (seed, calls) => {
        const w = simWorld(seed, { minDelayMs: 5, maxDelayMs: 50 });
        const a = w.boot('a');
        const b = w.boot('b');
        b.rpc.on('echo', echo);
        const { results, doneFor } = recorder();
        for (let i = 0; i < calls; i++)
          a.rpc.call(
            'b',
            'echo',
            i,
            100,
            doneFor(i, () => w.sched.now()),
          );
        w.sched.runUntil(1);
        a.rpc.failAll('stopping');
        // The request timers were cleared.
        expect(w.sched.timersFor('a#0').pending()).toBe(0);
        expect(results).toHaveLength(calls);
        for (const r of results) expect(r.err).toEqual({ kind: 'refused', detail: 'stopping' });
        expect(a.rpc.inFlight()).toBe(0);
        w.sched.runUntilIdle();
        expect(results).toHaveLength(calls);
      }),
      RUNS,
    );
  });

  it('a refusal reaches the caller as kind "refused" with its detail; an unknown method as "unknown-method"', () => {
    const w = simWorld(3);
    const a = w.boot('a');
    const b = w.boot('b');
    b.rpc.on('no', (_from, _body, _reply, refuse) => refuse('not now'));
    b.rpc.on('twice', (_from, _body, reply, refuse) => {
      reply('first');
      reply('second');
      refuse('third');
    });
    const { results, doneFor } = recorder();
    a.rpc.call(
      'b',
      'no',
      null,
      1000,
      doneFor(0, () => w.sched.now()),
    );
    a.rpc.call(
      'b',
      'missing',
      null,
      1000,
      doneFor(1, () => w.sched.now()),
    );
    a.rpc.call(
      'b',
      'twice',
      null,
      1000,
      doneFor(2, () => w.sched.now()),
    );
    w.sched.runUntilIdle();
    const byCall = new Map(results.map((r) => [r.i, r]));
    expect(results).toHaveLength(3);
    expect(byCall.get(0)!.err).toEqual({ kind: 'refused', detail: 'not now' });
    expect(byCall.get(1)!.err).toEqual({ kind: 'unknown-method', detail: 'missing' });
    expect(byCall.get(2)!.err).toBeNull();
    expect(byCall.get(2)!.body).toBe('first');
    // One response per request: the second reply and the late refusal were not sent.
    expect(w.net.stats.sent).toBe(6);
  });

  it('a reply from a node the call was not sent to is ignored', () => {
    const w = simWorld(5, { minDelayMs: 10, maxDelayMs: 10 });
    const a = w.boot('a');
    const b = w.boot('b');
    const c = w.boot('c');
    b.rpc.on('echo', echo);
    const { results, doneFor } = recorder();
    a.rpc.call(
      'b',
      'echo',
      'real',
      1000,
      doneFor(0, () => w.sched.now()),
    );
    // c forges a response with the same id, arriving before b's.
    c.rt.transport.send('a', { t: 'rs', id: 1, b: 'forged' });
    w.sched.runUntilIdle();
    expect(results).toHaveLength(1);
    expect(results[0]!.body).toEqual({ echo: 'real' });
  });

  it('handle() claims rq/rs messages and returns false for anything else', () => {
    const w = simWorld(9);
    const a = w.boot('a');
    expect(a.rpc.handle('x', { t: 'gossip' })).toBe(false);
    expect(a.rpc.handle('x', { t: 'rs', id: 99 })).toBe(true);
  });
});
