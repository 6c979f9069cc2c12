/**
 * What a review of fer's video side as a hostile user found (session of 2026-12-06): ffprobe without ffmpeg, a
 * face-free video, a video cut short, MPEG transport streams, a 45° rotation tag, a video given to predict(), and
 * the frames' time. Each case failed before its fix.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli } from '../commands/cli.js';
import { FIXTURE_DATA } from '../fixture-model.js';
import { parseProbe, uprightSize } from '../../src/io/video.js';
import { expandInputs, isVideo } from '../../src/predict/predict.js';
import { createPredictor, type PredictManyResult } from '../../src/predict/predictor.js';

const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
const FACE = path.join(FIXTURE_DATA, 'val', 'happy', 'PublicTest_10130075.jpg');
const SCENE = path.join(import.meta.dirname, '..', '..', 'fixtures', 'scenes', 'one-face.jpg');
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'fer-video-review-'));
const ffmpeg = (...args: string[]) => execFileSync('ffmpeg', ['-v', 'error', '-y', ...args]);
const lines = (s: string) =>
  s
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as PredictManyResult);

describe.skipIf(!hasFfmpeg)('video inputs, as a hostile review found them', () => {
  const path0 = process.env.PATH;
  afterEach(() => {
    process.env.PATH = path0;
  });

  it('ffprobe without ffmpeg: the video says it needs ffmpeg and the photos after it are read (it was an uncaught error)', async () => {
    const dir = tmp();
    const clip = path.join(dir, 'a.mp4');
    ffmpeg('-loop', '1', '-i', FACE, '-t', '1', '-r', '5', '-vf', 'scale=96:96', '-c:v', 'mpeg4', clip);
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    symlinkSync(execFileSync('which', ['ffprobe'], { encoding: 'utf8' }).trim(), path.join(bin, 'ffprobe'));
    process.env.PATH = bin;
    const r = await cli('predict', clip, SCENE, '--json');
    process.env.PATH = path0;
    expect(r.code, r.stderr).toBe(0);
    const [video, photo] = lines(r.stdout);
    expect(video).toMatchObject({ input: clip, faces: [], error: expect.stringMatching(/^video needs ffmpeg/) });
    expect(photo).toMatchObject({ input: SCENE, faces: [expect.anything()] });
  }, 60_000);

  it('a face-free video is frames without a face (exit 0), not unreadable frames (exit 2)', async () => {
    const clip = path.join(tmp(), 'empty.mp4');
    ffmpeg('-f', 'lavfi', '-i', 'color=c=gray:s=320x240:r=10:d=1', '-c:v', 'mpeg4', clip);
    const text = await cli('predict', clip);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stderr).toMatch(/5 images\/frames, 0 faces, 5 without a face, 0 unreadable/);
    expect(text.stdout).toContain(`${clip}#0: 0 faces`); // a frame's result on stdout, not a problem on stderr
    expect(text.stderr).not.toMatch(/no face found/);
    const r = await cli('predict', clip, '--json');
    expect(r.code, r.stderr).toBe(0);
    const frames = lines(r.stdout);
    expect(frames.map((f) => [f.frame, f.time, f.error])).toEqual([0, 1, 2, 3, 4].map((i) => [i, i / 5, 'no face found']));
    expect(frames[0].timings).toMatchObject({ detectMs: expect.any(Number), classifyMs: expect.any(Number) });
  }, 60_000);

  it('a small face-free video (≤ 128 px) is frames without a face, not frames classified whole as cropped faces', async () => {
    const clip = path.join(tmp(), 'small.mp4');
    ffmpeg('-f', 'lavfi', '-i', 'color=c=gray:s=96x72:r=10:d=1', '-c:v', 'mpeg4', clip);
    const frames = lines((await cli('predict', clip, '--json')).stdout);
    expect(frames).toHaveLength(5);
    for (const f of frames) expect(f).toMatchObject({ faces: [], error: 'no face found' });
    // A photo that small is still taken as a cropped face (FER2013's are 48×48).
    const still = path.join(tmp(), 'small.png');
    ffmpeg('-f', 'lavfi', '-i', 'color=c=gray:s=96x72', '-frames:v', '1', still);
    expect(lines((await cli('predict', still, '--json')).stdout)[0].faces[0].note).toMatch(/whole image was classified/);
  }, 60_000);

  it('a video cut short says where decoding stopped, after the frames it gave (it was silent, exit 0)', async () => {
    const dir = tmp();
    const whole = path.join(dir, 'whole.mp4');
    ffmpeg('-f', 'lavfi', '-i', 'testsrc=s=320x240:r=25:d=10', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', whole);
    const cut = path.join(dir, 'cut.mp4');
    const bytes = readFileSync(whole);
    writeFileSync(cut, bytes.subarray(0, bytes.length >> 1));
    const r = await cli('predict', cut, '--json', '--no-detect');
    const results = lines(r.stdout);
    const last = results.at(-1)!;
    expect(last).toMatchObject({
      input: cut,
      faces: [],
      error: expect.stringMatching(/^damaged video: decoding stopped at [\d.]+ s of 10\.0 s \(ffmpeg: .+\)$/),
    });
    expect(results.length - 1).toBeGreaterThan(0); // the frames it could read came first
    expect(results.length - 1).toBeLessThan(45);
    // the whole file: no such line
    const ok = lines((await cli('predict', whole, '--json', '--no-detect')).stdout);
    expect(ok).toHaveLength(50);
    expect(ok.every((f) => !f.error)).toBe(true);
  }, 120_000);

  it('MPEG transport streams named .ts/.mts are videos by their bytes; a TypeScript source of that name is not', async () => {
    const dir = tmp();
    const clip = path.join(dir, 'clip.mp4');
    ffmpeg('-loop', '1', '-i', FACE, '-t', '1', '-r', '5', '-vf', 'scale=96:96', '-c:v', 'mpeg4', clip);
    // as a camcorder writes them: H.264 in a transport stream
    for (const f of ['cam.MTS', 'cam2.ts']) ffmpeg('-i', clip, '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-f', 'mpegts', path.join(dir, f));
    writeFileSync(path.join(dir, 'code.ts'), 'export const x = 1;\n'.repeat(20));
    // AVCHD's own packets: BDAV, 192 bytes (a 4-byte timestamp before each sync byte)
    ffmpeg('-i', clip, '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-f', 'mpegts', '-mpegts_m2ts_mode', '1', path.join(dir, 'avchd.mts'));
    expect(isVideo(path.join(dir, 'cam.MTS'))).toBe(true);
    expect(isVideo(path.join(dir, 'avchd.mts'))).toBe(true);
    expect(isVideo(path.join(dir, 'code.ts'))).toBe(false);
    // a FIFO of that name is not opened (opening it blocked until something wrote to it)
    execFileSync('mkfifo', [path.join(dir, 'pipe.ts')]);
    expect(isVideo(path.join(dir, 'pipe.ts'))).toBe(false);
    expect(expandInputs([dir]).map((f) => path.basename(f))).toEqual(['avchd.mts', 'cam.MTS', 'cam2.ts', 'clip.mp4']);
    const r = await cli('predict', path.join(dir, 'cam.MTS'), '--json', '--no-detect');
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)).toHaveLength(5);
  }, 60_000);

  it("--timeline writes a PNG of each face's emotions over time per video, and says where", async () => {
    const dir = tmp();
    const clip = path.join(dir, 'face.mp4');
    ffmpeg('-loop', '1', '-i', SCENE, '-t', '1', '-r', '5', '-c:v', 'mpeg4', '-q:v', '2', clip);
    const r = await cli('predict', clip, '--timeline', path.join(dir, 'tl'));
    expect(r.code, r.stderr).toBe(0);
    const file = path.join(dir, 'tl', 'face-timeline.png');
    expect(r.stdout).toContain(`  timeline → ${file}`);
    expect(readFileSync(file).subarray(1, 4).toString()).toBe('PNG');
  }, 60_000);

  it('predict() on a video names it a video and points to predictMany', async () => {
    const clip = path.join(tmp(), 'v.mp4');
    ffmpeg('-f', 'lavfi', '-i', 'testsrc=s=160x120:r=5:d=1', '-c:v', 'mpeg4', clip);
    const p = await createPredictor({ detect: false });
    try {
      await expect(p.predict(clip)).rejects.toThrow(/a video; predict\(\) takes one image, predictMany\(\) reads a video's frames/);
      await expect(p.predict(path.join(path.dirname(clip), 'gone.mp4'))).rejects.toThrow(/gone\.mp4: no such file/);
    } finally {
      await p.dispose();
    }
  });
});

const probe = (r: number) => parseProbe(JSON.stringify({ streams: [{ width: 640, height: 480, side_data_list: [{ rotation: r }] }] }))!;

it('a rotation that is not a quarter turn leaves the sides as stored (ffmpeg turns only quarter turns)', () => {
  expect(uprightSize(probe(45))).toEqual({ width: 640, height: 480 });
  expect(uprightSize(probe(-90))).toEqual({ width: 480, height: 640 });
  expect(uprightSize(probe(270))).toEqual({ width: 480, height: 640 });
  expect(uprightSize(probe(135))).toEqual({ width: 640, height: 480 });
});
