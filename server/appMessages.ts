// Every message and request ringlink's nodes send each other over the ring, declared once:
// the key names it on the wire, the type is its body (see ring/node/appMessages.ts). A node
// takes one handler per name; registering a second throws.
import type { ClusterMessage, ClusterResponse } from 'socket.io-adapter';
import { appMessage, appProtocol, appRpc } from '../ring';
import type { LimitDecision, LimitRequest } from './limits/localLimits';
import type { PrimaryCopy } from './auth/sessions';
import type { Unauthorized } from './live/liveServer';

export const appMessages = appProtocol({
  messages: {
    /**
     * A link was written: members forget a cached copy older than `v` (the new document's
     * updatedAt; without it, any copy). An invalidation only: no member caches links it never served.
     */
    link: appMessage<{ slug: string; v?: number }>(),
    /** A session document changed: members forget their cached copy of the key (ReadThroughCache). */
    session: appMessage<string>(),
    /** An API key document changed: members forget their cached copy of the key (ReadThroughCache). */
    apikey: appMessage<string>(),
    /** socket.io's cluster adapter protocol over the ring (live/ringAdapter.ts). */
    sio: appMessage<ClusterMessage>(),
    'sio:res': appMessage<ClusterResponse>(),
    /** Rooms with sockets on the sender, told to the rooms' owner (live/channels.ts). */
    chan: appMessage<{ join?: string[]; leave?: string[] }>(),
    /** A sign-out or key revocation: every member drops the credential's sockets. */
    'live:revoked': appMessage<{ credential: string; reason: Unauthorized }>(),
    /** A link's stats or bot counter changed here: the slug, for its channel owner to publish. */
    'live:changed': appMessage<string>(),
  },
  rpcs: {
    /** A rate-limit decision, asked of the limit key's owner (limits/clusterLimiter.ts). */
    'limits.decide': appRpc<LimitRequest, LimitDecision>(),
    /**
     * A session key's primary answers with its own copy (auth/sessions.ts: never replace a session a majority holds).
     */
    'session.primary-copy': appRpc<{ key: string }, PrimaryCopy>(),
  },
});
