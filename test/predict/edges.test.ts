/**
 * The edges users hit with fer predict: a face that fills the frame is found; an already-cropped face (a 48×48
 * FER2013 crop) on which a detector finds nothing is classified whole, with a note, as fer eval classifies it;
 * --no-detect forces that.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { useBackend } from '../../src/engine/backend.js';
import { decodeGray, decodeRgb } from '../../src/io/image.js';
import { detectFaces } from '../../src/detect/faces.js';
import { loadDlib } from '../../src/detect/dlib.js';
import { loadClassifier } from '../../src/predict/classifier.js';
import { predictFile, WHOLE_IMAGE_NOTE } from '../../src/predict/predict.js';
import { cli } from '../commands/cli.js';
import { FIXTURE_DATA } from '../fixture-model.js';

const crop = path.join(FIXTURE_DATA, 'val', 'happy', 'PublicTest_10130075.jpg');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'fer-edges-'));

describe('fer predict at the edges', () => {
  let portrait: string;
  beforeAll(async () => {
    await useBackend('cpu');
    portrait = path.join(tmp, 'portrait.png');
    await sharp(crop).resize(400, 400).toFile(portrait);
  });

  // (face-api's tiny detector misses this one: it is what `auto` falls back to without dlib.)
  it.runIf(!!loadDlib()).each(['auto', 'dlib'] as const)('%s finds a face that fills a 400×400 frame', async (detector) => {
    const faces = await detectFaces(await decodeRgb(portrait), { detector });
    expect(faces).toHaveLength(1);
    expect(faces[0].box.width).toBeGreaterThan(250);
  });

  it('a 48×48 crop the detector misses is classified whole, with a note, as fer eval classifies it', async () => {
    const classifier = await loadClassifier(undefined, 'none');
    const { result } = await predictFile(crop, classifier, { detector: 'tiny', tta: 'none' } as never);
    expect(await detectFaces(await decodeRgb(crop), { detector: 'tiny' })).toEqual([]); // the premise
    expect(result.error).toBeUndefined();
    expect(result.faces).toHaveLength(1);
    const [face] = result.faces;
    expect(face.box).toEqual({ x: 0, y: 0, width: 48, height: 48 });
    expect(face.note).toBe(WHOLE_IMAGE_NOTE);
    // fer eval's path: the file decoded straight to 48×48 gray.
    const ref = await classifier.classify(await decodeGray(crop, 48), 1);
    Object.values(face.probabilities).forEach((p, k) => expect(p).toBeCloseTo(ref[k], 2));
    await classifier.release();
  });

  it('--no-detect classifies each image whole', async () => {
    const r = await cli('predict', portrait, '--no-detect', '--json');
    expect(r.code, r.stderr).toBe(0);
    const faces = JSON.parse(r.stdout).faces;
    expect(faces).toHaveLength(1);
    expect(faces[0].box).toEqual({ x: 0, y: 0, width: 400, height: 400 });
    expect(faces[0].landmarks).toEqual([]);
  });
});
