// Where the repository is, found by walking up to its package.json: the support code runs from
// its own folder under vitest, and from node_modules/.cache/ringlink once scripts/run-bundled.mjs
// has bundled a benchmark or the chaos runner, so its own file's location alone is not enough.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  for (const start of [dirname(fileURLToPath(import.meta.url)), process.cwd()]) {
    let dir = start;
    for (let i = 0; i < 8; i++) {
      const pkg = join(dir, 'package.json');
      if (existsSync(pkg) && /"name":\s*"ringlink"/.test(readFileSync(pkg, 'utf8'))) return dir;
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  return process.cwd();
}

/** The repository's root folder. */
export const root = findRoot();
/** The node bundle every launcher starts (`npm run build` makes it). */
export const serverBundle = join(root, 'dist', 'server.mjs');
