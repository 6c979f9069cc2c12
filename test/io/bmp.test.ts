/**
 * io/bmp.ts against ffmpeg's own BMP encoder and decoder (every pixel format ffmpeg writes: 24- and 32-bit, 16-bit
 * 5-6-5 bitfields and 5-5-5, 8-bit palette and gray, 4-bit, 1-bit), a top-down bitmap built by hand, and the
 * bitmaps it refuses. `fer predict` reads a .bmp (sharp's libvips does not).
 */
import { describe, it, expect } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeBmp, isBmp } from '../../src/io/bmp.js';
import { decodeRgb } from '../../src/io/image.js';

const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'fer-bmp-'));
const W = 37, // odd: every row needs padding
  H = 21;

/** A 24-bit bottom-up bitmap of rgb (W×H×3, top row first), or top-down when `topDown`. */
function bmp24(rgb: Uint8Array, w: number, h: number, topDown = false): Uint8Array {
  const stride = (w * 3 + 3) & ~3;
  const b = new Uint8Array(54 + stride * h);
  const v = new DataView(b.buffer);
  b[0] = 0x42;
  b[1] = 0x4d;
  v.setUint32(2, b.length, true);
  v.setUint32(10, 54, true);
  v.setUint32(14, 40, true);
  v.setInt32(18, w, true);
  v.setInt32(22, topDown ? -h : h, true);
  v.setUint16(26, 1, true);
  v.setUint16(28, 24, true);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const p = 54 + (topDown ? y : h - 1 - y) * stride + 3 * x;
      const q = 3 * (y * w + x);
      b[p] = rgb[q + 2];
      b[p + 1] = rgb[q + 1];
      b[p + 2] = rgb[q];
    }
  return b;
}

const pattern = Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 37 + ((i / 3) | 0) * 11) & 255);

describe('decodeBmp', () => {
  it('reads a hand-built 24-bit bitmap, bottom-up and top-down, pixel for pixel', () => {
    for (const topDown of [false, true]) {
      const m = decodeBmp(bmp24(pattern, W, H, topDown), 1e8);
      expect([m.width, m.height, m.channels]).toEqual([W, H, 3]);
      expect(Buffer.from(m.data).equals(Buffer.from(pattern))).toBe(true);
    }
  });

  it('refuses what it cannot read, in one line', () => {
    const good = bmp24(pattern, W, H);
    expect(() => decodeBmp(good.subarray(0, 200), 1e8)).toThrow(/truncated BMP pixel data/);
    expect(() => decodeBmp(good, 100)).toThrow(/exceeds pixel limit/);
    const rle = good.slice();
    new DataView(rle.buffer).setUint16(28, 8, true);
    new DataView(rle.buffer).setUint32(30, 1, true);
    expect(() => decodeBmp(rle, 1e8)).toThrow(/unsupported BMP compression \(RLE8\)/);
    expect(isBmp(Uint8Array.from([0x89, 0x50]))).toBe(false);
  });

  it('ends on masks of all ones (a crafted 32-bit bitfields bitmap once hung the decoder)', () => {
    // 2×1, 40-byte header, BI_BITFIELDS: red 0xFFFFFFFF (all 32 bits), green 0x0000FF00, blue 0x000000FF.
    const b = new Uint8Array(66 + 8);
    const v = new DataView(b.buffer);
    b[0] = 0x42;
    b[1] = 0x4d;
    v.setUint32(2, b.length, true);
    v.setUint32(10, 66, true);
    v.setUint32(14, 40, true);
    v.setInt32(18, 2, true);
    v.setInt32(22, 1, true);
    v.setUint16(26, 1, true);
    v.setUint16(28, 32, true);
    v.setUint32(30, 3, true);
    [0xffffffff, 0x0000ff00, 0x000000ff].forEach((m, i) => v.setUint32(54 + 4 * i, m, true));
    v.setUint32(66, 0xffffffff, true); // every bit set: red at full scale
    v.setUint32(70, 0x00001234, true); // green 0x12, blue 0x34, red 0x1234 of 2³²−1
    const m = decodeBmp(b, 1e8);
    expect([m.width, m.height, m.channels]).toEqual([2, 1, 3]);
    expect(Array.from(m.data)).toEqual([255, 255, 255, 0, 0x12, 0x34]);
  });

  it.skipIf(!hasFfmpeg)(
    "equals ffmpeg's decoding of every format ffmpeg writes",
    () => {
      const src = path.join(tmp, 'src.png');
      execFileSync('ffmpeg', [
        '-v',
        'error',
        '-y',
        '-f',
        'lavfi',
        '-i',
        `testsrc2=s=${W + 1}x${H + 1}:d=0.04`,
        '-vf',
        `format=rgb24,crop=${W}:${H}:0:0`,
        '-frames:v',
        '1',
        src,
      ]);
      for (const fmt of ['bgr24', 'bgra', 'rgb565le', 'rgb555le', 'rgb444le', 'pal8', 'gray', 'rgb8', 'rgb4_byte', 'monob']) {
        const f = path.join(tmp, `${fmt}.bmp`);
        execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', src, '-pix_fmt', fmt, f]);
        const ref = execFileSync('ffmpeg', ['-v', 'error', '-i', f, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']);
        const m = decodeBmp(readFileSync(f), 1e8);
        expect([m.width, m.height], fmt).toEqual([W, H]);
        const rgb = m.channels === 3 ? m.data : m.data.filter((_, i) => i % 4 !== 3);
        // ffmpeg widens 5- and 6-bit channels by bit replication, fer by rounding the exact scale: within 1 level.
        let worst = 0;
        for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(rgb[i] - ref[i]));
        // 4-bit channels: ffmpeg shifts (v·16), fer scales to the full range (v·17), so they differ by v ≤ 15.
        expect(worst, fmt).toBeLessThanOrEqual(fmt === 'rgb444le' ? 15 : 1);
      }
    },
    60_000,
  );

  it('decodeRgb (fer predict, datasets) reads a .bmp', async () => {
    const f = path.join(tmp, 'x.bmp');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(f, bmp24(pattern, W, H));
    const img = await decodeRgb(f);
    expect([img.width, img.height, img.channels]).toEqual([W, H, 3]);
    expect(Buffer.from(img.data).equals(Buffer.from(pattern))).toBe(true);
  });
});
