// Ring transport throughput and latency over a real loopback socket between two processes.
// The parent runs one WsTransport and sends RPC-like requests (~200-byte store bodies) to
// an echo peer in a child process (bench/transport-echo.ts), which answers each with a
// reply of the same body over the same link.
//
//   1. closed loop: a fixed window of requests in flight for --duration seconds:
//      round trips/s (each is two messages) and round-trip latency p50/p99 at that load;
//   2. open loop: a fixed --rate of requests/s for --rate-duration seconds: p50/p99 at light load.
//
// npx tsx bench/transport.ts [--duration 10] [--window 256] [--rate 2000] [--rate-duration 5] [--json]
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Packr } from 'msgpackr';
import type { WireMessage } from '../ring';
import { WsTransport } from '../server/transport/wsTransport';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    window: { type: 'string', default: '256' },
    rate: { type: 'string', default: '2000' },
    'rate-duration': { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});
const durationS = Number(values.duration);
const windowSize = Number(values.window);
const rate = Number(values.rate);
const rateDurationS = Number(values['rate-duration']);
const warmupS = Number(values.warmup);
const secret = 'bench-secret';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'transport-echo.ts')], {
  cwd: root,
  stdio: ['pipe', 'pipe', 'inherit'],
  env: { ...process.env, BENCH_CLUSTER_SECRET: secret },
});
const echoAddr = await new Promise<string>((resolve, reject) => {
  const rl = createInterface({ input: child.stdout! });
  rl.once('line', (line) => resolve((JSON.parse(line) as { addr: string }).addr));
  child.once('exit', (code) => reject(new Error(`echo process exited (${code}) before listening`)));
});

const transport = new WsTransport({
  name: 'bench',
  addr: 'bench.invalid:1', // never dialled: the echo peer answers over our socket
  secret,
  resolve: () => undefined,
  logger: {
    debug() {},
    info() {},
    warn: (m) => console.error(`[bench warn] ${m}`),
    error: (m) => console.error(`[bench error] ${m}`),
  },
});

let handler: (m: WireMessage) => void = () => {};
transport.onMessage((_from, m) => handler(m));

let nextId = 1;
function request(id: number): WireMessage {
  const key = `l/${(id * 2654435761) % 1e9}`.padEnd(12, '0');
  return {
    t: 'rq',
    id,
    s: '9f3a61c2',
    m: 'store',
    b: {
      p: id % 64,
      entries: [
        [
          key,
          {
            v: { url: 'https://example.com/articles/2024/how-rings-work?utm=bench', owner: 'u-4821' },
            vv: [
              ['n0', id],
              ['n1', 7],
            ],
            exp: 1767225600000,
          },
        ],
      ],
    },
  };
}
const requestBytes = new Packr({ useRecords: false, moreTypes: true }).pack(request(123456)).length;

/** Growable sample store for round-trip latencies (ms). */
class Samples {
  private data = new Float64Array(1 << 16);
  n = 0;
  add(x: number): void {
    if (this.n === this.data.length) {
      const d = new Float64Array(this.data.length * 2);
      d.set(this.data);
      this.data = d;
    }
    this.data[this.n++] = x;
  }
  percentiles(): { p50: number; p99: number; p999: number; max: number } {
    const s = this.data.subarray(0, this.n).sort();
    const at = (q: number) => (this.n === 0 ? NaN : s[Math.min(this.n - 1, Math.floor(q * this.n))]!);
    const r = (x: number) => Math.round(x * 1000) / 1000;
    return { p50: r(at(0.5)), p99: r(at(0.99)), p999: r(at(0.999)), max: r(this.n === 0 ? NaN : s[this.n - 1]!) };
  }
}

const sentAt = new Map<number, number>();
let target = echoAddr;

// Connect: the first round trip dials by address and learns the peer's name.
await new Promise<void>((resolve) => {
  handler = (m) => {
    if (m.t === 'rs') resolve();
  };
  transport.send(target, request(nextId++));
});
target = 'echo';

/** Closed loop: keep `window` requests in flight for `seconds`. */
function closedLoop(
  window: number,
  seconds: number,
): Promise<{ roundTrips: number; elapsedS: number; lat: Samples; lost: number }> {
  return new Promise((resolve) => {
    const lat = new Samples();
    let roundTrips = 0;
    let inFlight = 0;
    const start = performance.now();
    const end = start + seconds * 1000;
    let stopping = false;
    const finish = () => {
      const elapsedS = (performance.now() - start) / 1000;
      handler = () => {};
      const lost = sentAt.size;
      sentAt.clear();
      resolve({ roundTrips, elapsedS, lat, lost });
    };
    const sendOne = () => {
      const id = nextId++;
      sentAt.set(id, performance.now());
      inFlight++;
      transport.send(target, request(id));
    };
    handler = (m) => {
      if (m.t !== 'rs') return;
      const t0 = sentAt.get(m.id as number);
      if (t0 === undefined) return;
      sentAt.delete(m.id as number);
      const now = performance.now();
      lat.add(now - t0);
      roundTrips++;
      inFlight--;
      if (now < end) sendOne();
      else if (!stopping) stopping = true;
      if (stopping && inFlight === 0) finish();
    };
    for (let i = 0; i < window; i++) sendOne();
    // Should requests be lost (they are not on loopback unless a bound drops them), stop anyway.
    setTimeout(
      () => {
        if (inFlight > 0) finish();
      },
      seconds * 1000 + 5000,
    ).unref();
  });
}

