/**
 * What `dlib+tiny`'s second look (detect/small-faces.ts SECOND_LOOK) costs per photo: detectFaces with
 * `secondLook` false (the cascade before it), 'tiny' (backed by tiny's boxes only), 'always' (tiny's and SSD's, SSD
 * on every photo: the default before h32s) and true (SSD only where it can change the result: the default),
 * interleaved photo by photo, in rounds; CPU ms per photo of this process (user + system, every thread:
 * dlib's workers and onnxruntime's) and wall ms, less sensitive to a shared machine's load than one pass after the
 * other (bench/detect.ts times its passes in turn).
 *
 *   npx tsx bench/second-look-cost.ts [--landmarks ../shared/data/faces-landmarks] [--real ../shared/data/faces-real]
 *     [--face-free DIR] [--photos DIR] [--every 4] [--rounds 3]
 *
 * `--photos DIR`: a folder of photos, every one taken (e.g. bench/photos.ts's 640×480 crops).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { useBackend } from '../src/engine/backend.js';
import { decodeRgb, type RawImage } from '../src/io/image.js';
import { detectFaces } from '../src/detect/faces.js';

const { values } = parseArgs({
  options: {
    landmarks: { type: 'string', default: '../shared/data/faces-landmarks' },
    real: { type: 'string', default: '../shared/data/faces-real' },
    'face-free': { type: 'string', default: '' },
    photos: { type: 'string', default: '' },
    every: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
  },
});

async function photos(): Promise<{ set: string; image: RawImage }[]> {
  const out: { set: string; image: RawImage }[] = [];
  for (const [set, dir, every] of [
    ['faces-real', values.real!, 1],
    ['faces-landmarks', values.landmarks!, Number(values.every)],
  ] as const) {
    if (!existsSync(path.join(dir, 'annotations.json'))) continue;
    const ann = JSON.parse(readFileSync(path.join(dir, 'annotations.json'), 'utf8')) as { file: string }[];
    for (const a of ann.filter((_, i) => i % every === 0)) {
      const file = existsSync(path.join(dir, a.file)) ? path.join(dir, a.file) : path.join(dir, 'images', a.file);
      out.push({ set, image: await decodeRgb(file) });
    }
  }
  for (const [set, dir] of [
    ['face-free', values['face-free']!],
    ['photos', values.photos!],
  ])
    if (dir && existsSync(dir))
      for (const f of readdirSync(dir).filter((n) => /\.(jpe?g|png)$/i.test(n))) {
        const image = await decodeRgb(path.join(dir, f)).catch(() => null);
        if (image && image.width >= 64 && image.height >= 64) out.push({ set, image });
      }
  return out;
}

await useBackend('native');
const items = await photos();
const variants = [false, 'tiny', 'always', true] as const;
const names = { false: 'off', tiny: 'tiny only', always: 'tiny + SSD on every photo (before)', true: 'tiny + SSD where needed (default)' };
const name = (v: (typeof variants)[number]) => names[String(v) as keyof typeof names];
for (const v of variants) await detectFaces(items[0].image, { detector: 'dlib+tiny', secondLook: v }); // warm-up
const cpu = new Map<string, number[]>(),
  wall = new Map<string, number[]>();
for (let r = 0; r < Number(values.rounds); r++)
  for (const it of items)
    for (const v of r % 2 ? [...variants].reverse() : variants) {
      const key = `${it.set}\t${name(v)}`;
      const c = process.cpuUsage(),
        t = performance.now();
      await detectFaces(it.image, { detector: 'dlib+tiny', secondLook: v });
      const d = process.cpuUsage(c);
      (wall.get(key) ?? wall.set(key, []).get(key)!).push(performance.now() - t);
      (cpu.get(key) ?? cpu.set(key, []).get(key)!).push((d.user + d.system) / 1000);
    }
console.log('| set | second look | photos | CPU ms / photo | wall ms / photo |');
console.log('|---|---|---|---|---|');
const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
for (const key of cpu.keys()) {
  const [set, v] = key.split('\t');
  console.log(
    `| ${set} | ${v} | ${cpu.get(key)!.length / Number(values.rounds)} | ${mean(cpu.get(key)!).toFixed(1)} | ${mean(wall.get(key)!).toFixed(1)} |`,
  );
}
