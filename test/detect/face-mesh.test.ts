/**
 * The face mesh: fer's ONNX graph of it against tfjs's own executor of the vendored graph model; its geometry
 * (framing, crop, points back in the image, the map to 68 points) against hand-computed cases; and the 68
 * points it gives on a committed fixture face against points placed there by hand.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { tf } from '../../src/engine/tf.js';
import { useBackend } from '../../src/engine/backend.js';
import { createSession } from '../../src/runtime/ort.js';
import { decodeRgb } from '../../src/io/image.js';
import { faceMeshOnnx, MESH_INPUT } from '../../src/detect/onnx-mesh.js';
import { readFaceMesh } from '../../src/detect/mesh-files.js';
import { detectFaces, meshPoints } from '../../src/detect/faces.js';
import {
  cropRoi,
  MESH_MIDLINE,
  MESH_MIRROR,
  MESH_STRIDE,
  meshLookInput,
  meshLookResults,
  meshTo68,
  meshToImage,
  meshYaw,
  roiFrom,
  roiFrom468,
  type MeshPoint,
} from '../../src/detect/mesh.js';
import { MESH_MAP } from '../../src/detect/mesh-map.js';
import type { Point } from '../../src/detect/types.js';

describe('the face mesh as ONNX', () => {
  it('gives what tfjs gives running the vendored graph model (mesh points and face score)', async () => {
    await useBackend('cpu');
    const g = readFaceMesh();
    const specs = g.json.weightsManifest.flatMap((m) => m.weights);
    const buf = g.weights.buffer.slice(g.weights.byteOffset, g.weights.byteOffset + g.weights.byteLength) as ArrayBuffer;
    const model = await tf.loadGraphModel(
      tf.io.fromMemory({ modelTopology: g.json.modelTopology, weightSpecs: specs as tf.io.WeightsManifestEntry[], weightData: buf }),
    );
    // two crops: a real face (the fixture, cropped by hand) and a smooth pattern
    const image = await decodeRgb('fixtures/scenes/one-face.jpg');
    const n = MESH_INPUT * MESH_INPUT * 3;
    const x = new Float32Array(2 * n);
    cropRoi(image, { cx: 150, cy: 185, side: 240, angle: 0 }, MESH_INPUT, x, 0);
    for (let i = 0; i < n; i++) x[n + i] = Math.round(128 + 100 * Math.sin(i * 0.0007) * Math.cos(i * 0.013));
    const input = tf.tensor4d(x, [2, MESH_INPUT, MESH_INPUT, 3]).div(255);
    const outs = model.execute(input) as tf.Tensor[];
    const mesh = outs.find((t) => t.shape[1] === 1404)!.dataSync(),
      flag = outs.find((t) => t.shape[1] === 1)!.dataSync();
    tf.dispose([input, ...outs]);
    const s = await createSession(faceMeshOnnx(g), { threads: 1 });
    const got = await s.run(x, [2, MESH_INPUT, MESH_INPUT, 3]);
    await s.release();
    let worst = 0;
    for (let b = 0; b < 2; b++) for (let i = 0; i < 1404; i++) worst = Math.max(worst, Math.abs(got[b * 1405 + i] - mesh[b * 1404 + i]));
    expect(worst).toBeLessThan(1e-2); // crop pixels (of 192)
    expect(got[1404]).toBeCloseTo(flag[0], 4);
    expect(got[2809]).toBeCloseTo(flag[1], 4);
    expect(flag[0]).toBeGreaterThan(0.9); // the face is a face…
    expect(flag[1]).toBeLessThan(0.1); // …and the pattern is not
  });
});

describe('face mesh geometry (hand-computed)', () => {
  it('frames a square from points, turned to level a → b', () => {
    // points of a 40 × 20 box centred at (100, 50), level: side = 1.5 × 40
    const pts: Point[] = [
      { x: 80, y: 40 },
      { x: 120, y: 60 },
    ];
    expect(roiFrom(pts, { x: 0, y: 0 }, { x: 1, y: 0 }, 1.5)).toEqual({ cx: 100, cy: 50, side: 60, angle: 0 });
    // the same two points seen with a → b pointing down the image (90°): in that frame the box is 20 wide, 40 tall
    const r = roiFrom(pts, { x: 0, y: 0 }, { x: 0, y: 1 }, 1.5);
    expect(r.angle).toBeCloseTo(Math.PI / 2, 12);
    expect(r.cx).toBeCloseTo(100, 9);
    expect(r.cy).toBeCloseTo(50, 9);
    expect(r.side).toBeCloseTo(60, 9);
  });

  it('maps crop pixels back through the turned square', () => {
    const raw = new Float32Array(468 * 3);
    raw.set([96, 96, 10, 192, 96, 0, 96, 0, 0]); // the centre, the right edge's middle, the top edge's middle
    const level = meshToImage(raw, { cx: 300, cy: 200, side: 96, angle: 0 });
    expect(level[0]).toEqual({ x: 300, y: 200, z: 5 });
    expect(level[1]).toEqual({ x: 348, y: 200, z: 0 });
    expect(level[2]).toEqual({ x: 300, y: 152, z: 0 });
    const turned = meshToImage(raw, { cx: 300, cy: 200, side: 96, angle: Math.PI / 2 }); // crop's x axis = image's y axis
    expect(turned[1].x).toBeCloseTo(300, 9);
    expect(turned[1].y).toBeCloseTo(248, 9);
    expect(turned[2].x).toBeCloseTo(348, 9);
    expect(turned[2].y).toBeCloseTo(200, 9);
  });

  it('crops the turned square with bilinear samples (black outside)', () => {
    // a 4 × 4 gray ramp: value = 10 x + y, at pixel centres
    const data = new Uint8Array(16);
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) data[y * 4 + x] = 10 * x + y;
    const out = new Float32Array(2 * 2 * 3);
    cropRoi({ data, width: 4, height: 4, channels: 1 }, { cx: 2, cy: 2, side: 2, angle: 0 }, 2, out);
    // the square spans image x, y 1–3 (pixel edges); output pixel (0, 0) samples its centre (1.5, 1.5), the centre
    // of pixel (1, 1): value 11; output (1, 0) samples (2.5, 1.5), pixel (2, 1): 21
    expect(Array.from(out.subarray(0, 3))).toEqual([11, 11, 11]);
    expect(out[3]).toBeCloseTo(21, 9);
    cropRoi({ data, width: 4, height: 4, channels: 1 }, { cx: 2, cy: 2, side: 2, angle: Math.PI / 2 }, 2, out);
    // turned 90°: output (0, 0) → offset (−0.5, −0.5) turned → (+0.5, −0.5) → image point (2.5, 1.5) → pixel (2, 1): 21
    expect(out[0]).toBeCloseTo(21, 9);
    cropRoi({ data, width: 4, height: 4, channels: 1 }, { cx: -10, cy: -10, side: 2, angle: 0 }, 2, out);
    expect(Array.from(out)).toEqual(Array.from({ length: 12 }, () => 0));
  });

  it('maps 468 points to 68 by its weights, the yaw moving them', () => {
    const m: MeshPoint[] = Array.from({ length: 468 }, () => ({ x: 0, y: 0, z: 0 }));
    m[33] = { x: 0, y: 0, z: 0 };
    m[263] = { x: 10, y: 0, z: 0 };
    m[234] = { x: -2, y: 5, z: 5 }; // yaw = (5 − 0) / 10 = 0.5
    m[454] = { x: 12, y: 5, z: 0 };
    m[1] = { x: 4, y: 8, z: 0 };
    m[2] = { x: 8, y: 2, z: 0 };
    expect(meshYaw(m)).toBeCloseTo(0.5, 12);
    const map = [
      { idx: [1, 2], w: [0.25, 0.75], wYaw: [0, 0] },
      { idx: [1, 2], w: [0.5, 0.5], wYaw: [1, -1] }, // at yaw 0.5: 1 × p1 + 0 × p2
    ];
    const [a, b] = meshTo68(m, map);
    expect(a.x).toBeCloseTo(0.25 * 4 + 0.75 * 8, 12);
    expect(a.y).toBeCloseTo(0.25 * 8 + 0.75 * 2, 12);
    expect(b).toEqual({ x: 4, y: 8 });
  });

  it('gives the mesh each square, then with `mirror` the same crop turned left to right', () => {
    // a 192 × 192 gray ramp (value = x), cropped whole at the mesh's size: pixel (u, v) is u, mirrored 191 − u
    const data = new Uint8Array(192 * 192);
    for (let y = 0; y < 192; y++) for (let x = 0; x < 192; x++) data[y * 192 + x] = x;
    const image = { data, width: 192, height: 192, channels: 1 };
    const roi = { cx: 96, cy: 96, side: 192, angle: 0 };
    const plain = meshLookInput(image, [roi]),
      both = meshLookInput(image, [roi, roi], true);
    const n = 192 * 192 * 3;
    expect(plain).toHaveLength(n);
    expect(both).toHaveLength(4 * n);
    for (const [v, u] of [
      [0, 0],
      [5, 17],
      [191, 191],
    ]) {
      const at = (v * 192 + u) * 3;
      expect(plain[at]).toBe(u);
      expect(both[at]).toBe(u); // first square as it is
      expect(both[n + at]).toBe(191 - u); // its mirror image
      expect(both[3 * n + at + 2]).toBe(191 - u); // the second square's mirror image, every channel
    }
  });

  it("pairs the mesh's vertices left to right: an involution fixing the midline, the landmarks' known pairs", () => {
    expect(MESH_MIRROR).toHaveLength(468);
    MESH_MIRROR.forEach((j, i) => expect(MESH_MIRROR[j], `vertex ${i}`).toBe(i));
    expect(MESH_MIRROR.flatMap((j, i) => (i === j ? [i] : []))).toEqual([...MESH_MIDLINE]);
    // MediaPipe's named points: outer and inner eye corners, mouth corners, cheeks at the ears, brows' outer ends
    for (const [a, b] of [
      [33, 263],
      [133, 362],
      [61, 291],
      [234, 454],
      [70, 300],
    ])
      expect(MESH_MIRROR[a], `${a} ↔ ${b}`).toBe(b);
  });

  it("turns a mirrored crop's points back, each vertex taking its counterpart's output", () => {
    const raw = new Float32Array(2 * MESH_STRIDE);
    // plain crop: vertex 33 at (60, 90, 4); mirrored crop: the mesh reports the same eye corner as vertex 263, at
    // x = 192 − 60 = 132, and a face score of 0.5 where the plain crop's is 1
    raw.set([60, 90, 4], 3 * 33);
    raw[MESH_STRIDE - 1] = 1;
    raw.set([132, 90, 4], MESH_STRIDE + 3 * 263);
    raw[2 * MESH_STRIDE - 1] = 0.5;
    const roi = { cx: 300, cy: 200, side: 96, angle: 0 }; // crop pixel = 0.5 image pixels
    const back = meshToImage(raw, roi, MESH_STRIDE, MESH_MIRROR);
    expect(back[33]).toEqual({ x: 300 + (60 - 96) / 2, y: 200 + (90 - 96) / 2, z: 2 });
    const [look] = meshLookResults(raw, [roi], true);
    expect(look.points[33]).toEqual({ x: 282, y: 197, z: 2 }); // both looks agree: their mean is the same point
    expect(look.score).toBeCloseTo(0.75, 12);
    expect(meshLookResults(raw, [roi], false)[0].score).toBe(1);
  });

  it('the shipped map has 68 rows whose weights sum to 1 and yaw weights to 0', () => {
    expect(MESH_MAP).toHaveLength(68);
    for (const r of MESH_MAP) {
      expect(r.w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      expect(r.wYaw.reduce((a, b) => a + b, 0)).toBeCloseTo(0, 4);
      for (const k of r.idx) expect(k).toBeLessThan(468);
    }
  });
});

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

describe('the face mesh on a real face (fixture)', () => {
  // placed by hand on fixtures/scenes/one-face.jpg (a FER2013 face, 48 px upscaled to 180, pasted at (60, 100)) on
  // 4–6× enlargements with a 5-px grid: the outer and inner eye corners (36, 39, 42, 45) and the mouth corners
  // (48, 54), image pixels, ±4 px (the corners are blurred; the nose tip could not be placed to ±8 px)
  const hand: Record<number, Point> = {
    36: { x: 101, y: 157.5 },
    39: { x: 130, y: 160 },
    42: { x: 181, y: 155 },
    45: { x: 213, y: 151 },
    48: { x: 132, y: 225 },
    54: { x: 202, y: 224 },
  };
  let mesh: Point[];
  beforeAll(async () => {
    await useBackend('auto');
    const image = await decodeRgb('fixtures/scenes/one-face.jpg');
    const [face] = await detectFaces(image, { detector: 'tiny', landmarks: 'mesh' });
    mesh = face.landmarks;
  });

  it("gives, on the mirrored crop turned back, the plain crop's points (MESH_MIRROR matches the mesh's own pairs)", async () => {
    const image = await decodeRgb('fixtures/scenes/one-face.jpg');
    const [m] = await meshPoints(image, await detectFaces(image, { detector: 'tiny' }), { mirror: false });
    const roi = roiFrom468(m.points);
    const s = await createSession(faceMeshOnnx(readFaceMesh()), { threads: 1 });
    const raw = await s.run(meshLookInput(image, [roi], true), [2, MESH_INPUT, MESH_INPUT, 3]);
    await s.release();
    const plain = meshToImage(raw, roi, 0),
      back = meshToImage(raw, roi, MESH_STRIDE, MESH_MIRROR),
      unpaired = meshToImage(
        raw,
        roi,
        MESH_STRIDE,
        Array.from({ length: 468 }, (_, i) => i),
      );
    const eyes = Math.hypot(plain[33].x - plain[263].x, plain[33].y - plain[263].y);
    const gap = (q: MeshPoint[]) => q.map((p, i) => Math.hypot(p.x - plain[i].x, p.y - plain[i].y) / eyes);
    // measured: mean 1.5%, largest 3.2% of the eye distance; without the pairing (vertex k for vertex k) 60%
    expect(mean(gap(back))).toBeLessThan(0.03);
    expect(Math.max(...gap(back))).toBeLessThan(0.06);
    expect(mean(gap(unpaired))).toBeGreaterThan(0.3);
  });

  it('lands each hand-placed point within 10% of the eye distance (a swapped or mirrored point is ~100% off)', () => {
    const eyes = Math.hypot(hand[36].x - hand[45].x, hand[36].y - hand[45].y);
    for (const [i, p] of Object.entries(hand)) {
      const e = Math.hypot(mesh[Number(i)].x - p.x, mesh[Number(i)].y - p.y) / eyes;
      expect(e, `point ${i}: (${mesh[Number(i)].x.toFixed(1)}, ${mesh[Number(i)].y.toFixed(1)})`).toBeLessThan(0.1);
    }
  });
});
