// The cluster page follows a fourth node that joins, is killed, and is restarted; at the
// end it leaves gracefully, so the ring is back to three nodes. (Named to run last: the
// other end-to-end files should not race a ring that is reshuffling.)
import { spawn, type ChildProcess } from 'node:child_process';
import { expect, test } from '@playwright/test';
import { e2ePorts } from '../../playwright.config';
import { screenshotPath } from './support/screenshots';

const A = `http://127.0.0.1:${e2ePorts[0]}`;

test('the cluster page shows a node that is killed, then restarted', async ({ browser }) => {
  test.setTimeout(120_000);
  const port = 4313;
  const start = (): ChildProcess =>
    spawn(process.execPath, ['dist/server.mjs'], {
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: String(port),
        NODE_NAME: 'e4',
        SEEDS: `127.0.0.1:${e2ePorts[0]}`,
        CLUSTER_SECRET: 'ringlink-e2e-cluster-secret',
        RING_SIZE: '32',
        LOG_LEVEL: 'warn',
        SERVE_UI: '0',
        // Its SIGTERM at the end hands its partitions back: the e2e cluster ends as it began.
        LEAVE_ON_SIGTERM: '1',
      },
      stdio: 'ignore',
    });
  let extra = start();
  try {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const page = await ctx.newPage();
    await page.goto(`${A}/cluster`);
    const row = page.locator('[data-testid="member-row"][data-name="e4"]');
    await expect(row).toHaveAttribute('data-liveness', 'alive', { timeout: 30_000 });
    await expect(page.getByTestId('ring-partition').first()).toBeVisible();
    await page.screenshot({ path: screenshotPath('cluster.png'), fullPage: true });

    extra.kill('SIGKILL');
    await expect(row).toHaveAttribute('data-liveness', 'dead', { timeout: 10_000 });
    await expect(page.getByTestId('event-log')).toContainText('e4');

    extra = start();
    await expect(row).toHaveAttribute('data-liveness', 'alive', { timeout: 30_000 });
    await ctx.close();
  } finally {
    if (extra.exitCode === null && extra.signalCode === null) {
      const exited = new Promise((r) => extra.once('exit', r));
      extra.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
      extra.kill('SIGKILL');
    }
  }
});
