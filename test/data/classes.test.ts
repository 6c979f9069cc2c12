/**
 * Class sets from the data: any ≥ 2 class folders (or CSV label names), selected and ordered by
 * `classes`, merged by a class map; FER2013's seven keep their order.
 */
import { describe, it, expect } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { planClasses, probabilityMerger, FER2013_CLASSES } from '../../src/data/classes.js';
import { readClassMap } from '../../src/data/class-map.js';
import { loadDataset } from '../../src/data/dataset.js';
import { FIXTURE_DATA } from '../fixture-model.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'fer-classes-'));

/** A folder dataset: `classes` maps each new folder name to the fixture class whose first n images it takes. */
function folderSet(classes: Record<string, string>, n = 4): string {
  const root = tmp();
  for (const [name, src] of Object.entries(classes)) {
    mkdirSync(path.join(root, name));
    const dir = path.join(FIXTURE_DATA, 'val', src);
    for (const f of readdirSync(dir).slice(0, n)) copyFileSync(path.join(dir, f), path.join(root, name, f));
  }
  return root;
}

describe('planClasses', () => {
  it('keeps FER2013 order for its names, sorts other names, selects and orders with classes', () => {
    expect(planClasses(['sad', 'angry']).classes).toEqual([...FER2013_CLASSES]);
    expect(planClasses(['wow', 'calm', 'smile']).classes).toEqual(['calm', 'smile', 'wow']);
    const p = planClasses(['wow', 'calm', 'smile'], { classes: ['wow', 'smile'] });
    expect(p.classes).toEqual(['wow', 'smile']);
    expect([p.indexOf('wow'), p.indexOf('smile'), p.indexOf('calm')]).toEqual([0, 1, -1]);
  });

  it("merges by a class map in the map's order", () => {
    const p = planClasses([...FER2013_CLASSES], {
      map: { negative: ['angry', 'disgust', 'fear', 'sad'], neutral: ['neutral'], positive: ['happy', 'surprise'] },
    });
    expect(p.classes).toEqual(['negative', 'neutral', 'positive']);
    expect(FER2013_CLASSES.map((c) => p.indexOf(c))).toEqual([0, 0, 0, 2, 0, 2, 1]);
  });

  it.each([
    [['a'], {}, /at least 2 classes/],
    [['a', 'b'], { map: { x: ['a'], y: ['a', 'b'] } }, /merged into both "x" and "y"/],
    [['a', 'b'], { map: { x: ['a'], y: ['b'] }, classes: ['x', 'z'] }, /"z" is not a class of the class map/],
    [['a', 'b'], { classes: ['a', 'a'] }, /named twice/],
    [['a', 'b'], { classes: ['a', '<script>'] }, /not a usable class name/],
  ])('refuses %j with %j', (names, spec, msg) => {
    expect(() => planClasses(names, spec)).toThrow(msg);
  });

  it('reads a class-map file and says what is wrong with a bad one', () => {
    const dir = tmp();
    const ok = path.join(dir, 'ok.json'),
      bad = path.join(dir, 'bad.json');
    writeFileSync(ok, JSON.stringify({ pos: ['happy'], neg: ['sad'] }));
    writeFileSync(bad, JSON.stringify({ pos: 'happy' }));
    expect(readClassMap(ok)).toEqual({ pos: ['happy'], neg: ['sad'] });
    expect(() => readClassMap(bad)).toThrow(/expected \{"class"/);
    expect(() => readClassMap(path.join(dir, 'none.json'))).toThrow(/no such file/);
  });

  it('the shipped valence example merges all seven FER2013 classes', () => {
    const map = readClassMap('examples/class-maps/valence.json');
    expect(Object.values(map).flat().sort()).toEqual([...FER2013_CLASSES].sort());
  });
});

describe('datasets with their own classes', () => {
  it('a folder of 3 custom classes: names, labels and counts follow the folders', async () => {
    const root = folderSet({ wow: 'surprise', calm: 'neutral', smile: 'happy' }, 3);
    const ds = await loadDataset(root, { cache: false });
    expect(ds.classes).toEqual(['calm', 'smile', 'wow']);
    expect(ds.counts).toEqual([3, 3, 3]);
    ds.files.forEach((f, i) => expect(path.basename(path.dirname(f))).toBe(ds.classes[ds.labels[i]]));
  });

  it('selects, reorders and merges; the same cache serves every plan', async () => {
    process.env.FER_CACHE_DIR = tmp();
    const root = folderSet({ happy: 'happy', sad: 'sad', angry: 'angry', neutral: 'neutral' }, 2);
    const sel = await loadDataset(root, { classes: { classes: ['sad', 'happy'] } });
    expect(sel.classes).toEqual(['sad', 'happy']);
    expect(sel.counts).toEqual([2, 2]);
    expect(sel.dropped).toBe(4);
    const merged = await loadDataset(root, { classes: { map: { negative: ['angry', 'sad'], positive: ['happy'] } } });
    expect(merged.classes).toEqual(['negative', 'positive']);
    expect(merged.counts).toEqual([4, 2]);
    expect(merged.dropped).toBe(2); // neutral is in no merged class
    merged.files.forEach((f, i) => expect(merged.labels[i]).toBe(path.basename(path.dirname(f)) === 'happy' ? 1 : 0));
    const again = await loadDataset(root, { classes: { map: { negative: ['angry', 'sad'], positive: ['happy'] } } });
    expect(Buffer.from(again.images).equals(Buffer.from(merged.images))).toBe(true);
    expect(readdirSync(process.env.FER_CACHE_DIR!).length).toBeGreaterThan(0);
    delete process.env.FER_CACHE_DIR;
  });

  it('a CSV whose label column holds names', () => {
    const dir = tmp();
    const px = Array.from({ length: 48 * 48 }, (_, i) => i % 256).join(' ');
    const csv = path.join(dir, 'custom.csv');
    writeFileSync(csv, `label,pixels\nbored,${px}\ntense,${px}\nbored,${px}\n3.5,${px}\n`);
    return loadDataset(csv).then((ds) => {
      expect(ds.classes).toEqual(['bored', 'tense']);
      expect(Array.from(ds.labels)).toEqual([0, 1, 0]);
      expect(ds.skipped.map((s) => s.reason)).toEqual([expect.stringMatching(/bad label "3.5"/)]);
      expect(readFileSync(csv, 'utf8')).toContain('bored');
    });
  });
});

describe("probabilityMerger (a model's probabilities summed into merged classes)", () => {
  it('sums the source columns of each merged class, and renormalizes when a class is left out', () => {
    const m = probabilityMerger(['a', 'b', 'c', 'd'], { x: ['c', 'a'], y: ['b'] });
    expect(m.classes).toEqual(['x', 'y']);
    const p = Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.25, 0.25, 0.25, 0.25]);
    // row 1: x = 0.3 + 0.1 = 0.4, y = 0.2, d (0.4) left out → 0.4/0.6, 0.2/0.6
    expect(Array.from(m.merge(p)).map((v) => +v.toFixed(6))).toEqual([0.666667, 0.333333, 0.666667, 0.333333]);
    expect(() => probabilityMerger(['a', 'b'], { x: ['a', 'zz'] })).toThrow(/"zz" .* is not one of the model's classes/);
  });
});
