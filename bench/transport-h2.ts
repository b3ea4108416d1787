// The HTTP/2 alternative to the ws transport, measured the same way as bench/transport.ts:
// one long-lived bidirectional HTTP/2 stream per peer carrying length-prefixed msgpack
// frames (the gRPC-streaming shape), an echo peer in a child process, the same ~180-byte
// request messages, a window of 256 in flight for 10 s, then a fixed 2k req/s for p50/p99.
//
// npm run bench:transport-h2 [-- --json]   (compare with npm run bench:transport)
import { fork } from 'node:child_process';
import { connect, createServer, type ServerHttp2Stream } from 'node:http2';
import { Packr, Unpackr } from 'msgpackr';
import { parseArgs } from 'node:util';

const packr = new Packr({ useRecords: false, moreTypes: true });
const unpackr = new Unpackr({ useRecords: false, moreTypes: true });

/** Split a byte stream into u32-length-prefixed frames. */
function framer(onFrame: (buf: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 4) {
      const len = pending.readUInt32LE(0);
      if (pending.length < 4 + len) break;
      onFrame(pending.subarray(4, 4 + len));
      pending = pending.subarray(4 + len);
    }
  };
}

function frame(msg: unknown): Buffer {
  const body = packr.pack(msg);
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32LE(body.length, 0);
  return Buffer.concat([head, body]);
}

if (process.argv[2] === '--echo') {
  const server = createServer();
  server.on('stream', (stream: ServerHttp2Stream) => {
    stream.respond({ ':status': 200 });
    stream.on(
      'data',
      framer((buf) => {
        const m = unpackr.unpack(buf) as { id: number; b: unknown };
        stream.write(frame({ t: 'rs', id: m.id, b: m.b }));
      }),
    );
  });
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as { port: number }).port));
} else {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      duration: { type: 'string', default: '10' },
      window: { type: 'string', default: '256' },
      rate: { type: 'string', default: '2000' },
    },
  });
  const child = fork(new URL(import.meta.url).pathname, ['--echo'], { execArgv: process.execArgv });
  const port = await new Promise<number>((r) => child.once('message', (p) => r(p as number)));
  const session = connect(`http://127.0.0.1:${port}`);
  const stream = session.request({ ':method': 'POST', ':path': '/_ring' }, { endStream: false });
  const sentAt = new Map<number, number>();
  const rtts: number[] = [];
  let onReply: () => void = () => {};
  stream.on(
    'data',
    framer((buf) => {
      const m = unpackr.unpack(buf) as { id: number };
      const t = sentAt.get(m.id);
      if (t !== undefined) {
        rtts.push(performance.now() - t);
        sentAt.delete(m.id);
      }
      onReply();
    }),
  );
  let id = 0;
  const send = () => {
    id++;
    sentAt.set(id, performance.now());
    stream.write(
      frame({
        t: 'rq',
        id,
        s: 'ab12cd34',
        m: 'store',
        b: {
          entries: [
            [
              `link/k${id}`,
              {
                k: 'r',
                vv: { 'n1@ab12cd34.7': 3 },
                s: [
                  {
                    d: ['n1@ab12cd34.7', 3],
                    v: { url: 'https://example.com/a/path', o: 'sess:0123456789ab' },
                    at: 1700000000000,
                  },
                ],
              },
            ],
          ],
        },
      }),
    );
  };
  const pct = (xs: number[], p: number) =>
    [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

  // Windowed throughput.
  const windowSize = Number(values.window);
  const durationMs = Number(values.duration) * 1000;
  let done = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    onReply = () => {
      done++;
      if (performance.now() - t0 < durationMs) send();
      else if (sentAt.size === 0) resolve();
    };
    for (let i = 0; i < windowSize; i++) send();
  });
  const windowed = {
    roundTripsPerSecond: Math.round(done / ((performance.now() - t0) / 1000)),
    p50Ms: +pct(rtts, 50).toFixed(2),
    p99Ms: +pct(rtts, 99).toFixed(2),
  };

  // Fixed rate.
  rtts.length = 0;
  onReply = () => {};
  const rate = Number(values.rate);
  const rateMs = 5000;
  const t1 = performance.now();
  let scheduled = 0;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const due = Math.floor(((performance.now() - t1) / 1000) * rate);
      while (scheduled < due && performance.now() - t1 < rateMs) {
        send();
        scheduled++;
      }
      if (performance.now() - t1 >= rateMs + 500) {
        clearInterval(tick);
        resolve();
      }
    }, 1);
  });
  const fixed = {
    rate,
    answered: rtts.length,
    sent: scheduled,
    p50Ms: +pct(rtts, 50).toFixed(3),
    p99Ms: +pct(rtts, 99).toFixed(3),
  };
  const result = { transport: 'http2 stream + msgpack', window: windowSize, windowed, fixed };
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(
      `HTTP/2 stream, window ${windowSize}: ${windowed.roundTripsPerSecond} round trips/s, p50 ${windowed.p50Ms} ms, p99 ${windowed.p99Ms} ms`,
    );
    console.log(
      `HTTP/2 stream, ${rate} req/s: ${fixed.answered}/${fixed.sent} answered, p50 ${fixed.p50Ms} ms, p99 ${fixed.p99Ms} ms`,
    );
  }
  stream.close();
  session.close();
  child.kill();
}
