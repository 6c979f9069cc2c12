/** fer predict over many inputs: concurrent but printed in input order, a summary, exit 2 only when nothing could be read. */
import { describe, it, expect } from 'vitest';
import { chmodSync, mkdtempSync, readdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { cli } from './cli.js';
import { packagePath } from '../../src/paths.js';
import { composeScene, writeJpeg } from '../../src/io/image.js';

describe('fer predict on a folder', () => {
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

  it('--annotate into the folder it reads can run again: the annotations fer wrote there are not inputs', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-batch-'));
    copyFileSync(packagePath('fixtures', 'scenes', 'two-faces.jpg'), path.join(dir, 'a.jpg'));
    copyFileSync(packagePath('fixtures', 'scenes', 'one-face.jpg'), path.join(dir, 'b.jpg'));
    for (const run of [1, 2]) {
      const r = await cli('predict', dir, '--json', '--annotate', dir);
      expect(r.code, `run ${run}: ${r.stderr}`).toBe(0);
      const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines.map((l) => path.basename(l.input))).toEqual(['a.jpg', 'b.jpg']);
      expect(readdirSync(dir).filter((f) => f.endsWith('.png'))).toEqual(['a.png', 'b.png']);
    }
    // A folder the user cannot write is refused before the work (as root every folder is writable: checked as nobody).
    if (process.getuid?.() !== 0 || spawnSync('runuser', ['-u', 'nobody', '--', 'true']).status === 0) {
      const ro = mkdtempSync(path.join(os.tmpdir(), 'fer-ro-'));
      chmodSync(ro, 0o555);
      chmodSync(dir, 0o755);
      const asUser = process.getuid?.() === 0 ? ['runuser', '-u', 'nobody', '--', process.execPath] : [process.execPath];
      const w = spawnSync(asUser[0], [...asUser.slice(1), packagePath('bin', 'fer'), 'predict', dir, '--annotate', ro], {
        encoding: 'utf8',
      });
      expect(w.status).toBe(2);
      expect(w.stderr).toMatch(/--annotate .*: cannot write there \(permission denied\)/);
    }
    // A photo of the user's own beside them is still read.
    copyFileSync(packagePath('fixtures', 'scenes', 'one-face.jpg'), path.join(dir, 'c.png'));
    const r = await cli('predict', dir, '--json');
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => path.basename(JSON.parse(l).input)),
    ).toEqual(['a.jpg', 'b.jpg', 'c.png']);
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
    // Run again, the frames are fer's and are replaced; a frame of the user's with such a name stops the run before any
    // work, as a photo's annotation does.
    expect((await cli('predict', video, '--fps', '5', '--json', '--annotate', path.join(dir, 'out'))).code).toBe(0);
    const mine = mkdtempSync(path.join(os.tmpdir(), 'fer-video-'));
    writeFileSync(path.join(mine, 'clip-frame00003.png'), 'my own file');
    const r2 = await cli('predict', video, '--fps', '5', '--json', '--annotate', mine);
    expect(r2.code).toBe(2);
    expect(r2.stdout).toBe('');
    expect(r2.stderr).toMatch(/clip-frame00003\.png exists and was not written by fer/);
  });
});
