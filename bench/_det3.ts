import { composeScene } from '../src/io/image.js';
import { useBackend } from '../src/engine/backend.js';
import { detectFaces } from '../src/detect/faces.js';
import { tf } from '../src/engine/tf.js';
await useBackend((process.argv[2] ?? 'native') as 'native');
const img = await composeScene(640, 480, [{ file: 'fixtures/fer-mini/val/happy/' + (await import('node:fs')).readdirSync('fixtures/fer-mini/val/happy')[0], left: 100, top: 60, size: 200 }]);
await detectFaces(img, { detector: 'ssd' });
const t = { detectMs: 0, landmarksMs: 0 };
const info = await tf.profile(async () => { await detectFaces(img, { detector: 'ssd' }, t); return tf.scalar(0); });
const agg = new Map<string, [number, number]>();
for (const k of info.kernels) { const a = agg.get(k.name) ?? [0, 0]; a[0] += k.kernelTimeMs as number; a[1]++; agg.set(k.name, a); }
console.log(t, 'kernels', info.kernels.length);
for (const [n, [ms, c]] of [...agg.entries()].sort((a, b) => b[1][0] - a[1][0]).slice(0, 12)) console.log(n.padEnd(36), ms.toFixed(1).padStart(8), c);
