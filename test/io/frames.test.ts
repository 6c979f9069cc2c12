/** Files of several frames (an animated GIF, a multi-page TIFF): the first is read, and the result says so. */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { decodeRgb } from '../../src/io/image.js';
import { atOwnSize } from '../../src/predict/predict.js';
import { predictionText } from '../../src/predict/text.js';

const ANIMATED = 'fixtures/animated/two-faces.gif'; // 3 frames of the two-face scene, 160×120 (ffmpeg)

describe('an image file of several frames', () => {
  it('decodeRgb reads its first frame and counts them, from a path or from bytes', async () => {
    const first = await decodeRgb(ANIMATED);
    expect([first.width, first.height, first.frames]).toEqual([160, 120, 3]);
    expect((await decodeRgb(readFileSync(ANIMATED))).frames).toBe(3);
  });

  it('a one-frame GIF, TIFF or WebP and a JPEG count none', async () => {
    const jpeg = readFileSync('fixtures/scenes/one-face.jpg');
    for (const still of [
      await sharp(jpeg).gif().toBuffer(),
      await sharp(jpeg).tiff().toBuffer(),
      await sharp(jpeg).webp().toBuffer(),
      jpeg,
    ])
      expect((await decodeRgb(still)).frames).toBeUndefined();
  });

  it('a multi-page TIFF counts its pages', async () => {
    const page = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    const tiff = await sharp([page, page, page], { join: { animated: true } })
      .tiff()
      .toBuffer();
    expect((await sharp(tiff).metadata()).pages).toBe(3); // the input is what it should be
    const image = await decodeRgb(tiff);
    expect([image.width, image.height, image.frames]).toEqual([32, 32, 3]);
  });

  it("the result's note says only the first frame was read, and the text output prints it", async () => {
    const image = await decodeRgb(ANIMATED);
    const r = atOwnSize(image, []);
    expect(r.note).toMatch(/^the first of its 3 frames \(pages\) was read; .*ffmpeg -i IN OUT\.mp4/);
    expect(atOwnSize({ ...image, frames: undefined }, []).note).toBeUndefined();
    expect(predictionText({ input: ANIMATED, ...r })).toContain(`  note: ${r.note}`);
  });
});
