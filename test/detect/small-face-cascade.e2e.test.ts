/**
 * dlib+tiny's small-face cascade (detect/cascade.ts smallFaceCascade): faces too small for dlib's plain scan are
 * found by its upsampled scan of the squares around the tiny detector's boxes, where one upsampled scan of the
 * whole image finds them; a region's faces come back in the image's pixels.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import sharp from 'sharp';
import { useBackend } from '../../src/engine/backend.js';
import { decodeRgb, type RawImage } from '../../src/io/image.js';
import { dlibDetectAsync, dlibDetectRegions, dlibShapesAsync, dlibWithoutModel, grayImage, loadDlib } from '../../src/detect/dlib.js';
import { hogBox } from '../../src/detect/hog-box.js';
import { detectFaces, iou, meshLandmarks, type DetectedFace } from '../../src/detect/faces.js';
import { SECOND_LOOK } from '../../src/detect/small-faces.js';
import { cascadeStats } from '../../src/detect/cascade.js';
import { packagePath } from '../../src/paths.js';

const photo = packagePath('fixtures', 'scenes', 'two-faces.jpg');
/** Mean distance (px) between two faces' 68 points. */
const gap = (f: DetectedFace, g: DetectedFace) =>
  f.landmarks.reduce((a, p, k) => a + Math.hypot(p.x - g.landmarks[k].x, p.y - g.landmarks[k].y), 0) / 68;

