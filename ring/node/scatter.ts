// Scatter/gather: one request to each of several nodes, replies counted against a threshold,
// settled once (the shape of riak_core's get and put FSMs, and of every Paxos phase). This
// node may be among the targets: the RPC layer dispatches a call to itself locally, in a
// later turn, so no caller special-cases its own name. Callback style, like Rpc, so the
// simulator's clock reaches every step; the only timers are the RPC layer's, on the Runtime.
import type { Rpc, RpcError } from './rpc';

/** One target's answer: a reply (accepted toward `need` or not), or the call's failure. */
export type ScatterAnswer =
  | { readonly node: string; readonly accepted: boolean; readonly body: unknown; readonly error?: undefined }
  | { readonly node: string; readonly accepted: false; readonly body?: undefined; readonly error: RpcError };

/** What came back so far. A live view: answers that arrive later are added to it. */
export interface Gathered {
  /** At least `need` replies were accepted. */
  readonly met: boolean;
  /** Accepted reply bodies by node, in arrival order. */
  readonly accepted: ReadonlyMap<string, unknown>;
  /** Every answer, accepted, not accepted or failed, in arrival order. */
  readonly answers: readonly ScatterAnswer[];
  /** Targets that have not answered yet. */
  readonly outstanding: number;
}

export interface ScatterOptions {
  /** Accepted replies that settle the scatter as met. Default: every target. */
  readonly need?: number;
  /**
   * Each request's deadline, in ms. All requests leave at once, so by then every target has
   * answered or failed, and the scatter has settled and called allAnswered.
   */
  readonly timeoutMs: number;
  /** The body for one target; default: the same body for all. */
  readonly bodyFor?: (node: string) => unknown;
  /** Whether a reply counts toward `need` (default: every reply; failed calls never count). */
  readonly accept?: (body: unknown, node: string) => boolean;
  /** Every answer as it arrives, before the checks below (also after settling). */
  readonly onAnswer?: (answer: ScatterAnswer) => void;
  /**
   * Once: when `need` replies were accepted (met), or when too few targets are left to reach
   * `need` (not met). Never before every request went out; synchronous only when nothing is
   * left to wait for (no targets, need <= 0, or calls refused at once as too many in flight).
   */
  readonly settled?: (gathered: Gathered) => void;
  /** Once, after settled: every target answered or failed (read repair, all-or-nothing steps). */
  readonly allAnswered?: (gathered: Gathered) => void;
}

/**
 * Send `method` with `body` to every target (distinct names; this node may be one of them) and
 * gather the answers; see ScatterOptions for when it settles.
 */
export function scatter(
  rpc: Rpc,
  targets: readonly string[],
  method: string,
  body: unknown,
  opts: ScatterOptions,
): void {
  const need = opts.need ?? targets.length;
  const accepted = new Map<string, unknown>();
  const answers: ScatterAnswer[] = [];
  const gathered = {
    met: false,
    accepted: accepted as ReadonlyMap<string, unknown>,
    answers: answers as readonly ScatterAnswer[],
    outstanding: targets.length,
  };
  let sending = true;
  let settled = false;
  const check = () => {
    if (sending) return;
    if (!settled && (accepted.size >= need || accepted.size + gathered.outstanding < need)) {
      settled = true;
      gathered.met = accepted.size >= need;
      opts.settled?.(gathered);
    }
    if (gathered.outstanding === 0) opts.allAnswered?.(gathered);
  };
  for (const node of targets) {
    // A call can fail synchronously (too many in flight): `sending` holds the checks until all went out.
    rpc.call(node, method, opts.bodyFor ? opts.bodyFor(node) : body, opts.timeoutMs, (error, reply) => {
      gathered.outstanding--;
      let answer: ScatterAnswer;
      if (error) answer = { node, accepted: false, error };
      else {
        answer = { node, accepted: opts.accept ? opts.accept(reply, node) : true, body: reply };
        if (answer.accepted) accepted.set(node, reply);
      }
      answers.push(answer);
      opts.onAnswer?.(answer);
      check();
    });
  }
  sending = false;
  check();
}
