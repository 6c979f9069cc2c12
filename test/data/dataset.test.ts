import { describe, it, expect } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, copyFileSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadDataset, SkippedFile, skipUnreadable } from '../../src/data/dataset.js';
import { composeCrop, makeBatch, randomAffine, randomCrop, PREPROCESS, ttaAffines, viewBatch } from '../../src/data/augment.js';
import { CLASSES } from '../../src/data/classes.js';
import { UsageError } from '../../src/errors.js';
import { Rng } from '../../src/util/rng.js';
import { FIXTURE_DATA } from '../fixture-model.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'fer-data-'));

describe('folder datasets', () => {
  it('loads the fixture tree in the fixed class order', async () => {
    const ds = await loadDataset(path.join(FIXTURE_DATA, 'val'), { cache: false });
    expect(ds.size).toBe(70);
    expect(ds.counts).toEqual(CLASSES.map(() => 10));
    expect(ds.images.length).toBe(70 * 48 * 48);
    const i = ds.files.findIndex((f) => f.includes(`${path.sep}happy${path.sep}`));
    expect(ds.labels[i]).toBe(CLASSES.indexOf('happy'));
  });

  it("a dataset's split root (train/, val/ of class folders) is named as such, not as a folder without images", async () => {
    const err = await loadDataset(FIXTURE_DATA, { cache: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/\(train, val\) hold folders, not images.*e\.g\. .*fer-mini\/train$/);
    // A class folder holding a subfolder beside its images is still a dataset (the subfolder is skipped as unreadable).
    const root = tmp();
    mkdirSync(path.join(root, 'happy', 'nested'), { recursive: true });
    copyFileSync(
      path.join(FIXTURE_DATA, 'val', 'happy', readdirSync(path.join(FIXTURE_DATA, 'val', 'happy'))[0]),
      path.join(root, 'happy', 'a.jpg'),
    );
    expect((await loadDataset(root, { cache: false })).size).toBe(1);
  });

  it('skips and counts unreadable files instead of crashing', async () => {
    const root = tmp();
    for (const c of ['angry', 'happy']) {
      mkdirSync(path.join(root, c));
      const src = path.join(FIXTURE_DATA, 'val', c);
      for (const f of readdirSync(src).slice(0, 3)) copyFileSync(path.join(src, f), path.join(root, c, f));
    }
    writeFileSync(path.join(root, 'happy', 'broken.jpg'), 'not a jpeg');
    writeFileSync(path.join(root, 'angry', 'notes.txt'), 'hello');
    const ds = await loadDataset(root, { cache: false });
    expect(ds.size).toBe(6);
    expect(ds.skipped.map((s) => path.basename(s.file)).sort()).toEqual(['broken.jpg', 'notes.txt']);
  });

  it("a photo decoder's skip is listed; any other failure of it (a detector's, a bug) stops the load", async () => {
    const root = path.join(FIXTURE_DATA, 'val');
    const skipping = { tag: 't1', decode: async () => Promise.reject(new SkippedFile('2 faces (--multi-face skip)')) };
    await expect(loadDataset(root, { cache: false, decoder: skipping })).rejects.toThrow(/none of the 70 files .* with a face/);
    let n = 0;
    const failing = {
      tag: 't2',
      decode: async () => {
        if (++n === 5) throw new TypeError("Cannot read properties of undefined (reading 'box')");
        return new Uint8Array(48 * 48);
      },
    };
    // before: the TypeError became a "skipped" photo and the load went on
    await expect(loadDataset(root, { cache: false, decoder: failing })).rejects.toThrow(TypeError);
    const unreadable = { tag: 't3', decode: (f: string) => skipUnreadable(Promise.reject(new Error(`${f}: corrupt`))) };
    await expect(loadDataset(root, { cache: false, decoder: unreadable })).rejects.toThrow(UsageError);
  });

  it('uses the cache on the second load with identical content', async () => {
    process.env.FER_CACHE_DIR = tmp();
    const a = await loadDataset(path.join(FIXTURE_DATA, 'val'));
    // The cache holds a header and the images, nothing else; a mark put in its last pixel comes back.
    const dir = process.env.FER_CACHE_DIR;
    const [name] = readdirSync(dir);
    const file = path.join(dir, name);
    const bytes = readFileSync(file);
    expect(bytes.length).toBe(4 + bytes.readUInt32LE(0) + a.size * 48 * 48);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(file, bytes);
    const b = await loadDataset(path.join(FIXTURE_DATA, 'val'));
    expect(b.images[b.images.length - 1]).toBe(a.images[a.images.length - 1] ^ 0xff);
    expect(Buffer.from(b.images.subarray(0, -1)).equals(Buffer.from(a.images.subarray(0, -1)))).toBe(true);
    expect(Array.from(b.labels)).toEqual(Array.from(a.labels));
    delete process.env.FER_CACHE_DIR;
  });

  it.each([
    ['a missing folder', () => '/nonexistent/fer', /no such file or folder/],
    [
      'a single class of its own (a classifier needs two)',
      () => {
        const r = tmp();
        mkdirSync(path.join(r, 'bored'));
        return r;
      },
      /at least 2 classes, got bored/,
    ],
    [
      'an empty dataset',
      () => {
        const r = tmp();
        mkdirSync(path.join(r, 'sad'));
        return r;
      },
      /no images/,
    ],
  ])('rejects %s with a UsageError (exit code 2)', async (_l, make, msg) => {
    const err = await loadDataset(make(), { cache: false }).catch((e) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(msg);
  });
});

describe('Kaggle fer2013.csv', () => {
  const row = (label: number, v: number) => `${label},${Array(2304).fill(v).join(' ')}`;
  it('reads rows of the requested Usage and skips malformed ones', async () => {
    const file = path.join(tmp(), 'fer2013.csv');
    writeFileSync(
      file,
      ['emotion,pixels,Usage', `${row(3, 10)},Training`, `${row(0, 200)},PublicTest`, `9,1 2 3,Training`, `${row(6, 7)},Training`].join(
        '\n',
      ),
    );
    const ds = await loadDataset(file, { usage: 'Training' });
    expect(ds.size).toBe(2);
    expect(Array.from(ds.labels)).toEqual([3, 6]);
    expect(ds.images[0]).toBe(10);
    expect(ds.skipped).toHaveLength(1);
    const pub = await loadDataset(file, { usage: 'PublicTest' });
    expect(pub.images[100]).toBe(200);
  });

  it('rejects a CSV without the expected columns', async () => {
    const file = path.join(tmp(), 'x.csv');
    writeFileSync(file, 'a,b\n1,2\n');
    await expect(loadDataset(file)).rejects.toThrow(/not a fer2013 CSV/);
  });
});

describe('batches and augmentation', () => {
  it('scales pixels to [-1, 1]', () => {
    const imgs = new Uint8Array(48 * 48 * 2).fill(255);
    imgs.fill(0, 0, 48 * 48);
    const b = makeBatch(imgs, [1, 0]);
    expect(b[0]).toBeCloseTo(255 * PREPROCESS.scale + PREPROCESS.offset, 6);
    expect(b[48 * 48]).toBe(-1);
  });

  it('the identity affine reproduces the image, and a flip mirrors it', () => {
    const img = Uint8Array.from({ length: 48 * 48 }, (_, i) => i % 48);
    const noAug = makeBatch(img, [0]);
    const rng = new Rng(1);
    // Flip only: find a seed whose first draw flips.
    let flipped: Float32Array | null = null;
    for (let s = 0; s < 10 && !flipped; s++) {
      const r = new Rng(s);
      const m = randomAffine({ flip: true, rotation: 0, zoom: 0, shift: 0 }, new Rng(s));
      if (m[0] < 0) flipped = makeBatch(img, [0], { flip: true, rotation: 0, zoom: 0, shift: 0 }, r);
    }
    expect(flipped).not.toBeNull();
    for (let x = 0; x < 48; x++) expect(flipped![5 * 48 + x]).toBeCloseTo(noAug[5 * 48 + 47 - x], 5);
    const same = makeBatch(img, [0], { flip: false, rotation: 0, zoom: 0, shift: 0 }, rng);
    expect(Array.from(same)).toEqual(Array.from(noAug));
  });

  it('test-time views: flip mirrors exactly; tencrop gives 10 views whose centre crop samples where expected', () => {
    const img = Uint8Array.from({ length: 48 * 48 }, (_, i) => (i % 48) * 5); // pixel = 5 × column
    const enc = (v: number) => v * PREPROCESS.scale + PREPROCESS.offset;
    const [id, flip] = ttaAffines('flip').map((m) => viewBatch(img, [0], m));
    expect(Array.from(id)).toEqual(Array.from(makeBatch(img, [0])));
    for (let x = 0; x < 48; x++) expect(flip[7 * 48 + x]).toBeCloseTo(enc((47 - x) * 5), 5);
    const views = ttaAffines('tencrop');
    expect(views.length).toBe(10);
    // Centre crop: 44 px from column 2, resized to 48: output column x samples column 2 + (x + 0.5)·44/48 − 0.5.
    const centre = viewBatch(img, [0], views[4]);
    for (const x of [0, 10, 47]) expect(centre[3 * 48 + x]).toBeCloseTo(enc(5 * (2 + ((x + 0.5) * 44) / 48 - 0.5)), 4);
    // Its mirror (view 9) reads the same crop right to left.
    const centreFlip = viewBatch(img, [0], views[9]);
    for (const x of [0, 10, 47]) expect(centreFlip[3 * 48 + x]).toBeCloseTo(centre[3 * 48 + 47 - x], 4);
  });

  it('random-resized crops: boxes of the asked area and aspect inside the image, sampled where the box says', () => {
    const rng = new Rng(3);
    const areas: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const b = randomCrop(0.6, rng);
      areas.push((b.w * b.h) / (48 * 48));
      expect(b.w * b.h).toBeLessThanOrEqual(48 * 48 + 1e-9);
      expect(b.w * b.h).toBeGreaterThanOrEqual(0.6 * 48 * 48 * (1 - 1e-9) * (3 / 4)); // clipped to the side at worst
      expect(b.w / b.h).toBeGreaterThanOrEqual(3 / 4 - 1e-9);
      expect(b.w / b.h).toBeLessThanOrEqual(4 / 3 + 1e-9);
      expect(b.x).toBeGreaterThanOrEqual(0);
      expect(b.y).toBeGreaterThanOrEqual(0);
      expect(b.x + b.w).toBeLessThanOrEqual(48 + 1e-9);
      expect(b.y + b.h).toBeLessThanOrEqual(48 + 1e-9);
    }
    expect(Math.min(...areas)).toBeLessThan(0.62); // the whole range is drawn
    expect(Math.max(...areas)).toBeGreaterThan(0.97);
    // Hand-computed: the box 24 px wide from column 10 (height: all rows) maps output column x to source
    // column 10 + (x + ½)·24/48 − ½; with pixel = 5 × column, bilinear sampling reproduces 5 × that exactly.
    const img = Uint8Array.from({ length: 48 * 48 }, (_, i) => (i % 48) * 5);
    const enc = (v: number) => v * PREPROCESS.scale + PREPROCESS.offset;
    const m = composeCrop({ x: 10, y: 0, w: 24, h: 48 }, [1, 0, 0, 0, 1, 0]);
    const v = viewBatch(img, [0], m);
    for (const x of [0, 7, 47]) expect(v[20 * 48 + x]).toBeCloseTo(enc(5 * (10 + ((x + 0.5) * 24) / 48 - 0.5)), 4);
    // The whole image as the box is the identity; a crop then a mirror reads the crop right to left.
    expect(composeCrop({ x: 0, y: 0, w: 48, h: 48 }, [1, 0, 0, 0, 1, 0])).toEqual([1, 0, 0, 0, 1, 0]);
    const mirror = composeCrop({ x: 10, y: 0, w: 24, h: 48 }, [-1, 0, 47, 0, 1, 0]);
    const vm = viewBatch(img, [0], mirror);
    for (const x of [0, 7, 47]) expect(vm[20 * 48 + x]).toBeCloseTo(v[20 * 48 + 47 - x], 4);
  });

  it('randomAffine: with no crop it draws exactly what it drew before crops existed; with one, the crop is applied last', () => {
    const aug = { flip: true, rotation: 10, zoom: 0.1, shift: 0.1 };
    const plain = randomAffine(aug, new Rng(9));
    expect(randomAffine({ ...aug, crop: 0 }, new Rng(9))).toEqual(plain);
    const r = new Rng(9);
    const cropped = randomAffine({ ...aug, crop: 0.7 }, r);
    const r2 = new Rng(9);
    randomAffine(aug, r2); // the same five draws, then the crop's
    expect(cropped).toEqual(composeCrop(randomCrop(0.7, r2), plain));
    expect(cropped).not.toEqual(plain);
  });
});
