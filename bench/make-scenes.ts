/**
 * Writes N composed 640×480 JPEG scenes (1–3 FER2013 faces of 60–200 px on a plain background) into a
 * folder, for folder-throughput runs of `fer predict`: npx tsx bench/make-scenes.ts OUT_DIR [N] [FACES_DIR]
 */
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { composeScene, writeJpeg } from '../src/io/image.js';
import { Rng } from '../src/util/rng.js';

const [out = 'scenes', n = '100', facesDir = '../shared/data/fer2013/val'] = process.argv.slice(2);
const files = readdirSync(facesDir).flatMap((c) => readdirSync(path.join(facesDir, c)).map((f) => path.join(facesDir, c, f)));
const rng = new Rng(11);
mkdirSync(out, { recursive: true });
for (let s = 0; s < Number(n); s++) {
  const k = 1 + rng.int(3),
    size = 60 + rng.int(140);
  const items = Array.from({ length: k }, (_, i) => ({
    file: files[rng.int(files.length)],
    left: 10 + i * 210,
    top: 40 + rng.int(440 - size),
    size,
  }));
  await writeJpeg(
    await composeScene(640, 480, items, { r: 90 + rng.int(100), g: 100, b: 120 }),
    path.join(out, `scene-${String(s).padStart(4, '0')}.jpg`),
  );
}
