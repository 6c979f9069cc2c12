/**
 * Issue #21 end to end through the CLI: a folder of ordinary photos in three class folders of one's own →
 * `fer train --detect --init <shipped model>` → `fer eval --detect` → `fer export onnx` → `fer predict` →
 * `fer report`, with the three names everywhere; and the --detect crops are the faces predict classifies.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { cli } from './cli.js';
import { FIXTURE_DATA } from '../fixture-model.js';
import { inspectOnnx } from '../../src/onnx/inspect.js';
import { faceCropper } from '../../src/predict/crops.js';
import { decodeRgb } from '../../src/io/image.js';
import { alignFace, detectFaces } from '../../src/detect/faces.js';
import { useBackend } from '../../src/engine/backend.js';
import { loadDataset } from '../../src/data/dataset.js';
import { modelProbs } from '../../src/eval/evaluate.js';

const NAMES: Record<string, string> = { smile: 'happy', wow: 'surprise', calm: 'neutral' };

/** A 240×200 "photo": a fixture face enlarged to 120 px on a plain background. */
async function photo(face: string, file: string): Promise<void> {
  const big = await sharp(face).resize(120, 120).toBuffer();
  await sharp({ create: { width: 240, height: 200, channels: 3, background: { r: 120, g: 110, b: 100 } } })
    .composite([{ input: big, left: 60, top: 40 }])
    .jpeg({ quality: 92 })
    .toFile(file);
}

async function photoSet(): Promise<string> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'fer-photos-'));
  for (const [split, n] of [
    ['train', 12],
    ['val', 6],
  ] as const) {
    for (const [name, src] of Object.entries(NAMES)) {
      mkdirSync(path.join(root, split, name), { recursive: true });
      const dir = path.join(FIXTURE_DATA, split, src);
      for (const f of readdirSync(dir).slice(0, n)) await photo(path.join(dir, f), path.join(root, split, name, f));
    }
  }
  // A photo with no face in it: counted and skipped, not an error.
  await sharp({ create: { width: 240, height: 200, channels: 3, background: { r: 90, g: 140, b: 200 } } })
    .jpeg()
    .toFile(path.join(root, 'train', 'calm', 'sky.jpg'));
  return root;
}

describe("a model of three classes of one's own, from photos to predictions", () => {
  let data: string, run: string;
  beforeAll(async () => {
    data = await photoSet();
    run = mkdtempSync(path.join(os.tmpdir(), 'fer-custom-run-'));
    process.env.FER_CACHE_DIR = mkdtempSync(path.join(os.tmpdir(), 'fer-custom-cache-'));
  }, 60_000);

  it('train --detect --init → eval --detect → export onnx → predict → report, with the three names', async () => {
    const t = await cli(
      'train',
      '--data',
      path.join(data, 'train'),
      '--val',
      path.join(data, 'val'),
      '--detect',
      '--init',
      'models/fer-mini-xception',
      '--epochs',
      '2',
      '--batch-size',
      '8',
      '--out',
      run,
      '--threads',
      '1',
    );
    expect(t.code, t.stderr).toBe(0);
    expect(t.stderr).toMatch(/calm \d+, smile \d+, wow \d+/);
    expect(t.stderr).toMatch(/--detect: \d+ photos cropped now .*: [1-9]\d* without a face/);
    expect(t.stderr).toMatch(/sky\.jpg: no face found|skipped/);
    expect(t.stderr).toMatch(/transfer to new classes: a new classifier head/);

    const e = await cli('eval', '--model', run, '--data', path.join(data, 'val'), '--detect', '--out', run, '--json');
    expect(e.code, e.stderr).toBe(0);
    const ev = JSON.parse(e.stdout);
    expect(ev.perClass.map((c: { name: string }) => c.name)).toEqual(['calm', 'smile', 'wow']);
    expect(ev.confusion).toHaveLength(3);
    // dlib at its own threshold 0 (calibrated on real photos, issue 32) finds 13 of these 18 blurred 48-px crops
    // enlarged to 120 px; at the old −0.5 it found 15 or more (and 9 false faces in 31 face-free real photos).
    expect(ev.n).toBeGreaterThanOrEqual(12);

    const onnx = path.join(run, 'custom.onnx');
    const x = await cli('export', 'onnx', '--model', run, '--out', onnx, '--data', path.join(data, 'val'));
    expect(x.code, x.stderr).toBe(0);
    expect(inspectOnnx(onnx).classes).toEqual(['calm', 'smile', 'wow']);

    const one = path.join(data, 'val', 'wow', readdirSync(path.join(data, 'val', 'wow'))[0]);
    for (const model of [onnx, run]) {
      const p = await cli('predict', one, '--model', model, '--json');
      expect(p.code, p.stderr).toBe(0);
      const face = JSON.parse(p.stdout.trim().split('\n')[0]).faces[0];
      expect(Object.keys(face.probabilities)).toEqual(['calm', 'smile', 'wow']);
      expect(['calm', 'smile', 'wow']).toContain(face.emotion);
    }

    const r = await cli('report', run, '--json');
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(JSON.parse(r.stdout).file, 'utf8');
    for (const n of ['calm', 'smile', 'wow']) expect(html).toContain(`>${n}<`);
    expect(html).not.toContain('>disgust<');
  }, 240_000);

  it('--classes with a name the data lacks (misspelt) is an error before training, not a class with no images', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'fer-custom-typo-'));
    const r = await cli('train', '--data', path.join(data, 'train'), '--classes', 'calm,smlie', '--epochs', '1', '--out', out);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--classes smlie: no images of this class in .* \(misspelt\?\)/);
    expect(existsSync(path.join(out, 'best'))).toBe(false);
  });

  it('--detect crops are the aligned faces fer predict classifies; several faces: largest or skip', async () => {
    await useBackend('cpu');
    const file = path.join(data, 'val', 'smile', readdirSync(path.join(data, 'val', 'smile'))[0]);
    const c = faceCropper({ multiFace: 'largest' });
    try {
      const crop = await c.decode(file);
      const image = await decodeRgb(file);
      const [face] = await detectFaces(image, {});
      expect(crop).not.toBeNull();
      expect(Buffer.from(crop!).equals(Buffer.from(alignFace(image, face)))).toBe(true);
      expect(await c.decode(path.join(data, 'train', 'calm', 'sky.jpg'))).toBeNull();
      expect(c.stats).toMatchObject({ photos: 2, noFace: 1 });
      const two = 'fixtures/scenes/two-faces.jpg';
      const faces = await detectFaces(await decodeRgb(two), {});
      expect(faces.length).toBe(2);
      const largest = faces.reduce((a, b) => (b.box.width * b.box.height > a.box.width * a.box.height ? b : a));
      expect(Buffer.from((await c.decode(two))!).equals(Buffer.from(alignFace(await decodeRgb(two), largest)))).toBe(true);
      expect(c.stats.severalFaces).toBe(1);
    } finally {
      await c.release();
    }
    const skip = faceCropper({ multiFace: 'skip' });
    await expect(skip.decode('fixtures/scenes/two-faces.jpg')).rejects.toThrow(/2 faces \(--multi-face skip\)/);
    await skip.release();
    expect(existsSync(process.env.FER_CACHE_DIR!)).toBe(true);
  }, 60_000);
});

