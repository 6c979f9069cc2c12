/** Where dlib+tiny upsamples (detect/small-faces.ts): hand-placed boxes, regions derived by hand. */
import { describe, it, expect } from 'vitest';
import {
  backedFaces,
  mergeRegions,
  needsSsd,
  overlapOfSmaller,
  proposalInputSize,
  SMALL_FACES,
  smallFaceRegions,
} from '../../src/detect/small-faces.js';
import type { Box } from '../../src/detect/types.js';

const box = (x: number, y: number, width: number, height = width): Box => ({ x, y, width, height });
const image = { width: 640, height: 480 };

describe('mergeRegions', () => {
  it('replaces overlapping rectangles by their bounding rectangle, also when a merge makes a new overlap', () => {
    // a and b overlap; their union then overlaps c (which overlaps neither alone); d stays apart
    const a = box(0, 0, 10),
      b = box(5, 5, 10),
      c = box(14, 0, 4, 3),
      d = box(100, 100, 5);
    expect(mergeRegions([a, b, c, d])).toEqual([box(0, 0, 18, 15), d]);
  });

  it('keeps touching but not overlapping rectangles apart', () => {
    expect(mergeRegions([box(0, 0, 10), box(10, 0, 10)])).toHaveLength(2);
  });
});

describe('smallFaceRegions', () => {
  it('scans a square of context × the side around a small box, at least minSide, inside the image', () => {
    // 60 px box centred at (330, 230): a 150 px square around it
    expect(smallFaceRegions([{ box: box(300, 200, 60), score: 0.3 }], [], image)).toEqual([box(255, 155, 150)]);
    // 20 px box in the corner: a minSide square, pushed inside
    expect(smallFaceRegions([{ box: box(0, 470, 20, 10), score: 0.3 }], [], image)).toEqual([
      box(0, 480 - SMALL_FACES.minSide, SMALL_FACES.minSide),
    ]);
  });

  it('ignores boxes under the proposal score, larger than maxSide, or on a face already found', () => {
    const small = box(300, 200, 60);
    expect(smallFaceRegions([{ box: small, score: SMALL_FACES.proposal / 2 }], [], image)).toEqual([]);
    expect(smallFaceRegions([{ box: box(300, 200, SMALL_FACES.maxSide + 1), score: 0.9 }], [], image)).toEqual([]);
    expect(smallFaceRegions([{ box: small, score: 0.9 }], [box(305, 205, 55)], image)).toEqual([]);
    // a found face elsewhere does not hide it
    expect(smallFaceRegions([{ box: small, score: 0.9 }], [box(0, 0, 100)], image)).toHaveLength(1);
  });

  it('merges the squares of neighbouring boxes', () => {
    const r = smallFaceRegions(
      [
        { box: box(100, 100, 40), score: 0.5 },
        { box: box(150, 100, 40), score: 0.5 },
      ],
      [],
      image,
    );
    // squares of 100 px (2.5 × 40) centred at x 120 and 170: one rectangle from 70 to 220
    expect(r).toEqual([box(70, 70, 150, 100)]);
  });

  it('asks for the whole image where the squares would cover more than wholeImage of it', () => {
    const grid = Array.from({ length: 12 }, (_, i) => ({ box: box(40 + (i % 4) * 150, 40 + Math.floor(i / 4) * 150, 60), score: 0.5 }));
    expect(smallFaceRegions(grid, [], image)).toBeNull();
    // the same on a 4× larger image covers under half of it
    expect(smallFaceRegions(grid, [], { width: 1280, height: 960 })).not.toBeNull();
  });
});

describe('proposalInputSize', () => {
  it("is the tiny detector's own input up to 640 px photos, 0.65 of the longer side (a multiple of 32) above", () => {
    expect(proposalInputSize({ width: 640, height: 480 })).toBe(416);
    expect(proposalInputSize({ width: 500, height: 375 })).toBe(416);
    expect(proposalInputSize({ width: 768, height: 1024 })).toBe(672); // 665.6 → 21 × 32
    expect(proposalInputSize({ width: 640, height: 480 }, 608)).toBe(608);
  });
});

