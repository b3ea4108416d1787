// esbuild: a TypeScript entry of the repository to one plain ESM file under
// node_modules/.cache/ringlink, for a baseline server a benchmark starts as its own process.
import { join } from 'node:path';
import { root } from '../../testkit';

/** Bundles `entry` (relative to the repository root) to node_modules/.cache/ringlink/`name`; returns its path. */
export async function bundle(entry: string, name: string): Promise<string> {
  const { build } = (await import('esbuild')) as typeof import('esbuild');
  const outfile = join(root, 'node_modules', '.cache', 'ringlink', name);
  await build({
    entryPoints: [join(root, entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    packages: 'external',
    logLevel: 'warning',
  });
  return outfile;
}