/** Open loop: `perSec` requests/s for `seconds`, paced by a 1 ms timer. */
function openLoop(
  perSec: number,
  seconds: number,
): Promise<{ sent: number; roundTrips: number; elapsedS: number; lat: Samples }> {
  return new Promise((resolve) => {
    const lat = new Samples();
    let roundTrips = 0;
    let sent = 0;
    const start = performance.now();
    const total = Math.round(perSec * seconds);
    handler = (m) => {
      if (m.t !== 'rs') return;
      const t0 = sentAt.get(m.id as number);
      if (t0 === undefined) return;
      sentAt.delete(m.id as number);
      lat.add(performance.now() - t0);
      roundTrips++;
      if (sent === total && roundTrips === total) done();
    };
    let timer: NodeJS.Timeout | null = null;
    const done = () => {
      if (timer !== null) clearTimeout(timer);
      handler = () => {};
      sentAt.clear();
      resolve({ sent, roundTrips, elapsedS: (performance.now() - start) / 1000, lat });
    };
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * perSec) / 1000));
      while (sent < due) {
        const id = nextId++;
        sentAt.set(id, performance.now());
        transport.send(target, request(id));
        sent++;
      }
      if (sent < total) timer = setTimeout(tick, 1);
      else timer = setTimeout(done, 5000); // give stragglers 5 s
    };
    tick();
  });
}

/** The echo process's CPU time so far (µs), asked over the link itself. */
function echoCpu(): Promise<number> {
  return new Promise((resolve) => {
    handler = (m) => {
      if (m.t !== 'stats') return;
      const cpu = m.cpu as { user: number; system: number };
      resolve(cpu.user + cpu.system);
    };
    transport.send(target, { t: 'stats' });
  });
}

if (warmupS > 0) await closedLoop(windowSize, warmupS);
const echoCpu0 = await echoCpu();
const cpuW = process.cpuUsage();
const closed = await closedLoop(windowSize, durationS);
const cpuC = process.cpuUsage(cpuW);
const echoCpuC = (await echoCpu()) - echoCpu0;
const open = await openLoop(rate, rateDurationS);

const stats = transport.stats();
await transport.close();
child.stdin!.end();
await new Promise<void>((resolve) => {
  const t = setTimeout(() => {
    child.kill('SIGTERM');
    resolve();
  }, 3000);
  child.once('exit', () => {
    clearTimeout(t);
    resolve();
  });
});

const closedPct = closed.lat.percentiles();
const openPct = open.lat.percentiles();
const result = {
  node: process.version,
  requestBytes,
  closedLoop: {
    window: windowSize,
    seconds: Math.round(closed.elapsedS * 100) / 100,
    roundTrips: closed.roundTrips,
    roundTripsPerSec: Math.round(closed.roundTrips / closed.elapsedS),
    messagesPerSec: Math.round((2 * closed.roundTrips) / closed.elapsedS),
    lost: closed.lost,
    latencyMs: closedPct,
    parentCpuPct: Math.round(((cpuC.user + cpuC.system) / 1e6 / closed.elapsedS) * 100),
    echoCpuPct: Math.round((echoCpuC / 1e6 / closed.elapsedS) * 100),
  },
  openLoop: {
    rate,
    seconds: Math.round(open.elapsedS * 100) / 100,
    sent: open.sent,
    roundTrips: open.roundTrips,
    latencyMs: openPct,
  },
  transport: stats,
};

if (values.json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const c = result.closedLoop;
  const o = result.openLoop;
  console.log(
    `ring transport (ws + msgpack, loopback, 2 processes, ${process.version}); request ${requestBytes} B packed`,
  );
  console.log(
    `  closed loop, window ${c.window}, ${c.seconds} s: ${c.roundTripsPerSec.toLocaleString('en-US')} round trips/s ` +
      `(${c.messagesPerSec.toLocaleString('en-US')} messages/s), RTT p50 ${c.latencyMs.p50} ms, p99 ${c.latencyMs.p99} ms, ` +
      `max ${c.latencyMs.max} ms; CPU parent ${c.parentCpuPct}%, echo ${c.echoCpuPct}%${c.lost > 0 ? `; ${c.lost} lost` : ''}`,
  );
  console.log(
    `  open loop, ${o.rate} req/s, ${o.seconds} s: ${o.roundTrips}/${o.sent} answered, RTT p50 ${o.latencyMs.p50} ms, ` +
      `p99 ${o.latencyMs.p99} ms, max ${o.latencyMs.max} ms`,
  );
  console.log(`  transport: sent ${stats.sent}, received ${stats.received}, dropped ${stats.dropped}`);
}
