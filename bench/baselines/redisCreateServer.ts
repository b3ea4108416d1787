// Baseline for bench/creates.ts: what a Node app backed by Redis does to create a short link.
// A node:http server answers POST /api/links (JSON body {url}, `Authorization: Bearer <key>`)
// by checking the key against the one it was given, validating the URL, minting a random
// 7-character base62 slug, `SET link:<slug> <doc> NX` (a taken slug draws another), then
// `SADD owns:<owner> <slug>`, and answering 201 with the link as JSON, like ringlink's
// POST /api/links. One ioredis connection (it pipelines the commands of concurrent requests).
//
// Standalone process: HOST (default 127.0.0.1), PORT (default 0: any free port), REDIS_URL,
// API_KEY (the bearer key it accepts), OWNER. Prints one line `{"port": <port>}` on stdout once
// listening. GET /__count answers the number of links the owner's set holds.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Redis } from 'ioredis';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { enableAutoPipelining: false });
const expected = Buffer.from(`Bearer ${process.env.API_KEY ?? ''}`);
const owner = process.env.OWNER ?? 'bench';
/** The most a request body may hold (bytes), as ringlink's JSON bodies. */
const bodyBytesMax = 16 * 1024;
/** Slugs drawn per create before giving up (a taken slug draws another). */
const slugDrawsMax = 5;
const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomSlug(): string {
  let out = '';
  while (out.length < 7) for (const b of randomBytes(8)) if (b < 248 && out.length < 7) out += BASE62[b % 62];
  return out;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > bodyBytesMax) resolve(null);
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function create(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const auth = Buffer.from(req.headers.authorization ?? '');
  if (auth.length !== expected.length || !timingSafeEqual(auth, expected))
    return send(res, 401, { error: 'unauthorized' });
  const text = await readBody(req);
  if (text === null) return send(res, 413, { error: 'body too large' });
  let url: URL;
  try {
    url = new URL((JSON.parse(text) as { url: string }).url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    return send(res, 422, { error: 'url must be an http(s) URL' });
  }
  const now = Date.now();
  for (let draw = 0; draw < slugDrawsMax; draw++) {
    const slug = randomSlug();
    const doc = { slug, url: url.href, owner, createdAt: now, updatedAt: now, redirectStatus: 302 };
    if ((await redis.set(`link:${slug}`, JSON.stringify(doc), 'NX')) !== 'OK') continue;
    await redis.sadd(`owns:${owner}`, slug);
    return send(res, 201, { ...doc, shortUrl: `http://${req.headers.host}/${slug}` }, { location: `/${slug}` });
  }
  send(res, 503, { error: 'no free slug' });
}

const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/api/links') {
    create(req, res).catch((err: Error) => send(res, 500, { error: err.message }));
    return;
  }
  if (req.method === 'GET' && req.url === '/__count') {
    redis.scard(`owns:${owner}`).then(
      (count) => send(res, 200, { count }),
      (err: Error) => send(res, 500, { error: err.message }),
    );
    return;
  }
  send(res, 404, { error: 'not found' });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  const addr = server.address();
  console.log(JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : 0 }));
});
