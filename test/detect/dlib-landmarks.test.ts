/**
 * dlib's 68 points on photos (upsample auto) are read on each face's square upsampled DLIB_LANDMARK_UPSAMPLE (2)
 * times; on video frames (upsample given) once, for speed. On AFW's human-annotated faces: 4.87% NME read on the
 * image as scanned, 3.81% upsampled once, 3.54% twice (BENCHMARKS.md "dlib's 68 points read on the face upsampled twice (issue 32, h32b)").
 */
import { describe, it, expect } from 'vitest';
import { detectFaces } from '../../src/detect/faces.js';
import { DLIB_LANDMARK_UPSAMPLE, dlibDetectAsync, dlibWithoutModel, grayImage, loadDlib } from '../../src/detect/dlib.js';
import { decodeRgb } from '../../src/io/image.js';
import { packagePath } from '../../src/paths.js';

describe.runIf(loadDlib() && !dlibWithoutModel())("dlib's landmarks", () => {
  it("reads each face's landmarks on a photo on its square upsampled twice, not once", async () => {
    expect(DLIB_LANDMARK_UPSAMPLE).toBe(2);
    const image = await decodeRgb(packagePath('fixtures', 'scenes', 'two-faces.jpg'));
    // upsample auto: 1 on this photo; the first reading (hogReread false: hog-box.test.ts reads it again)
    const faces = await detectFaces(image, { detector: 'dlib', minConfidence: -1, hogReread: false });
    const gray = grayImage(image);
    const [twice, once] = await Promise.all([2, 1].map((l) => dlibDetectAsync(gray, 1, -1, l)));
    expect(faces.length).toBeGreaterThan(0);
    expect(faces.map((f) => f.box)).toEqual(once.map((f) => f.box)); // the same scan
    expect(faces.map((f) => f.landmarks)).toEqual(twice.map((f) => f.landmarks));
    expect(faces.map((f) => f.landmarks)).not.toEqual(once.map((f) => f.landmarks));
  });

  it("reads a video frame's faces (upsample given) on the square upsampled once, not on the frame", async () => {
    const image = await decodeRgb(packagePath('fixtures', 'scenes', 'two-faces.jpg'));
    const faces = await detectFaces(image, { detector: 'dlib', upsample: 0, minConfidence: -1 });
    const gray = grayImage(image);
    const [once, plain] = await Promise.all([1, 0].map((l) => dlibDetectAsync(gray, 0, -1, l)));
    expect(faces.length).toBeGreaterThan(0);
    expect(faces.map((f) => f.box)).toEqual(plain.map((f) => f.box)); // the same scan
    expect(faces.map((f) => f.landmarks)).toEqual(once.map((f) => f.landmarks));
    expect(faces.map((f) => f.landmarks)).not.toEqual(plain.map((f) => f.landmarks));
  });

  it('keeps the old reading on request (landmarkUpsample 1)', async () => {
    const image = await decodeRgb(packagePath('fixtures', 'scenes', 'two-faces.jpg'));
    const faces = await detectFaces(image, { detector: 'dlib', minConfidence: -1, landmarkUpsample: 1, hogReread: false });
    const once = await dlibDetectAsync(grayImage(image), 1, -1, 1);
    expect(faces.map((f) => f.landmarks)).toEqual(once.map((f) => f.landmarks));
  });
});
