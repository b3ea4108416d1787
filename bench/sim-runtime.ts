// Throughput of the simulator's runtime layer (scheduler + network + PRNG), without any
// ring code: 5 nodes exchange request/response pairs, each request guarded by a timeout
// that the response clears (the shape of a quorum RPC). Prints events/second.
//
//   npx tsx bench/sim-runtime.ts [messages=1000000]
import { SimRandom } from '../ring/sim';
import { SimScheduler } from '../ring/sim';
import { SimNetwork } from '../ring/sim';
import type { NetworkFaults } from '../ring/sim';
import type { TimerHandle, WireMessage } from '../ring';

const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'];
const OUTSTANDING_PER_NODE = 40;

function run(label: string, messages: number, faults: Partial<NetworkFaults>, seed = 1): void {
  const root = new SimRandom(seed);
  const sched = new SimScheduler();
  const net = new SimNetwork(sched, { random: root, faults });
  let timeouts = 0;
  let stop = false;

  for (const name of NODES) {
    const rng = root.fork(name);
    const timers = sched.timersFor(name);
    const transport = net.transportFor(name);
    const waiting = new Map<number, TimerHandle>();
    let nextId = 0;
    const others = NODES.filter((n) => n !== name);

    const request = (): void => {
      if (stop) return;
      const id = nextId++;
      // Inline and anonymous on purpose: under tsx (esbuild keepNames) a *named* local
      // closure (`const onTimeout = () => ...`) costs an Object.defineProperty per creation,
      // which alone halves this benchmark's throughput.
      const handle = timers.setTimeout(() => {
        timeouts++;
        waiting.delete(id);
        request();
      }, 200);
      waiting.set(id, handle);
      transport.send(rng.pick(others), { t: 'req', id });
    };

    transport.onMessage((from: string, msg: WireMessage) => {
      if (msg.t === 'req') {
        transport.send(from, { t: 'res', id: msg.id });
      } else {
        const h = waiting.get(msg.id as number);
        if (h === undefined) return; // duplicate or late
        waiting.delete(msg.id as number);
        timers.clearTimeout(h);
        if (net.stats.delivered >= messages) stop = true;
        request();
      }
    });
    for (let i = 0; i < OUTSTANDING_PER_NODE; i++) sched.at(rng.int(10), request);
  }

  const t0 = process.hrtime.bigint();
  sched.runUntilIdle();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const s = net.stats;
  const events = sched.eventsRun;
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  console.log(
    `${label.padEnd(34)} ${fmt(events / seconds).padStart(11)} events/s  ${fmt(s.delivered / seconds).padStart(11)} msgs/s  ` +
      `(${fmt(events)} events, ${fmt(s.sent)} sent, ${fmt(s.dropped)} dropped, ${fmt(s.duplicated)} dup, ` +
      `${fmt(timeouts)} timeouts, ${fmt(sched.now())} ms virtual, ${seconds.toFixed(2)} s wall)`,
  );
}

const messages = Number(process.argv[2] ?? 1_000_000);
run('warm-up', 100_000, {});
run('clean network, FIFO', messages, { minDelayMs: 1, maxDelayMs: 5 });
run('1% loss, 1% dup, reorder', messages, {
  dropRate: 0.01,
  duplicateRate: 0.01,
  minDelayMs: 1,
  maxDelayMs: 20,
  reorder: true,
});
