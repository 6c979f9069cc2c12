/**
 * `fer predict` on scenes composed from fixture faces pasted at known boxes: every face found (IoU ≥ 0.5),
 * 68 landmarks inside the box, the emotion of an easy face, bad inputs reported per file, annotation.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useBackend } from '../../src/engine/backend.js';
import { composeScene, writeJpeg, imageSize } from '../../src/io/image.js';
import { detectFaces, iou, alignFace, eyeGeometry } from '../../src/detect/faces.js';
import { cli } from '../commands/cli.js';
import { FIXTURE_DATA, saveFixtureModel } from '../fixture-model.js';
import { DEFAULT_ONNX } from '../../src/model/default.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'fer-predict-'));
const happy = path.join(FIXTURE_DATA, 'val', 'happy');
// Two fixture faces whose FER2013 crop is mostly face (others include much hair or background, so the
// detector's box, which hugs the face, covers less than half of the pasted square).
const faces = ['PublicTest_10130075.jpg', 'PublicTest_10248771.jpg'].map((f) => path.join(happy, f));
const items = [
  { file: faces[0], left: 60, top: 100, size: 180 },
  { file: faces[1], left: 380, top: 200, size: 180 },
];
let scene: string;
let model: string;

beforeAll(async () => {
  await useBackend('auto');
  scene = path.join(tmp, 'scene.jpg');
  await writeJpeg(await composeScene(640, 480, items), scene);
  model = await saveFixtureModel(2);
});

afterAll(() => undefined);

describe('face detection with 68 landmarks', () => {
  it('finds every pasted face (IoU ≥ 0.5) with 68 landmarks inside its box', async () => {
    const { decodeRgb } = await import('../../src/io/image.js');
    const found = await detectFaces(await decodeRgb(scene), { detector: 'ssd', minConfidence: 0.3 });
    for (const it of items) {
      const known = { x: it.left, y: it.top, width: it.size, height: it.size };
      const match = found.find((f) => iou(f.box, known) >= 0.5);
      expect(match, `face at ${it.left},${it.top}`).toBeDefined();
      expect(match!.landmarks).toHaveLength(68);
      const slack = 0.15 * it.size;
      for (const p of match!.landmarks) {
        expect(p.x).toBeGreaterThan(known.x - slack);
        expect(p.x).toBeLessThan(known.x + known.width + slack);
        expect(p.y).toBeGreaterThan(known.y - slack);
        expect(p.y).toBeLessThan(known.y + known.height + slack);
      }
      // Eyes above the mouth, left eye left of the right one.
      const { left, right } = eyeGeometry(match!.landmarks);
      expect(left.x).toBeLessThan(right.x);
      expect(left.y).toBeLessThan(match!.landmarks[62].y);
    }
  }, 120_000);

  it('alignment levels the eye line: a face turned 90° crops like the upright one', async () => {
    const W = 64;
    const up = {
      data: Uint8Array.from({ length: W * W }, (_, i) => ((i % W) * 3 + Math.floor(i / W) * 7) % 256),
      width: W,
      height: W,
      channels: 1 as const,
    };
    // A plausible face: eyes level at y=24, mouth at y=44, jaw around.
    const lm = Array.from({ length: 68 }, (_, i) => ({ x: 16 + ((i * 7) % 32), y: 14 + ((i * 5) % 36) }));
    for (let i = 36; i < 42; i++) lm[i] = { x: 22 + (i - 36), y: 24 };
    for (let i = 42; i < 48; i++) lm[i] = { x: 38 + (i - 42), y: 24 };
    // Rotate the image and landmarks by 90° clockwise: (x, y) → (W − y, x).
    const rotData = new Uint8Array(W * W);
    for (let y = 0; y < W; y++) for (let x = 0; x < W; x++) rotData[x * W + (W - 1 - y)] = up.data[y * W + x];
    const rot = { ...up, data: rotData };
    const rotLm = lm.map((p) => ({ x: W - p.y, y: p.x }));
    expect(eyeGeometry(lm).angle).toBeCloseTo(0, 6);
    expect(eyeGeometry(rotLm).angle).toBeCloseTo(Math.PI / 2, 6);
    const face = (l: typeof lm) => ({ box: { x: 0, y: 0, width: W, height: W }, score: 1, landmarks: l });
    const a = alignFace(up, face(lm)),
      b = alignFace(rot, face(rotLm));
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff += Math.abs(a[i] - b[i]);
    expect(diff / a.length).toBeLessThan(2);
  });
});

describe('fer predict', () => {
  it('prints faces and emotions as JSON lines and writes an annotated PNG', async () => {
    const out = path.join(tmp, 'annotated');
    const r = await cli('predict', scene, '--model', model, '--json', '--annotate', out, '--min-confidence', '0.3');
    expect(r.code, r.stderr).toBe(0);
    const line = JSON.parse(r.stdout.trim().split('\n')[0]);
    expect(line.faces.length).toBeGreaterThanOrEqual(2);
    for (const f of line.faces) {
      expect(Object.values(f.probabilities as Record<string, number>).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      expect(f.landmarks).toHaveLength(68);
    }
    const png = path.join(out, 'scene.png');
    expect(existsSync(png)).toBe(true);
    expect(await imageSize(png)).toEqual({ width: 640, height: 480 });
  }, 120_000);

  it('reports bad inputs per file and goes on with the batch', async () => {
    const notImage = path.join(tmp, 'notes.jpg');
    writeFileSync(notImage, 'this is not a jpeg');
    const blank = path.join(tmp, 'blank.jpg');
    await writeJpeg(await composeScene(320, 240, []), blank);
    const r = await cli('predict', notImage, '/no/such/photo.jpg', blank, scene, '--model', model, '--min-confidence', '0.3');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/notes\.jpg: (not an image|unreadable image)/);
    expect(r.stderr).toMatch(/photo\.jpg: no such file/);
    expect(r.stderr).toMatch(/blank\.jpg: no face found/);
    expect(r.stdout).toMatch(/scene\.jpg: \d faces/);
    const all = await cli('predict', notImage, '--model', model);
    expect(all.code).toBe(2);
  }, 120_000);

  it.skipIf(!existsSync(DEFAULT_ONNX))(
    'the shipped model calls an easy happy face happy',
    async () => {
      const r = await cli('predict', path.resolve('fixtures/scenes/one-face.jpg'), '--json');
      expect(r.code, r.stderr).toBe(0);
      const line = JSON.parse(r.stdout.trim().split('\n')[0]);
      expect(line.faces).toHaveLength(1);
      expect(line.faces[0].emotion).toBe('happy');
    },
    120_000,
  );

  it('refuses a huge image with a clear message', async () => {
    const { describeDecodeError } = await import('../../src/predict/predict.js');
    expect(describeDecodeError(new Error('Input image exceeds pixel limit'))).toMatch(/too large \(over the 268-megapixel limit\)/);
  });

  it('a folder of phone photos reports its HEIC files with what to do, and reads its .bmp files', async () => {
    const { describeDecodeError, expandInputs } = await import('../../src/predict/predict.js');
    const heifError = new Error('Input file has corrupt header: heif: Unsupported feature: Unsupported codec');
    expect(describeDecodeError(heifError, '/photos/IMG_0001.HEIC')).toMatch(/HEIC photo: .*convert it first/);
    expect(describeDecodeError(heifError, '/photos/a.jpg')).toMatch(/^unreadable image/);
    const dir = mkdtempSync(path.join(tmp, 'phone-'));
    writeFileSync(path.join(dir, 'IMG_0001.HEIC'), Buffer.from('\0\0\0\x18ftypheic\0\0\0\0mif1heic'));
    const { writeFileSync: w } = await import('node:fs');
    const sharp = (await import('sharp')).default;
    const rgb = await sharp(scene).resize(64, 48).raw().toBuffer();
    // A 24-bit bottom-up bitmap of the scene, as Windows writes one.
    const stride = (64 * 3 + 3) & ~3;
    const bmp = Buffer.alloc(54 + stride * 48);
    bmp.write('BM', 0, 'latin1');
    bmp.writeUInt32LE(bmp.length, 2);
    bmp.writeUInt32LE(54, 10);
    bmp.writeUInt32LE(40, 14);
    bmp.writeInt32LE(64, 18);
    bmp.writeInt32LE(48, 22);
    bmp.writeUInt16LE(1, 26);
    bmp.writeUInt16LE(24, 28);
    for (let y = 0; y < 48; y++)
      for (let x = 0; x < 64; x++) for (let c = 0; c < 3; c++) bmp[54 + (47 - y) * stride + 3 * x + c] = rgb[3 * (y * 64 + x) + 2 - c];
    w(path.join(dir, 'scan.bmp'), bmp);
    expect(expandInputs([dir]).map((f) => path.basename(f))).toEqual(['IMG_0001.HEIC', 'scan.bmp']);
    const r = await cli('predict', dir, '--model', model, '--no-detect', '--json');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { input: string; error?: string; width?: number });
    expect(lines.find((l) => l.input.endsWith('.HEIC'))?.error).toMatch(/HEIC photo/);
    const bmpLine = lines.find((l) => l.input.endsWith('.bmp'));
    expect(bmpLine?.width).toBe(64);
    expect(bmpLine?.error).toBeUndefined();
  }, 60_000);
});

describe("classifier test-time flip (predict's default)", () => {
  it.runIf(existsSync(DEFAULT_ONNX))("averages the face's probabilities with its mirror image's", async () => {
    const { loadClassifier } = await import('../../src/predict/classifier.js');
    const face = Uint8Array.from({ length: 48 * 48 }, (_, i) => ((i % 48) * 5 + Math.floor(i / 48) * 2) % 256); // not symmetric
    const mirror = Uint8Array.from(face, (_, i) => face[Math.floor(i / 48) * 48 + 47 - (i % 48)]);
    const plain = await loadClassifier(DEFAULT_ONNX, 'none'),
      flip = await loadClassifier(DEFAULT_ONNX, 'flip');
    const a = await plain.classify(face, 1),
      b = await plain.classify(mirror, 1),
      f = await flip.classify(face, 1);
    expect(Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])))).toBeGreaterThan(1e-4);
    for (let k = 0; k < 7; k++) expect(f[k]).toBeCloseTo((a[k] + b[k]) / 2, 6);
    await Promise.all([plain.release(), flip.release()]);
  });
});
