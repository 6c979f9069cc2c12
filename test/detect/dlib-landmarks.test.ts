/**
 * dlib's 68 points on a frame scanned without upsampling (video frames, photos over 1024 px) are read on each
 * face's square upsampled once: on AFW photos scaled to 640 px that is 3.63% NME against 4.62% (BENCHMARKS.md).
 */
import { describe, it, expect } from 'vitest';
import { detectFaces } from '../../src/detect/faces.js';
import { dlibDetectAsync, dlibWithoutModel, grayImage, loadDlib } from '../../src/detect/dlib.js';
import { decodeRgb } from '../../src/io/image.js';
import { packagePath } from '../../src/paths.js';

describe.runIf(loadDlib() && !dlibWithoutModel())('dlib on a frame scanned at its own size', () => {
  it("reads each face's landmarks on its square upsampled once, not on the frame", async () => {
    const image = await decodeRgb(packagePath('fixtures', 'scenes', 'two-faces.jpg'));
    const faces = await detectFaces(image, { detector: 'dlib', upsample: 0, minConfidence: -1 });
    const gray = grayImage(image);
    const up = await dlibDetectAsync(gray, 0, -1, 1),
      plain = await dlibDetectAsync(gray, 0, -1, 0);
    expect(faces.length).toBeGreaterThan(0);
    expect(faces.map((f) => f.box)).toEqual(plain.map((f) => f.box)); // the same scan
    expect(faces.map((f) => f.landmarks)).toEqual(up.map((f) => f.landmarks));
    expect(faces.map((f) => f.landmarks)).not.toEqual(plain.map((f) => f.landmarks));
  });
});
