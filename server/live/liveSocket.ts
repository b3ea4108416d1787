// What the live server keeps on each socket (socket.data), shared by its parts.
import type { DefaultEventsMap, Socket } from 'socket.io';
import type { MessageBudget } from './messageBudget';

export interface SocketData {
  owner: string | null;
  /** "session:<idHash>" or "key:<accountId>:<keyId>": what a sign-out or revocation drops. */
  credential: string | null;
  budget: MessageBudget;
  /** Subscribes accepted and not yet answered (they count toward subscriptionsPerSocketMax). */
  subscribing: number;
  /** Subscribes waiting for one of the subscribesInFlightPerSocketMax slots. */
  queue: (() => void)[];
  revoked: boolean;
}

/** A live socket: events are checked by hand at the edge (Subscriptions), so their maps stay socket.io's defaults. */
export type LiveSocket = Socket<DefaultEventsMap, DefaultEventsMap, DefaultEventsMap, SocketData>;
