import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Two projects, sized by cost (README, "Set up, run, test"): `e2e` is every `*.e2e.test.ts` — tests that start
 * processes (the CLI as a child, `kill -9`, Python, a reference binary), drive Chromium, or train and export for
 * more than a few seconds; `unit` is everything else and stays well under a minute (`npm run test:unit`).
 */
const E2E = 'test/**/*.e2e.test.ts';

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, E2E] } },
      { extends: true, test: { name: 'e2e', include: [E2E] } },
    ],
  },
});
