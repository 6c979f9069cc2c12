/**
 * One predict path: `fer predict --json` and the library's `createPredictor().predictMany` print the same results
 * on the fixture photos (timings aside, which are clocks), and `predict()` finds the same faces; predictMany keeps
 * input order under concurrency, reports unreadable inputs in place, and dispose() waits for an iteration.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cli } from '../commands/cli.js';
import { createPredictor, type PredictManyResult } from '../../src/predict/predictor.js';
import { expandInputs } from '../../src/predict/predict.js';
import { openFaceNetSessions } from '../../src/detect/faces.js';
import { predictTally } from '../../src/predict/tally.js';
import { checkPhotoSource, photoLoader } from '../../src/predict/photo-data.js';

const scenes = path.join(import.meta.dirname, '..', '..', 'fixtures', 'scenes');

/** A result as `fer predict --json` prints it, without the timings. */
const comparable = (r: PredictManyResult) => {
  const { timings: _t, annotated: _a, ...rest } = JSON.parse(JSON.stringify(r)) as PredictManyResult;
  return rest;
};

describe('fer predict and createPredictor: one predict path', () => {
  it('give identical JSON on the fixture photos', async () => {
    const run = await cli('predict', scenes, '--json', '--concurrency', '2');
    expect(run.code, run.stderr).toBe(0);
    const fromCli = run.stdout
      .trim()
      .split('\n')
      .map((l) => comparable(JSON.parse(l)));

    const predictor = await createPredictor();
    const files = expandInputs([scenes]);
    const fromLibrary: PredictManyResult[] = [];
    for await (const r of predictor.predictMany(files, { concurrency: 2 })) fromLibrary.push(r);
    const single = await Promise.all(files.map((f) => predictor.predict(f)));
    await predictor.dispose();

    expect(files.map((f) => path.basename(f))).toEqual(['one-face.jpg', 'two-faces.jpg']);
    expect(fromCli.map((r) => r.faces.length)).toEqual([1, 2]);
    expect(fromLibrary.map(comparable)).toEqual(fromCli);
    fromLibrary.forEach((r, i) => {
      expect(r.timings).toBeDefined();
      expect(single[i].faces).toEqual(r.faces);
      expect([single[i].width, single[i].height]).toEqual([r.width, r.height]);
    });
  });

  it('predictMany yields in input order under concurrency, unreadable inputs in place, bytes too', async () => {
    const predictor = await createPredictor({ tta: 'none' });
    const one = path.join(scenes, 'one-face.jpg'),
      two = path.join(scenes, 'two-faces.jpg');
    const inputs = [two, '/no/such/photo.jpg', readFileSync(one), Buffer.from('not an image'), one];
    const got: PredictManyResult[] = [];
    for await (const r of predictor.predictMany(inputs, { concurrency: 3 })) got.push(r);
    expect(got.map((r) => r.input)).toEqual([two, '/no/such/photo.jpg', undefined, undefined, one]);
    expect(got.map((r) => r.faces.length)).toEqual([2, 0, 1, 0, 1]);
    expect(got[1].error).toBe('no such file');
    expect(got[3].error).toMatch(/not an image|unreadable image/);
    expect(got[2].faces).toEqual(got[4].faces);

    // dispose() waits for a result being computed, ends a loop paused between results, then frees everything;
    // the paused loop's next call and a new loop are refused.
    const iteration = predictor.predictMany([one, one], { concurrency: 1 });
    const first = await iteration.next();
    expect(first.value?.faces.length).toBe(1);
    const computing = iteration.next(); // the second result, under way when dispose() is called
    const disposing = predictor.dispose();
    expect((await computing).value?.faces.length).toBe(1);
    await disposing;
    await expect(iteration.next()).rejects.toThrow(/disposed while its predictMany loop was paused/);
    expect(openFaceNetSessions()).toBe(0);
    await expect(predictor.predictMany([one]).next()).rejects.toThrow(/disposed/);
  });

  it('validates its options with the schema', async () => {
    const predictor = await createPredictor({ tta: 'none' });
    await expect(predictor.predictMany([], { concurrency: 0 }).next()).rejects.toThrow(/concurrency|>=1|too small/i);
    await expect(predictor.predictMany([], { concurency: 2 } as never).next()).rejects.toThrow(/concurency/);
    await predictor.dispose();
  });
});

describe("fer predict's tally and fer train --detect's photo source (the library functions the commands call)", () => {
  const result = (faces: number, error?: string) => ({ input: 'x.jpg', faces: Array(faces).fill({}), error }) as PredictManyResult;

  it('counts faces, images without one and unreadable inputs; nothingRead only when every input was unreadable', () => {
    const t = predictTally();
    for (const r of [result(2), result(0, 'no face found'), result(0, 'unreadable image')]) t.add(r);
    expect({ images: t.images, faces: t.faces, noFace: t.noFace, unreadable: t.unreadable }).toEqual({
      images: 3,
      faces: 2,
      noFace: 1,
      unreadable: 1,
    });
    expect(t.nothingRead()).toBe(false);
    const bad = predictTally();
    bad.add(result(0, 'unreadable image'));
    expect(bad.nothingRead()).toBe(true);
    expect(predictTally().nothingRead()).toBe(false);
  });

  it('loads with the given loader itself when no detector is asked for (fer eval without --detect)', () => {
    const load = async () => ({}) as never;
    expect(photoLoader(undefined, load)).toBe(load);
  });

  it('defaults the multi-face rule and rejects an unknown detector or rule', () => {
    expect(checkPhotoSource({ data: 'd' })).toEqual({ data: 'd', multiFace: 'largest' });
    expect(() => checkPhotoSource({ data: 'd', detect: 'hog' as never })).toThrow(/--detect hog: unknown detector/);
    expect(() => checkPhotoSource({ data: 'd', multiFace: 'all' as never })).toThrow(/--multi-face all: expected largest or skip/);
  });
});
