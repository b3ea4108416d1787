// A raw HTTP/1.1 client over a TCP socket, for requests fetch() refuses to send: any bytes in
// the method, the request target and header values (invalid UTF-8, control characters,
// absolute-form or `*` targets), missing or duplicated framing headers, chunked bodies with
// bad chunk sizes, bodies that end early. One connection per request (`Connection: close`
// unless the caller sends its own), a bounded wait, and a small response parser (1xx
// interim answers skipped, Content-Length or chunked or until close; HEAD has no body).
import net from 'node:net';

export interface RawRequest {
  method: string | Buffer;
  target: string | Buffer;
  /** Sent as given, in order. Add `host` yourself (the client never adds one). */
  headers: Array<[string, string | Buffer]>;
  body?: Buffer;
  /** Add `content-length` for the body unless a content-length or transfer-encoding header is given (default true). */
  frame?: boolean;
  /** Half-close after writing (a client that stops sending). */
  endAfterWrite?: boolean;
}

export interface RawReply {
  /** 0 when no response arrived (connection closed or reset first, or timeout). */
  status: number;
  /** Header names lower-cased; repeated headers joined with ", " (set-cookie with "\n"). */
  headers: Record<string, string>;
  body: Buffer;
  /** Everything received, as latin1 text (for leak scans). */
  text: string;
  /** Why no status: 'timeout', 'reset', 'closed', an errno code. */
  error?: string;
}

function toBuf(x: string | Buffer): Buffer {
  return typeof x === 'string' ? Buffer.from(x, 'latin1') : x;
}

export function encodeRequest(r: RawRequest): Buffer {
  const parts: Buffer[] = [toBuf(r.method), Buffer.from(' '), toBuf(r.target), Buffer.from(' HTTP/1.1\r\n')];
  const names = r.headers.map(([k]) => k.toLowerCase());
  for (const [k, v] of r.headers) parts.push(Buffer.from(`${k}: `, 'latin1'), toBuf(v), Buffer.from('\r\n'));
  if (!names.includes('connection')) parts.push(Buffer.from('connection: close\r\n'));
  if (r.body && r.frame !== false && !names.includes('content-length') && !names.includes('transfer-encoding'))
    parts.push(Buffer.from(`content-length: ${r.body.length}\r\n`));
  parts.push(Buffer.from('\r\n'));
  if (r.body) parts.push(r.body);
  return Buffer.concat(parts);
}

/** Parses one response out of `data`; undefined while incomplete (unless `closed`, then what there is). */
export function parseResponse(
  data: Buffer,
  isHead: boolean,
  closed: boolean,
): Omit<RawReply, 'text' | 'error'> | undefined {
  let at = 0;
  for (;;) {
    const end = data.indexOf('\r\n\r\n', at);
    if (end < 0) return closed ? { status: 0, headers: {}, body: Buffer.alloc(0) } : undefined;
    const head = data.subarray(at, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '');
    if (!m) return closed ? { status: 0, headers: {}, body: Buffer.alloc(0) } : undefined;
    const status = Number(m[1]);
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const i = line.indexOf(':');
      if (i <= 0) continue;
      const k = line.slice(0, i).trim().toLowerCase();
      const v = line.slice(i + 1).trim();
      headers[k] = headers[k] === undefined ? v : `${headers[k]}${k === 'set-cookie' ? '\n' : ', '}${v}`;
    }
    const bodyAt = end + 4;
    if (status >= 100 && status < 200) {
      at = bodyAt; // interim (100 Continue): the real answer follows
      continue;
    }
    if (isHead || status === 204 || status === 304) return { status, headers, body: Buffer.alloc(0) };
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const chunks: Buffer[] = [];
      let p = bodyAt;
      for (;;) {
        const nl = data.indexOf('\r\n', p);
        if (nl < 0) return closed ? { status, headers, body: Buffer.concat(chunks) } : undefined;
        const size = parseInt(data.subarray(p, nl).toString('latin1'), 16);
        if (!Number.isFinite(size)) return { status, headers, body: Buffer.concat(chunks) };
        if (size === 0) return { status, headers, body: Buffer.concat(chunks) };
        if (data.length < nl + 2 + size + 2)
          return closed ? { status, headers, body: Buffer.concat([...chunks, data.subarray(nl + 2)]) } : undefined;
        chunks.push(data.subarray(nl + 2, nl + 2 + size));
        p = nl + 2 + size + 2;
      }
    }
    const len = headers['content-length'] !== undefined ? Number(headers['content-length']) : undefined;
    if (len !== undefined && Number.isFinite(len)) {
      if (data.length >= bodyAt + len) return { status, headers, body: data.subarray(bodyAt, bodyAt + len) };
      return closed ? { status, headers, body: data.subarray(bodyAt) } : undefined;
    }
    return closed ? { status, headers, body: data.subarray(bodyAt) } : undefined;
  }
}

/** Sends one raw request to 127.0.0.1:port and reads one response (bounded by timeoutMs). */
export function rawRequest(port: number, r: RawRequest, timeoutMs = 10_000): Promise<RawReply> {
  const isHead = toBuf(r.method).toString('latin1') === 'HEAD';
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const finish = (closed: boolean, error?: string) => {
      if (done) return;
      const data = Buffer.concat(chunks, size);
      const parsed = parseResponse(data, isHead, closed);
      if (!parsed) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({
        ...parsed,
        text: data.toString('latin1'),
        ...(parsed.status === 0 ? { error: error ?? 'closed' } : {}),
      });
    };
    const timer = setTimeout(() => finish(true, 'timeout'), timeoutMs);
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      size += d.length;
      finish(false);
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    // A server may answer early (413) and close while the body is still being written: keep what arrived.
    socket.on('error', (err: NodeJS.ErrnoException) =>
      finish(true, err.code === 'ECONNRESET' ? 'reset' : (err.code ?? err.message)),
    );
    socket.write(encodeRequest(r), () => {
      if (r.endAfterWrite) socket.end();
    });
  });
}
