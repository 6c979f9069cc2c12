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
import { fitFrames, parseProbe, probeVideo, uprightSize, videoFrames } from '../../src/io/video.js';
import { MAX_PIXELS, type RawImage } from '../../src/io/image.js';
import { predictBatch, predictManyOptionsSchema } from '../../src/predict/batch.js';

const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
const FACE = path.join(FIXTURE_DATA, 'val', 'happy', 'PublicTest_10130075.jpg');
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'fer-video-'));
const ffmpeg = (...args: string[]) => execFileSync('ffmpeg', ['-v', 'error', '-y', ...args]);

describe.skipIf(!hasFfmpeg)('video inputs', () => {
  it('an 8000×8000 video is read shrunk to the pixel limit, as a photo is, and reported at its own size', async () => {
    const f = path.join(tmp(), 'big.mkv');
    ffmpeg('-f', 'lavfi', '-i', 'color=c=gray:s=8000x8000:d=0.2:r=5', '-c:v', 'mjpeg', f);
    const frames = await readFrames(f);
    expect(frames).toHaveLength(1);
    expect(frames[0].width * frames[0].height).toBeLessThanOrEqual(MAX_PIXELS);
    expect(frames[0].scaledFrom).toEqual({ width: 8000, height: 8000 });
    const r = await cli('predict', f, '--json', '--no-detect');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toMatchObject({ width: 8000, height: 8000, frame: 0, time: 0 });
  }, 60_000);

  it('frames over the largest image fer reads are refused before decoding, one line', () => {
    expect(() => fitFrames({ width: 20_000, height: 20_000, rotation: 0 })).toThrow(
      /video frames too large \(20000×20000, over the 268-megapixel limit\)/,
    );
    expect(fitFrames({ width: 8000, height: 7000, rotation: 0 })).toEqual({
      width: 7558,
      height: 6614,
      scaledFrom: { width: 8000, height: 7000 },
    });
    expect(fitFrames({ width: 640, height: 480, rotation: 90 })).toEqual({ width: 480, height: 640 });
  });

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

  it("a failure of fer's own on a frame (the classifier's) is thrown, not reported as an unreadable video", async () => {
    const clip = path.join(tmp(), 'face.mp4');
    ffmpeg('-loop', '1', '-i', FACE, '-t', '1', '-r', '5', '-vf', 'scale=96:96', '-c:v', 'mpeg4', clip);
    const broken = {
      kind: 'onnx' as const,
      path: 'broken',
      classes: ['a', 'b'],
      provider: 'cpu',
      trainPrior: null,
      classify: () => Promise.reject(new RangeError('the classifier broke')),
      release: async () => {},
    };
    const o = predictManyOptionsSchema.parse({ concurrency: 1, fps: 5 });
    const seen: unknown[] = [];
    const run = async () => {
      for await (const r of predictBatch([clip], broken as never, { ...o, detect: false })) seen.push(r);
    };
    await expect(run()).rejects.toThrow(/the classifier broke/);
    expect(seen).toEqual([]); // before: one result, { error: 'the classifier broke' }, as if the clip were unreadable
    // the video's own failure stays a result
    const cut = path.join(tmp(), 'cut.mp4');
    writeFileSync(cut, readFileSync(clip).subarray(0, 300));
    const results: { error?: string }[] = [];
    for await (const r of predictBatch([cut], broken as never, { ...o, detect: false })) results.push(r);
    expect(results).toEqual([
      expect.objectContaining({ input: cut, faces: [], error: expect.stringMatching(/not a readable video|no frame/) }),
    ]);
  });

  it('a video that decodes to no frame is a message and exit 2, not silence and 0', async () => {
    const good = path.join(tmp(), 'ok.mkv');
    ffmpeg('-f', 'lavfi', '-i', 'testsrc=s=160x120:r=5:d=1', '-c:v', 'ffv1', good);
    const cut = path.join(tmp(), 'cut.mkv');
    writeFileSync(cut, readFileSync(good).subarray(0, 700));
    const r = await cli('predict', cut, '--json');
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/no frame could be decoded|not a readable video/);
  });

  it('a clip shorter than the frame interval (1 frame, or --fps far below its length) is read as its first frame', async () => {
    const dir = tmp();
    const one = path.join(dir, 'one.mp4');
    ffmpeg('-loop', '1', '-i', FACE, '-frames:v', '1', '-r', '25', '-vf', 'scale=96:96', '-c:v', 'mpeg4', one);
    const frames = await readFrames(one);
    expect(frames).toHaveLength(1);
    expect([frames[0].width, frames[0].height]).toEqual([96, 96]);
    const three = path.join(dir, 'three.mkv');
    ffmpeg('-f', 'lavfi', '-i', 'testsrc=s=160x120:r=5:d=3', '-c:v', 'ffv1', three);
    let n = 0;
    for await (const frame of videoFrames(three, 0.001)) n += frame.width === 160 ? 1 : 0;
    expect(n).toBe(1);
    const r = await cli('predict', one, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n')[0]).frame).toBe(0);
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

const probe = (stream: object): string => JSON.stringify({ programs: [], streams: [stream] });
/** Every frame of a clip at 5 frames/s. */
async function readFrames(f: string): Promise<RawImage[]> {
  const out = [];
  for await (const frame of videoFrames(f, 5)) out.push(frame);
  return out;
}

describe("rotated videos (a phone's portrait clip is stored sideways with a quarter turn to apply)", () => {
  it('parseProbe reads the display matrix or the older rotate tag; uprightSize swaps the sides on a quarter turn', () => {
    const side = parseProbe(probe({ width: 1920, height: 1080, side_data_list: [{ rotation: -90 }] }));
    expect(side).toEqual({ width: 1920, height: 1080, rotation: -90 });
    expect(uprightSize(side!)).toEqual({ width: 1080, height: 1920 });
    const tag = parseProbe(probe({ width: 640, height: 480, tags: { rotate: '270' } }))!;
    expect(uprightSize(tag)).toEqual({ width: 480, height: 640 });
    expect(uprightSize(parseProbe(probe({ width: 640, height: 480, side_data_list: [{ rotation: 180 }] }))!)).toEqual({
      width: 640,
      height: 480,
    });
    expect(uprightSize(parseProbe(probe({ width: 640, height: 480 }))!)).toEqual({ width: 640, height: 480 });
    expect(parseProbe(probe({ codec_type: 'audio' }))).toBeNull();
    expect(parseProbe('{"streams": []}')).toBeNull();
    expect(parseProbe('not json')).toBeNull();
  });

  it.skipIf(!hasFfmpeg)(
    'frames come out upright, the same pixels as the upright clip',
    async () => {
      const dir = tmp();
      const upright = path.join(dir, 'upright.mp4');
      const stored = path.join(dir, 'stored.mp4');
      const phone = path.join(dir, 'phone.mp4');
      ffmpeg('-f', 'lavfi', '-i', 'testsrc=s=160x96:r=5:d=1', '-c:v', 'mpeg4', '-q:v', '1', upright);
      // Stored a quarter turn counter-clockwise (96×160), with the turn back in the stream's metadata.
      ffmpeg('-i', upright, '-vf', 'transpose=2', '-c:v', 'mpeg4', '-q:v', '1', stored);
      ffmpeg('-i', stored, '-c', 'copy', '-metadata:s:v:0', 'rotate=270', phone);
      expect(probeVideo(phone).rotation).not.toBe(0);
      const [a, b] = [await readFrames(upright), await readFrames(phone)];
      expect(b.length).toBe(a.length);
      for (let i = 0; i < a.length; i++) {
        expect([b[i].width, b[i].height]).toEqual([160, 96]);
        let diff = 0;
        for (let k = 0; k < a[i].data.length; k++) diff += Math.abs(a[i].data[k] - b[i].data[k]);
        expect(diff / a[i].data.length).toBeLessThan(6); // two lossy encodes of the same picture; garbled frames differ by ~60
      }
    },
    60_000,
  );
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
