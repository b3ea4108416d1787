// Where the end-to-end tests put their screenshots. A test run must leave the clone as it found
// it, so by default they go under test-results/ (git-ignored, emptied by Playwright on each run);
// `npm run screenshots` sets RINGLINK_SCREENSHOTS_DIR=docs/screenshots to refresh the README's.
import { join } from 'node:path';

export const screenshotsDir = process.env.RINGLINK_SCREENSHOTS_DIR ?? join('test-results', 'screenshots');

/** Whether this run was asked to write the README's screenshots (the clean-clone check then stands aside). */
export const refreshingReadmeScreenshots = process.env.RINGLINK_SCREENSHOTS_DIR !== undefined;

export function screenshotPath(name: string): string {
  return join(screenshotsDir, name);
}
