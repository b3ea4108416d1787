#!/usr/bin/env node
// `npm run build`: bundle the server entry and ringctl into dist/ (esbuild; npm packages
// stay external and load from node_modules), after writing the app's page segments for the
// server (scripts/app-routes.mjs). The Next.js build joins here with the web app.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeAppRoutes } from './app-routes.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The web app's page segments are reserved slugs: the server bundle carries them.
if (writeAppRoutes(root)) console.log('wrote server/http/appRoutes.generated.ts from the folders of app/');
for (const [entry, out] of [
  ['server/main.ts', 'dist/server.mjs'],
  ['server/cli/ringctl.ts', 'dist/ringctl.mjs'],
]) {
  await build({
    entryPoints: [join(root, entry)],
    outfile: join(root, out),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
    banner: { js: '// Built by scripts/build.mjs from ' + entry + '; do not edit.' },
  });
}
console.log('built dist/server.mjs and dist/ringctl.mjs');

// The web UI: `next build` into .next/, skipped when .next/BUILD_ID is newer than every input.
const nextInputs = ['app', 'public', 'next.config.js', 'tsconfig.next.json', 'package-lock.json'];

function newestMtimeMs(path) {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    return 0; // an optional input (public/) that does not exist
  }
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs; // a deleted file shows as a newer directory
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtimeMs(join(path, entry)));
  return newest;
}

const buildIdPath = join(root, '.next', 'BUILD_ID');
const builtAtMs = existsSync(buildIdPath) ? statSync(buildIdPath).mtimeMs : 0;
const inputsChangedAtMs = Math.max(...nextInputs.map((input) => newestMtimeMs(join(root, input))));
if (builtAtMs > inputsChangedAtMs) {
  console.log('.next is up to date; skipped next build');
} else {
  const startedAt = Date.now();
  const result = spawnSync(process.execPath, [join(root, 'node_modules', 'next', 'dist', 'bin', 'next'), 'build'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
  });
  if (result.status !== 0) {
    console.error(`next build failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`})`);
    process.exit(result.status || 1);
  }
  console.log(`built .next in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
}
