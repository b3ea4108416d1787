// Baseline for bench/redirect.ts: the physical limit of a Node redirect on this machine.
// A bare node:http server with the links in a Map answers GET /:slug with 302 + Location
// (+ cache-control: no-store) and increments a per-slug counter in another Map. Nothing else.
//
// Standalone process: HOST (default 127.0.0.1), PORT (default 0: any free port),
// LINKS = JSON object {slug: url}. Prints one line `{"port": <port>}` on stdout once listening.
// GET /__count/:slug answers the slug's counter (read by the benchmark after the load).
import { createServer } from 'node:http';

const links = new Map<string, string>(Object.entries(JSON.parse(process.env.LINKS ?? '{}') as Record<string, string>));
const counts = new Map<string, number>();

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?', 1)[0]!;
  if (req.method === 'GET' && path.startsWith('/__count/')) {
    const slug = path.slice('/__count/'.length);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ slug, count: counts.get(slug) ?? 0 }));
    return;
  }
  const slug = path.slice(1);
  const url = req.method === 'GET' || req.method === 'HEAD' ? links.get(slug) : undefined;
  if (url === undefined) {
    res.writeHead(404, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
    res.end('Not found');
    return;
  }
  if (req.method === 'GET') counts.set(slug, (counts.get(slug) ?? 0) + 1);
  res.writeHead(302, { location: url, 'cache-control': 'no-store', 'content-length': '0' });
  res.end();
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : 0 })}\n`);
});
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => server.close(() => process.exit(0)).closeAllConnections());
