/** toGray (detect/dlib.ts) against the BT.601 formula it replaces, for every 8-bit colour. */
import { describe, it, expect } from 'vitest';
import { toGray } from '../../src/detect/dlib.js';

describe('toGray', () => {
  it('is Math.round(0.299·r + 0.587·g + 0.114·b) for each of the 2^24 colours, and leaves a gray image as it is', () => {
    const data = new Uint8Array(256 * 256 * 3);
    let first: string | undefined;
    for (let r = 0; r < 256 && !first; r++) {
      for (let p = 0; p < 65536; p++) [data[3 * p], data[3 * p + 1], data[3 * p + 2]] = [r, p >> 8, p & 255];
      const gray = toGray({ data, width: 256, height: 256, channels: 3 });
      for (let p = 0; p < 65536 && !first; p++) {
        const want = Math.round(0.299 * r + 0.587 * (p >> 8) + 0.114 * (p & 255));
        if (gray[p] !== want) first = `rgb(${r}, ${p >> 8}, ${p & 255}): ${gray[p]}, expected ${want}`;
      }
    }
    expect(first).toBeUndefined();
    const one = new Uint8Array([1, 2, 3, 4]);
    expect(toGray({ data: one, width: 2, height: 2, channels: 1 })).toBe(one);
  });

  it('reads 4-channel pixels, alpha ignored', () => {
    const rgba = new Uint8Array([255, 0, 0, 7, 0, 255, 0, 200, 0, 0, 255, 0, 10, 20, 30, 255]);
    expect([...toGray({ data: rgba, width: 4, height: 1, channels: 4 })]).toEqual([76, 150, 29, 18]);
  });
});
