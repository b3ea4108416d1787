// Bounded waiting: every wait here ends, with a message that says what it was waiting for.

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** What is being waited for, for the timeout message. */
  what?: string;
  /** Checked before every try: a reason ends the wait at once with that error (e.g. a process exited). */
  failIf?: () => string | undefined;
}

/**
 * Poll fn until it returns something other than undefined/false/null; throws after timeoutMs
 * (always bounded). A throwing fn counts as "not yet"; its last error is in the timeout message.
 * `failIf` ends it early.
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  opts: WaitOptions,
): Promise<Exclude<T, false | null | undefined>> {
  const { timeoutMs, intervalMs = 100, what = 'condition' } = opts;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const fatal = opts.failIf?.();
    if (fatal !== undefined) throw new Error(`waitFor: ${what}: ${fatal}`);
    try {
      const v = await fn();
      if (v !== undefined && v !== false && v !== null) return v as Exclude<T, false | null | undefined>;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`waitFor: ${what} not reached within ${timeoutMs} ms (last: ${detail})`);
    }
    await sleep(Math.min(intervalMs, Math.max(1, deadline - Date.now())));
  }
}

/** Run fn over items with at most `concurrency` in flight. */
export async function pool<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}
