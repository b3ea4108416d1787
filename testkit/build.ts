// ensureBuilt(): rebuild dist/ (node scripts/build.mjs) when it is missing or older than ring/ or
// server/ (and, for pages, Next's .next/ older than app/); a lock directory under os.tmpdir()
// serialises concurrent test files.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, serverBundle } from './paths';

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Whether dist/ (and with `ui`, Next's .next/ build of app/) is missing or older than its sources. */
function bundleIsStale(ui = false): boolean {
  if (!existsSync(serverBundle)) return true;
  const built = statSync(serverBundle).mtimeMs;
  if (['ring', 'server'].some((d) => newestMtime(join(root, d)) > built)) return true;
  if (!ui) return false;
  const buildId = join(root, '.next', 'BUILD_ID');
  return !existsSync(buildId) || newestMtime(join(root, 'app')) > statSync(buildId).mtimeMs;
}

/** The longest a build may take (Next's included) before a waiter gives up on its lock. */
const buildTimeoutMs = 300_000;

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Build dist/server.mjs if it is missing or older than the sources (at most once per call site; cheap
 * when fresh). `ui: true` for tests of pages (SERVE_UI=1): Next's build of app/ must be there too.
 */
export function ensureBuilt(opts: { ui?: boolean } = {}): void {
  if (!bundleIsStale(opts.ui)) return;
  const lock = join(tmpdir(), 'ringlink-cluster-build.lock');
  const deadline = Date.now() + buildTimeoutMs;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Someone else is building; a lock older than a build may take is abandoned.
      try {
        if (Date.now() - statSync(lock).mtimeMs > buildTimeoutMs) rmSync(lock, { recursive: true, force: true });
      } catch {
        // vanished meanwhile
      }
      if (Date.now() > deadline) throw new Error(`ensureBuilt: ${lock} held for over ${buildTimeoutMs / 1000} s`);
      sleepSync(200);
    }
  }
  try {
    if (!bundleIsStale(opts.ui)) return;
    // Next's build takes a minute or more on two busy cores.
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], {
      cwd: root,
      encoding: 'utf8',
      timeout: buildTimeoutMs,
    });
    if (r.status !== 0) {
      throw new Error(`node scripts/build.mjs failed (exit ${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Fail early with the command to run when dist/server.mjs is missing (benchmarks and chaos build it first). */
export function requireBundle(hint: string): void {
  if (!existsSync(serverBundle)) throw new Error(`${serverBundle} is missing: run node scripts/build.mjs (${hint})`);
}
