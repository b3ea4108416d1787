// The production ring transport over real sockets on 127.0.0.1 (ephemeral ports).
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Packr, Unpackr } from 'msgpackr';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { WireMessage } from '../../ring';
import { WsTransport, type WsTransportLimits } from '../../server/transport/wsTransport';
import { freePort } from '../../testkit';

const SECRET = 'test-cluster-secret';
const packr = new Packr({ useRecords: false, moreTypes: true });
const unpackr = new Unpackr({ useRecords: false, moreTypes: true, mapsAsObjects: true });

interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  m: string;
  f: object | undefined;
}

interface TestNode {
  name: string;
  addr: string;
  port: number;
  t: WsTransport;
  server: Server;
  inbox: { from: string; m: WireMessage }[];
  logs: LogLine[];
  upgrades: number;
  stop(): Promise<void>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  const all = cleanups.splice(0).reverse();
  for (const c of all) await c();
});

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

async function startNode(
  name: string,
  opts: {
    directory?: Map<string, string>;
    secret?: string;
    port?: number;
    advertise?: string;
    limits?: Partial<WsTransportLimits>;
  } = {},
): Promise<TestNode> {
  const server = createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  const port = await listen(server, opts.port ?? 0);
  const addr = opts.advertise ?? `127.0.0.1:${port}`;
  const directory = opts.directory ?? new Map<string, string>();
  directory.set(name, addr);
  const logs: LogLine[] = [];
  const logger = {
    debug: (m: string, f?: object) => logs.push({ level: 'debug', m, f }),
    info: (m: string, f?: object) => logs.push({ level: 'info', m, f }),
    warn: (m: string, f?: object) => logs.push({ level: 'warn', m, f }),
    error: (m: string, f?: object) => logs.push({ level: 'error', m, f }),
  };
  const t = new WsTransport({
    name,
    addr,
    secret: opts.secret ?? SECRET,
    resolve: (n) => directory.get(n),
    logger,
    limits: { reconnectBaseMs: 20, reconnectMaxMs: 200, handshakeTimeoutMs: 1000, ...opts.limits },
  });
  const node: TestNode = {
    name,
    addr,
    port,
    t,
    server,
    inbox: [],
    logs,
    upgrades: 0,
    stop: async () => {
      await t.close();
      await closeServer(server);
    },
  };
  t.onMessage((from, m) => node.inbox.push({ from, m }));
  server.on('upgrade', (req, socket, head) => {
    node.upgrades++;
    if ((req.url ?? '').split('?')[0] === '/_ring') t.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  let stopping: Promise<void> | null = null;
  const stopReally = node.stop;
  const stopOnce = () => (stopping ??= stopReally());
  node.stop = stopOnce;
  cleanups.push(stopOnce);
  return node;
}

async function waitFor(cond: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const types = (n: TestNode) => n.inbox.map((e) => e.m.t);

// The handshake as the protocol defines it, written out independently of the implementation.
function mac(label: 'client' | 'server', challenge: Uint8Array, name: string, addr: string): Buffer {
  const h = createHmac('sha256', SECRET);
  for (const part of [Buffer.from(`ringlink-ring-v1 ${label}`), challenge, Buffer.from(name), Buffer.from(addr)]) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(part.length);
    h.update(len);
    h.update(part);
  }
  return h.digest();
}

/** Frames a raw client received and has not read yet (recorded from the start: the server speaks first). */
const inboxes = new WeakMap<WebSocket, { frames: Buffer[]; wake: (() => void) | null }>();

async function nextFrame(ws: WebSocket, timeoutMs = 2000): Promise<Buffer> {
  const box = inboxes.get(ws)!;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const f = box.frames.shift();
    if (f !== undefined) return f;
    if (ws.readyState === WebSocket.CLOSED) throw new Error('closed');
    if (Date.now() > deadline) throw new Error('no frame');
    await new Promise<void>((r) => {
      box.wake = r;
      setTimeout(r, 20);
    });
  }
}

function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) resolve(-1);
    else ws.once('close', (code) => resolve(code));
  });
}

