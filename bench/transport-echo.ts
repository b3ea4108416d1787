// Echo peer for bench/transport.ts, run as a child process:
//   node --import tsx bench/transport-echo.ts
// One WsTransport on 127.0.0.1 (ephemeral port) that answers every request with an
// RPC-style reply of the same body, over the socket it came in on. Prints
// {"addr":"127.0.0.1:PORT"} on stdout once listening; exits when stdin closes.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WsTransport } from '../server/transport/wsTransport';

const secret = process.env.BENCH_CLUSTER_SECRET ?? 'bench-secret';
const server = createServer((_req, res) => {
  res.statusCode = 404;
  res.end();
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const addr = `127.0.0.1:${(server.address() as AddressInfo).port}`;

const stderrLog = (level: string) => (m: string, f?: object) =>
  process.stderr.write(`[echo ${level}] ${m} ${f ? JSON.stringify(f) : ''}\n`);
const transport = new WsTransport({
  name: 'echo',
  addr,
  secret,
  resolve: () => undefined,
  logger: { debug() {}, info: stderrLog('info'), warn: stderrLog('warn'), error: stderrLog('error') },
});
transport.onMessage((from, m) => {
  if (m.t === 'rq') transport.send(from, { t: 'rs', id: m.id, b: m.b });
  else if (m.t === 'stats') transport.send(from, { t: 'stats', stats: transport.stats(), cpu: process.cpuUsage() });
});
server.on('upgrade', (req, socket, head) => {
  if ((req.url ?? '').split('?')[0] === '/_ring') transport.handleUpgrade(req, socket, head);
  else socket.destroy();
});

const stop = async () => {
  await transport.close();
  server.close();
  process.exit(0);
};
process.stdin.on('end', () => void stop());
process.stdin.on('error', () => void stop());
process.stdin.resume();
process.on('SIGTERM', () => void stop());
process.stdout.write(`${JSON.stringify({ addr })}\n`);
