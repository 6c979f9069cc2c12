/**
 * `fer predict` on a folder of real 640×480 photos, as a user runs it: images per second of the whole CLI
 * (decode, faces, landmarks, emotions, printing; --concurrency at its default), the start-up time subtracted
 * (a run on one photo), for each detector, interleaved over `--rounds`.
 *
 * The photos: 640×480 windows around the annotated face of AFW photos at least that large
 * (../shared/data/faces-landmarks), so each holds one face or more.
 *
 *   npx tsx bench/photos.ts [--photos ../shared/data/faces-landmarks] [--count 40] [--rounds 2] [--detectors auto,tiny,ssd]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
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
  },
});

const ann = JSON.parse(readFileSync(path.join(values.photos!, 'annotations.json'), 'utf8')) as {
  file: string;
  width: number;
  height: number;
  faces: { box: number[] }[];
}[];
const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-photos-'));
const one = path.join(dir, 'one');
mkdirSync(one);
let n = 0;
for (const a of ann.filter((x) => x.width >= 640 && x.height >= 480)) {
  if (n >= Number(values.count)) break;
  const [x, y, w, h] = a.faces[0].box;
  const left = Math.round(Math.min(a.width - 640, Math.max(0, x + w / 2 - 320))),
    top = Math.round(Math.min(a.height - 480, Math.max(0, y + h / 2 - 240)));
  const out = path.join(dir, `${String(n).padStart(3, '0')}.jpg`);
  await sharp(path.join(values.photos!, a.file)).extract({ left, top, width: 640, height: 480 }).jpeg({ quality: 90 }).toFile(out);
  if (n === 0) await sharp(out).toFile(path.join(one, 'one.jpg'));
  n++;
}

const bin = path.resolve('bin/fer');
const run = (detector: string, input: string) => {
  const t = performance.now();
  const r = spawnSync(process.execPath, [bin, 'predict', input, '--json', '--detector', detector], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`fer predict --detector ${detector}: exit ${r.status}: ${r.stderr.split('\n')[0]}`);
  const faces = r.stdout
    .trim()
    .split('\n')
    .reduce((a, l) => a + (JSON.parse(l) as { faces: unknown[] }).faces.length, 0);
  return { s: (performance.now() - t) / 1000, faces };
};

const detectors = values.detectors!.split(',');
const rates = new Map<string, number[]>(detectors.map((d) => [d, []]));
const found = new Map<string, number>();
for (let r = 0; r < Number(values.rounds); r++)
  for (const d of detectors) {
    const start = run(d, one).s;
    const all = run(d, dir);
    rates.get(d)!.push(n / (all.s - start));
    found.set(d, all.faces);
  }
console.log(`${n} photos of 640×480 (${os.cpus().length} cores, ${os.cpus()[0].model})`);
console.log('| --detector | faces found | images/s (each round) |\n|---|---|---|');
for (const d of detectors)
  console.log(
    `| ${d} | ${found.get(d)} | ${rates
      .get(d)!
      .map((v) => v.toFixed(1))
      .join(', ')} |`,
  );
