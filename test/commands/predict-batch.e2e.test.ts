/** fer predict over many inputs: concurrent but printed in input order, a summary, exit 2 only when nothing could be read. */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { cli } from './cli.js';
import { orderedMap } from '../../src/util/ordered-map.js';
import { packagePath } from '../../src/paths.js';
import { composeScene, writeJpeg } from '../../src/io/image.js';

describe('fer predict on a folder', () => {
  it('orderedMap keeps input order with at most `limit` calls in flight', async () => {
    let inFlight = 0,
      most = 0;
    const delays = [30, 5, 20, 1, 10, 2];
    const got: number[] = [];
    for await (const r of orderedMap(
      delays.map((d, i) => [d, i] as const),
      2,
      async ([d, i]) => {
        most = Math.max(most, ++inFlight);
        await new Promise((res) => setTimeout(res, d));
        inFlight--;
        return i;
      },
    ))
      got.push(r);
    expect(got).toEqual([0, 1, 2, 3, 4, 5]);
    expect(most).toBe(2);
  });

  it('prints every image in order with a summary; no face is a result, not a failure', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-batch-'));
    copyFileSync(packagePath('fixtures', 'scenes', 'two-faces.jpg'), path.join(dir, 'a.jpg'));
    writeFileSync(path.join(dir, 'b.jpg'), 'not an image');
    await writeJpeg(await composeScene(320, 240, []), path.join(dir, 'c.jpg')); // no face in it
    copyFileSync(packagePath('fixtures', 'scenes', 'one-face.jpg'), path.join(dir, 'd.jpg'));
    const r = await cli('predict', dir, '--json', '--concurrency', '3');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => path.basename(l.input))).toEqual(['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg']);
    expect(lines.map((l) => l.faces.length)).toEqual([2, 0, 0, 1]);
    const text = await cli('predict', dir);
    expect(text.stderr).toMatch(/fer: 4 images\/frames, 3 faces, 1 without a face, 1 unreadable/);
    const bad = mkdtempSync(path.join(os.tmpdir(), 'fer-batch-'));
    writeFileSync(path.join(bad, 'x.jpg'), 'no');
    writeFileSync(path.join(bad, 'y.png'), 'no');
    expect((await cli('predict', bad)).code).toBe(2);
  });
});

const hasFfmpeg = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;

describe.runIf(hasFfmpeg)('fer predict on a video', () => {
  it('frames run concurrently, printed in order, each with its face, one annotation per frame', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-video-'));
    const video = path.join(dir, 'clip.mp4');
    spawnSync('ffmpeg', [
      '-v',
      'error',
      '-y',
      '-loop',
      '1',
      '-i',
      packagePath('fixtures', 'scenes', 'one-face.jpg'),
      '-t',
      '2',
      '-r',
      '5',
      '-vf',
      'scale=640:480',
      '-pix_fmt',
      'yuv420p',
      video,
    ]);
    const r = await cli('predict', video, '--fps', '5', '--json', '--concurrency', '2', '--annotate', path.join(dir, 'out'));
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThanOrEqual(8);
    expect(lines.map((l) => l.frame)).toEqual(lines.map((_, i) => i));
    for (const l of lines) expect(l.faces).toHaveLength(1);
    expect(readdirSync(path.join(dir, 'out')).filter((f) => !f.startsWith('.'))).toHaveLength(lines.length); // + fer's manifest
  });
});
