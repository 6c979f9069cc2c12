/**
 * A program that imports fer and calls a tfjs stage function without choosing a backend first (README: "backends
 * are set when a function first needs them"), in a fresh process: fer's engine is chosen then, and the program's own
 * tfjs calls made before it work too. With tfjs-backend-wasm imported at start-up both failed with "The highest
 * priority backend 'wasm' has not yet been initialized".
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { packagePath } from '../../src/paths.js';

const run = (script: string) =>
  spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: packagePath(),
    encoding: 'utf8',
    env: { ...process.env, FER_BACKEND: '' },
  });

describe('importing fer in a fresh process', () => {
  it('loadModel chooses the engine itself, and the program’s own tfjs works before and after', () => {
    const index = JSON.stringify(packagePath('src', 'index.ts'));
    const tfSite = JSON.stringify(packagePath('src', 'engine', 'tf.ts'));
    const r = run(
      `import { loadModel } from ${index}; import { tf } from ${tfSite};` +
        `const before = tf.add(tf.scalar(1), tf.scalar(2)).dataSync()[0];` +
        `const { model } = await loadModel('models/fer-mini-xception');` +
        `const y = model.predict(tf.zeros([1, 48, 48, 1])).dataSync();` +
        `console.log(JSON.stringify({ before, sum: Array.from(y).reduce((a, b) => a + b, 0), n: y.length }));`,
    );
    expect(r.status, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(o.before).toBe(3);
    expect(o.n).toBe(7);
    expect(o.sum).toBeCloseTo(1, 4);
  }, 60_000);
});
