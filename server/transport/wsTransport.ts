// The production ring transport: WebSockets carrying msgpack frames, mutually
// authenticated with HMAC-SHA256 over CLUSTER_SECRET.
//
// One logical link per peer name. A socket dialled in either direction carries traffic
// both ways once authenticated; when several sockets to one peer are open (both sides
// dialled, or a restarted peer dialled again), the most recently authenticated one sends.
// Delivery is best effort, exactly what ring/runtime.ts promises: messages are dropped
// (and counted) when a bound is hit, when a peer cannot be resolved, when a link is
// blocked, or when a socket dies with data in it. The ring's protocols tolerate that.
//
// Handshake (every frame binary msgpack; any deviation, a bad mac or a timeout closes the socket):
//   server -> client  {v: 1, challenge: 32 random bytes}
//   client -> server  {v: 1, name, addr, challenge2: 32 random bytes,
//                      mac: HMAC(secret, 'client' | challenge | name | addr)}
//   server -> client  {v: 1, name, addr, mac: HMAC(secret, 'server' | challenge2 | name | addr)}
// where `a | b | ...` is the concatenation of each part as a 4-byte big-endian length then
// its bytes (strings as UTF-8), and 'client' / 'server' are the labels
// 'ringlink-ring-v1 client' / 'ringlink-ring-v1 server' (distinct labels: a mac one side
// produces can never be replayed as the other side's). Each side authenticates the
// other with a fresh challenge of its own, so recorded handshakes cannot be replayed.
// Neither side sends ring messages before it has verified the other.
//
// Data frames: one or more msgpack-encoded WireMessages concatenated (the messages sent
// to one socket within one event loop turn are coalesced into one frame, sent once the turn's
// poll phase is done or once it reaches batchFlushBytes), each at most frameBytesMax bytes in total.
// The dialling side sends with an all-zero masking key (see zeroMask).
//
// Dialling: a name with no open link is dialled at resolve(name), or else at the address
// it advertised in an earlier (authenticated) handshake; "host:port" is dialled as is and
// the link is registered under the name its handshake reveals (sending to this node's
// own name or address delivers locally). Messages wait in a bounded per-peer queue
// meanwhile. A dialled link that drops is redialled with exponential backoff and jitter
// while the peer is a member (resolve knows it) or messages wait for it; a peer that is
// not a member gives up after a few failed dials in a row and drops its queue. An
// authenticated socket silent for a whole heartbeat interval (no frame, no pong) is terminated.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Packr, Unpackr } from 'msgpackr';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import type { Transport, WireMessage } from '../../ring';

export interface WsTransportLimits {
  /**
   * Messages queued per peer while (re)connecting; beyond this the oldest are dropped. The queue is also capped at
   * peerBufferedBytesMax bytes.
   */
  peerQueueMessagesMax: number;
  /** ws.bufferedAmount above which further sends to that peer are dropped (counted). */
  peerBufferedBytesMax: number;
  /** Largest accepted frame (ws maxPayload); also the largest frame (and so message) sent. */
  frameBytesMax: number;
  /** First reconnect delay; doubles per consecutive failure up to reconnectMaxMs, each delay drawn in [d/2, d). */
  reconnectBaseMs: number;
  reconnectMaxMs: number;
  /** From dialling (client) or accepting (server) until the peer is authenticated. */
  handshakeTimeoutMs: number;
  /** Ping interval on authenticated sockets; one with no sign of life for a whole interval is terminated. */
  heartbeatMs: number;
}

export const defaultWsTransportLimits: Readonly<WsTransportLimits> = {
  peerQueueMessagesMax: 4096,
  peerBufferedBytesMax: 8 * 1024 * 1024,
  frameBytesMax: 16 * 1024 * 1024,
  reconnectBaseMs: 100,
  reconnectMaxMs: 5000,
  handshakeTimeoutMs: 3000,
  heartbeatMs: 5000,
};

export interface WsTransportLogger {
  debug(m: string, f?: object): void;
  info(m: string, f?: object): void;
  warn(m: string, f?: object): void;
  error(m: string, f?: object): void;
}

export interface WsTransportOptions {
  /** This node's name. */
  name: string;
  /** host:port peers use to reach this node. */
  addr: string;
  /** CLUSTER_SECRET. */
  secret: string;
  /** Where a node name can be reached, from the ring's member list; undefined if unknown. */
  resolve(name: string): string | undefined;
  logger: WsTransportLogger;
  limits?: Partial<WsTransportLimits>;
  /** Upgrade path, default '/_ring'. */
  path?: string;
}

