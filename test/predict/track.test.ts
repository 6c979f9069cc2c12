/** The video tracker: ids across frames by box overlap, the moving average of probabilities (hand-computed), flicker counting. */
import { describe, it, expect } from 'vitest';
import { checkFaces, createTracker, followFaces, labelChangesPerSecond } from '../../src/predict/track.js';
import { UsageError } from '../../src/errors.js';

const face = (x: number, p: number[]) => {
  const names = ['happy', 'sad'];
  const best = p[0] >= p[1] ? 0 : 1;
  return { box: { x, y: 10, width: 50, height: 50 }, emotion: names[best], confidence: p[best], probabilities: { happy: p[0], sad: p[1] } };
};

describe('createTracker', () => {
  it('keeps each face its id while it moves a little, and its place, whatever the order the detector gives', () => {
    const t = createTracker({ smooth: 0 });
    const a = t.update([face(0, [1, 0]), face(200, [0, 1])], 0);
    const b = t.update([face(205, [0, 1]), face(4, [1, 0])], 0.2);
    expect(a.map((f) => [f.track, f.box.x])).toEqual([
      [1, 0],
      [2, 200],
    ]);
    expect(b.map((f) => [f.track, f.box.x])).toEqual([
      [1, 4],
      [2, 205],
    ]);
  });

  it('a face unseen for longer than `keep` starts a new track; a far box is a new face', () => {
    const t = createTracker({ smooth: 0, keep: 1 });
    t.update([face(0, [1, 0])], 0);
    expect(t.update([face(0, [1, 0])], 0.9)[0].track).toBe(1);
    expect(t.update([face(0, [1, 0])], 2.0)[0].track).toBe(2);
    expect(t.update([face(300, [1, 0])], 2.1)[0].track).toBe(3);
  });

  it('averages probabilities with a time constant in seconds (a = 1 − e^(−dt/τ))', () => {
    const t = createTracker({ smooth: 0.5 });
    t.update([face(0, [0.6, 0.4])], 0);
    const [f] = t.update([face(0, [0.4, 0.6])], 0.2); // a = 1 − e^(−0.4) = 0.33
    const a = 1 - Math.exp(-0.4);
    expect(f.probabilities.happy).toBeCloseTo(0.6 - 0.2 * a, 12);
    expect(f.probabilities.sad).toBeCloseTo(0.4 + 0.2 * a, 12);
    expect(f.emotion).toBe('happy'); // the frame alone says sad
    expect(f.confidence).toBeCloseTo(0.6 - 0.2 * a, 12);
  });

  it('smooth 0: each frame alone', () => {
    const t = createTracker({ smooth: 0 });
    t.update([face(0, [0.6, 0.4])], 0);
    expect(t.update([face(0, [0.4, 0.6])], 0.2)[0]).toMatchObject({ emotion: 'sad', probabilities: { happy: 0.4, sad: 0.6 } });
  });
});

it('labelChangesPerSecond counts changes within each track', () => {
  const frames = [0, 1, 2, 3, 4].map((i) => ({
    time: i / 2,
    faces: [
      { track: 1, emotion: ['a', 'b', 'b', 'a', 'a'][i] },
      { track: 2, emotion: 'c' },
    ],
  }));
  expect(labelChangesPerSecond(frames)).toBe(2 / 2); // two changes over two seconds
});

describe('followFaces', () => {
  const square = (cx: number, cy: number, size: number) =>
    Array.from({ length: 68 }, (_, i) => ({ x: cx + ((i % 2) - 0.5) * size, y: cy + ((i % 3) / 2 - 0.5) * size }));
  const prev = [{ box: { x: 80, y: 70, width: 40, height: 50 }, score: 0.9, landmarks: square(100, 100, 40) }];

  it('moves and scales each box with its landmarks', () => {
    const [f] = followFaces(prev, [{ box: prev[0].box, score: 0, landmarks: square(110, 95, 44) }]);
    // landmarks: centre (100,100) → (110,95), size 40 → 44 (×1.1); the box's corner was (−20, −30) from the centre
    expect(f.box.x).toBeCloseTo(110 - 20 * 1.1, 9);
    expect(f.box.y).toBeCloseTo(95 - 30 * 1.1, 9);
    expect(f.box.width).toBeCloseTo(44, 9);
    expect(f.box.height).toBeCloseTo(55, 9);
    expect(f.score).toBe(0.9);
  });

  it('drops a face whose landmarks jumped or changed size: the caller re-detects', () => {
    expect(followFaces(prev, [{ box: prev[0].box, score: 0, landmarks: square(100, 100, 60) }])).toEqual([]);
    expect(followFaces(prev, [{ box: prev[0].box, score: 0, landmarks: square(125, 100, 40) }])).toEqual([]);
  });

  it('names what it was given when the earlier faces are not faces, instead of a TypeError', () => {
    const next = [{ box: prev[0].box, score: 0, landmarks: square(100, 100, 40) }];
    for (const bad of [
      null,
      'faces',
      [{}],
      [{ box: prev[0].box, landmarks: [{ x: 1, y: NaN }] }],
      [{ ...prev[0], box: { ...prev[0].box, width: 0 } }],
    ])
      expect(() => followFaces(bad as never, next)).toThrow(UsageError);
    expect(() => followFaces(null as never, next)).toThrow(/^followFaces takes the faces of an earlier result .*; got null$/);
    expect(() => followFaces([...prev, ...prev], next)).toThrow(/not one per earlier face \(2\)/);
    expect(() => checkFaces(prev, 'x')).not.toThrow();
  });
});
