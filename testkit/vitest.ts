// The vitest side of the harness, apart from index.ts so that benchmarks and the chaos runner
// (plain node processes) never load vitest.
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { ensureBuilt } from './build';
import { Harness, type HarnessOptions } from './harness';

/**
 * Give each test a fresh Harness: every process it starts is killed and its data removed
 * afterwards, and on failure the nodes' output is printed. With `build`, dist/ is brought up
 * to date first (ensureBuilt, once for the file).
 */
export function useHarness(assign: (h: Harness) => void, options: HarnessOptions & { build?: boolean } = {}): void {
  const { build, ...harnessOptions } = options;
  if (build) beforeAll(() => ensureBuilt(), 150_000);
  let current: Harness | undefined;
  beforeEach(({ onTestFailed }) => {
    const mine = new Harness(harnessOptions);
    current = mine;
    assign(mine);
    onTestFailed(({ task }) => {
      if (task.fails) return; // an expected failure (it.fails): nothing to debug
      console.log(`node output for the failed test:\n${mine.dumpLogs()}`);
    });
  });
  afterEach(async () => {
    await current?.cleanup();
  }, 30_000);
  afterAll(async () => {
    await current?.cleanup();
  });
}
