/**
 * CPU time per face of each landmark model's stages in onnxruntime (1 thread, as detect/faces.ts runs them):
 * face-api's 68-point net (one look, 112×112) and the face mesh (one look, 192×192, crop included), interleaved
 * A B A B over `--rounds` rounds on the faces of a fixture photo; then the two pipelines as detectFaces runs
 * them per face: face-api's two looks (`net`) and one look + two mesh looks (`mesh`, the default: its second look
 * also at the square's mirror image), and `mesh` with the second look not mirrored (the default before).
 *   npx tsx bench/landmark-speed.ts [--image fixtures/scenes/two-faces.jpg] [--rounds 5] [--reps 20]
 */
import { parseArgs } from 'node:util';
import { useBackend } from '../src/engine/backend.js';
import { decodeRgb } from '../src/io/image.js';
import { detectFaces, findLandmarks, landmarks68, meshLooks, meshPoints } from '../src/detect/faces.js';
import { roiFrom68 } from '../src/detect/mesh.js';

const { values } = parseArgs({
  options: {
    image: { type: 'string', default: 'fixtures/scenes/two-faces.jpg' },
    rounds: { type: 'string', default: '5' },
    reps: { type: 'string', default: '20' },
  },
});
await useBackend('native');
const image = await decodeRgb(values.image!);
const faces = (await detectFaces(image, { detector: 'tiny', landmarks: 'net' })).map(({ box, score }) => ({ box, score }));
const rois = (await landmarks68(image, faces)).map((f) => roiFrom68(f.landmarks));
const reps = Number(values.reps);
const cpuMsPerFace = async (f: () => Promise<unknown>) => {
  await f();
  const t = process.cpuUsage();
  for (let i = 0; i < reps; i++) await f();
  const u = process.cpuUsage(t);
  return (u.user + u.system) / 1000 / reps / faces.length;
};
const stages: [string, () => Promise<unknown>][] = [
  ["face-api's net, one look", () => landmarks68(image, faces)],
  ['face mesh, one look (crop + net)', () => meshLooks(image, rois)],
  ['face mesh, one look at the square and its mirror image', () => meshLooks(image, rois, true)],
  ["pipeline 'net' (two net looks)", () => findLandmarks(image, faces, 'net')],
  ["pipeline 'mesh' (one net look, two mesh looks, the second mirrored too)", () => findLandmarks(image, faces, 'mesh')],
  ["pipeline 'mesh', the second look not mirrored", () => meshPoints(image, faces, { mirror: false })],
];
const results = stages.map(() => [] as number[]);
for (let r = 0; r < Number(values.rounds); r++) for (const [i, [, f]] of stages.entries()) results[i].push(await cpuMsPerFace(f));
console.log(`${faces.length} faces in ${values.image}; CPU ms per face (rounds)`);
console.log('| stage | CPU ms per face, each round | median |');
console.log('|---|---|---|');
for (const [i, [name]] of stages.entries()) {
  const s = [...results[i]].sort((a, b) => a - b);
  console.log(`| ${name} | ${results[i].map((v) => v.toFixed(1)).join(', ')} | ${s[Math.floor(s.length / 2)].toFixed(1)} |`);
}
