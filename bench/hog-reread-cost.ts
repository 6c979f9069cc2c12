/**
 * What re-reading dlib's 68 points on the HOG box of the first reading (detect/hog-box.ts, issue 32 h32n) costs per
 * photo: detectFaces `dlib+tiny` with `hogReread` false (before), true (the default) and 'mirror', interleaved photo by photo in
 * rounds (the order turned every other round); CPU ms per photo of this process (user + system, every thread) and
 * wall ms.
 *
 *   npx tsx bench/hog-reread-cost.ts DIR… [--rounds 3] [--every 1]
 *
 * DIR: folders of photos (e.g. bench/photos.ts's 640×480 crops; AFW's images/ with --every 4).
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { useBackend } from '../src/engine/backend.js';
import { decodeRgb, type RawImage } from '../src/io/image.js';
import { detectFaces } from '../src/detect/faces.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: 'string', default: '3' }, every: { type: 'string', default: '1' } },
});

await useBackend('native');
const items: { set: string; image: RawImage }[] = [];
for (const dir of positionals) {
  const files = readdirSync(dir)
    .filter((n) => /\.(jpe?g|png)$/i.test(n))
    .sort()
    .filter((_, i) => i % Number(values.every) === 0);
  for (const f of files) items.push({ set: dir, image: await decodeRgb(path.join(dir, f)) });
}
const variants = [false, true, 'mirror'] as const;
for (const v of variants) await detectFaces(items[0].image, { detector: 'dlib+tiny', hogReread: v }); // warm-up
const cpu = new Map<string, number[]>(),
  wall = new Map<string, number[]>();
const push = (m: Map<string, number[]>, k: string, v: number) => (m.get(k) ?? m.set(k, []).get(k)!).push(v);
for (let r = 0; r < Number(values.rounds); r++)
  for (const it of items)
    for (const v of r % 2 ? [...variants].reverse() : variants) {
      const key = `${it.set}\t${v === 'mirror' ? 'reread, mean with the mirror' : v ? 'reread (default)' : 'first reading (before)'}`;
      const c = process.cpuUsage(),
        t = performance.now();
      await detectFaces(it.image, { detector: 'dlib+tiny', hogReread: v });
      const d = process.cpuUsage(c);
      push(wall, key, performance.now() - t);
      push(cpu, key, (d.user + d.system) / 1000);
    }
const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
console.log('| photos | points | photos | CPU ms / photo | wall ms / photo |');
console.log('|---|---|---|---|---|');
for (const key of cpu.keys()) {
  const [set, v] = key.split('\t');
  const n = cpu.get(key)!.length / Number(values.rounds);
  console.log(`| ${set} | ${v} | ${n} | ${mean(cpu.get(key)!).toFixed(1)} | ${mean(wall.get(key)!).toFixed(1)} |`);
}
