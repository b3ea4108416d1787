// Installs the npm dependencies exactly as the committed lockfile says (`npm ci`), when
// node_modules is missing or older than package-lock.json. Shared by `npm start` and
// `npm test`, so a fresh clone needs only Node and npm, and stays clean: `npm ci` never
// rewrites package-lock.json (`npm install` would).
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Install with `npm ci` when needed; exits the process when the install fails. */
export function ensureDependencies(root) {
  const installed = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (existsSync(installed) && statSync(installed).mtimeMs >= statSync(lock).mtimeMs) return;
  console.log('\n$ npm ci --no-audit --no-fund');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`npm ci failed (exit ${r.status ?? r.signal}): the dependencies could not be installed`);
    process.exit(r.status || 1);
  }
}