function rawClient(node: TestNode, options: { autoPong?: boolean } = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${node.port}/_ring`, options);
    const box: { frames: Buffer[]; wake: (() => void) | null } = { frames: [], wake: null };
    inboxes.set(ws, box);
    ws.on('message', (data) => {
      box.frames.push(data as Buffer);
      box.wake?.();
    });
    ws.on('close', () => box.wake?.());
    ws.on('error', () => {});
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', () => reject(new Error('upgrade refused')));
  });
}

/** Authenticate as `name` by hand; returns the open socket. */
async function handshakeAs(
  node: TestNode,
  name: string,
  addr: string,
  options: { autoPong?: boolean } = {},
): Promise<WebSocket> {
  const ws = await rawClient(node, options);
  const hello = unpackr.unpack(await nextFrame(ws)) as { v: number; challenge: Uint8Array };
  expect(hello.v).toBe(1);
  expect(hello.challenge).toHaveLength(32);
  const challenge2 = randomBytes(32);
  const answerP = nextFrame(ws);
  ws.send(packr.pack({ v: 1, name, addr, challenge2, mac: mac('client', hello.challenge, name, addr) }));
  const answer = unpackr.unpack(await answerP) as { name: string; addr: string; mac: Uint8Array };
  expect(answer.name).toBe(node.name);
  expect(Buffer.from(answer.mac).equals(mac('server', challenge2, answer.name, answer.addr))).toBe(true);
  return ws;
}

describe('WsTransport', () => {
  it('two nodes exchange messages by name; replies flow back over the same link', async () => {
    const dirA = new Map<string, string>();
    const a = await startNode('a', { directory: dirA });
    const b = await startNode('b'); // b cannot resolve 'a': it can only answer over a's socket
    dirA.set('b', b.addr);

    for (let i = 0; i < 5; i++) a.t.send('b', { t: 'ping', i });
    await waitFor(() => b.inbox.length === 5, 3000, 'pings');
    expect(b.inbox.map((e) => e.from)).toEqual(['a', 'a', 'a', 'a', 'a']);
    expect(b.inbox.map((e) => e.m.i)).toEqual([0, 1, 2, 3, 4]); // one socket: FIFO

    b.t.send('a', { t: 'pong', i: 0 });
    await waitFor(() => a.inbox.length === 1, 3000, 'pong');
    expect(a.inbox[0]).toEqual({ from: 'b', m: { t: 'pong', i: 0 } });
    expect(a.upgrades).toBe(0); // b never dialled a
    expect(b.upgrades).toBe(1);
    expect(a.t.stats()).toMatchObject({ peers: 1, sent: 5, received: 1, dropped: 0, refusedHandshakes: 0, queued: 0 });
    expect(b.t.stats()).toMatchObject({ peers: 1, sent: 1, received: 5, dropped: 0, refusedHandshakes: 0 });
  });

  it('three nodes: by name, by host:port (the link is then registered under the learnt name), and to itself', async () => {
    const dir = new Map<string, string>();
    const a = await startNode('a', { directory: dir });
    const b = await startNode('b', { directory: dir });
    const c = await startNode('c'); // knows no one: a joiner with only seed addresses
    for (const [from, to] of [
      [a, b],
      [b, a],
      [a, c],
    ] as const) {
      if (to !== c) from.t.send(to.name, { t: 'hi', from: from.name });
    }
    c.t.send(b.addr, { t: 'join', name: 'c' });
    c.t.send(a.addr, { t: 'join', name: 'c' });
    await waitFor(() => b.inbox.length === 2 && a.inbox.length === 2, 3000, 'hi + join');
    expect(b.inbox.find((e) => e.m.t === 'join')?.from).toBe('c');
    expect(a.inbox.find((e) => e.m.t === 'join')?.from).toBe('c');

    // b and a answer c by name over c's sockets (c is in no directory).
    b.t.send('c', { t: 'welcome', by: 'b' });
    a.t.send('c', { t: 'welcome', by: 'a' });
    await waitFor(() => c.inbox.length === 2, 3000, 'welcomes');
    expect(new Set(c.inbox.map((e) => `${e.from}:${e.m.by as string}`))).toEqual(new Set(['b:b', 'a:a']));

    // c now reaches b by name, and b's address maps to the same link (no new dial).
    const upgradesB = b.upgrades;
    c.t.send('b', { t: 'byname' });
    c.t.send(b.addr, { t: 'byaddr' });
    await waitFor(() => b.inbox.length === 4, 3000, 'byname + byaddr');
    expect(types(b).slice(2)).toEqual(['byname', 'byaddr']);
    expect(b.upgrades).toBe(upgradesB);
    expect(c.t.stats().peers).toBe(2);

    // To itself, by name or by its own address.
    a.t.send('a', { t: 'self1' });
    a.t.send(a.addr, { t: 'self2' });
    await waitFor(() => a.inbox.length === 4, 3000, 'loopback');
    expect(a.inbox.slice(2)).toEqual([
      { from: 'a', m: { t: 'self1' } },
      { from: 'a', m: { t: 'self2' } },
    ]);

    // A name nobody can resolve is dropped and counted.
    const before = c.t.stats().dropped;
    c.t.send('nobody', { t: 'lost' });
    expect(c.t.stats().dropped).toBe(before + 1);
  });

  it('round-trips Uint32Array, Uint8Array, floats, null, big integers and nested plain objects', async () => {
    const dir = new Map<string, string>();
    const a = await startNode('a', { directory: dir, limits: { frameBytesMax: 64 * 1024 } });
    const b = await startNode('b', { directory: dir, limits: { frameBytesMax: 64 * 1024 } });
    const msg = {
      t: 'ae-digest',
      p: 17,
      buckets: new Uint32Array([0, 1, 0xffffffff, 123456789]),
      empty32: new Uint32Array(0),
      bytes: new Uint8Array([0, 1, 2, 254, 255]),
      f: 0.1 + 0.2,
      neg: -1.5e-300,
      big: 2 ** 53 - 1,
      i40: -(2 ** 40),
      n: null,
      yes: true,
      s: 'héllo ✓',
      nested: { list: [1, 'two', null, { deep: new Uint8Array([7]) }], obj: {} },
      entries: [['k1', { v: 1, vv: { a: 2 } }]],
    };
    a.t.send('b', msg);
    await waitFor(() => b.inbox.length === 1, 3000, 'message');
    const got = b.inbox[0]!.m;
    expect(got).toEqual(msg);
    expect(got.buckets).toBeInstanceOf(Uint32Array);
    expect(got.empty32).toBeInstanceOf(Uint32Array);
    expect(got.bytes).toBeInstanceOf(Uint8Array);
    expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(got.nested)).toBe(Object.prototype);
    expect(Object.is(got.f, 0.1 + 0.2)).toBe(true);

    // Too big for a frame: dropped at the sender, the link survives.
    const dropped = a.t.stats().dropped;
    a.t.send('b', { t: 'huge', data: new Uint8Array(100 * 1024) });
    a.t.send('b', { t: 'after' });
    await waitFor(() => b.inbox.length === 2, 3000, 'after');
    expect(types(b)).toEqual(['ae-digest', 'after']);
    expect(a.t.stats().dropped).toBe(dropped + 1);
  });

  it('a node with the wrong secret is refused in both directions and delivers nothing', async () => {
    const dir = new Map<string, string>();
    const a = await startNode('a', { directory: dir });
    const x = await startNode('x', { directory: dir, secret: 'wrong-secret' });

    x.t.send('a', { t: 'evil' }); // x dials a: a refuses
    a.t.send('x', { t: 'hello' }); // a dials x: x refuses
    await waitFor(() => a.t.stats().refusedHandshakes >= 1 && x.t.stats().refusedHandshakes >= 1, 3000, 'refusals');
    await sleep(150);
    expect(a.inbox).toEqual([]);
    expect(x.inbox).toEqual([]);
    expect(a.t.stats().peers).toBe(0);
    expect(x.t.stats().peers).toBe(0);
    const warn = a.logs.find((l) => l.level === 'warn' && l.m.startsWith('refused ring connection from 127.0.0.1:'));
    expect(warn?.m).toMatch(/bad secret$/);
    expect(
      x.logs.some((l) => l.level === 'warn' && /^refused ring connection from 127\.0\.0\.1:\d+: bad secret$/.test(l.m)),
    ).toBe(true);
  });

  it('a server that cannot prove the secret is refused by the client, and its frames never reach the handler', async () => {
    const a = await startNode('a');
    const http = createServer();
    const port = await listen(http, 0);
    const wss = new WebSocketServer({ noServer: true });
    http.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws)));
    wss.on('connection', (ws) => {
      ws.on('error', () => {});
      ws.send(packr.pack({ v: 1, challenge: randomBytes(32) }));
      ws.once('message', () => {
        ws.send(packr.pack({ v: 1, name: 'impostor', addr: `127.0.0.1:${port}`, mac: randomBytes(32) }));
        ws.send(packr.pack({ t: 'pwned' }));
      });
    });
    cleanups.push(async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await closeServer(http);
    });

    a.t.send(`127.0.0.1:${port}`, { t: 'join' });
    await waitFor(() => a.t.stats().refusedHandshakes >= 1, 3000, 'client-side refusal');
    await sleep(100);
    expect(a.inbox).toEqual([]);
    expect(a.t.stats().peers).toBe(0);
    expect(
      a.logs.some((l) => l.level === 'warn' && l.m === `ring handshake with 127.0.0.1:${port} failed: bad secret`),
    ).toBe(true);
  });

  it('garbage on the ring path (before the handshake) never crashes the server nor reaches the handler', async () => {
    const a = await startNode('a', { limits: { handshakeTimeoutMs: 300 } });

    const garbage: (Buffer | string)[] = [
      randomBytes(64),
      Buffer.from([0xc1]),
      Buffer.alloc(0),
      'text frame',
      packr.pack({ t: 'rq', id: 1, m: 'store', b: {} }), // a ring message before any handshake
      packr.pack({ v: 1, name: 'z', addr: 'z:1', challenge2: randomBytes(32), mac: randomBytes(32) }), // bad mac
      packr.pack({ v: 1, name: 'z', addr: 'z:1', challenge2: 'short', mac: 5 }), // wrong types
      randomBytes(1024 * 1024),
    ];
    for (const g of garbage) {
      const ws = await rawClient(a);
      await nextFrame(ws); // the challenge
      ws.send(g);
      ws.send(packr.pack({ t: 'after-garbage' }));
      expect(await closed(ws)).toBeGreaterThan(0);
    }
    // Silence: refused at the timeout. (9 refusals in all: under the 10 warnings/s cap.)
    const idle = await rawClient(a);
    await closed(idle);
    expect(a.t.stats().refusedHandshakes).toBe(garbage.length + 1);
    expect(a.logs.filter((l) => l.level === 'warn' && l.m.includes('handshake timeout'))).toHaveLength(1);
    expect(a.logs.filter((l) => l.level === 'warn' && l.m.endsWith(': bad secret'))).toHaveLength(1);

    // A raw socket opened on another path is not ours; the server is unharmed.
    const b = await startNode('b');
    b.t.send(a.addr, { t: 'fine' });
    await waitFor(() => a.inbox.length === 1, 3000, 'a good message');
    expect(a.inbox).toEqual([{ from: 'b', m: { t: 'fine' } }]);
  });

  it('refusal warnings are capped per second; the rest are logged at debug and all are counted', async () => {
    const a = await startNode('a');
    const sockets = await Promise.all(Array.from({ length: 25 }, () => rawClient(a)));
    for (const ws of sockets) ws.send(randomBytes(16));
    await Promise.all(sockets.map(closed));
    expect(a.t.stats().refusedHandshakes).toBe(25);
    const refusals = a.logs.filter((l) => l.m.startsWith('refused ring connection from'));
    expect(refusals).toHaveLength(25);
    expect(refusals.filter((l) => l.level === 'warn').length).toBeLessThanOrEqual(20); // 10 per 1-second window
  });

  it('malformed frames from an authenticated peer are dropped; its good messages get through, under its authenticated name', async () => {
    const a = await startNode('a');
    const ws = await handshakeAs(a, 'raw', '127.0.0.1:1');
    ws.send(randomBytes(40));
    ws.send('a text frame');
    ws.send(packr.pack(42));
    ws.send(packr.pack({ no: 't' }));
    ws.send(Buffer.concat([packr.pack({ t: 'one', from: 'spoofed' }), packr.pack({ t: 'two' })]));
    ws.send(Buffer.concat([packr.pack({ t: 'three' }), Buffer.from([0x92, 0x01])])); // truncated tail
    await waitFor(() => a.inbox.length === 3, 3000, 'good messages');
    expect(a.inbox).toEqual([
      { from: 'raw', m: { t: 'one', from: 'spoofed' } },
      { from: 'raw', m: { t: 'two' } },
      { from: 'raw', m: { t: 'three' } },
    ]);
    expect(a.logs.some((l) => l.level === 'debug' && l.m.includes('malformed frame'))).toBe(true);
    expect(a.logs.some((l) => l.level === 'error')).toBe(false);

    // The node answers 'raw' (which it cannot resolve) over that socket.
    const reply = nextFrame(ws);
    a.t.send('raw', { t: 'reply', n: new Uint32Array([9]) });
    const got = unpackr.unpack(await reply) as WireMessage;
    expect(got).toEqual({ t: 'reply', n: new Uint32Array([9]) });
    ws.terminate();
  });

  it('an authenticated socket that stops answering pings is closed by the heartbeat', async () => {
    const a = await startNode('a', { limits: { heartbeatMs: 50 } });
    const ws = await handshakeAs(a, 'mute', '127.0.0.1:1', { autoPong: false });
    await waitFor(() => a.t.stats().peers === 1, 1000, 'link up');
    expect(await closed(ws)).toBe(1006); // terminated, no close frame
    expect(a.t.stats().peers).toBe(0);
  });

  it('a dial that reaches this node itself (a seed under another address) delivers locally; a dial answered by the wrong node is dropped', async () => {
    const dir = new Map<string, string>();
    const a = await startNode('a', { directory: dir, advertise: 'a.example:1' });
    a.t.send(`127.0.0.1:${a.port}`, { t: 'join', n: 1 });
    await waitFor(() => a.inbox.length === 1, 3000, 'self delivery');
    expect(a.inbox[0]).toEqual({ from: 'a', m: { t: 'join', n: 1 } });
    const upgrades = a.upgrades;
    a.t.send(`127.0.0.1:${a.port}`, { t: 'join', n: 2 }); // now known to be itself: no dial
    await waitFor(() => a.inbox.length === 2, 3000, 'second self delivery');
    expect(a.upgrades).toBe(upgrades);
    expect(a.t.stats().refusedHandshakes).toBe(0);

    const c = await startNode('c', { directory: dir });
    dir.set('b', c.addr); // stale directory: b's address now belongs to c
    a.t.send('b', { t: 'for-b' });
    await waitFor(() => a.logs.some((l) => l.m.includes('another answered')), 3000, 'mismatch warning');
    await sleep(50);
    expect(c.inbox).toEqual([]);
    expect(a.t.stats().peers).toBe(0);
  });

  it('a handler that throws does not break the link', async () => {
    const dir = new Map<string, string>();
    const a = await startNode('a', { directory: dir });
    const b = await startNode('b', { directory: dir });
    b.t.onMessage((from, m) => {
      if (m.t === 'boom') throw new Error('handler bug');
      b.inbox.push({ from, m });
    });
    a.t.send('b', { t: 'boom' });
    a.t.send('b', { t: 'ok' });
    await waitFor(() => b.inbox.length === 1, 3000, 'ok');
    expect(b.logs.some((l) => l.level === 'error' && l.m.includes('handler threw'))).toBe(true);
  });

  it('reconnects after the peer restarts on the same port', async () => {
    const dir = new Map<string, string>();
    const a = await startNode('a', { directory: dir });
    let b = await startNode('b', { directory: dir });
    const port = b.port;
    a.t.send('b', { t: 'before' });
    await waitFor(() => b.inbox.length === 1, 3000, 'before');

    await b.stop();
    await waitFor(() => a.t.stats().peers === 0, 3000, 'link down');
    await sleep(100); // a retries against a closed port meanwhile
    b = await startNode('b', { directory: dir, port });
    a.t.send('b', { t: 'after' });
    await waitFor(() => b.inbox.length === 1, 3000, 'after');
    expect(b.inbox[0]).toEqual({ from: 'a', m: { t: 'after' } });
    expect(a.t.stats().reconnects).toBeGreaterThan(0);
    b.t.send('a', { t: 'back' });
    await waitFor(() => a.inbox.length === 1, 3000, 'back');
  });

  it('while a peer is down, a flood keeps only the newest peerQueueMessagesMax messages and counts the rest as dropped', async () => {
    const dir = new Map<string, string>();
    const port = await freePort();
    dir.set('b', `127.0.0.1:${port}`);
    const a = await startNode('a', { directory: dir, limits: { peerQueueMessagesMax: 100 } });
    for (let i = 0; i < 5000; i++) a.t.send('b', { t: 'flood', i, pad: 'x'.repeat(100) });
    expect(a.t.stats()).toMatchObject({ queued: 100, dropped: 4900, sent: 0 });
    await sleep(150); // failed dials and backoff: nothing grows
    expect(a.t.stats()).toMatchObject({ queued: 100, dropped: 4900 });

    const b = await startNode('b', { directory: dir, port });
    await waitFor(() => b.inbox.length === 100, 3000, 'queued messages');
    expect(b.inbox.map((e) => e.m.i)).toEqual(Array.from({ length: 100 }, (_, k) => 4900 + k));
    expect(a.t.stats()).toMatchObject({ queued: 0, sent: 100, dropped: 4900 });
  });

  it('setBlocked drops traffic both ways; unblocking restores it', async () => {
    const dir = new Map<string, string>();
    const a = await startNode('a', { directory: dir });
    const b = await startNode('b', { directory: dir });
    a.t.send('b', { t: 'open' });
    await waitFor(() => b.inbox.length === 1, 3000, 'open');

    a.t.setBlocked(['b']);
    const droppedA = a.t.stats().dropped;
    a.t.send('b', { t: 'blocked-out' });
    b.t.send('a', { t: 'blocked-in' });
    await sleep(200);
    expect(types(b)).toEqual(['open']);
    expect(a.inbox).toEqual([]);
    expect(a.t.stats().dropped).toBe(droppedA + 2);

    a.t.setBlocked([]);
    a.t.send('b', { t: 'healed-out' });
    b.t.send('a', { t: 'healed-in' });
    await waitFor(() => b.inbox.length === 2 && a.inbox.length === 1, 3000, 'healed');
    expect(types(b)).toEqual(['open', 'healed-out']);
    expect(types(a)).toEqual(['healed-in']);
  });

  it('close() resolves, closes links, and later sends are dropped', async () => {
    const dir = new Map<string, string>();
    const a = await startNode('a', { directory: dir });
    const b = await startNode('b', { directory: dir });
    a.t.send('b', { t: 'x' });
    await waitFor(() => b.inbox.length === 1, 3000, 'x');
    await a.t.close();
    await waitFor(() => b.t.stats().peers === 0, 3000, 'b sees the link close');
    const dropped = a.t.stats().dropped;
    a.t.send('b', { t: 'y' });
    expect(a.t.stats().dropped).toBe(dropped + 1);
    await a.t.close(); // idempotent
  });
});
