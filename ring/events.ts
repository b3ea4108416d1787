// Typed events with any number of listeners, in place of single-slot `onX = fn` hooks (a
// second listener would have to poll). on() returns the function that unsubscribes. emit()
// is synchronous and calls the listeners in subscription order; a listener that throws is
// logged and neither stops the others nor reaches the code that emitted.
import type { Logger } from './runtime';

export type Unsubscribe = () => void;

/** The payload a listener of `E[K]` receives; events without one are declared `void`. */
export type Listener<T> = (payload: T) => void;

/** The subscriber's side of an emitter: it can listen, not emit. */
export interface Events<E> {
  on<K extends keyof E>(name: K, listener: Listener<E[K]>): Unsubscribe;
  /** Called for the next emission only. */
  once<K extends keyof E>(name: K, listener: Listener<E[K]>): Unsubscribe;
}

interface Subscription {
  readonly listener: Listener<never>;
  active: boolean;
}

export class Emitter<E> implements Events<E> {
  private readonly subscriptions = new Map<keyof E, Subscription[]>();

  constructor(private readonly logger: Pick<Logger, 'error'>) {}

  on<K extends keyof E>(name: K, listener: Listener<E[K]>): Unsubscribe {
    const sub: Subscription = { listener: listener as Listener<never>, active: true };
    // Copy on write: an emission in progress goes on over the list it started with.
    this.subscriptions.set(name, [...(this.subscriptions.get(name) ?? []), sub]);
    return () => {
      if (!sub.active) return;
      sub.active = false;
      const rest = (this.subscriptions.get(name) ?? []).filter((s) => s !== sub);
      if (rest.length > 0) this.subscriptions.set(name, rest);
      else this.subscriptions.delete(name);
    };
  }

  once<K extends keyof E>(name: K, listener: Listener<E[K]>): Unsubscribe {
    const off = this.on(name, (payload) => {
      off();
      listener(payload);
    });
    return off;
  }

  emit<K extends keyof E>(name: K, ...payload: E[K] extends void ? [] : [E[K]]): void {
    const subs = this.subscriptions.get(name);
    if (!subs) return;
    for (const sub of subs) {
      // Unsubscribed during this emission (by an earlier listener): not called any more.
      if (!sub.active) continue;
      try {
        (sub.listener as Listener<unknown>)(payload[0]);
      } catch (err) {
        const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
        this.logger.error('an event listener threw', { event: String(name), err: detail });
      }
    }
  }

  listenerCount(name: keyof E): number {
    return this.subscriptions.get(name)?.length ?? 0;
  }
}
