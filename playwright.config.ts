// End-to-end tests: Debian's chromium (Playwright cannot download browsers here) against a
// real 3-node cluster of production builds (dist/server.mjs + Next's .next build).
import { defineConfig } from '@playwright/test';

export const e2ePorts = [4310, 4311, 4312] as const;
/** Short links lead here (tests/e2e/targetServer.mjs); the cluster allows loopback targets for it. */
export const targetPort = 4320;
const nodeEnv = (i: number) => ({
  HOST: '127.0.0.1',
  PORT: String(e2ePorts[i]),
  NODE_NAME: `e${i + 1}`,
  SEEDS: i === 0 ? '' : `127.0.0.1:${e2ePorts[0]}`,
  CLUSTER_SECRET: 'ringlink-e2e-cluster-secret',
  RING_SIZE: '32',
  RATE_LIMIT_CREATE_PER_MIN: '0',
  LOG_LEVEL: 'warn',
  SERVE_UI: '1',
  ALLOW_PRIVATE_TARGETS: '1',
});

export default defineConfig({
  testDir: 'tests/e2e',
  // Fails the run when the tests leave anything new in the clone (tests/e2e/support/cleanClone.ts).
  globalSetup: './tests/e2e/support/cleanClone.ts',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    browserName: 'chromium',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
    trace: 'off',
  },
  webServer: [
    {
      command: 'node tests/e2e/targetServer.mjs',
      url: `http://127.0.0.1:${targetPort}/health`,
      env: { PORT: String(targetPort) },
      reuseExistingServer: false,
      timeout: 10_000,
    },
    ...e2ePorts.map((port, i) => ({
      command: 'node dist/server.mjs',
      url: `http://127.0.0.1:${port}/readyz`,
      env: nodeEnv(i),
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'ignore' as const,
      stderr: 'pipe' as const,
    })),
  ],
});
