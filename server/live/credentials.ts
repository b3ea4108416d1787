// Who a live socket is (session cookie with the Origin check, or an API key), and dropping
// the sockets of a credential that ended (sign-out, API key revoked) on every node.
import type { IncomingMessage } from 'node:http';
import type { RingNode } from '../../ring';
import { appMessages } from '../appMessages';
import { apiKeyRef, type ApiKeys } from '../auth/apiKeys';
import type { Sessions } from '../auth/sessions';
import { readSessionId } from '../http/sessionCookie';
import type { LiveSocket } from './liveSocket';

/** Why a socket lost its credential: the `reason` of the `unauthorized` event (docs/api.md). */
export type Unauthorized = 'signed_out' | 'key_revoked';

const unauthorizedMessages: Record<Unauthorized, string> = {
  signed_out: 'You signed out. Sign in again to get live updates.',
  key_revoked: 'The API key of this connection was revoked. Connect with a valid key.',
};

/** The app message that tells every node to drop the sockets of a credential. */
const revokedChannel = appMessages.messages['live:revoked'];

/**
 * socket.io middleware that sets the socket's owner and credential: an API key in the
 * handshake's `auth.token`, else the session cookie (only from our own origin), else anonymous.
 */
export function socketAuthenticator(deps: { apiKeys: ApiKeys; sessions: Sessions; publicUrl: string | undefined }) {
  const publicOrigin = deps.publicUrl ? new URL(deps.publicUrl).origin : undefined;

  function originOk(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    const host = req.headers.host;
    return (
      !!origin && ((!!host && (origin === `http://${host}` || origin === `https://${host}`)) || origin === publicOrigin)
    );
  }

  return (socket: LiveSocket, next: (err?: Error) => void): void => {
    void (async () => {
      const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
      if (typeof token === 'string') {
        const key = await deps.apiKeys.authenticate(token);
        if (!key) return next(new Error('the API key is not valid'));
        socket.data.owner = `a:${key.accountId}`;
        socket.data.credential = `key:${apiKeyRef(key.accountId, key.id)}`;
        return next();
      }
      // Cross-site WebSocket hijacking: a cookie only counts from our own pages.
      const session = originOk(socket.request) ? await deps.sessions.identify(readSessionId(socket.request)) : null;
      socket.data.owner = session
        ? session.doc.accountId
          ? `a:${session.doc.accountId}`
          : `s:${session.idHash}`
        : null;
      socket.data.credential = session ? `session:${session.idHash}` : null;
      next();
    })().catch((err: Error) => next(new Error(`could not check the session: ${err.message}`)));
  };
}

/** This node's sockets by credential: a sign-out or key revocation anywhere drops them. */
export class CredentialSockets {
  /** Local sockets by credential, so a sign-out finds its sockets without a scan. */
  private readonly byCredential = new Map<string, Set<LiveSocket>>();

  constructor(
    private readonly node: RingNode,
    sessions: Sessions,
    apiKeys: ApiKeys,
  ) {
    node.app.on(revokedChannel, (_from, body) => {
      const b = body as { credential?: unknown; reason?: unknown } | null;
      if (typeof b?.credential !== 'string' || (b.reason !== 'signed_out' && b.reason !== 'key_revoked')) return;
      this.dropLocal(b.credential, b.reason);
    });
    sessions.onSignedOut((idHash) => this.dropCredential(`session:${idHash}`, 'signed_out'));
    apiKeys.onRevoked((keyRef) => this.dropCredential(`key:${keyRef}`, 'key_revoked'));
  }

  /** Remember a new socket under its credential (if any) until it disconnects. */
  track(socket: LiveSocket): void {
    socket.data.revoked = false;
    const credential = socket.data.credential;
    if (!credential) return;
    let sockets = this.byCredential.get(credential);
    if (!sockets) this.byCredential.set(credential, (sockets = new Set()));
    sockets.add(socket);
    socket.on('disconnect', () => {
      sockets.delete(socket);
      if (sockets.size === 0 && this.byCredential.get(credential) === sockets) this.byCredential.delete(credential);
    });
  }

  private dropLocal(credential: string, reason: Unauthorized): void {
    const sockets = this.byCredential.get(credential);
    if (!sockets) return;
    this.byCredential.delete(credential);
    for (const socket of sockets) {
      // Set first: a subscribe still waiting on a read must not join a room after this.
      socket.data.revoked = true;
      socket.emit('unauthorized', { reason, message: unauthorizedMessages[reason] });
      socket.disconnect(true);
    }
  }

  /** The sockets of that credential may be connected to any node: drop them here and tell every other node. */
  private dropCredential(credential: string, reason: Unauthorized): void {
    this.dropLocal(credential, reason);
    this.node.app.broadcast(revokedChannel, { credential, reason });
  }
}
