/**
 * Issue 34, items 8 and 12: video and folder inputs as resource bombs. A frame over the pixel limit is
 * refused before decoding, frames are read in time linear in their size, a video without frames says so, a
 * FIFO among the photos is skipped and counted (not a hang), and a clip named like an option (`-v.mp4`)
 * reaches ffmpeg as a file.
 */
import { describe, it, expect } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli } from '../commands/cli.js';
import { FIXTURE_DATA } from '../fixture-model.js';
import { videoFrames } from '../../src/io/video.js';

const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
const FACE = path.join(FIXTURE_DATA, 'val', 'happy', 'PublicTest_10130075.jpg');
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'fer-video-'));
const ffmpeg = (...args: string[]) => execFileSync('ffmpeg', ['-v', 'error', '-y', ...args]);

describe.skipIf(!hasFfmpeg)('video inputs', () => {
  it('an 8000×8000 video is refused before decoding (one message, exit 2, within seconds)', async () => {
    const f = path.join(tmp(), 'big.mkv');
    ffmpeg('-f', 'lavfi', '-i', 'color=c=gray:s=8000x8000:d=0.2:r=5', '-c:v', 'mjpeg', f);
    const t0 = Date.now();
    const r = await cli('predict', f, '--json');
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/video frames too large \(8000×8000, over the 50-megapixel limit\)/);
    expect(Date.now() - t0).toBeLessThan(10_000);
  }, 60_000);

  it('frames are read in time linear in their size: two 3000×3000 frames in seconds, not a minute', async () => {
    const f = path.join(tmp(), 'large.mkv');
    ffmpeg('-f', 'lavfi', '-i', 'testsrc=s=3000x3000:r=5:d=0.4', '-c:v', 'mjpeg', f);
    const t0 = Date.now();
    let n = 0;
    for await (const frame of videoFrames(f, 5)) {
      expect(frame.data.length).toBe(3000 * 3000 * 3);
      n++;
    }
    expect(n).toBe(2);
    expect(Date.now() - t0).toBeLessThan(25_000); // 6 s here on 2 busy cores; the old reader took 64 s
  }, 120_000);

  it('a video that decodes to no frame is a message and exit 2, not silence and 0', async () => {
    const good = path.join(tmp(), 'ok.mkv');
    ffmpeg('-f', 'lavfi', '-i', 'testsrc=s=160x120:r=5:d=1', '-c:v', 'ffv1', good);
    const cut = path.join(tmp(), 'cut.mkv');
    writeFileSync(cut, readFileSync(good).subarray(0, 700));
    const r = await cli('predict', cut, '--json');
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/no frame could be decoded|not a readable video/);
  });

  it('a clip named -v.mp4 is a file to ffmpeg, not an option', async () => {
    const dir = tmp();
    ffmpeg('-f', 'lavfi', '-i', 'testsrc=s=160x120:r=5:d=1', '-c:v', 'mpeg4', path.join(dir, '-v.mp4'));
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      let n = 0;
      for await (const frame of videoFrames('-v.mp4', 5)) n += frame.width === 160 ? 1 : 0;
      expect(n).toBe(5);
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('non-regular files', () => {
  it.skipIf(process.platform === 'win32')(
    'a FIFO in a folder of photos is skipped and counted, not a hang',
    async () => {
      const dir = tmp();
      cpSync(FACE, path.join(dir, 'a.jpg'));
      execFileSync('mkfifo', [path.join(dir, 'b.jpg')]);
      const t0 = Date.now();
      const r = await cli('predict', dir, '--no-detect');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).toMatch(/not a regular file/);
      expect(r.stderr).toMatch(/2 images\/frames, 1 faces, 0 without a face, 1 unreadable/);
      expect(Date.now() - t0).toBeLessThan(30_000);
    },
    60_000,
  );
});