// A type alias, not an interface: assignable to Record<string, number> (metrics export it as is).
export type WsTransportStats = {
  /** Peer names with at least one authenticated open socket. */
  peers: number;
  /** Messages written to a socket (or delivered to this node itself). */
  sent: number;
  /** Messages handed to the receive handler. */
  received: number;
  /** Messages discarded, outbound or inbound, for any reason. */
  dropped: number;
  /** Handshakes this side refused (bad mac, malformed, timeout, too many pending). */
  refusedHandshakes: number;
  /** Dials made by the backoff timer (after a failed dial or a dropped link). */
  reconnects: number;
  /** Messages currently waiting for a link. */
  queued: number;
};

type Handler = (from: string, message: WireMessage) => void;

const protocolVersion = 1;
const challengeBytes = 32;
const macBytes = 32;
/** Handshake frames are tiny; anything bigger is refused without decoding. */
const handshakeFrameBytesMax = 2048;
const nameCharsMax = 256;
/** Inbound sockets still in their handshake; beyond this new ones are refused at once. */
const pendingHandshakesMax = 256;
/** Coalesced frames are sent once they reach this size even within one event loop turn (bytes). */
const batchFlushBytes = 256 * 1024;
/** Peers neither in the member list nor reachable give up after this many failed dials in a row. */
const unknownPeerDialAttemptsMax = 8;
/** Handshake-failure warnings per second; the rest go to debug (a port scan must not flood the log). */
const refusalWarningsPerSec = 10;
/** Grace for a close handshake before the socket is destroyed. */
const closeGraceMs = 500;
const labelClient = Buffer.from('ringlink-ring-v1 client', 'utf8');
const labelServer = Buffer.from('ringlink-ring-v1 server', 'utf8');
const hostPortPattern = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):\d{1,5}$/;

/** Bounded FIFO of packed messages. */
class FrameQueue {
  private items: (Buffer | undefined)[] = [];
  private head = 0;
  bytes = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(buf: Buffer): void {
    this.items.push(buf);
    this.bytes += buf.length;
  }

  shift(): Buffer | undefined {
    if (this.head >= this.items.length) return undefined;
    const buf = this.items[this.head];
    this.items[this.head++] = undefined;
    if (buf !== undefined) this.bytes -= buf.length;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return buf;
  }

  clear(): number {
    const n = this.length;
    this.items = [];
    this.head = 0;
    this.bytes = 0;
    return n;
  }
}

/** handshake -> open, or handshake -> failed (refused, closing); closed once the socket is. */
type ConnState = 'handshake' | 'open' | 'failed' | 'closed';

class Conn {
  state: ConnState = 'handshake';
  /** Inbound, counted in pendingInbound until authenticated or gone. */
  pending = false;
  /** Authenticated peer name. */
  name = '';
  /** Outbound: the Peer this dial serves (may be address-keyed until the handshake names it). */
  peer: Peer | null = null;
  /** Handshake step: client 0 = awaiting challenge, 1 = awaiting answer; server 0 = awaiting response. */
  step = 0;
  /** The challenge this side issued. */
  myChallenge: Buffer | null = null;
  handshakeTimer: NodeJS.Timeout | null = null;
  closeTimer: NodeJS.Timeout | null = null;
  alive = true;
  openedAt = 0;
  batch: Buffer[] = [];
  batchBytes = 0;
  batchCount = 0;
  flushQueued = false;
  constructor(
    readonly ws: WebSocket,
    readonly role: 'in' | 'out',
    /** For logs: the remote ip:port (inbound) or the dialled address (outbound). */
    readonly remote: string,
  ) {}
}

class Peer {
  /** Open authenticated sockets, most recently authenticated last. */
  readonly conns: Conn[] = [];
  readonly queue = new FrameQueue();
  /** Our outbound socket while dialling (or once open, until it closes). */
  dialing: Conn | null = null;
  /** Consecutive failed dials / short-lived links, for the backoff. */
  attempt = 0;
  retryTimer: NodeJS.Timeout | null = null;
  /** The address this peer advertised in its handshake (authenticated). */
  advertisedAddr: string | undefined;
  /** The address we last dialled it at. */
  dialAddr: string | undefined;
  /** Whether one of our dials to it ever succeeded: a dropped link is then redialled eagerly. */
  dialedOk = false;
  constructor(
    /** Node name, or null for a "host:port" dial whose name is not known yet. */
    public name: string | null,
    readonly addrKey: string | null,
  ) {}

  openConn(): Conn | undefined {
    for (let i = this.conns.length - 1; i >= 0; i--) {
      const c = this.conns[i]!;
      if (c.ws.readyState === WebSocket.OPEN) return c;
    }
    return undefined;
  }
}

