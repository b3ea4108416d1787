// Where the repository is. tests/cluster/harness.ts derives its root from its own file's
// location, which is wrong once this code is bundled into node_modules/.cache by
// scripts/run-bundled.mjs; walk up from here (or the working directory) to package.json.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  for (const start of [dirname(fileURLToPath(import.meta.url)), process.cwd()]) {
    let dir = start;
    for (let i = 0; i < 8; i++) {
      const pkg = join(dir, 'package.json');
      if (existsSync(pkg) && existsSync(join(dir, 'chaos')) && /"name":\s*"ringlink"/.test(readFileSync(pkg, 'utf8'))) return dir;
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  return process.cwd();
}

export const repoRoot = findRoot();
export const bundlePath = join(repoRoot, 'dist', 'server.mjs');
