// A newcomer's first minutes: `npm start` on a fresh clone with nothing installed (no
// node_modules, no build, no ./data). It must install (npm ci) and build by itself, run a
// 3-node cluster that serves, generate its secrets under ./data (no built-in secret), stop
// on Ctrl-C, and leave the clone exactly as clean as it was. The clone is of HEAD: what is
// committed is what a newcomer gets. `npm test` runs this file on its own
// (vitest.fresh.config.ts), after the other suites.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { BoundedLog, configVars, freePortRun, root, waitFor } from '../../testkit';

/** Install, two builds and three nodes starting, on a loaded 2-core machine. */
const startTimeoutMs = 420_000;
const stopTimeoutMs = 30_000;

const dir = mkdtempSync(join(tmpdir(), 'ringlink-fresh-'));
let start: ChildProcess | undefined;
const out = new BoundedLog(256 * 1024);

afterAll(() => {
  // The whole process group: npm, scripts/start.mjs and the three nodes.
  if (start?.pid && start.exitCode === null && start.signalCode === null) {
    try {
      process.kill(-start.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

function gitStatus(): string {
  const r = spawnSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: dir, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

it('npm start on a fresh clone installs, builds and runs a 3-node cluster that serves, with its own secrets, and leaves the clone clean', async () => {
  const cloned = spawnSync('git', ['clone', '--quiet', '--no-hardlinks', root, dir], { encoding: 'utf8' });
  expect(cloned.status, cloned.stderr).toBe(0);
  expect(existsSync(join(dir, 'node_modules'))).toBe(false);
  expect(gitStatus()).toBe('');

  const base = await freePortRun(3);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !configVars.includes(k)) env[k] = v;
  env.START_PORT = String(base);
  const proc = spawn('npm', ['start'], {
    cwd: dir,
    env: env as NodeJS.ProcessEnv,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  start = proc;
  proc.stdout!.setEncoding('utf8').on('data', (s: string) => out.append(s));
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => out.append(s));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const urls = [0, 1, 2].map((i) => `http://127.0.0.1:${base + i}`);

  const ready = waitFor(
    async () => {
      const up = await Promise.all(
        urls.map((u) =>
          fetch(`${u}/readyz`, { signal: AbortSignal.timeout(2_000) }).then(
            (r) => r.ok,
            () => false,
          ),
        ),
      );
      return up.every(Boolean);
    },
    { timeoutMs: startTimeoutMs, intervalMs: 1_000, what: "the fresh clone's 3 nodes ready" },
  );
  const outcome = await Promise.race([
    ready.then(
      () => 'ready' as const,
      (err: Error) => err,
    ),
    exited.then((code) => `exited ${code}` as const),
  ]);
  if (outcome !== 'ready')
    throw new Error(
      `npm start: ${outcome instanceof Error ? outcome.message : outcome}\n--- its output ---\n${out.text().slice(-6000)}`,
    );
  expect(out.text()).toContain('npm ci');
  expect(existsSync(join(dir, 'node_modules', '.package-lock.json'))).toBe(true);

  // It serves: a link made through one node redirects through another, and the UI is up.
  const created = await waitFor(
    async () => {
      const r = await fetch(`${urls[0]}/api/links`, {
        method: 'POST',
        headers: { origin: urls[0]!, 'content-type': 'application/json' },
        body: JSON.stringify({ url: 'https://example.com/fresh-clone' }),
      });
      return r.status === 201 ? ((await r.json()) as { slug: string }) : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 500, what: 'a first create on the fresh cluster' },
  );
  await waitFor(
    async () =>
      (await fetch(`${urls[1]}/${created.slug}`, { redirect: 'manual' })).headers.get('location') ===
      'https://example.com/fresh-clone',
    {
      timeoutMs: 10_000,
      intervalMs: 200,
      what: 'the redirect through another node',
    },
  );
  const home = await fetch(`${urls[2]}/`);
  expect(home.status).toBe(200);
  expect(await home.text()).toContain('<html');

  // Secrets generated on first start, readable by the owner only; the admin token works.
  for (const file of ['cluster-secret', 'admin-token']) {
    const path = join(dir, 'data', file);
    expect(readFileSync(path, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  }
  const token = readFileSync(join(dir, 'data', 'admin-token'), 'utf8').trim();
  expect((await fetch(`${urls[0]}/api/admin/status`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(
    200,
  );
  expect(readFileSync(join(dir, 'data', 'cluster-secret'), 'utf8')).not.toContain('ringlink-dev-secret');

  // Ctrl-C stops every node (the terminal signals the whole group), and nothing in the clone changed.
  process.kill(-proc.pid!, 'SIGINT');
  const code = await Promise.race([
    exited,
    new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), stopTimeoutMs)),
  ]);
  expect(code, out.text().slice(-4000)).not.toBe('timeout');
  expect(gitStatus()).toBe('');
});
