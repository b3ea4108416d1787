// Request/response over the unreliable transport: ids, timeouts, and a bound on requests
// in flight. Callback style on purpose: the simulator runs events synchronously, and
// promise continuations would escape its clock.
//
// A call to this node's own name is dispatched locally: the handler runs in a later turn of
// the runtime's timers, and its answer reaches the caller only after the handler returned, as
// a remote call's would. So callers never special-case themselves, a handler never runs inside
// its caller, and a caller's callback never runs inside a handler.
import type { Runtime, TimerHandle, WireMessage } from '../runtime';

export type RpcError = { kind: 'timeout' | 'overloaded' | 'refused' | 'unknown-method'; detail: string };
export type RpcReply = (err: RpcError | null, body?: unknown) => void;
/** Handles one method's requests; B is the body its senders send (the handler still checks it: the wire is untyped). */
export type RpcHandler<B = unknown> = (
  from: string,
  body: B,
  reply: (body: unknown) => void,
  refuse: (detail: string) => void,
) => void;

interface Pending {
  to: string;
  done: RpcReply;
  timer: TimerHandle;
}

/** Requests remembered to drop duplicates (the network may deliver a message twice). */
export const rpcDedupWindowRequests = 16_384;

export class Rpc {
  private readonly pending = new Map<number, Pending>();
  private readonly handlers = new Map<string, RpcHandler>();
  private nextId = 1;
  /** Names this process life, so a restarted peer's fresh ids are not mistaken for duplicates. */
  private readonly life: string;
  private readonly seen = new Set<string>();
  private readonly seenOrder: string[] = [];
  private seenHead = 0;
  /** Timers of local dispatches and answers not run yet (failAll cancels them). */
  private readonly localTurns = new Set<TimerHandle>();

  constructor(
    private readonly rt: Runtime,
    private readonly inFlightMax: number,
    /** This node's name: calls to it are dispatched locally. */
    private readonly self: string,
  ) {
    this.life = rt.random.hex(4);
  }

  on<B>(method: string, handler: RpcHandler<B>): void {
    // The map holds handlers of every body type; each checks what arrives (see RpcHandler).
    this.handlers.set(method, handler as RpcHandler);
  }

  call(to: string, method: string, body: unknown, timeoutMs: number, done: RpcReply): void {
    if (this.pending.size >= this.inFlightMax) {
      done({ kind: 'overloaded', detail: `more than ${this.inFlightMax} requests in flight` });
      return;
    }
    const id = this.nextId++;
    const timer = this.rt.timers.setTimeout(() => {
      if (this.pending.delete(id))
        done({ kind: 'timeout', detail: `${method} to ${to} timed out after ${timeoutMs} ms` });
    }, timeoutMs);
    this.pending.set(id, { to, done, timer });
    if (to === this.self) this.dispatchLocally(id, method, body);
    else this.rt.transport.send(to, { t: 'rq', id, s: this.life, m: method, b: body });
  }

  /**
   * A call to this node: the handler runs in a later turn. An answer it gives in that turn is
   * delivered once it returned; one it gives later, in a turn of its own.
   */
  private dispatchLocally(id: number, method: string, body: unknown): void {
    const arrive = (fields: Record<string, unknown>) => this.handle(this.self, { t: 'rs', id, ...fields });
    this.later(() => {
      let handling = true;
      let answer: Record<string, unknown> | undefined;
      this.serve(this.self, method, body, (fields) => {
        if (handling) answer = fields;
        else this.later(() => arrive(fields));
      });
      handling = false;
      if (answer) arrive(answer);
    });
  }

  /** Run `fn` in a later turn of the runtime's timers (the simulator's clock reaches it). */
  private later(fn: () => void): void {
    const turn = this.rt.timers.setTimeout(() => {
      this.localTurns.delete(turn);
      fn();
    }, 0);
    this.localTurns.add(turn);
  }

  /** Handles rq/rs messages; returns false for others. */
  handle(from: string, msg: WireMessage): boolean {
    if (msg.t === 'rs') {
      const p = this.pending.get(msg.id as number);
      if (!p || p.to !== from) return true;
      this.pending.delete(msg.id as number);
      this.rt.timers.clearTimeout(p.timer);
      if (msg.e) p.done({ kind: msg.e as RpcError['kind'], detail: String(msg.d ?? '') });
      else p.done(null, msg.b);
      return true;
    }
    if (msg.t !== 'rq') return false;
    if (this.isDuplicate(`${from}|${String(msg.s)}|${String(msg.id)}`)) return true;
    const id = msg.id;
    this.serve(from, msg.m, msg.b, (answer) => this.rt.transport.send(from, { t: 'rs', id, ...answer }));
    return true;
  }

  /** Run the method's handler; `answer` gets the fields of the 'rs' message, at most once. */
  private serve(from: string, method: unknown, body: unknown, answer: (fields: Record<string, unknown>) => void): void {
    const handler = this.handlers.get(method as string);
    if (!handler) return answer({ e: 'unknown-method', d: String(method) });
    let answered = false;
    handler(
      from,
      body,
      (b) => {
        if (answered) return;
        answered = true;
        answer({ b });
      },
      (detail) => {
        if (answered) return;
        answered = true;
        answer({ e: 'refused', d: detail });
      },
    );
  }

  /** Execute each request at most once: remember the last rpcDedupWindowRequests ids. */
  private isDuplicate(key: string): boolean {
    if (this.seen.has(key)) return true;
    this.seen.add(key);
    if (this.seenOrder.length < rpcDedupWindowRequests) this.seenOrder.push(key);
    else {
      this.seen.delete(this.seenOrder[this.seenHead]!);
      this.seenOrder[this.seenHead] = key;
      this.seenHead = (this.seenHead + 1) % rpcDedupWindowRequests;
    }
    return false;
  }

  /** Fail every request in flight (the node is stopping). */
  failAll(detail: string): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const turn of this.localTurns) this.rt.timers.clearTimeout(turn);
    this.localTurns.clear();
    for (const p of all) {
      this.rt.timers.clearTimeout(p.timer);
      p.done({ kind: 'refused', detail });
    }
  }

  inFlight(): number {
    return this.pending.size;
  }
}
