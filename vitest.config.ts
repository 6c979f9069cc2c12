import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Projects sized by cost (README, "Set up, run, test"): `e2e` is every `*.e2e.test.ts` — tests that start
 * processes (the CLI as a child, `kill -9`, Python, a reference binary), drive Chromium, or train and export for
 * more than a few seconds; `unit` is everything else and stays well under a minute (`npm run test:unit` runs
 * `unit` and `unit-isolated`).
 *
 * `unit` files run one after another in one process (singleFork) that keeps its module cache (isolate: false):
 * tfjs, onnxruntime, sharp and face-api load once, not once a file (each file imported them afresh, ~0.5-2.5 s
 * a file; `unit` took 46 s, now 20 s). `isolate: false` alone does not do that: vitest's forks pool is one for
 * the whole run, built from the root config, and with the root's isolation it starts a new process for every
 * file whatever the project says; `singleFork` is read per project. The files in ISOLATED keep a process of
 * their own: they check process-wide state as a fresh process has it (sharp's settings, an "auto" note said
 * once), mock a module, switch tfjs backends and kernels by hand, or are the golden bytes, whose test exports
 * first in a fresh process's floating-point mode, then in the one an onnxruntime session leaves (flush-to-zero).
 */
const E2E = 'test/**/*.e2e.test.ts';
const ISOLATED = [
  'test/io/sharp-settings.test.ts',
  'test/detect/auto-detector.test.ts',
  'test/convert/golden.test.ts',
  'test/engine/**/*.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, E2E, ...ISOLATED],
          isolate: false,
          poolOptions: { forks: { singleFork: true } },
        },
      },
      { extends: true, test: { name: 'unit-isolated', include: ISOLATED, exclude: [...configDefaults.exclude, E2E] } },
      { extends: true, test: { name: 'e2e', include: [E2E] } },
    ],
  },
});
