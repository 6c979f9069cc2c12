/**
 * Photos over MAX_PIXELS (a 61-megapixel camera's, a 108-megapixel phone's) are shrunk while they are decoded, not
 * refused; `fer predict` reports their faces at the photo's own size, and --annotate draws them on the shrunk image.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { useBackend } from '../../src/engine/backend.js';
import { MAX_PIXELS, composeScene, decodeGray, decodeRgb, decodedSize, imageSize, writeJpeg } from '../../src/io/image.js';
import { iou } from '../../src/detect/faces.js';
import { cli } from '../commands/cli.js';
import { FIXTURE_DATA } from '../fixture-model.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'fer-large-'));
const happy = path.join(FIXTURE_DATA, 'val', 'happy');
const items = [
  { file: path.join(happy, 'PublicTest_10130075.jpg'), left: 60, top: 100, size: 180 },
  { file: path.join(happy, 'PublicTest_10248771.jpg'), left: 380, top: 200, size: 180 },
];
const K = 13; // 640×480 → 8320×6240, 51.9 megapixels
let large: string;

beforeAll(async () => {
  await useBackend('auto');
  const scene = path.join(tmp, 'scene.jpg');
  await writeJpeg(await composeScene(640, 480, items), scene);
  large = path.join(tmp, 'large.jpg');
  await sharp(scene)
    .resize(640 * K, 480 * K, { kernel: 'linear' })
    .jpeg({ quality: 80 })
    .toFile(large);
});

describe('decodedSize', () => {
  it('keeps images up to MAX_PIXELS and shrinks larger ones by one factor to fit', () => {
    expect(decodedSize(8000, 6000)).toEqual({ width: 8000, height: 6000 }); // 48 MP
    const s = decodedSize(12000, 9000); // 108 MP: √(50/108) = 0.6804
    expect(s.width * s.height).toBeLessThanOrEqual(MAX_PIXELS);
    expect(s).toEqual({ width: 8164, height: 6123 });
    expect(decodedSize(1, 100_000_000)).toEqual({ width: 1, height: 50_000_000 });
  });
});

describe('a photo over MAX_PIXELS', () => {
  it('decodes shrunk, with its own size in scaledFrom (EXIF quarter turns swap the sides)', async () => {
    const img = await decodeRgb(large);
    expect(img.scaledFrom).toEqual({ width: 640 * K, height: 480 * K });
    expect(img.width * img.height).toBeLessThanOrEqual(MAX_PIXELS);
    expect(img.data.length).toBe(img.width * img.height * 3);
    const turned = path.join(tmp, 'turned.jpg');
    await sharp(large).withMetadata({ orientation: 6 }).jpeg({ quality: 60 }).toFile(turned);
    const t = await decodeRgb(turned);
    expect(t.scaledFrom).toEqual({ width: 480 * K, height: 640 * K });
    expect(t.width).toBeLessThan(t.height);
    // A dataset's image (decodeGray) of that size is read too, straight to its small square.
    const gray = await decodeGray(large, 48);
    expect(gray.length).toBe(48 * 48);
    expect(Math.max(...gray)).toBeGreaterThan(Math.min(...gray));
    // Small images keep no scaledFrom.
    expect((await decodeRgb(path.join(tmp, 'scene.jpg'))).scaledFrom).toBeUndefined();
  }, 60_000);

  it("the library's predictor.predict reports it at its own size too", async () => {
    const { createPredictor } = await import('../../src/predict/predictor.js');
    const predictor = await createPredictor({ tta: 'none' });
    try {
      const r = await predictor.predict(large);
      expect([r.width, r.height]).toEqual([640 * K, 480 * K]);
      const known = { x: items[0].left * K, y: items[0].top * K, width: items[0].size * K, height: items[0].size * K };
      expect(r.faces.some((f) => iou(f.box, known) >= 0.5)).toBe(true);
    } finally {
      await predictor.dispose();
    }
  }, 120_000);

  it("fer predict finds its faces and reports them at the photo's size; --annotate draws on the shrunk image", async () => {
    const ann = path.join(tmp, 'ann');
    const r = await cli('predict', large, '--json', '--annotate', ann);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout.trim().split('\n')[0]) as {
      width: number;
      height: number;
      faces: { box: { x: number; y: number; width: number; height: number }; landmarks: { x: number; y: number }[] }[];
    };
    expect([res.width, res.height]).toEqual([640 * K, 480 * K]);
    for (const item of items) {
      const known = { x: item.left * K, y: item.top * K, width: item.size * K, height: item.size * K };
      const face = res.faces.find((f) => iou(f.box, known) >= 0.5);
      expect(face, `face at ${known.x},${known.y}`).toBeDefined();
      for (const p of face!.landmarks) {
        expect(p.x).toBeGreaterThan(known.x - 0.15 * known.width);
        expect(p.x).toBeLessThan(known.x + 1.15 * known.width);
      }
    }
    const png = path.join(ann, 'large.png');
    expect(existsSync(png)).toBe(true);
    const drawn = await imageSize(png);
    expect(drawn.width * drawn.height).toBeLessThanOrEqual(MAX_PIXELS);
  }, 120_000);
});
