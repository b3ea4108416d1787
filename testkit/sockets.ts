// socket.io clients of a node's live updates, as a browser's page opens them: WebSocket only,
// the session cookie (or an API key) and the node's Origin.
import { io, type Socket, type SocketOptions, type ManagerOptions } from 'socket.io-client';
import type { Endpoint } from './client';

export interface SocketAuth {
  /** `rl_sid=...` */
  cookie?: string | undefined;
  /** An API key, sent as the handshake's auth token. */
  token?: string | undefined;
}

/** Open a socket to `node` and wait for it to connect (rejects with the connect error). */
export function connectSocket(
  node: Endpoint,
  auth: SocketAuth = {},
  opts: Partial<ManagerOptions & SocketOptions> = {},
): Promise<Socket> {
  const s = io(node.url, {
    transports: ['websocket'],
    extraHeaders: { ...(auth.cookie ? { cookie: auth.cookie } : {}), origin: node.url },
    ...(auth.token ? { auth: { token: auth.token } } : {}),
    ...opts,
  });
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('connect_error', (err) => {
      if (opts.reconnection === false) s.close();
      reject(err);
    });
  });
}

/** The highest `stats` total per slug a socket has seen (updated as events arrive). */
export function trackStats(s: Socket): Map<string, number> {
  const seen = new Map<string, number>();
  s.on('stats', (st: { slug: string; total: number }) => seen.set(st.slug, Math.max(seen.get(st.slug) ?? 0, st.total)));
  return seen;
}
