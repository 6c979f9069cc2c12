/**
 * The library's one-call API: createPredictor → predict(path | bytes | pixels | array) → dispose, checked
 * against the CLI's own pipeline (predictFile) on the same photo, and for what dispose frees.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createPredictor } from '../../src/predict/predictor.js';
import { loadClassifier } from '../../src/predict/classifier.js';
import { predictFile } from '../../src/predict/predict.js';
import { openFaceNetSessions } from '../../src/detect/faces.js';
import { decodeRgb } from '../../src/io/image.js';
import { CLASSES } from '../../src/data/classes.js';
import { FER2013_TRAIN_COUNTS } from '../../src/data/prior.js';

const photo = path.join(import.meta.dirname, '..', '..', 'fixtures', 'scenes', 'two-faces.jpg');

describe('createPredictor', () => {
  it('classifies a photo as predictFile does, from a path, a Buffer and decoded pixels alike', async () => {
    const predictor = await createPredictor();
    const fromPath = await predictor.predict(photo);
    const fromBytes = await predictor.predict(readFileSync(photo));
    const [fromPixels] = await predictor.predict([await decodeRgb(photo)]);
    await predictor.dispose();
    expect(openFaceNetSessions()).toBe(0);

    const classifier = await loadClassifier();
    const { result: reference } = await predictFile(photo, classifier);
    await classifier.release();

    expect(fromPath.faces).toHaveLength(2);
    expect(fromPath.faces).toHaveLength(reference.faces.length);
    expect([fromPath.width, fromPath.height]).toEqual([reference.width, reference.height]);
    fromPath.faces.forEach((f, i) => {
      const r = reference.faces[i];
      expect(f.box).toEqual(r.box);
      expect(f.landmarks).toHaveLength(68);
      expect(f.emotion).toBe(r.emotion);
      expect(Object.keys(f.probabilities)).toEqual([...CLASSES]);
      for (const c of CLASSES) expect(f.probabilities[c]).toBeCloseTo(r.probabilities[c], 6);
      expect(f.confidence).toBe(Math.max(...Object.values(f.probabilities)));
    });
    expect(fromBytes).toEqual(fromPath);
    expect(fromPixels).toEqual(fromPath);
  });

  it('takes RGBA pixels (a canvas) as the same RGB photo, and dispose() after a break out of predictMany is safe', async () => {
    const predictor = await createPredictor({ tta: 'none' });
    const rgb = await decodeRgb(photo);
    const rgba = new Uint8ClampedArray(rgb.width * rgb.height * 4).fill(255);
    for (let i = 0; i < rgb.width * rgb.height; i++) rgba.set(rgb.data.subarray(3 * i, 3 * i + 3), 4 * i);
    const [fromRgb, fromRgba] = await predictor.predict([rgb, { data: rgba as never, width: rgb.width, height: rgb.height, channels: 4 }]);
    expect(fromRgba.faces).toHaveLength(2);
    expect(fromRgba).toEqual(fromRgb);
    // Leaving the loop early, then disposing: photos still in flight finish before the loop is left, not on freed sessions.
    let n = 0;
    for await (const r of predictor.predictMany(
      Array.from({ length: 8 }, () => photo),
      { concurrency: 4 },
    )) {
      expect(r.faces).toHaveLength(2);
      if (++n === 2) break;
    }
    await predictor.dispose();
    expect(openFaceNetSessions()).toBe(0);
  });

  it('rejects bad input with a one-line usage error, and use after dispose', async () => {
    const predictor = await createPredictor({ tta: 'none' });
    await expect(predictor.predict(Buffer.from('not an image'))).rejects.toMatchObject({ exitCode: 2 });
    await expect(predictor.predict({ data: new Uint8Array(10), width: 4, height: 4, channels: 3 })).rejects.toThrow(
      /expected 4×4×3 = 48 bytes/,
    );
    // predictMany from plain JavaScript: a string instead of an array, and inputs of the wrong kind, are named.
    await expect(predictor.predictMany(photo as never).next()).rejects.toThrow(/predictMany: expected an array of inputs/);
    const folder = path.dirname(photo);
    const results = [];
    for await (const r of predictor.predictMany([42, null, folder] as never)) results.push(r.error);
    expect(results).toEqual([
      expect.stringMatching(/^predict: expected a file path, .* got number$/),
      expect.stringMatching(/got null$/),
      expect.stringMatching(/a folder, not an image \(expandInputs lists its photos and videos/),
    ]);
    await predictor.dispose();
    await expect(predictor.predict(photo)).rejects.toThrow(/disposed/);
  });

  it('dispose() with predictions in flight lets them finish, then frees everything; later calls get a clear error', async () => {
    const predictor = await createPredictor({ tta: 'none' });
    const running = [predictor.predict(photo), predictor.predict(readFileSync(photo)), predictor.predict([photo, photo])] as const;
    const disposing = predictor.dispose();
    await expect(predictor.predict(photo)).rejects.toThrow(/disposed/);
    const [a, b, [c, d]] = await Promise.all(running);
    for (const r of [a, b, c, d]) expect(r.faces).toHaveLength(2);
    await disposing;
    expect(openFaceNetSessions()).toBe(0);
  });

  it('refuses a detection threshold out of its detector’s range when it is made, not at the first photo', async () => {
    await expect(createPredictor({ detector: 'tiny', minConfidence: 5 })).rejects.toThrow(/tiny detector's threshold is a probability/);
    await expect(createPredictor({ detector: 'ssd', minConfidence: { ssd: -1 } })).rejects.toMatchObject({ exitCode: 2 });
    expect(openFaceNetSessions()).toBe(0);
  });

  it('dispose() ends a predictMany loop its caller stopped iterating (it waited for it forever); the loop then says so', async () => {
    const predictor = await createPredictor({ tta: 'none' });
    const loop = predictor.predictMany([photo, photo, photo]);
    expect((await loop.next()).value).toMatchObject({ input: photo, faces: [expect.anything(), expect.anything()] });
    const ended = await Promise.race([predictor.dispose().then(() => 'disposed'), new Promise((r) => setTimeout(r, 10_000, 'hung'))]);
    expect(ended).toBe('disposed');
    expect(openFaceNetSessions()).toBe(0);
    await expect(loop.next()).rejects.toThrow(/disposed while its predictMany loop was paused/);
  }, 30_000);

  it("moves its probabilities to the prior a user gives (Bayes: ∝ p · π / π_train), FER2013 Training's the shipped model's", async () => {
    const plain = await createPredictor();
    const uniform = await createPredictor({ prior: 'uniform' });
    const named = await createPredictor({ prior: { neutral: 0.5 } });
    const [a, b, c] = [await plain.predict(photo), await uniform.predict(photo), await named.predict(photo)];
    await Promise.all([plain, uniform, named].map((p) => p.dispose()));
    const trainPrior = (k: string) => FER2013_TRAIN_COUNTS[k] / 28709;
    const moved = (p: Record<string, number>, to: (k: string) => number) => {
      const u = CLASSES.map((k) => (p[k] * to(k)) / trainPrior(k));
      const s = u.reduce((x, y) => x + y, 0);
      return u.map((v) => v / s);
    };
    expect(a.faces).toHaveLength(2);
    a.faces.forEach((f, i) => {
      const expectU = moved(f.probabilities, () => 1 / 7);
      const expectN = moved(f.probabilities, (k) => (k === 'neutral' ? 0.5 : 0.5 / 6));
      CLASSES.forEach((k, j) => {
        expect(b.faces[i].probabilities[k]).toBeCloseTo(expectU[j], 5);
        expect(c.faces[i].probabilities[k]).toBeCloseTo(expectN[j], 5);
      });
      // disgust, FER2013's rarest class, gains the most at a uniform prior
      expect(b.faces[i].probabilities.disgust).toBeGreaterThan(f.probabilities.disgust);
    });
    await expect(createPredictor({ prior: 'joy=0.5' })).rejects.toThrow(/joy not among the model's classes/);
  });

  it('validates its options with the schema', async () => {
    await expect(createPredictor({ inputSize: 300 })).rejects.toThrow(/multiple of 32/);
    // a misspelt option is refused, not silently the default; an empty class map too
    await expect(createPredictor({ detecter: 'dlib' } as never)).rejects.toThrow(/detecter/);
    await expect(createPredictor({ classMap: {} })).rejects.toThrow(/at least one class/);
  });
});
