/** Writes a 640×480 test scene with fixture faces pasted at known boxes: bench/make-scene.ts OUT.jpg [N faces] */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { composeScene, writeJpeg } from '../src/io/image.js';

export function sceneItems(n: number, size = 180) {
  const dir = path.resolve('fixtures/fer-mini/val/happy');
  // The first two are faces whose FER2013 crop is mostly face (see test/predict/predict.test.ts).
  const good = ['PublicTest_10130075.jpg', 'PublicTest_10248771.jpg'];
  const files = [
    ...good,
    ...readdirSync(dir)
      .sort()
      .filter((f) => !good.includes(f)),
  ];
  const spots = [
    [60, 100],
    [380, 200],
    [240, 20],
    [420, 10],
    [20, 300],
  ];
  return Array.from({ length: n }, (_, i) => ({
    file: path.join(dir, files[i]),
    left: spots[i][0],
    top: spots[i][1],
    size: n > 2 ? 140 : size,
  }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[3] ?? 2);
  await writeJpeg(await composeScene(640, 480, sceneItems(n)), process.argv[2] ?? 'scene.jpg');
}