describe.runIf(!!loadDlib())('small-face cascade (dlib+tiny)', () => {
  let image: RawImage, small: RawImage, turned: RawImage;
  beforeAll(async () => {
    await useBackend('cpu');
    image = await decodeRgb(photo);
    // the two faces (~155 px) shrunk to ~50 px, on a plain 640×480 background
    const shrunk = await sharp(photo).resize(192, 144).toBuffer();
    small = await decodeRgb(
      await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 120, g: 120, b: 120 } } })
        .composite([{ input: shrunk, left: 200, top: 150 }])
        .png()
        .toBuffer(),
    );
    // the photo 180 px wide (faces ~45 px), blurred and turned 20°: one face dlib scores just under 0 upsampled
    const tilted = await sharp(photo)
      .resize(180)
      .blur(1.2)
      .rotate(20, { background: { r: 120, g: 120, b: 120 } })
      .png()
      .toBuffer();
    turned = await decodeRgb(
      await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 120, g: 120, b: 120 } } })
        .composite([{ input: tilted, left: 150, top: 120 }])
        .png()
        .toBuffer(),
    );
  });

  it("a region's faces are in the image's pixels: the whole image's faces, scanned one square at a time", async () => {
    const whole = await dlibDetectAsync(image, 1, 0);
    expect(whole).toHaveLength(2);
    expect(Math.max(...whole.map((f) => f.box.x))).toBeGreaterThan(300); // one square away from the corner (a real offset)
    const gray = grayImage(image);
    for (const f of whole) {
      const side = Math.round(2.5 * f.box.width);
      const x = Math.max(0, Math.round(f.box.x + f.box.width / 2 - side / 2)),
        y = Math.max(0, Math.round(f.box.y + f.box.height / 2 - side / 2));
      const region = { x, y, width: Math.min(side, 640 - x), height: Math.min(side, 480 - y) };
      const found = await dlibDetectRegions(gray, [region], 1, 0);
      expect(found).toHaveLength(1);
      // The same face: HOG's cell grid falls elsewhere on a square than on the whole image, so its box may sit a
      // few cells apart (17 px of 155 on this photo) or a pyramid level (6/5) larger; its 68 points agree within 1 px.
      const g = found[0].box;
      expect(Math.hypot(g.x + g.width / 2 - f.box.x - f.box.width / 2, g.y + g.height / 2 - f.box.y - f.box.height / 2)).toBeLessThan(
        0.2 * f.box.width,
      );
      expect(Math.max(g.width / f.box.width, f.box.width / g.width)).toBeLessThanOrEqual(1.21);
      if (!dlibWithoutModel()) {
        const error = found[0].landmarks.reduce((a, p, k) => a + Math.hypot(p.x - f.landmarks[k].x, p.y - f.landmarks[k].y), 0) / 68;
        expect(error).toBeLessThan(0.02 * f.box.width);
      }
    }
  });

  it.runIf(!dlibWithoutModel())(
    "the plain scan's faces, their 68 points read on the upsampled face: the same boxes, points nearer the upsampled scan's",
    async () => {
      const plain = await dlibDetectAsync(image, 0, 0),
        read = await dlibDetectAsync(image, 0, 0, 1),
        whole = await dlibDetectAsync(image, 1, 0);
      expect(read.map((f) => f.box)).toEqual(plain.map((f) => f.box));
      expect(whole).toHaveLength(2);
      for (const w of whole) {
        const k = plain.findIndex((f) => iou(f.box, w.box) > 0.5);
        // mean point gaps (px) on this photo: 1.2–1.3 read as it is, 0.7–0.8 read upsampled
        expect(gap(read[k], w)).toBeLessThan(gap(plain[k], w));
        expect(gap(read[k], w)).toBeLessThan(1);
      }
    },
  );

  it('finds the faces too small for the plain scan where the upsampled scan of the whole image finds them', async () => {
    expect(await dlibDetectAsync(small, 0, 0)).toHaveLength(0);
    const whole = await dlibDetectAsync(small, 1, 0);
    expect(whole).toHaveLength(2);
    const cascade = await detectFaces(small, { detector: 'dlib+tiny' });
    expect(cascade).toHaveLength(2);
    for (const f of whole) expect(Math.max(...cascade.map((g) => iou(g.box, f.box)))).toBeGreaterThan(0.6);
  });

  it('keeps a face dlib scores just under its threshold where SSD sees it and the mesh agrees (the second look)', async () => {
    // dlib upsampled once, on the whole image: both faces, one under 0 (−0.19 on the build that made the test)
    const whole = (await dlibDetectAsync(turned, 1, SECOND_LOOK.dlib)).sort((a, b) => b.score - a.score);
    expect(whole).toHaveLength(2);
    expect(whole[0].score).toBeGreaterThan(0);
    expect(whole[1].score).toBeLessThan(0);
    const before = await detectFaces(turned, { detector: 'dlib+tiny', secondLook: false });
    const now = await detectFaces(turned, { detector: 'dlib+tiny' });
    expect(before).toHaveLength(1);
    expect(now).toHaveLength(2);
    expect(await detectFaces(turned, { detector: 'dlib+tiny', secondLook: 'tiny' })).toHaveLength(1); // only SSD backs it
    const added = now.find((f) => iou(f.box, whole[1].box) > 0.5)!;
    expect(added).toBeDefined();
    expect(added.score).toBeLessThan(0);
    expect(added.score).toBeGreaterThanOrEqual(SECOND_LOOK.dlib);
    if (dlibWithoutModel()) return;
    // its 68 points: dlib's, read on the HOG box of the face mesh's points (hog-box.ts)
    const [mesh] = await meshLandmarks(turned, [added]);
    const [reread] = await dlibShapesAsync(turned, [hogBox(mesh.landmarks)], 2);
    expect(added.landmarks).toEqual(reread);
    // before h32n (hogReread false): the mean of dlib's (here from the whole image's upsampled scan, read as the
    // cascade reads them) and the face mesh's on its box
    const old = (await detectFaces(turned, { detector: 'dlib+tiny', hogReread: false })).find((f) => iou(f.box, whole[1].box) > 0.5)!;
    const dlibPoints = (await dlibDetectAsync(turned, 1, SECOND_LOOK.dlib, 2)).find((f) => iou(f.box, added.box) > 0.5)!;
    const mean = {
      ...added,
      landmarks: dlibPoints.landmarks.map((p, k) => ({ x: (p.x + mesh.landmarks[k].x) / 2, y: (p.y + mesh.landmarks[k].y) / 2 })),
    };
    // mean point gaps (px) on this scene, 52 px face: 0.10 to the mean, 0.58 to dlib's alone, 0.65 to the mesh's alone
    expect(gap(old, mean)).toBeLessThan(0.3);
    expect(gap(old, mean)).toBeLessThan(gap(old, dlibPoints) / 2);
    expect(gap(old, mean)).toBeLessThan(gap(old, mesh) / 2);
  });

  it('runs SSD only where it can change the result: not on a photo of two large faces dlib finds, and the same faces as with SSD on every photo', async () => {
    const ran = cascadeStats.ssd;
    const gated = await detectFaces(image, { detector: 'dlib+tiny' });
    expect(cascadeStats.ssd).toBe(ran);
    const always = await detectFaces(image, { detector: 'dlib+tiny', secondLook: 'always' });
    expect(cascadeStats.ssd).toBe(ran + 1);
    expect(gated).toHaveLength(2);
    expect(gated.map((f) => f.box)).toEqual(always.map((f) => f.box));
    // the turned scene's weak face, which only SSD backs, makes it run
    await detectFaces(turned, { detector: 'dlib+tiny' });
    expect(cascadeStats.ssd).toBe(ran + 2);
  });
});
