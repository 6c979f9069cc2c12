/**
 * `fer predict` on a folder of real 640×480 photos, as a user runs it: images per second of the whole CLI
 * (decode, faces, landmarks, emotions, printing; --concurrency at its default), the start-up time subtracted
 * (a run on one photo), for each detector, interleaved over `--rounds`.
 *
 * The photos: 640×480 windows around the annotated face of AFW photos at least that large
 * (../shared/data/faces-landmarks), so each holds one face or more. `--one-face`: only windows in which `fer predict`
 * (the first build, `--detector auto`) finds exactly one face, as issue 32's "640×480 with one face" asks (AFW
 * annotates one face a photo, so the others can only be counted by a detector).
 *
 * `--bins before=/tmp/old/bin/fer,after=bin/fer` compares checkouts: every round runs each of them for each
 * detector in turn (A B A B), so the machine's load hits them alike.
 *
 *   npx tsx bench/photos.ts [--photos ../shared/data/faces-landmarks] [--count 40] [--rounds 2] [--detectors auto,tiny,ssd]
 *     [--bins label=path,…] [--one-face] [--keep DIR]
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';

const { values } = parseArgs({
  options: {
    photos: { type: 'string', default: '../shared/data/faces-landmarks' },
    count: { type: 'string', default: '40' },
    rounds: { type: 'string', default: '2' },
    detectors: { type: 'string', default: 'auto,tiny,ssd' },
    bins: { type: 'string', default: `this=${path.resolve('bin/fer')}` },
    'one-face': { type: 'boolean', default: false },
    keep: { type: 'string' },
  },
});

const ann = JSON.parse(readFileSync(path.join(values.photos!, 'annotations.json'), 'utf8')) as {
  file: string;
  width: number;
  height: number;
  faces: { box: number[] }[];
}[];
const dir = values.keep ? path.resolve(values.keep) : mkdtempSync(path.join(os.tmpdir(), 'fer-photos-'));
const one = path.join(dir, 'one'),
  pool = path.join(dir, 'pool');
mkdirSync(one, { recursive: true });
mkdirSync(pool, { recursive: true });
// Candidate windows (every large photo with --one-face, else just enough), named in the photos' order.
const want = Number(values.count);
const candidates: string[] = [];
for (const a of ann.filter((x) => x.width >= 640 && x.height >= 480)) {
  if (!values['one-face'] && candidates.length >= want) break;
  const [x, y, w, h] = a.faces[0].box;
  const left = Math.round(Math.min(a.width - 640, Math.max(0, x + w / 2 - 320))),
    top = Math.round(Math.min(a.height - 480, Math.max(0, y + h / 2 - 240)));
  const out = path.join(pool, `${String(candidates.length).padStart(3, '0')}.jpg`);
  await sharp(path.join(values.photos!, a.file)).extract({ left, top, width: 640, height: 480 }).jpeg({ quality: 90 }).toFile(out);
  candidates.push(out);
}
const bins = values.bins!.split(',').map((b) => {
  const [label, file] = b.includes('=') ? b.split('=') : [b, b];
  return { label, file: path.resolve(file) };
});
const run = (bin: string, detector: string, input: string) => {
  const t = performance.now();
  const r = spawnSync(process.execPath, [bin, 'predict', input, '--json', '--detector', detector], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0) throw new Error(`${bin} predict --detector ${detector}: exit ${r.status}: ${r.stderr.split('\n')[0]}`);
  const faces = r.stdout
    .trim()
    .split('\n')
    .reduce((a, l) => a + (JSON.parse(l) as { faces: unknown[] }).faces.length, 0);
  return { s: (performance.now() - t) / 1000, faces, out: r.stdout };
};

let chosen = candidates.slice(0, want);
if (values['one-face']) {
  // the first build's faces in each candidate window
  const count = new Map(
    run(bins[0].file, 'auto', pool)
      .out.trim()
      .split('\n')
      .map((l) => {
        const r = JSON.parse(l) as { input: string; faces: unknown[] };
        return [path.resolve(r.input), r.faces.length] as const;
      }),
  );
  chosen = candidates.filter((f) => count.get(f) === 1).slice(0, want);
}
let n = 0;
for (const f of chosen) {
  const out = path.join(dir, `${String(n).padStart(3, '0')}.jpg`);
  copyFileSync(f, out);
  if (n === 0) copyFileSync(f, path.join(one, 'one.jpg'));
  n++;
}
rmSync(pool, { recursive: true });

const detectors = values.detectors!.split(',');
const rows = detectors.flatMap((d) => bins.map((b) => ({ d, b, key: `${d} ${b.label}` })));
const rates = new Map<string, number[]>(rows.map((x) => [x.key, []]));
const found = new Map<string, number>();
const outputs = new Map<string, unknown[]>();
/** Equal, except dlib's scores within 1e-5 (its AVX2 build adds its float sums in another order). */
const same = (a: unknown, b: unknown, key = ''): boolean =>
  typeof a === 'number' && typeof b === 'number'
    ? key === 'score'
      ? Math.abs(a - b) <= 1e-5
      : Object.is(a, b)
    : a && b && typeof a === 'object' && typeof b === 'object'
      ? Object.keys(a).length === Object.keys(b).length &&
        Object.entries(a).every(([k, v]) => same(v, (b as Record<string, unknown>)[k], k))
      : a === b;
for (let r = 0; r < Number(values.rounds); r++)
  for (const { d, b, key } of rows) {
    const start = run(b.file, d, one).s;
    const all = run(b.file, d, dir);
    rates.get(key)!.push(n / (all.s - start));
    found.set(key, all.faces);
    // Faces only (the timings differ from run to run).
    outputs.set(
      key,
      all.out
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { faces: unknown }).faces),
    );
  }
console.log(
  `${n} photos of 640×480${values['one-face'] ? ', one face each' : ''} (${os.cpus().length} cores, ${os.cpus()[0].model}), load average ${os.loadavg()[0].toFixed(1)} at the end`,
);
console.log('| --detector | build | faces found | images/s (each round) | same faces as the first build |\n|---|---|---|---|---|');
for (const { d, b, key } of rows)
  console.log(
    `| ${d} | ${b.label} | ${found.get(key)} | ${rates
      .get(key)!
      .map((v) => v.toFixed(1))
      .join(', ')} | ${same(outputs.get(key), outputs.get(`${d} ${bins[0].label}`)) ? 'yes' : 'no'} |`,
  );
