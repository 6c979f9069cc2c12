/** Detection thresholds: per detector, from the command line's forms, and reaching dlib (the bug of issue 32). */
import { describe, it, expect, beforeAll } from 'vitest';
import { useBackend } from '../../src/engine/backend.js';
import { MIN_CONFIDENCE, thresholdsFor } from '../../src/detect/thresholds.js';
import { detectFaces } from '../../src/detect/faces.js';
import { loadDlib } from '../../src/detect/dlib.js';
import { decodeRgb, type RawImage } from '../../src/io/image.js';
import { minConfidenceSchema } from '../../src/predict/predictor.js';
import { packagePath } from '../../src/paths.js';

describe('thresholdsFor', () => {
  it('a number is the threshold of the detector in use; dlib+tiny keeps its stricter tiny threshold', () => {
    expect(thresholdsFor('dlib', 0.4).dlib).toBe(0.4);
    expect(thresholdsFor('tiny', 0.6).tiny).toBe(0.6);
    expect(thresholdsFor('ssd', 0.3).ssd).toBe(0.3);
    expect(thresholdsFor('dlib+tiny', -0.2)).toMatchObject({ dlib: -0.2, tiny: MIN_CONFIDENCE.dlibTinyMesh });
    // without the face mesh's filter, tiny's added faces keep the stricter threshold
    expect(thresholdsFor('dlib+tiny', undefined, 'net').tiny).toBe(MIN_CONFIDENCE.dlibTiny);
    expect(thresholdsFor('dlib+tiny', { mesh: 0 }).tiny).toBe(MIN_CONFIDENCE.dlibTiny);
    expect(MIN_CONFIDENCE.dlibTinyMesh).toBeLessThan(MIN_CONFIDENCE.dlibTiny);
    expect(thresholdsFor('tiny').tiny).toBe(MIN_CONFIDENCE.tiny);
  });

  it('each detector its own', () => {
    expect(thresholdsFor('dlib+tiny', { dlib: 0.3, tiny: 0.8 })).toMatchObject({ dlib: 0.3, tiny: 0.8 });
  });

  it('a probability outside (0, 1) for tiny or ssd, a dlib score outside ±3 or a mesh score outside [0, 1), is a usage error (exit 2)', () => {
    expect(() => thresholdsFor('tiny', 1.5)).toThrow(expect.objectContaining({ exitCode: 2 }));
    expect(() => thresholdsFor('dlib+tiny', { tiny: 0 })).toThrow(/tiny detector's threshold/);
    expect(() => thresholdsFor('dlib', 7)).toThrow(/HOG score/);
    expect(() => thresholdsFor('ssd', { mesh: 1 })).toThrow(/face mesh's threshold/);
    expect(() => thresholdsFor('ssd', { mesh: -0.1 }, 'net')).toThrow(expect.objectContaining({ exitCode: 2 }));
    // the libraries reach it too: the message names the option beside the flag
    expect(() => thresholdsFor('tiny', 2)).toThrow(/--min-confidence, or minConfidence in the library/);
  });

  it("the face mesh's score filters where the mesh places the points, and SSD then starts lower", () => {
    expect(thresholdsFor('ssd')).toMatchObject({ ssd: MIN_CONFIDENCE.ssdMesh, mesh: MIN_CONFIDENCE.mesh });
    expect(MIN_CONFIDENCE.ssdMesh).toBeLessThan(MIN_CONFIDENCE.ssd);
    expect(thresholdsFor('tiny')).toMatchObject({ tiny: MIN_CONFIDENCE.tiny, mesh: MIN_CONFIDENCE.mesh });
    // face-api's net: no mesh score, SSD at its own default
    expect(thresholdsFor('ssd', undefined, 'net')).toMatchObject({ ssd: MIN_CONFIDENCE.ssd, mesh: 0 });
    expect(thresholdsFor('ssd', { mesh: 0.8 }, 'net').mesh).toBe(0);
    // the filter off: SSD at its own default; a threshold given is kept either way
    expect(thresholdsFor('ssd', { mesh: 0 })).toMatchObject({ ssd: MIN_CONFIDENCE.ssd, mesh: 0 });
    expect(thresholdsFor('ssd', { ssd: 0.6 })).toMatchObject({ ssd: 0.6, mesh: MIN_CONFIDENCE.mesh });
    expect(thresholdsFor('ssd', 0.45)).toMatchObject({ ssd: 0.45, mesh: MIN_CONFIDENCE.mesh });
    expect(thresholdsFor('dlib+tiny', { mesh: 0.9 })).toMatchObject({ tiny: MIN_CONFIDENCE.dlibTinyMesh, mesh: 0.9 });
  });
});

describe('--min-confidence on the command line', () => {
  it.each([
    ['0.6', 0.6],
    ['-0.25', -0.25],
    ['dlib=0.2,tiny=0.8', { dlib: 0.2, tiny: 0.8 }],
    ['ssd=0.4,mesh=0.7', { ssd: 0.4, mesh: 0.7 }],
    [undefined, undefined],
  ])('%s', (v, expected) => expect(minConfidenceSchema.parse(v)).toEqual(expected));

  it.each(['abc', 'dlib=', 'face=0.3', 'dlib=x'])('rejects %s', (v) => expect(minConfidenceSchema.safeParse(v).success).toBe(false));
});

/** Concentric rings, 256 × 256: SSD finds a "face" there at 0.29 whose face mesh score is 0.002 (measured). */
function rings(): RawImage {
  const w = 256,
    data = new Uint8Array(w * w * 3);
  for (let y = 0; y < w; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = Math.round(128 + 90 * Math.sin((x * x + y * y) * 0.0015 + c));
  return { data, width: w, height: w, channels: 3 };
}

describe("the face mesh's face score", () => {
  beforeAll(() => useBackend('auto')); // face-api's weights load on a tfjs backend
  it('drops what SSD finds at a low threshold in a face-free texture', async () => {
    const image = rings();
    const unfiltered = await detectFaces(image, { detector: 'ssd', minConfidence: { ssd: 0.2, mesh: 0 } });
    expect(unfiltered.length).toBeGreaterThan(0); // SSD alone takes the rings for a face…
    expect(await detectFaces(image, { detector: 'ssd', minConfidence: { ssd: 0.2 } })).toEqual([]); // …the mesh does not
  });

  it('keeps real faces, with its default thresholds', async () => {
    const one = await detectFaces(await decodeRgb(packagePath('fixtures', 'scenes', 'one-face.jpg')), { detector: 'ssd' });
    expect(one.length).toBe(1);
    const two = await detectFaces(await decodeRgb(packagePath('fixtures', 'scenes', 'two-faces.jpg')), { detector: 'ssd' });
    expect(two.length).toBe(2);
  });
});

describe.runIf(!!loadDlib())('the threshold reaches dlib', () => {
  it('a high threshold drops the faces dlib finds at its default', async () => {
    const image = await decodeRgb(packagePath('fixtures', 'scenes', 'two-faces.jpg'));
    const all = await detectFaces(image, { detector: 'dlib' });
    expect(all.length).toBe(2);
    const strict = await detectFaces(image, { detector: 'dlib', minConfidence: Math.min(...all.map((f) => f.score)) + 1e-6 });
    expect(strict.length).toBe(1);
  });
});
