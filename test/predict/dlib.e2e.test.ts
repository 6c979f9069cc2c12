/**
 * The dlib path (native/src/dlib_faces.cc) against dlib itself: fer_dlib_reference, a separate program that
 * loads the image with dlib's own loader and calls dlib's detector and shape predictor as dlib's examples
 * do, must print the same boxes, scores and 68 landmarks. Then: faces found where they were pasted, none on
 * a face-free image, and `auto` falling back to the tiny detector (with one note) where dlib is missing.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { useBackend } from '../../src/engine/backend.js';
import { composeScene, decodeRgb, type RawImage } from '../../src/io/image.js';
import { DLIB_LANDMARKS, dlibDetectAsync, loadDlib, toGray } from '../../src/detect/dlib.js';
import { detectFaces, iou } from '../../src/detect/faces.js';
import { packagePath } from '../../src/paths.js';
import { FIXTURE_DATA } from '../fixture-model.js';

const reference = packagePath('native', 'build', 'Release', 'fer_dlib_reference');
const hasDlib = !!loadDlib() && existsSync(reference);
const photo = packagePath('fixtures', 'scenes', 'two-faces.jpg');
const bin = packagePath('bin', 'fer');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'fer-dlib-'));

describe.runIf(hasDlib)('dlib face detector and 68 landmarks (native)', () => {
  let image: RawImage;
  beforeAll(async () => {
    await useBackend('cpu');
    image = await decodeRgb(photo);
  });

  it.each([0, 1])("upsample %i: the same faces, scores and landmarks as dlib's own program", async (upsample) => {
    // The same gray pixels for both: written losslessly as PNG for the reference to load.
    const gray = toGray(image);
    const png = path.join(tmp, `gray-${upsample}.png`);
    await sharp(Buffer.from(gray), { raw: { width: image.width, height: image.height, channels: 1 } })
      .png()
      .toFile(png);
    const ref = JSON.parse(execFileSync(reference, [png, String(upsample), DLIB_LANDMARKS], { encoding: 'utf8' })) as {
      box: number[];
      score: number;
      landmarks: number[][];
    }[];
    const ours = await dlibDetectAsync(image, upsample, 0);
    expect(ours.length).toBe(ref.length);
    expect(ours.length).toBeGreaterThan(0);
    ours.forEach((f, i) => {
      expect([f.box.x, f.box.y, f.box.width, f.box.height]).toEqual(ref[i].box);
      // Scores to 5 decimals: where this CPU has AVX2, fer loads dlib built with it (fer_dlib-avx2.node), whose
      // 8-wide float sums add in another order than the reference's 4-wide SSE ones (~1e-6 apart); boxes and
      // landmarks are the same (test/predict/dlib-variants.test.ts).
      expect(f.score).toBeCloseTo(ref[i].score, 5);
      f.landmarks.forEach((p, k) => {
        expect(p.x).toBeCloseTo(ref[i].landmarks[k][0], 6);
        expect(p.y).toBeCloseTo(ref[i].landmarks[k][1], 6);
      });
    });
  });

  it('finds pasted faces where they are, with landmarks inside the box; none on a face-free image', async () => {
    const happy = path.join(FIXTURE_DATA, 'val', 'happy');
    const items = [
      { file: path.join(happy, 'PublicTest_10130075.jpg'), left: 60, top: 100, size: 180 },
      { file: path.join(happy, 'PublicTest_10248771.jpg'), left: 380, top: 200, size: 120 },
    ];
    const scene = await composeScene(640, 480, items);
    const faces = await detectFaces(scene, { detector: 'dlib' });
    for (const it of items) {
      const known = { x: it.left, y: it.top, width: it.size, height: it.size };
      const f = faces.find((x) => iou(x.box, known) >= 0.3);
      expect(f, `face at ${it.left},${it.top}`).toBeDefined();
      for (const p of f!.landmarks) {
        expect(p.x).toBeGreaterThan(known.x - 0.1 * it.size);
        expect(p.x).toBeLessThan(known.x + known.width * 1.1);
      }
    }
    const empty = await composeScene(640, 480, []);
    expect(await detectFaces(empty, { detector: 'dlib' })).toEqual([]);
  });
});

it("auto falls back to SSD behind the face mesh's score, with one note, where dlib is missing", () => {
  const r = spawnSync(process.execPath, [bin, 'predict', photo, '--json'], {
    encoding: 'utf8',
    env: { ...process.env, FER_DLIB_ADDON: path.join(tmp, 'missing.node') },
  });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr.match(/face detector: ssd; dlib unavailable: fer was built without dlib/g)).toHaveLength(1);
  expect(JSON.parse(r.stdout.trim().split('\n')[0]).faces).toHaveLength(2);
});

it.runIf(hasDlib)("without dlib's 68-point model: dlib's faces, face-api's 68 landmarks, one note", () => {
  const r = spawnSync(process.execPath, [bin, 'predict', photo, '--json'], {
    encoding: 'utf8',
    env: { ...process.env, FER_DLIB_LANDMARKS: path.join(tmp, 'missing.dat') },
  });
  expect(r.status, r.stderr).toBe(0);
  expect(
    r.stderr.match(/face detector: dlib\+tiny; landmarks by the face mesh: dlib's 68-point model \(non-commercial\) is not in /g),
  ).toHaveLength(1);
  // --detector dlib by name says so too (once)
  const named = spawnSync(process.execPath, [bin, 'predict', photo, '--detector', 'dlib', '--json'], {
    encoding: 'utf8',
    env: { ...process.env, FER_DLIB_LANDMARKS: path.join(tmp, 'missing.dat') },
  });
  expect(named.stderr.match(/face detector: dlib; landmarks by the face mesh: /g)).toHaveLength(1);
  const faces = JSON.parse(r.stdout.trim().split('\n')[0]).faces as { box: { x: number; width: number }; landmarks: { x: number }[] }[];
  expect(faces).toHaveLength(2);
  for (const f of faces) {
    expect(f.landmarks).toHaveLength(68);
    for (const p of f.landmarks) {
      expect(Number.isFinite(p.x)).toBe(true);
      expect(p.x).toBeGreaterThan(f.box.x - 0.2 * f.box.width);
      expect(p.x).toBeLessThan(f.box.x + 1.2 * f.box.width);
    }
  }
});
