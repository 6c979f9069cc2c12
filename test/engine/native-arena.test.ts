// A plan's arena asks Linux for 2 MiB pages before it is written (native-step.ts planArena, addon.cc
// adviseHugePages): the advice covers exactly the array's 2 MiB-aligned interior, and the arena stays a zeroed
// Float32Array of the plan's size.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../../src/engine/native/addon.js';
import { planArena } from '../../src/engine/native/native-step.js';

const addon = loadNativeAddon();
const linux = process.platform === 'linux';
const MiB = 2 ** 20;
/** The process's anonymous memory in 2 MiB pages, as the kernel counts it. */
const hugeMiB = (): number => Number(/AnonHugePages:\s+(\d+) kB/.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))?.[1] ?? 0) / 1024;

describe('planArena', () => {
  it('is a zeroed Float32Array of the size asked', () => {
    const a = planArena(3 * MiB + 5);
    expect(a).toBeInstanceOf(Float32Array);
    expect(a.length).toBe(3 * MiB + 5);
    expect(a.every((v) => v === 0)).toBe(true);
  });

  it.skipIf(!linux || !addon?.adviseHugePages)('advises the whole 2 MiB-aligned interior and nothing outside', () => {
    const a = new Float32Array(5 * MiB); // 20 MiB
    const advised = addon!.adviseHugePages!(a);
    // An interior of at least 20 - 2·2 MiB, in whole 2 MiB pages, never more than the array.
    expect(advised % (2 * MiB)).toBe(0);
    expect(advised).toBeGreaterThanOrEqual(a.byteLength - 4 * MiB);
    expect(advised).toBeLessThanOrEqual(a.byteLength);
    expect(addon!.adviseHugePages!(new Float32Array(1000))).toBe(0); // smaller than one huge page
  });

  it.skipIf(!linux || !addon?.adviseHugePages)("the advice is in the kernel's mapping of the arena", () => {
    const thp = (() => {
      try {
        return readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8');
      } catch {
        return '';
      }
    })();
    if (!/\[(madvise|always)\]/.test(thp)) return expect(thp).not.toMatch(/\[(madvise|always)\]/);
    const before = hugeMiB();
    const a = planArena(16 * MiB); // 64 MiB
    a.fill(1); // touch every page
    // At least half of its interior in 2 MiB pages (the kernel may fall back to small pages where memory is fragmented).
    expect(hugeMiB() - before).toBeGreaterThanOrEqual(30);
  });
});
