/**
 * Where the landmark net looks: a box's square is centred on it (a tall box, as SSD draws, no longer shifts
 * the 68 points), and the second look is framed from the first landmarks. Geometry against hand-computed
 * values; the net's points on a real face against its points on the detector's own box.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { useBackend } from '../../src/engine/backend.js';
import { decodeRgb, type RawImage } from '../../src/io/image.js';
import { detectFaces, landmarks68 } from '../../src/detect/faces.js';
import { landmarkSquare, NET_FRAMING, refineSquare, withLandmarks } from '../../src/detect/geometry.js';
import type { Box, Point } from '../../src/detect/types.js';

describe('landmark squares (hand-computed)', () => {
  const tall: Box = { x: 10, y: 20, width: 100, height: 140 };

  it('a tall box: the square is as wide as its height and centred on it', () => {
    expect(landmarkSquare(tall)).toEqual({ x: -10, y: 20, side: 140 });
    expect(landmarkSquare({ x: 5, y: 7, width: 60, height: 40 })).toEqual({ x: 5, y: -3, side: 60 });
  });

  it("the net's centre point lands on the box's centre", () => {
    const rel = new Float32Array(136).fill(0.5);
    const [face] = withLandmarks([{ box: tall, score: 1 }], rel);
    for (const p of face.landmarks) expect(p).toEqual({ x: 60, y: 90 });
  });

  it('the refined square is NET_FRAMING times the landmarks’ larger extent, centred on them', () => {
    const pts: Point[] = Array.from({ length: 68 }, (_, i) => ({ x: 100 + (i % 2) * 40, y: 50 + (i % 3) * 30 }));
    const q = refineSquare(pts); // box x 100–140, y 50–110: larger edge 60, centre (120, 80)
    expect(q.side).toBeCloseTo(60 * NET_FRAMING, 9);
    expect(q.x + q.side / 2).toBeCloseTo(120, 9);
    expect(q.y + q.side / 2).toBeCloseTo(80, 9);
  });
});

describe('the 68-point net on a tall box (a real face)', () => {
  let image: RawImage;
  let box: Box;
  let reference: Point[];
  beforeAll(async () => {
    await useBackend('auto');
    image = await decodeRgb('fixtures/scenes/one-face.jpg');
    const [face] = await detectFaces(image, { detector: 'tiny', landmarks: 'net' });
    box = face.box;
    reference = face.landmarks;
  });

  const error = (pts: Point[]) => {
    const eyes = Math.hypot(reference[36].x - reference[45].x, reference[36].y - reference[45].y);
    return pts.reduce((a, p, i) => a + Math.hypot(p.x - reference[i].x, p.y - reference[i].y), 0) / 68 / eyes;
  };

  it('finds the same points when the box is 1.45× taller about the same centre; the corner square does not', async () => {
    const h = box.height * 1.45;
    const tall = { ...box, y: box.y + (box.height - h) / 2, height: h };
    const [centred] = await landmarks68(image, [{ box: tall, score: 1 }]);
    const [corner] = await landmarks68(image, [{ box: tall, score: 1 }], [{ x: tall.x, y: tall.y, side: h }]);
    expect(error(centred.landmarks)).toBeLessThan(0.06);
    expect(error(corner.landmarks)).toBeGreaterThan(2 * error(centred.landmarks));
  });

  it('the second look, from the first landmarks, stays on the face', async () => {
    const [again] = await landmarks68(image, [{ box, score: 1 }], [refineSquare(reference)]);
    expect(error(again.landmarks)).toBeLessThan(0.06);
  });
});