describe('overlapOfSmaller', () => {
  it('is the common area over the smaller box, by hand', () => {
    // 10×10 at the origin and 20×20 from (5, 5): 5×5 = 25 in common, of the smaller's 100
    expect(overlapOfSmaller(box(0, 0, 10), box(5, 5, 20))).toBeCloseTo(0.25, 12);
    expect(overlapOfSmaller(box(5, 5, 20), box(0, 0, 10))).toBeCloseTo(0.25, 12);
    expect(overlapOfSmaller(box(0, 0, 100), box(30, 40, 20, 10))).toBe(1); // inside
    expect(overlapOfSmaller(box(0, 0, 10), box(10, 0, 10))).toBe(0); // touching
  });
});

describe('backedFaces', () => {
  const weak = (x: number, y: number, side: number, score: number) => ({ box: box(x, y, side), score });
  it('keeps a weak face another detector sees (IoU ≥ 0.3), not one no detector sees', () => {
    const a = weak(100, 100, 50, -0.1),
      b = weak(300, 100, 50, -0.2);
    // support 60×60 at (100, 100): IoU with a = 2500 / 3600 = 0.69; nothing near b
    expect(backedFaces([a, b], [box(100, 100, 60)], [])).toEqual([a]);
    // a support box of IoU 0.25 (50×50 inside a 100×100 box) does not back it
    expect(backedFaces([a], [box(75, 75, 100)], [])).toEqual([]);
  });

  it('drops a weak face on a face kept (IoU ≥ 0.3, or half of the smaller box) and takes overlapping ones once, best first', () => {
    const around = weak(0, 0, 105, -0.28); // a loose box around two faces already found
    const kept = [box(10, 20, 40), box(60, 60, 44)]; // IoU with it 0.15 and 0.18; each inside it
    expect(backedFaces([around], [box(0, 0, 100)], kept)).toEqual([]);
    const lo = weak(200, 200, 50, -0.3),
      hi = weak(205, 205, 50, -0.1);
    expect(backedFaces([lo, hi], [box(200, 200, 50)], [])).toEqual([hi]);
  });
});

describe('needsSsd', () => {
  const face = (x: number, y: number, side: number, score: number) => ({ box: box(x, y, side), score });
  const weak = face(100, 100, 50, -0.2);
  it('runs SSD for a weak face no tiny box backs (IoU ≥ 0.3) and no sure face overlaps', () => {
    expect(needsSsd([weak], [], [], 0)).toBe(true);
    // tiny's 100×100 box around it: IoU 2500 / 10000 = 0.25, too little to back it
    expect(needsSsd([weak], [box(75, 75, 100)], [], 0)).toBe(true);
    // a sure face elsewhere does not explain it
    expect(needsSsd([weak], [], [face(300, 100, 80, 1)], 0)).toBe(true);
  });

  it('skips SSD where tiny backs every weak face or a sure face covers it, and where there is no weak face', () => {
    // tiny's 60×60 box: IoU 2500 / 3600 = 0.69
    expect(needsSsd([weak], [box(100, 100, 60)], [], 0)).toBe(false);
    // a sure face of 60×60 on it (IoU 0.69), or a loose weak box with half of a sure face inside it
    expect(needsSsd([weak], [], [face(100, 100, 60, 0.5)], 0)).toBe(false);
    expect(needsSsd([face(0, 0, 105, -0.3)], [], [face(10, 20, 40, 0.4)], 0)).toBe(false);
    expect(needsSsd([], [], [face(300, 100, 80, 1)], 0)).toBe(false);
  });

  it('runs SSD on a photo where the upsampled squares found a face: small faces that tiny may have missed', () => {
    expect(needsSsd([], [], [face(300, 100, 40, 0.3)], 1)).toBe(true);
  });
});
