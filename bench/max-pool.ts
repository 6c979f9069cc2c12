/**
 * fer-native's max pooling and its gradient alone (the addon's maxPool / maxPoolGrad) on the mini-Xception's
 * four pooling shapes at batch 64, 3×3 windows, stride 2, 'same': minimum of 9 calls after one untimed.
 *
 *   [T=1] [FER_NATIVE_ADDON=/abs/path/other-build.node] npx tsx bench/max-pool.ts
 */
import { loadNativeAddon } from '../src/engine/native/addon.js';

const addon = loadNativeAddon();
if (!addon) throw new Error('the native addon is not built');
addon.setThreads(Number(process.env.T ?? 1));
const time = (f: () => void) => {
  f();
  const ts: number[] = [];
  for (let i = 0; i < 9; i++) {
    const t0 = performance.now();
    f();
    ts.push(performance.now() - t0);
  }
  return Math.min(...ts).toFixed(2);
};
for (const [h, c] of [
  [44, 16],
  [22, 32],
  [11, 64],
  [6, 128],
]) {
  const oh = Math.ceil(h / 2),
    pad = Math.max(0, ((oh - 1) * 2 + 3 - h) >> 1);
  const p = Int32Array.from([64, h, h, c, oh, oh, 3, 3, 2, 2, pad, pad]);
  const x = Float32Array.from({ length: 64 * h * h * c }, () => Math.random() - 0.5);
  const y = new Float32Array(64 * oh * oh * c),
    dy = Float32Array.from(y, () => Math.random()),
    dx = new Float32Array(x.length);
  console.log(
    `64×${h}×${h}×${c}: forward ${time(() => addon.maxPool(p, x, y))} ms, gradient ${time(() => addon.maxPoolGrad(p, dy, x, dx))} ms`,
  );
}
