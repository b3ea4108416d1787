// Playwright's globalSetup: notes `git status` before the end-to-end run and returns the
// teardown, which fails the run when the tests left anything new in the clone (README.md:
// tests leave a clone as they found it). Files already dirty before the run are
// the developer's and are not judged.
import { execFileSync } from 'node:child_process';
import { refreshingReadmeScreenshots } from './screenshots';

/** `git status --porcelain` lines (untracked files listed one by one), or null outside a git checkout. */
export function gitStatusLines(): Set<string> | null {
  try {
    const out = execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { encoding: 'utf8' });
    return new Set(out.split('\n').filter(Boolean));
  } catch {
    return null; // an unpacked tarball, or no git: nothing to compare
  }
}

export default function noteCloneState(): () => void {
  const before = gitStatusLines();
  return () => {
    if (before === null || refreshingReadmeScreenshots) return;
    const after = gitStatusLines() ?? new Set<string>();
    const added = [...after].filter((line) => !before.has(line));
    if (added.length > 0) {
      const why = 'the end-to-end tests changed the clone (write under test-results/ or a temporary folder)';
      throw new Error(`${why}:\n${added.join('\n')}`);
    }
  };
}
