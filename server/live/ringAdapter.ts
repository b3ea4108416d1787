// The ring's own socket.io adapter: socket.io-adapter's cluster adapter base (protocol,
// acks, fetchSockets, heartbeats) over the ring's peer transport. A broadcast to link rooms
// goes only to the nodes that announced sockets in them (see channels.ts); anything else
// goes to every member that is up.
import { ClusterAdapterWithHeartbeat, MessageType, type ClusterMessage, type ClusterResponse } from 'socket.io-adapter';
import type { Namespace } from 'socket.io';
import type { RingNode } from '../../ring';
import { appMessages } from '../appMessages';
import type { ChannelDirectory } from './channels';

const messageChannel = appMessages.messages.sio;
const responseChannel = appMessages.messages['sio:res'];

export function ringAdapter(node: RingNode, channels: ChannelDirectory) {
  /** Adapter uid → ring member name, learned from the messages each adapter sends. */
  const members = new Map<string, string>();
  const adapters = new Set<RingAdapter>();
  node.app.on(messageChannel, (from, body) => {
    const m = body as ClusterMessage | null;
    if (typeof m?.uid !== 'string') return;
    members.set(m.uid, from);
    for (const a of adapters) if (a.nsp.name === m.nsp) a.receive(m);
  });
  node.app.on(responseChannel, (from, body) => {
    const r = body as ClusterResponse | null;
    if (typeof r?.uid !== 'string') return;
    members.set(r.uid, from);
    for (const a of adapters) if (a.nsp.name === r.nsp) a.receiveResponse(r);
  });

  class RingAdapter extends ClusterAdapterWithHeartbeat {
    constructor(nsp: Namespace) {
      super(nsp, { heartbeatInterval: 5_000, heartbeatTimeout: 15_000 });
      adapters.add(this);
    }

    receive(m: ClusterMessage): void {
      this.onMessage(m);
    }

    receiveResponse(r: ClusterResponse): void {
      this.onResponse(r);
    }

    override close(): void {
      adapters.delete(this);
      super.close();
    }

    protected override async doPublish(message: ClusterMessage): Promise<string> {
      const targets = this.targetsOf(message);
      if (targets) for (const n of targets) node.app.send(n, messageChannel, message);
      else node.app.broadcast(messageChannel, message);
      return '';
    }

    protected override async doPublishResponse(requesterUid: string, response: ClusterResponse): Promise<void> {
      const to = members.get(requesterUid);
      if (to) node.app.send(to, responseChannel, response);
    }

    /** Only the subscribed nodes, when every room of a broadcast is a link room this node owns. */
    private targetsOf(message: ClusterMessage): string[] | undefined {
      if (message.type !== MessageType.BROADCAST) return undefined;
      const rooms = message.data.opts.rooms;
      if (rooms.length === 0 || !rooms.every((r) => channels.isOwner(r))) return undefined;
      return [...new Set(rooms.flatMap((r) => channels.subscribersOf(r)))];
    }
  }

  return RingAdapter;
}