describe('a class map onto a model of other classes merges its probabilities', () => {
  it('fer eval and fer predict --class-map valence.json on the shipped 7-class model', async () => {
    const e = await cli(
      'eval',
      '--data',
      path.join(FIXTURE_DATA, 'val'),
      '--class-map',
      'examples/class-maps/valence.json',
      '--tta',
      'none',
      '--json',
    );
    expect(e.code, e.stderr).toBe(0);
    const ev = JSON.parse(e.stdout) as { n: number; accuracy: number; perClass: { name: string; support: number }[] };
    expect(ev.perClass.map((c) => c.name)).toEqual(['negative', 'neutral', 'positive']);
    expect(ev.perClass.map((c) => c.support)).toEqual([40, 10, 20]); // 4 + 1 + 2 fixture classes of 10 images
    // The same accuracy by hand: the 7-class probabilities summed per valence class.
    await useBackend('cpu');
    const ds = await loadDataset(path.join(FIXTURE_DATA, 'val'), { cache: false });
    const p = await modelProbs('models/fer-mini-xception', ds, 'none');
    const valence = (c: string) => (['angry', 'disgust', 'fear', 'sad'].includes(c) ? 0 : c === 'neutral' ? 1 : 2);
    let ok = 0;
    for (let i = 0; i < ds.size; i++) {
      const s = [0, 0, 0];
      ds.classes.forEach((c, j) => (s[valence(c)] += p[i * 7 + j]));
      if (s.indexOf(Math.max(...s)) === valence(ds.classes[ds.labels[i]])) ok++;
    }
    expect(ev.accuracy).toBeCloseTo(ok / ds.size, 10);
    // The ONNX export merged the same way (its probabilities equal tfjs's to ~1e-6).
    const o = await cli(
      'eval',
      '--model',
      'models/onnx/fer-mini-xception.fp32.onnx',
      '--data',
      path.join(FIXTURE_DATA, 'val'),
      '--class-map',
      'examples/class-maps/valence.json',
      '--tta',
      'none',
      '--json',
    );
    expect(o.code, o.stderr).toBe(0);
    expect(JSON.parse(o.stdout).accuracy).toBeCloseTo(ok / ds.size, 10);
    const pr = await cli('predict', 'fixtures/scenes/one-face.jpg', '--class-map', 'examples/class-maps/valence.json', '--json');
    expect(pr.code, pr.stderr).toBe(0);
    const face = JSON.parse(pr.stdout.trim().split('\n')[0]).faces[0];
    expect(Object.keys(face.probabilities)).toEqual(['negative', 'neutral', 'positive']);
    expect(Object.values(face.probabilities as Record<string, number>).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  }, 60_000);
});
