/** A video's emotions over time as a picture (predict/timeline.ts): panels per track, file names, the writer's order. */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { timelineSvg, timelineWriter } from '../../src/predict/timeline.js';
import type { PredictResult } from '../../src/predict/types.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'fer-timeline-'));

/** A frame at `time` with faces [track, happy probability] (the rest is sad). */
function frame(input: string, i: number, faces: [number, number][]): PredictResult {
  return {
    input,
    frame: i,
    time: i / 5,
    width: 64,
    height: 64,
    faces: faces.map(([track, p]) => ({
      track,
      box: { x: 0, y: 0, width: 10, height: 10 },
      score: 1,
      landmarks: [],
      emotion: p >= 0.5 ? 'happy' : 'sad',
      confidence: Math.max(p, 1 - p),
      probabilities: { happy: p, sad: 1 - p },
    })),
  };
}

describe('timelineSvg', () => {
  it('draws a panel per track with its span, its most common label and its label changes', () => {
    const frames = [
      frame('v.mp4', 0, [[1, 0.9]]),
      frame('v.mp4', 1, [
        [1, 0.3],
        [2, 0.8],
      ]),
      frame('v.mp4', 2, [
        [1, 0.7],
        [2, 0.9],
      ]),
    ];
    const svg = timelineSvg(frames);
    expect(svg.match(/face \d+: /g)).toHaveLength(2);
    expect(svg).toContain('face 1: 0.0–0.4 s, mostly happy, 2 label changes');
    expect(svg).toContain('face 2: 0.2–0.4 s, mostly happy, 0 label changes');
    expect(svg).toContain('>v.mp4<'); // the heading names the video
    // each class a line: a path per class per panel
    expect(svg.match(/<path d="M/g)).toHaveLength(4);
  });

  it('takes hours of frames: no stack overflow, and at most 2,000 points a line', () => {
    const frames = Array.from({ length: 200_000 }, (_, i) => frame('long.mp4', i, [[1, (i % 100) / 100]]));
    const svg = timelineSvg(frames);
    expect(svg).toContain('face 1: 0.0–39999.8 s');
    const points = svg
      .match(/<path d="([^"]*)"/)![1]
      .split(/[ML]/)
      .filter(Boolean);
    expect(points.length).toBeLessThanOrEqual(2001);
    expect(points.length).toBeGreaterThan(1000);
  });

  it('keeps the most-seen tracks when there are more than maxTracks, and says so when none was tracked', () => {
    const frames = [0, 1, 2].map((i) =>
      frame(
        'v.mp4',
        i,
        i === 0
          ? [
              [1, 0.9],
              [2, 0.9],
              [3, 0.9],
            ]
          : [[3, 0.9]],
      ),
    );
    const svg = timelineSvg(frames, { maxTracks: 1 });
    expect(svg.match(/face \d+: /g)).toEqual(['face 3: ']);
    expect(timelineSvg([frame('e.mp4', 0, []), frame('e.mp4', 1, [])])).toContain('no face was tracked in 2 frame(s)');
  });
});

describe('timelineWriter', () => {
  it("writes each video's PNG when its frames end, names clashing videos apart, and skips photos", async () => {
    const dir = tmp();
    const w = timelineWriter(dir, ['a/clip.mp4', 'b/clip.mp4']);
    const written: (string | null)[] = [];
    for (const r of [frame('a/clip.mp4', 0, [[1, 0.9]]), frame('a/clip.mp4', 1, [[1, 0.8]])]) written.push(await w.add(r));
    written.push(await w.add({ input: 'photo.jpg', width: 8, height: 8, faces: [] }));
    written.push(await w.add(frame('b/clip.mp4', 0, [[1, 0.2]])));
    written.push(await w.finish());
    expect(written).toEqual([null, null, path.join(dir, 'clip-timeline.png'), null, path.join(dir, 'clip-2-timeline.png')]);
    for (const f of ['clip-timeline.png', 'clip-2-timeline.png']) {
      const m = await sharp(readFileSync(path.join(dir, f))).metadata();
      expect([m.format, m.width]).toEqual(['png', 1920]); // 960 px at 144 dpi
    }
    // the same video given twice: its frames start over, so its first run is written, not mixed with the second
    const twice = timelineWriter(tmp(), ['a/clip.mp4']);
    await twice.add(frame('a/clip.mp4', 0, [[1, 0.9]]));
    await twice.add(frame('a/clip.mp4', 1, [[1, 0.9]]));
    expect(await twice.add(frame('a/clip.mp4', 0, [[1, 0.1]]))).toMatch(/clip-timeline\.png$/);
    // a second run replaces fer's own files
    const again = timelineWriter(dir, ['a/clip.mp4']);
    await again.add(frame('a/clip.mp4', 0, [[1, 0.9]]));
    expect(await again.finish()).toBe(path.join(dir, 'clip-timeline.png'));
  });

  it('refuses, before any work, a folder it cannot write or a file there that fer did not write', () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'clip-timeline.png'), 'mine');
    // named as the library's option (the CLI writes it as --timeline: handle-error's asFlag)
    expect(() => timelineWriter(dir, ['clip.mp4'])).toThrow(/^timeline .*clip-timeline\.png exists and was not written by fer/);
    const file = path.join(dir, 'not-a-folder');
    writeFileSync(file, 'x');
    expect(() => timelineWriter(file, ['clip.mp4'])).toThrow(
      expect.objectContaining({ option: 'timeline', message: expect.stringMatching(/^timeline .*not-a-folder: cannot write there/) }),
    );
  });
});
