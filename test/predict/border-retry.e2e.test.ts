/**
 * A face cropped tight (a dataset's face crop, a selfie close-up) leaves the detectors no margin: predictRaw searches
 * an image of at most BORDER_RETRY_MAX_SIDE pixels again inside a gray border when nothing is found, and reports the
 * faces in the image's own coordinates.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { useBackend } from '../../src/engine/backend.js';
import { decodeRgb, type RawImage } from '../../src/io/image.js';
import { loadClassifier, type Classifier } from '../../src/predict/classifier.js';
import { BORDER_RETRY_MAX_SIDE, predictRaw } from '../../src/predict/predict.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'fer-border-'));
const SCENE = 'fixtures/scenes/two-faces.jpg';
let tight: RawImage;
let classifier: Classifier;

beforeAll(async () => {
  await useBackend('auto');
  // The scene's left face (its pasted square: 74,114, 181 px) cut 15 px inside that square and resized to 224 px.
  const crop = path.join(tmp, 'tight.jpg');
  await sharp(SCENE).extract({ left: 89, top: 129, width: 151, height: 151 }).resize(224, 224).jpeg().toFile(crop);
  tight = await decodeRgb(crop);
  classifier = await loadClassifier(undefined, 'none');
});

describe('a face cropped tight', () => {
  it("is found inside a border (tiny finds nothing on the crop itself), its box in the crop's coordinates", async () => {
    expect(await predictRaw(tight, classifier, { detector: 'tiny', borderRetry: false })).toHaveLength(0);
    const faces = await predictRaw(tight, classifier, { detector: 'tiny' });
    expect(faces).toHaveLength(1);
    const { box, landmarks } = faces[0];
    // The face fills the crop: its box covers the crop's centre and is about the crop's size.
    expect(box.x).toBeLessThan(112);
    expect(box.x + box.width).toBeGreaterThan(112);
    expect(box.width).toBeGreaterThan(0.6 * 224);
    expect(box.width).toBeLessThan(2.5 * 224);
    expect(landmarks).toHaveLength(68);
    // Eyes in the crop's upper half, the mouth below them.
    expect(landmarks[36].y).toBeLessThan(112);
    expect(landmarks[62].y).toBeGreaterThan(landmarks[36].y);
    expect(faces[0].note).toBeUndefined();
  }, 60_000);

  it('fer train --detect crops it too (faceCropper): a 48×48 face, not "no face"', async () => {
    const { faceCropper } = await import('../../src/predict/crops.js');
    const cropper = faceCropper({ detector: 'tiny' });
    try {
      const face = await cropper.decode(path.join(tmp, 'tight.jpg'));
      expect(face).not.toBeNull();
      expect(face!.length).toBe(48 * 48);
      expect(cropper.stats.noFace).toBe(0);
    } finally {
      await cropper.release();
    }
  }, 60_000);

  it('a larger image is not searched twice', async () => {
    expect(BORDER_RETRY_MAX_SIDE).toBeGreaterThanOrEqual(224);
    const big = await sharp(Buffer.from(tight.data), { raw: { width: 224, height: 224, channels: 3 } })
      .resize(BORDER_RETRY_MAX_SIDE + 8, BORDER_RETRY_MAX_SIDE + 8)
      .raw()
      .toBuffer();
    const image: RawImage = { data: new Uint8Array(big), width: BORDER_RETRY_MAX_SIDE + 8, height: BORDER_RETRY_MAX_SIDE + 8, channels: 3 };
    expect(await predictRaw(image, classifier, { detector: 'tiny' })).toHaveLength(0);
  }, 60_000);
});