function lengthPrefixedMac(secret: Buffer, label: Buffer, challenge: Uint8Array, name: string, addr: string): Buffer {
  const h = createHmac('sha256', secret);
  for (const part of [label, challenge, Buffer.from(name, 'utf8'), Buffer.from(addr, 'utf8')]) {
    const len = Buffer.allocUnsafe(4);
    len.writeUInt32BE(part.length, 0);
    h.update(len);
    h.update(part);
  }
  return h.digest();
}

function macEqual(expected: Buffer, got: Uint8Array): boolean {
  return got.length === expected.length && timingSafeEqual(expected, got);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function isBytes(v: unknown, len: number): v is Uint8Array {
  return v instanceof Uint8Array && v.length === len;
}

function isShortString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= nameCharsMax;
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function rejectUpgrade(socket: Duplex, status: string): void {
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * Frames from the dialling side go unmasked (an all-zero masking key, which ws then skips
 * on both ends). Masking protects browsers' intermediaries from cache poisoning; between
 * ring nodes it only costs a pass over every byte sent and received.
 */
function zeroMask(mask: Buffer): void {
  mask.fill(0);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class WsTransport implements Transport {
  private readonly name: string;
  private readonly addr: string;
  private readonly secret: Buffer;
  private readonly resolveName: (name: string) => string | undefined;
  private readonly log: WsTransportLogger;
  private readonly limits: WsTransportLimits;
  private readonly path: string;
  private readonly packr = new Packr({ useRecords: false, moreTypes: true });
  /** Data frames: typed arrays round trip, binary fields are copied out of the frame. */
  private readonly unpackr = new Unpackr({
    useRecords: false,
    moreTypes: true,
    mapsAsObjects: true,
    copyBuffers: true,
  });
  /** Handshake frames, from unauthenticated sockets: no extensions beyond the defaults needed. */
  private readonly handshakeUnpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, copyBuffers: true });
  private readonly wss: WebSocketServer;
  private handler: Handler | null = null;
  private readonly byName = new Map<string, Peer>();
  /** "host:port" dials whose peer name is not known yet. */
  private readonly byAddr = new Map<string, Peer>();
  /** Addresses (dialled or advertised) known to belong to a name. */
  private readonly addrToName = new Map<string, string>();
  private readonly conns = new Set<Conn>();
  private pendingInbound = 0;
  private blocked = new Set<string>();
  private closed = false;
  private closing: Promise<void> | null = null;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly counters = { sent: 0, received: 0, dropped: 0, refusedHandshakes: 0, reconnects: 0 };
  private readonly refusalLog = { windowStart: 0, count: 0, suppressed: 0 };

  constructor(opts: WsTransportOptions) {
    if (opts.secret.length === 0) throw new RangeError('WsTransport: the cluster secret must not be empty');
    if (!isShortString(opts.name)) throw new RangeError(`WsTransport: bad node name ${JSON.stringify(opts.name)}`);
    if (!isShortString(opts.addr)) throw new RangeError(`WsTransport: bad node address ${JSON.stringify(opts.addr)}`);
    this.name = opts.name;
    this.addr = opts.addr;
    this.secret = Buffer.from(opts.secret, 'utf8');
    this.resolveName = opts.resolve;
    this.log = opts.logger;
    this.limits = { ...defaultWsTransportLimits, ...opts.limits };
    this.path = opts.path ?? '/_ring';
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: this.limits.frameBytesMax,
      perMessageDeflate: false,
    });
    this.heartbeat = setInterval(() => this.beat(), this.limits.heartbeatMs);
    this.heartbeat.unref();
  }

  // ---- public API ----

  onMessage(handler: Handler): void {
    this.handler = handler;
  }

  send(to: string, message: WireMessage): void {
    if (this.closed) return this.drop(1);
    if (to === this.name || to === this.addr || this.addrToName.get(to) === this.name) return this.loopback(message);
    if (this.blocked.size > 0 && this.blocked.has(to)) return this.drop(1);

    // 1. A named peer with an open link; 2. an address known to belong to such a peer.
    let peer = this.byName.get(to);
    let conn = peer?.openConn();
    if (conn === undefined) {
      const alias = this.addrToName.get(to);
      const aliasPeer = alias === undefined ? undefined : this.byName.get(alias);
      const aliasConn = aliasPeer?.openConn();
      if (aliasConn !== undefined) {
        peer = aliasPeer;
        conn = aliasConn;
      }
    }
    if (peer?.name != null && this.blocked.has(peer.name)) return this.drop(1);

    let buf: Buffer;
    try {
      buf = this.packr.pack(message);
    } catch (err) {
      this.log.warn('ring transport: message cannot be encoded, dropped', { to, t: message.t, error: describe(err) });
      return this.drop(1);
    }
    if (buf.length > this.limits.frameBytesMax) {
      this.log.warn('ring transport: message larger than frameBytesMax, dropped', {
        to,
        t: message.t,
        bytes: buf.length,
      });
      return this.drop(1);
    }
    if (conn !== undefined) return this.write(conn, buf);

    // 3. A name: queue and dial where it lives.
    if (peer !== undefined || this.resolveName(to) !== undefined) {
      peer ??= this.namedPeer(to);
      if (peer.dialing === null && peer.retryTimer === null) {
        const addr = this.dialAddressOf(peer);
        if (addr === undefined) {
          this.log.debug('ring transport: no address for peer, dropped', { to, t: message.t });
          return this.drop(1);
        }
        this.enqueue(peer, buf);
        this.dial(peer, addr);
      } else this.enqueue(peer, buf);
      return;
    }

    // 4. "host:port": dial it; the handshake tells whose it is.
    if (hostPortPattern.test(to)) {
      let ap = this.byAddr.get(to);
      if (ap === undefined) {
        ap = new Peer(null, to);
        this.byAddr.set(to, ap);
      }
      this.enqueue(ap, buf);
      if (ap.dialing === null && ap.retryTimer === null) this.dial(ap, to);
      return;
    }

    this.log.debug('ring transport: unknown destination, dropped', { to, t: message.t });
    this.drop(1);
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    const path = (req.url ?? '').split('?')[0];
    if (this.closed || path !== this.path)
      return rejectUpgrade(socket, this.closed ? '503 Service Unavailable' : '404 Not Found');
    if (this.pendingInbound >= pendingHandshakesMax) {
      this.counters.refusedHandshakes++;
      this.warnRefusal(`refused ring connection from ${remote}: too many pending handshakes`, { remote });
      return rejectUpgrade(socket, '503 Service Unavailable');
    }
    socket.on('error', () => {}); // errors surface as the ws 'close' (or the upgrade failing)
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (this.closed) {
        ws.terminate();
        return;
      }
      const conn = new Conn(ws, 'in', remote);
      conn.pending = true;
      this.pendingInbound++;
      this.attach(conn);
      conn.myChallenge = randomBytes(challengeBytes);
      this.sendHandshake(conn, { v: protocolVersion, challenge: conn.myChallenge });
    });
  }

  stats(): WsTransportStats {
    let peers = 0;
    let queued = 0;
    for (const p of this.byName.values()) {
      if (p.openConn() !== undefined) peers++;
      queued += p.queue.length;
    }
    for (const p of this.byAddr.values()) queued += p.queue.length;
    return { peers, queued, ...this.counters };
  }

  setBlocked(names: readonly string[]): void {
    this.blocked = new Set(names);
    for (const name of this.blocked) {
      const peer = this.byName.get(name);
      if (peer !== undefined) this.drop(peer.queue.clear());
    }
  }

  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.closed = true;
    clearInterval(this.heartbeat);
    for (const peer of [...this.byName.values(), ...this.byAddr.values()]) {
      if (peer.retryTimer !== null) clearTimeout(peer.retryTimer);
      peer.retryTimer = null;
      this.drop(peer.queue.clear());
    }
    const waits: Promise<void>[] = [];
    for (const conn of this.conns) {
      if (conn.ws.readyState === WebSocket.CLOSED) continue;
      waits.push(new Promise<void>((resolve) => conn.ws.once('close', () => resolve())));
      // Send what this tick batched first (a leaver's final gossip is sent just before close).
      this.flush(conn);
      this.closeConn(conn, 1001, 'node stopping');
    }
    this.closing = Promise.all(waits).then(
      () =>
        new Promise<void>((resolve) => {
          this.wss.close(() => resolve());
        }),
    );
    return this.closing;
  }

  // ---- connections ----

  private dial(peer: Peer, addr: string): void {
    peer.dialAddr = addr;
    let ws: WebSocket;
    try {
      ws = new WebSocket(`ws://${addr}${this.path}`, {
        perMessageDeflate: false,
        maxPayload: this.limits.frameBytesMax,
        handshakeTimeout: this.limits.handshakeTimeoutMs,
        followRedirects: false,
        generateMask: zeroMask,
      });
    } catch (err) {
      this.log.warn('ring transport: cannot dial', { peer: peer.name ?? addr, addr, error: describe(err) });
      this.drop(peer.queue.clear());
      this.forgetIfIdle(peer);
      return;
    }
    const conn = new Conn(ws, 'out', addr);
    conn.peer = peer;
    peer.dialing = conn;
    this.attach(conn);
  }

  private attach(conn: Conn): void {
    this.conns.add(conn);
    const ws = conn.ws;
    ws.binaryType = 'nodebuffer';
    conn.handshakeTimer = setTimeout(
      () => this.failHandshake(conn, 'handshake timeout'),
      this.limits.handshakeTimeoutMs,
    );
    conn.handshakeTimer.unref();
    ws.on('message', (data: RawData, isBinary: boolean) => {
      try {
        this.onFrame(conn, data, isBinary);
      } catch (err) {
        // Never let anything escape into ws's event emitter.
        this.log.error('ring transport: frame handling failed', {
          peer: conn.name || conn.remote,
          error: describe(err),
        });
      }
    });
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('error', (err: Error) => {
      this.log.debug('ring transport: socket error', {
        peer: conn.name || conn.remote,
        role: conn.role,
        error: err.message,
      });
    });
    ws.on('close', (code: number, reason: Buffer) => {
      try {
        this.onClose(conn, code, reason.toString('utf8'));
      } catch (err) {
        this.log.error('ring transport: close handling failed', {
          peer: conn.name || conn.remote,
          error: describe(err),
        });
      }
    });
  }

  private onFrame(conn: Conn, data: RawData, isBinary: boolean): void {
    if (conn.state === 'closed' || conn.state === 'failed') return;
    conn.alive = true;
    if (conn.state === 'handshake') return this.onHandshakeFrame(conn, data, isBinary);

    if (!isBinary) {
      this.log.debug('ring transport: text frame from peer dropped', { peer: conn.name });
      return this.drop(1);
    }
    const buf = toBuffer(data);
    const values: unknown[] = [];
    try {
      this.unpackr.unpackMultiple(buf, (v: unknown) => {
        values.push(v);
      });
    } catch (err) {
      this.log.debug('ring transport: malformed frame from peer, rest of it dropped', {
        peer: conn.name,
        bytes: buf.length,
        decoded: values.length,
        error: describe(err),
      });
      this.drop(1);
    }
    const blocked = this.blocked.has(conn.name);
    for (const v of values) {
      if (!isPlainObject(v) || typeof v.t !== 'string') {
        this.log.debug('ring transport: non-message value from peer dropped', { peer: conn.name });
        this.drop(1);
        continue;
      }
      if (blocked || this.handler === null || this.closed) {
        this.drop(1);
        continue;
      }
      this.counters.received++;
      try {
        this.handler(conn.name, v as WireMessage);
      } catch (err) {
        this.log.error('ring transport: message handler threw', { peer: conn.name, t: v.t, error: describe(err) });
      }
    }
  }

  private onHandshakeFrame(conn: Conn, data: RawData, isBinary: boolean): void {
    const buf = isBinary ? toBuffer(data) : null;
    if (buf === null || buf.length > handshakeFrameBytesMax) return this.failHandshake(conn, 'malformed handshake');
    let m: unknown;
    try {
      m = this.handshakeUnpackr.unpack(buf);
    } catch {
      return this.failHandshake(conn, 'malformed handshake');
    }
    if (!isPlainObject(m) || m.v !== protocolVersion) return this.failHandshake(conn, 'malformed handshake');

    if (conn.role === 'in') {
      // Server: the client's response to our challenge.
      const { name, addr, challenge2, mac } = m;
      if (
        !isShortString(name) ||
        !isShortString(addr) ||
        !isBytes(challenge2, challengeBytes) ||
        !isBytes(mac, macBytes)
      ) {
        return this.failHandshake(conn, 'malformed handshake');
      }
      const expected = lengthPrefixedMac(this.secret, labelClient, conn.myChallenge!, name, addr);
      if (!macEqual(expected, mac)) return this.failHandshake(conn, 'bad secret');
      this.sendHandshake(conn, {
        v: protocolVersion,
        name: this.name,
        addr: this.addr,
        mac: lengthPrefixedMac(this.secret, labelServer, challenge2, this.name, this.addr),
      });
      if (name === this.name) {
        // Our own dial reached us (a seed address that is this node); the client side notices too.
        return this.abortHandshake(conn, 4002, 'self');
      }
      this.authenticated(conn, name, addr);
      return;
    }

    if (conn.step === 0) {
      // Client: the server's challenge.
      const { challenge } = m;
      if (!isBytes(challenge, challengeBytes)) return this.failHandshake(conn, 'malformed handshake');
      conn.myChallenge = randomBytes(challengeBytes);
      conn.step = 1;
      this.sendHandshake(conn, {
        v: protocolVersion,
        name: this.name,
        addr: this.addr,
        challenge2: conn.myChallenge,
        mac: lengthPrefixedMac(this.secret, labelClient, challenge, this.name, this.addr),
      });
      return;
    }

    // Client: the server's answer.
    const { name, addr, mac } = m;
    if (!isShortString(name) || !isShortString(addr) || !isBytes(mac, macBytes))
      return this.failHandshake(conn, 'malformed handshake');
    const expected = lengthPrefixedMac(this.secret, labelServer, conn.myChallenge!, name, addr);
    if (!macEqual(expected, mac)) return this.failHandshake(conn, 'bad secret');
    const peer = conn.peer!;
    if (name === this.name) {
      // We dialled ourselves: remember the address, deliver what waited for it locally.
      this.addrToName.set(conn.remote, this.name);
      this.deliverQueueLocally(peer);
      return this.abortHandshake(conn, 1000, 'self');
    }
    if (peer.name !== null && peer.name !== name) {
      this.log.warn('ring transport: dialled one node, another answered', {
        expected: peer.name,
        answered: name,
        addr: conn.remote,
      });
      return this.abortHandshake(conn, 4003, 'unexpected peer');
    }
    this.authenticated(conn, name, addr);
  }

  private authenticated(conn: Conn, name: string, addr: string): void {
    this.clearHandshakeTimer(conn);
    this.unpend(conn);
    conn.state = 'open';
    conn.name = name;
    conn.openedAt = Date.now();
    conn.alive = true;

    let peer = this.byName.get(name);
    if (peer === undefined) {
      peer = this.namedPeer(name);
    }
    peer.advertisedAddr = addr;
    this.addrToName.set(addr, name);

    if (conn.role === 'out') {
      const dialled = conn.peer!;
      this.addrToName.set(conn.remote, name);
      if (dialled !== peer) {
        // A "host:port" dial learnt whose it is: fold it into the named peer.
        dialled.dialing = null;
        this.foldAddrPeer(dialled, peer);
        if (peer.dialing === null) peer.dialing = conn;
        peer.dialAddr ??= conn.remote;
      }
      peer.dialedOk = true;
    }
    conn.peer = peer;
    // Messages waiting for a "host:port" that turns out to be this peer can take this link.
    const waiting = this.byAddr.get(addr);
    if (waiting !== undefined && waiting.dialing === null) this.foldAddrPeer(waiting, peer);
    peer.conns.push(conn);
    if (peer.retryTimer !== null) {
      clearTimeout(peer.retryTimer);
      peer.retryTimer = null;
    }
    this.log.debug('ring transport: link up', { peer: name, role: conn.role, remote: conn.remote });

    if (this.blocked.has(name)) this.drop(peer.queue.clear());
    for (let b = peer.queue.shift(); b !== undefined; b = peer.queue.shift()) this.write(conn, b);
  }

  private onClose(conn: Conn, code: number, reason: string): void {
    const wasOpen = conn.state === 'open';
    const wasHandshake = conn.state === 'handshake' || conn.state === 'failed';
    /** Still in the handshake when the peer hung up (not after this side gave up on it). */
    const cutByPeer = conn.state === 'handshake';
    this.unpend(conn);
    conn.state = 'closed';
    this.conns.delete(conn);
    this.clearHandshakeTimer(conn);
    if (conn.closeTimer !== null) clearTimeout(conn.closeTimer);
    if (conn.batchCount > 0) {
      this.drop(conn.batchCount);
      conn.batch = [];
      conn.batchBytes = 0;
      conn.batchCount = 0;
    }
    const peer = conn.peer;
    if (peer === null) return;
    if (wasOpen) {
      const i = peer.conns.indexOf(conn);
      if (i >= 0) peer.conns.splice(i, 1);
      this.log.debug('ring transport: link down', { peer: conn.name, role: conn.role, code, reason });
    } else if (conn.role === 'out' && wasHandshake) {
      if (code === 4001 && cutByPeer)
        this.warnRefusal(`ring connection to ${conn.remote} refused by the peer (bad secret?)`, { addr: conn.remote });
      else
        this.log.debug('ring transport: dial failed', {
          peer: peer.name ?? conn.remote,
          addr: conn.remote,
          code,
          reason,
        });
    }
    if (conn.role !== 'out' || peer.dialing !== conn) return;
    peer.dialing = null;
    if (this.closed) return;

    if (wasOpen && Date.now() - conn.openedAt >= this.limits.reconnectMaxMs) peer.attempt = 0;
    if (peer.openConn() !== undefined) {
      peer.attempt = 0;
      return;
    }
    const member = peer.name !== null && this.resolveName(peer.name) !== undefined;
    const wanted = peer.queue.length > 0 || (member && peer.dialedOk);
    if (!wanted || (!member && peer.attempt >= unknownPeerDialAttemptsMax)) {
      if (peer.queue.length > 0) {
        this.log.debug('ring transport: giving up on peer, queue dropped', {
          peer: peer.name ?? peer.addrKey,
          queued: peer.queue.length,
        });
      }
      this.drop(peer.queue.clear());
      peer.attempt = 0;
      this.forgetIfIdle(peer);
      return;
    }
    this.scheduleRedial(peer);
  }

  private scheduleRedial(peer: Peer): void {
    const { reconnectBaseMs, reconnectMaxMs } = this.limits;
    const ceiling = Math.min(reconnectMaxMs, reconnectBaseMs * 2 ** Math.min(peer.attempt, 30));
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    peer.attempt++;
    peer.retryTimer = setTimeout(() => {
      peer.retryTimer = null;
      if (this.closed || peer.dialing !== null || peer.openConn() !== undefined) return;
      const addr = this.dialAddressOf(peer);
      if (addr === undefined) {
        this.drop(peer.queue.clear());
        this.forgetIfIdle(peer);
        return;
      }
      this.counters.reconnects++;
      this.dial(peer, addr);
    }, delay);
    peer.retryTimer.unref();
  }

  private failHandshake(conn: Conn, reason: string): void {
    if (conn.state !== 'handshake') return;
    if (conn.role === 'out' && conn.ws.readyState === WebSocket.CONNECTING) {
      // Not a refusal: the peer did not even answer the HTTP upgrade in time.
      this.log.debug('ring transport: dial timed out', { peer: conn.peer?.name ?? conn.remote, addr: conn.remote });
      return this.abortHandshake(conn, 1000, 'timeout');
    }
    this.counters.refusedHandshakes++;
    if (conn.role === 'in')
      this.warnRefusal(`refused ring connection from ${conn.remote}: ${reason}`, { remote: conn.remote, reason });
    else this.warnRefusal(`ring handshake with ${conn.remote} failed: ${reason}`, { addr: conn.remote, reason });
    this.abortHandshake(conn, 4001, 'handshake failed');
  }

  /** Warn, at most refusalWarningsPerSec times a second; beyond that, debug plus a count. */
  private warnRefusal(msg: string, fields: object): void {
    const w = this.refusalLog;
    const now = Date.now();
    if (now - w.windowStart >= 1000) {
      if (w.suppressed > 0)
        this.log.warn(`${w.suppressed} more ring handshake failures were logged at debug level`, {
          suppressed: w.suppressed,
        });
      w.windowStart = now;
      w.count = 0;
      w.suppressed = 0;
    }
    if (w.count < refusalWarningsPerSec) {
      w.count++;
      this.log.warn(msg, fields);
    } else {
      w.suppressed++;
      this.log.debug(msg, fields);
    }
  }

  /** End a socket that will never be authenticated: no frame from it is looked at again. */
  private abortHandshake(conn: Conn, code: number, reason: string): void {
    this.clearHandshakeTimer(conn);
    this.unpend(conn);
    conn.state = 'failed';
    this.closeConn(conn, code, reason);
  }

  private unpend(conn: Conn): void {
    if (conn.pending) {
      conn.pending = false;
      this.pendingInbound--;
    }
  }

  /** Close with a close frame when possible; destroy the socket if the peer does not answer. */
  private closeConn(conn: Conn, code: number, reason: string): void {
    const ws = conn.ws;
    if (ws.readyState === WebSocket.CLOSED) return;
    if (ws.readyState === WebSocket.CONNECTING) {
      ws.terminate();
      return;
    }
    try {
      ws.close(code, reason);
    } catch {
      ws.terminate();
      return;
    }
    if (conn.closeTimer === null) {
      conn.closeTimer = setTimeout(() => ws.terminate(), closeGraceMs);
      conn.closeTimer.unref();
    }
  }

  private clearHandshakeTimer(conn: Conn): void {
    if (conn.handshakeTimer !== null) {
      clearTimeout(conn.handshakeTimer);
      conn.handshakeTimer = null;
    }
  }

  private sendHandshake(conn: Conn, frame: Record<string, unknown>): void {
    // Binary fields as Buffers: plain msgpack bin, decodable without extensions.
    const plain: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(frame)) plain[k] = v instanceof Uint8Array ? Buffer.from(v) : v;
    if (conn.ws.readyState === WebSocket.OPEN) conn.ws.send(this.packr.pack(plain), { binary: true });
  }

  private beat(): void {
    for (const conn of this.conns) {
      if (conn.state !== 'open') continue;
      if (!conn.alive) {
        this.log.debug('ring transport: peer unresponsive, link closed', { peer: conn.name });
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      try {
        conn.ws.ping();
      } catch {
        // closing
      }
    }
  }

  // ---- data path ----

  private write(conn: Conn, buf: Buffer): void {
    if (conn.ws.readyState !== WebSocket.OPEN || conn.state !== 'open') return this.drop(1);
    if (conn.ws.bufferedAmount + conn.batchBytes + buf.length > this.limits.peerBufferedBytesMax) return this.drop(1);
    if (conn.batchBytes + buf.length > Math.min(batchFlushBytes, this.limits.frameBytesMax) && conn.batchCount > 0)
      this.flush(conn);
    conn.batch.push(buf);
    conn.batchBytes += buf.length;
    conn.batchCount++;
    this.counters.sent++;
    if (conn.batchBytes >= batchFlushBytes) this.flush(conn);
    else if (!conn.flushQueued) {
      // Once per event loop turn (the check phase, right after the poll phase has run every
      // ready socket's callbacks), not per microtask checkpoint: the replies to the many HTTP
      // requests and ring frames of one turn leave in one frame and one write(2) per peer.
      // Under create load a write per checkpoint was a fifth of each node's busy time.
      conn.flushQueued = true;
      setImmediate(() => {
        conn.flushQueued = false;
        this.flush(conn);
      });
    }
  }

  private flush(conn: Conn): void {
    if (conn.batchCount === 0) return;
    const data = conn.batch.length === 1 ? conn.batch[0]! : Buffer.concat(conn.batch, conn.batchBytes);
    const n = conn.batchCount;
    conn.batch = [];
    conn.batchBytes = 0;
    conn.batchCount = 0;
    if (conn.ws.readyState !== WebSocket.OPEN) {
      this.counters.sent -= n;
      return this.drop(n);
    }
    conn.ws.send(data, { binary: true, compress: false });
  }

  private enqueue(peer: Peer, buf: Buffer): void {
    const q = peer.queue;
    q.push(buf);
    let dropped = 0;
    while (
      q.length > this.limits.peerQueueMessagesMax ||
      (q.bytes > this.limits.peerBufferedBytesMax && q.length > 1)
    ) {
      q.shift();
      dropped++;
    }
    if (dropped > 0) this.drop(dropped);
  }

  private loopback(message: WireMessage): void {
    this.counters.sent++;
    setImmediate(() => {
      if (this.closed || this.handler === null) return this.drop(1);
      this.counters.received++;
      try {
        this.handler(this.name, message);
      } catch (err) {
        this.log.error('ring transport: message handler threw', {
          peer: this.name,
          t: message.t,
          error: describe(err),
        });
      }
    }).unref();
  }

  private deliverQueueLocally(peer: Peer): void {
    for (let b = peer.queue.shift(); b !== undefined; b = peer.queue.shift()) {
      try {
        this.loopback(this.unpackr.unpack(b) as WireMessage);
      } catch {
        this.drop(1);
      }
    }
  }

  private drop(n: number): void {
    this.counters.dropped += n;
  }

  // ---- peers ----

  private foldAddrPeer(ap: Peer, into: Peer): void {
    if (ap.retryTimer !== null) clearTimeout(ap.retryTimer);
    ap.retryTimer = null;
    if (ap.addrKey !== null && this.byAddr.get(ap.addrKey) === ap) this.byAddr.delete(ap.addrKey);
    for (let b = ap.queue.shift(); b !== undefined; b = ap.queue.shift()) this.enqueue(into, b);
  }

  private namedPeer(name: string): Peer {
    let peer = this.byName.get(name);
    if (peer === undefined) {
      peer = new Peer(name, null);
      this.byName.set(name, peer);
    }
    return peer;
  }

  private dialAddressOf(peer: Peer): string | undefined {
    if (peer.name === null) return peer.addrKey ?? undefined;
    return this.resolveName(peer.name) ?? peer.advertisedAddr ?? peer.dialAddr;
  }

  /** Drop bookkeeping for a peer with nothing open, pending or queued. */
  private forgetIfIdle(peer: Peer): void {
    if (peer.conns.length > 0 || peer.dialing !== null || peer.retryTimer !== null || peer.queue.length > 0) return;
    if (peer.name === null) {
      if (peer.addrKey !== null && this.byAddr.get(peer.addrKey) === peer) this.byAddr.delete(peer.addrKey);
    }
    // Named peers are kept: their advertised address is worth remembering, and they are few.
  }
}
