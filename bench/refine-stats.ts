/**
 * How face-api's tiny detector frames a face relative to the 68 landmarks its net finds in that frame: medians
 * (and quartiles) of the square's side over the landmarks' box's larger edge, and of the centre offsets, over
 * every face the tiny detector finds in the given photos. No annotation is read: this is the detector's own
 * habit, which refineSquare (src/detect/geometry.ts) copies for the landmark net's second look.
 *
 *   npx tsx bench/refine-stats.ts PHOTO_OR_DIR…
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { useBackend } from '../src/engine/backend.js';
import { decodeRgb } from '../src/io/image.js';
import { detectFaces } from '../src/detect/faces.js';
import { landmarkSquare, pointsBox } from '../src/detect/geometry.js';

await useBackend('native');
const files = process.argv.slice(2).flatMap((a) =>
  statSync(a).isDirectory()
    ? readdirSync(a)
        .filter((f) => /\.(jpe?g|png)$/i.test(f))
        .map((f) => path.join(a, f))
    : [a],
);
const side: number[] = [],
  dx: number[] = [],
  dy: number[] = [];
for (const f of files) {
  const image = await decodeRgb(f);
  for (const face of await detectFaces(image, { detector: 'tiny', inputSize: 608 })) {
    const q = landmarkSquare(face.box);
    const b = pointsBox(face.landmarks);
    side.push(q.side / Math.max(b.width, b.height));
    dx.push((q.x + q.side / 2 - (b.x + b.width / 2)) / q.side);
    dy.push((q.y + q.side / 2 - (b.y + b.height / 2)) / q.side);
  }
}
const q = (v: number[], p: number) => [...v].sort((a, b) => a - b)[Math.floor(p * (v.length - 1))];
for (const [name, v] of [
  ['side', side],
  ['dx', dx],
  ['dy', dy],
] as const)
  console.log(`${name}: median ${q(v, 0.5).toFixed(3)} (quartiles ${q(v, 0.25).toFixed(3)}–${q(v, 0.75).toFixed(3)}), ${v.length} faces`);
