/**
 * Checks MESH_MIRROR (src/detect/mesh.ts), the face mesh's left-right correspondence, against the mesh's own
 * output: each face the default detector finds in the photos is looked at by the mesh twice, on its square and on
 * the square's mirror image; vertex k of the mirrored look (x turned back, labels as the mesh gave them) should
 * fall, on average over the faces, nearest to vertex MESH_MIRROR[k] of the plain look. No annotation is read.
 *
 *   npx tsx bench/mesh-mirror.ts [--photos ../shared/data/faces-landmarks/images] [--limit 0]
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { useBackend } from '../src/engine/backend.js';
import { decodeRgb } from '../src/io/image.js';
import { createSession } from '../src/runtime/ort.js';
import { detectFaces, meshPoints } from '../src/detect/faces.js';
import { faceMeshOnnx, MESH_INPUT } from '../src/detect/onnx-mesh.js';
import { readFaceMesh } from '../src/detect/mesh-files.js';
import { MESH_MIRROR, MESH_STRIDE, meshLookInput, meshToImage, roiFrom468 } from '../src/detect/mesh.js';

const { values } = parseArgs({
  options: {
    photos: { type: 'string', default: '../shared/data/faces-landmarks/images' },
    limit: { type: 'string', default: '0' },
  },
});

await useBackend('native');
const session = await createSession(faceMeshOnnx(readFaceMesh()), { threads: 1 });
const identity = Array.from({ length: 468 }, (_, i) => i);
// faces-landmarks holds a photo once per annotated face (X_1.jpg, X_2.jpg): each photo once
const stem = (f: string) => f.replace(/_\d+\.\w+$/, '');
let files = readdirSync(values.photos!)
  .filter((f) => /\.(jpe?g|png)$/i.test(f))
  .filter((f, i, all) => all.findIndex((g) => stem(g) === stem(f)) === i);
if (Number(values.limit) > 0) files = files.slice(0, Number(values.limit));
const cost = new Float64Array(468 * 468); // mean distance (over the eye distance) of mirrored vertex k to plain vertex j
let faces = 0;
for (const f of files) {
  const image = await decodeRgb(path.join(values.photos!, f));
  const found = await detectFaces(image, { detector: 'ssd' });
  // the default's second look, framed as it is framed
  const rois = (await meshPoints(image, found, { mirror: false })).map((m) => roiFrom468(m.points));
  if (!rois.length) continue;
  const raw = await session.run(meshLookInput(image, rois, true), [2 * rois.length, MESH_INPUT, MESH_INPUT, 3]);
  rois.forEach((r, i) => {
    const plain = meshToImage(raw, r, 2 * i * MESH_STRIDE),
      mirrored = meshToImage(raw, r, (2 * i + 1) * MESH_STRIDE, identity);
    const d = Math.hypot(plain[33].x - plain[263].x, plain[33].y - plain[263].y);
    for (let k = 0; k < 468; k++)
      for (let j = 0; j < 468; j++) cost[k * 468 + j] += Math.hypot(mirrored[k].x - plain[j].x, mirrored[k].y - plain[j].y) / d;
    faces++;
  });
}
await session.release();
let agree = 0,
  worst = 0;
for (let k = 0; k < 468; k++) {
  let best = 0;
  for (let j = 1; j < 468; j++) if (cost[k * 468 + j] < cost[k * 468 + best]) best = j;
  if (best === MESH_MIRROR[k]) agree++;
  worst = Math.max(worst, cost[k * 468 + MESH_MIRROR[k]] / faces);
}
console.log(
  `${faces} faces in ${files.length} photos: MESH_MIRROR[k] is the nearest plain vertex to mirrored vertex k for ${agree} of 468 ` +
    `(largest mean distance to it: ${(100 * worst).toFixed(1)}% of the eye distance)`,
);
