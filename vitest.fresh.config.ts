import { defineConfig } from 'vitest/config';

// The fresh-clone check (tests/fresh/): `npm start` on a clone of HEAD with nothing
// installed. It installs and builds a second copy of the project, so `npm test` runs it
// on its own after the other suites rather than beside the load-sensitive cluster tests.
export default defineConfig({
  test: {
    include: ['tests/fresh/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
