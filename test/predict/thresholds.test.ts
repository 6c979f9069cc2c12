/** Detection thresholds: per detector, from the command line's forms, and reaching dlib (the bug of issue 32). */
import { describe, it, expect } from 'vitest';
import { MIN_CONFIDENCE, thresholdsFor } from '../../src/detect/thresholds.js';
import { detectFaces } from '../../src/detect/faces.js';
import { loadDlib } from '../../src/detect/dlib.js';
import { decodeRgb } from '../../src/io/image.js';
import { minConfidenceSchema } from '../../src/predict/predictor.js';
import { packagePath } from '../../src/paths.js';

describe('thresholdsFor', () => {
  it('a number is the threshold of the detector in use; dlib+tiny keeps its stricter tiny threshold', () => {
    expect(thresholdsFor('dlib', 0.4).dlib).toBe(0.4);
    expect(thresholdsFor('tiny', 0.6).tiny).toBe(0.6);
    expect(thresholdsFor('ssd', 0.3).ssd).toBe(0.3);
    expect(thresholdsFor('dlib+tiny', -0.2)).toMatchObject({ dlib: -0.2, tiny: MIN_CONFIDENCE.dlibTiny });
    expect(thresholdsFor('tiny').tiny).toBe(MIN_CONFIDENCE.tiny);
  });

  it('each detector its own', () => {
    expect(thresholdsFor('dlib+tiny', { dlib: 0.3, tiny: 0.8 })).toMatchObject({ dlib: 0.3, tiny: 0.8 });
  });

  it('a probability outside (0, 1) for tiny or ssd, or a dlib score outside ±3, is a usage error (exit 2)', () => {
    expect(() => thresholdsFor('tiny', 1.5)).toThrow(expect.objectContaining({ exitCode: 2 }));
    expect(() => thresholdsFor('dlib+tiny', { tiny: 0 })).toThrow(/tiny detector's threshold/);
    expect(() => thresholdsFor('dlib', 7)).toThrow(/HOG score/);
  });
});

describe('--min-confidence on the command line', () => {
  it.each([
    ['0.6', 0.6],
    ['-0.25', -0.25],
    ['dlib=0.2,tiny=0.8', { dlib: 0.2, tiny: 0.8 }],
    [undefined, undefined],
  ])('%s', (v, expected) => expect(minConfidenceSchema.parse(v)).toEqual(expected));

  it.each(['abc', 'dlib=', 'face=0.3', 'dlib=x'])('rejects %s', (v) => expect(minConfidenceSchema.safeParse(v).success).toBe(false));
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
