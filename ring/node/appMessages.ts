// Messages and requests between members, for the layers above the ring (cache invalidation,
// live fan-out, rate-limit owners). A layer declares its names once, in one table made with
// appProtocol(), each with its payload (and reply) type; a node takes one handler per name
// and refuses a second, which would otherwise silently replace the first.
//
// Messages are one-way and unacknowledged: at most once, possibly never. Requests are
// answered with reply() or refuse(), or time out. Bodies come from authenticated members;
// a handler that must survive a member running another version still checks them.
import type { WireMessage } from '../runtime';
import { ringError, type Callback } from './context';
import type { Rpc, RpcHandler } from './rpc';

/** A one-way message whose body is a T (plain data: msgpack-encodable). */
export interface AppMessage<T> {
  readonly kind: 'message';
  readonly name: string;
  /** Carries T for the compiler; never set. */
  readonly body?: T;
}

/** A request with a Req body, answered with a Rep. */
export interface AppRpc<Req, Rep> {
  readonly kind: 'rpc';
  readonly name: string;
  /** Carry Req and Rep for the compiler; never set. */
  readonly request?: Req;
  readonly reply?: Rep;
}

/** Declares a message in an appProtocol() table; the table's key names it. */
export function appMessage<T>(): AppMessage<T> {
  return { kind: 'message', name: '' };
}

/** Declares a request in an appProtocol() table; the table's key names it. */
export function appRpc<Req, Rep>(): AppRpc<Req, Rep> {
  return { kind: 'rpc', name: '' };
}

export interface AppProtocol<
  M extends Record<string, AppMessage<unknown>>,
  R extends Record<string, AppRpc<unknown, unknown>>,
> {
  readonly messages: M;
  readonly rpcs: R;
}

/** A layer's messages and requests, each named by its key in the table (names match [a-z][a-z0-9.:_-]*). */
export function appProtocol<
  M extends Record<string, AppMessage<unknown>>,
  R extends Record<string, AppRpc<unknown, unknown>>,
>(table: AppProtocol<M, R>): AppProtocol<M, R> {
  const named = <T extends Record<string, { name: string }>>(entries: T): T => {
    const out: Record<string, unknown> = {};
    for (const [name, entry] of Object.entries(entries)) {
      if (!/^[a-z][a-z0-9.:_-]*$/.test(name)) {
        throw new Error(`app message or request name "${name}" must match [a-z][a-z0-9.:_-]*`);
      }
      out[name] = { ...entry, name };
    }
    return out as T;
  };
  return { messages: named(table.messages), rpcs: named(table.rpcs) };
}

export type AppRequestHandler<Req, Rep> = (
  from: string,
  body: Req,
  reply: (body: Rep) => void,
  refuse: (detail: string) => void,
) => void;

/** The node's app messaging (RingNode.app). */
export interface AppMessages {
  /** The one handler of a message on this node; throws if it has one already. */
  on<T>(message: AppMessage<T>, handler: (from: string, body: T) => void): void;
  send<T>(to: string, message: AppMessage<T>, body: T): void;
  /** To every other active member that is up. */
  broadcast<T>(message: AppMessage<T>, body: T): void;
  /** The one handler of a request on this node; throws if it has one already. */
  serve<Req, Rep>(rpc: AppRpc<Req, Rep>, handler: AppRequestHandler<Req, Rep>): void;
  call<Req, Rep>(to: string, rpc: AppRpc<Req, Rep>, body: Req, timeoutMs: number, done: Callback<Rep>): void;
}

/** What app messaging needs from its node. */
export interface AppPort {
  readonly name: string;
  running(): boolean;
  send(to: string, message: WireMessage): void;
  /** Active members other than this node that are up. */
  peersUp(): string[];
  readonly rpc: Rpc;
}

export class AppRegistry implements AppMessages {
  private readonly handlers = new Map<string, (from: string, body: unknown) => void>();
  private readonly served = new Set<string>();

  constructor(private readonly port: AppPort) {}

  on<T>(message: AppMessage<T>, handler: (from: string, body: T) => void): void {
    if (this.handlers.has(message.name)) {
      throw new Error(`app message "${message.name}" already has a handler on this node`);
    }
    this.handlers.set(message.name, handler as (from: string, body: unknown) => void);
  }

  send<T>(to: string, message: AppMessage<T>, body: T): void {
    if (!this.port.running() || to === this.port.name) return;
    this.port.send(to, { t: 'app', c: message.name, b: body });
  }

  broadcast<T>(message: AppMessage<T>, body: T): void {
    for (const to of this.port.peersUp()) this.send(to, message, body);
  }

  serve<Req, Rep>(rpc: AppRpc<Req, Rep>, handler: AppRequestHandler<Req, Rep>): void {
    if (this.served.has(rpc.name)) throw new Error(`app request "${rpc.name}" already has a handler on this node`);
    this.served.add(rpc.name);
    this.port.rpc.on(`app:${rpc.name}`, handler as RpcHandler);
  }

  call<Req, Rep>(to: string, rpc: AppRpc<Req, Rep>, body: Req, timeoutMs: number, done: Callback<Rep>): void {
    if (!this.port.running()) return done(ringError('stopped', 'node is not running'));
    this.port.rpc.call(to, `app:${rpc.name}`, body, timeoutMs, (err, reply) => {
      if (err) done(ringError(err.kind === 'timeout' ? 'timeout' : 'unavailable', err.detail));
      else done(null, reply as Rep);
    });
  }

  /** An 'app' message the node received. */
  dispatch(from: string, m: WireMessage): void {
    this.handlers.get(String(m.c))?.(from, m.b);
  }
}
