// Virtual time for promise-based code. The ring's simulator runs scheduler events one after
// another in a synchronous loop; the shortener's services are async functions whose
// continuations are microtasks, which a synchronous loop would hold back until it returns
// (so they would run late, at the wrong virtual time). These helpers advance the scheduler
// one virtual instant at a time and let every continuation released at that instant run
// before the next one: a macrotask turn (setImmediate) drains the microtask queue, in the
// order it was filled. Nothing else runs in that turn: the services take every clock, timer
// and random draw from the simulated runtime, so a run stays a pure function of its seed.
//
// A macrotask turn costs microseconds (the event loop polls for I/O), and most instants
// only run the ring's own callback code. V8's promise hooks tell whether an instant created
// or settled any promise; only such an instant can have queued a continuation, so only
// then is the turn taken. (Our code queues no microtask other than through promises.)
import { promiseHooks } from 'node:v8';
import type { SimWorld } from '../../ring/sim';

let touched = true;
const touch = () => {
  touched = true;
};

/** Watch promise activity while `fn` runs (hooks are process-wide: one simulation at a time per thread). */
export async function watchingPromises<T>(fn: () => Promise<T>): Promise<T> {
  const stops = [promiseHooks.onInit(touch), promiseHooks.onSettled(touch)];
  touched = true;
  try {
    return await fn();
  } finally {
    for (const stop of stops) stop();
  }
}

/** Run every continuation queued so far, and those they queue in turn. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Advance virtual time by `ms`, running each instant's events and then the continuations they released. */
export async function runFor(world: SimWorld, ms: number): Promise<void> {
  const s = world.scheduler;
  const end = s.now() + ms;
  for (;;) {
    if (touched) await settle();
    touched = false;
    const next = s.nextTime();
    if (next === undefined || next > end) break;
    s.runUntil(next);
  }
  s.runUntil(end);
  touched = true;
}

export type Outcome<T> = { value: T } | { error: unknown };

/**
 * Drive the world until `p` settles or `maxMs` of virtual time pass; the value, or
 * undefined on timeout (the promise may still settle later, like an answer after a
 * client gave up).
 */
export async function runUntilSettled<T>(world: SimWorld, p: Promise<T>, maxMs: number): Promise<Outcome<T> | void> {
  let outcome: Outcome<T> | undefined;
  p.then(
    (value) => (outcome = { value }),
    (error: unknown) => (outcome = { error }),
  );
  const s = world.scheduler;
  const end = s.now() + maxMs;
  for (;;) {
    if (touched) await settle();
    touched = false;
    if (outcome) return outcome;
    const next = s.nextTime();
    if (next === undefined || next > end) break;
    s.runUntil(next);
  }
  s.runUntil(end);
  await settle();
  return outcome;
}
