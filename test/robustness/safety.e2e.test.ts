/**
 * What the hostile pass found (issue 20), each kept true by a test: outputs never replace what fer did not
 * write, a model never makes fer read outside its folder, one run per directory, no training on the test
 * split by default, a cache that notices changed pixels, interrupted writes recovered, failures as one-line
 * messages with documented exit codes.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  utimesSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli } from '../commands/cli.js';
import { saveFixtureModel, fixtureModel, FIXTURE_DATA } from '../fixture-model.js';
import { useBackend } from '../../src/engine/backend.js';
import { defaultMetadata, loadModel, saveModel } from '../../src/model/io.js';
import { acquireLock, recoverDir, processAlive } from '../../src/io/files.js';
import { loadDataset } from '../../src/data/dataset.js';
import { annotationNamer } from '../../src/predict/predict.js';
import { writeJpeg } from '../../src/io/image.js';
import { spawnSync } from 'node:child_process';
import { registerNativeBackend } from '../../src/engine/native/backend.js';
import { buildModel } from '../../src/model/mini-xception.js';
import { convertToOnnx } from '../../src/convert/convert.js';
import { finetune } from '../../src/train/finetune.js';
import { qatRunDir, quantizeModel } from '../../src/compress/quantize.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'fer-safety-'));
// Training runs on the native engine where it is built (tfjs's pure-JS cpu backend trains at ~1 img/s).
const TRAIN_BACKEND = registerNativeBackend() ? 'native' : 'wasm';
const VAL = path.join(FIXTURE_DATA, 'val');

/** A folder of someone's files. */
function userFolder(): string {
  const d = path.join(tmp(), 'mydocs');
  mkdirSync(path.join(d, 'sub'), { recursive: true });
  writeFileSync(path.join(d, 'thesis.txt'), 'four years');
  writeFileSync(path.join(d, 'sub', 'data.csv'), '1,2,3');
  return d;
}
const intact = (d: string) =>
  readFileSync(path.join(d, 'thesis.txt'), 'utf8') === 'four years' && existsSync(path.join(d, 'sub', 'data.csv'));

/** A pid that is certainly not running: a child that has exited. */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;

let model: string;
beforeAll(async () => {
  await useBackend('cpu');
  model = await saveFixtureModel(6);
});

describe('outputs: nothing fer did not write is replaced', () => {
  it.each([
    ['quantize', ['quantize', '--bits', '8', '--calibration-data', VAL]],
    ['prune', ['prune', '--target-sparsity', '0.5']],
    ['average', ['average', 'MODEL', '--data', VAL]],
  ])('fer %s --out <a folder of user files> exits 2 and leaves it as it was', async (_n, argv) => {
    const docs = userFolder();
    const a = argv.map((x) => (x === 'MODEL' ? model : x));
    const r = await cli(...a, ...(a.includes(model) ? [] : ['--model', model]), '--out', docs, '--backend', 'cpu');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/exists and is not a fer model; refusing to replace it/);
    expect(intact(docs)).toBe(true);
  });

  it('fer train --out <a folder of user files> exits 2 before loading any data, and writes nothing there', async () => {
    const docs = userFolder();
    const r = await cli('train', '--data', VAL, '--epochs', '1', '--out', docs, '--backend', TRAIN_BACKEND);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/exists and is not a fer run; refusing to write into it/);
    expect(r.stderr).not.toMatch(/images/); // before the data
    expect(intact(docs)).toBe(true);
    expect(readdirSync(docs).sort()).toEqual(['sub', 'thesis.txt']);
  });

  it('fer train whose data cannot be read leaves no empty --out; a run already at --out is refused before the data', async () => {
    const out = path.join(tmp(), 'never');
    const r = await cli('train', '--data', path.join(tmp(), 'no-such-data'), '--epochs', '1', '--out', out, '--backend', TRAIN_BACKEND);
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
    const run = path.join(tmp(), 'run');
    expect(
      (await cli('train', '--data', VAL, '--epochs', '1', '--batch-size', '35', '--out', run, '--backend', TRAIN_BACKEND, '--json')).code,
    ).toBe(0);
    const again = await cli('train', '--data', VAL, '--epochs', '1', '--out', run, '--backend', TRAIN_BACKEND);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a run/);
    expect(again.stderr).not.toMatch(/images/); // refused before the data was loaded
  });

  it('an existing file as --out is refused (exit 2) and kept', async () => {
    const f = path.join(tmp(), 'notes.txt');
    writeFileSync(f, 'keep me');
    const r = await cli('quantize', '--model', model, '--bits', '8', '--out', f, '--backend', 'cpu');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/exists and is a file/);
    expect(readFileSync(f, 'utf8')).toBe('keep me');
  });

  it('a fer model at --out is replaced only with --force', async () => {
    const out = path.join(tmp(), 'q');
    const args = ['quantize', '--model', model, '--bits', '8', '--calibration-data', VAL, '--out', out, '--backend', 'cpu'];
    expect((await cli(...args)).code).toBe(0);
    const again = await cli(...args);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a fer model/);
    // fer's own page beside the model (fer report writes it there, in fer's manifest) does not block --force
    expect((await cli('report', out)).code).toBe(0);
    expect(existsSync(path.join(out, 'report.html'))).toBe(true);
    const forced = await cli(...args, '--force');
    expect(forced.code, forced.stderr).toBe(0);
  });

  it("--force never replaces the command's own input model (nor an --out holding it)", async () => {
    const own = path.join(tmp(), 'mine');
    cpSync(model, own, { recursive: true });
    const before = readFileSync(path.join(own, 'weights.bin'));
    for (const argv of [
      ['quantize', '--model', own, '--bits', '8', '--calibration-data', VAL, '--out', own],
      ['prune', '--model', own, '--target-sparsity', '0.5', '--out', `${own}/`],
      ['average', own, '--data', VAL, '--out', path.dirname(own)],
    ]) {
      const r = await cli(...argv, '--force', '--backend', 'cpu');
      expect(r.code, argv[0]).toBe(2);
      expect(r.stderr).toMatch(/an input of this command; refusing to replace it/);
    }
    expect(readFileSync(path.join(own, 'weights.bin')).equals(before)).toBe(true);
  });

  it('saveModel itself refuses to replace a folder that is not a fer model', async () => {
    const docs = userFolder();
    await expect(saveModel(fixtureModel(1), docs, defaultMetadata())).rejects.toThrow(/not a fer model/);
    expect(intact(docs)).toBe(true);
  });

  it('export onnx: a non-fer file at --out is kept; a failed or refused export leaves no file', async () => {
    const f = path.join(tmp(), 'model.onnx');
    writeFileSync(f, 'not onnx');
    const r = await cli('export', 'onnx', '--model', model, '--out', f, '--no-verify', '--backend', 'cpu');
    expect(r.code).toBe(2);
    expect(readFileSync(f, 'utf8')).toBe('not onnx');
    const g = path.join(tmp(), 'ok.onnx');
    expect((await cli('export', 'onnx', '--model', model, '--out', g, '--no-verify', '--backend', 'cpu')).code).toBe(0);
    expect((await cli('export', 'onnx', '--model', model, '--out', g, '--no-verify', '--backend', 'cpu')).code).toBe(2);
    expect((await cli('export', 'onnx', '--model', model, '--out', g, '--no-verify', '--force', '--backend', 'cpu')).code).toBe(0);
  });

  it('a place that cannot be created fails before the work, exit 2, naming it', async () => {
    const f = path.join(tmp(), 'plain-file');
    writeFileSync(f, '');
    const r = await cli(
      'bench',
      path.join('models', 'onnx', 'fer-mini-xception.fp32.onnx'),
      '--out',
      path.join(f, 'sub'),
      '--iterations',
      '1',
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(path.join(f, 'sub'));
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('models: weights are read from the model folder only', () => {
  async function tampered(paths: string[] | ((dir: string) => string[])): Promise<string> {
    const dir = path.join(tmp(), 'm');
    cpSync(model, dir, { recursive: true });
    const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
    json.weightsManifest[0].paths = typeof paths === 'function' ? paths(dir) : paths;
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
    return dir;
  }

  it.each([
    ['a ../ path', ['../outside/secret.bin']],
    ['an absolute path', ['/etc/hostname']],
    ['a deep escape', ['../../../../etc/hostname']],
  ])('%s in weightsManifest is a model error (exit 3)', async (_n, paths) => {
    const dir = await tampered(paths as string[]);
    mkdirSync(path.join(dir, '..', 'outside'), { recursive: true });
    cpSync(path.join(dir, 'weights.bin'), path.join(dir, '..', 'outside', 'secret.bin'));
    const r = await cli('eval', '--model', dir, '--data', VAL, '--backend', 'cpu');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/outside its folder/);
  });

  it('a symlink leading out of the folder is refused; a missing or short weights file is named', async () => {
    const dir = await tampered(['link.bin']);
    symlinkSync(path.join(model, 'weights.bin'), path.join(dir, 'link.bin'));
    await expect(loadModel(dir)).rejects.toMatchObject({ exitCode: 3, message: expect.stringMatching(/leads outside the model folder/) });
    const missing = await tampered(['weights.bin']);
    rmSync(path.join(missing, 'weights.bin'));
    await expect(loadModel(missing)).rejects.toMatchObject({
      exitCode: 3,
      message: expect.stringMatching(/weights.bin, which is missing/),
    });
    const short = await tampered(['weights.bin']);
    writeFileSync(path.join(short, 'weights.bin'), Buffer.alloc(100));
    await expect(loadModel(short)).rejects.toMatchObject({
      exitCode: 3,
      message: expect.stringMatching(/hold 100 bytes, the manifest describes \d+/),
    });
  });
});

describe('runs: one process per run directory', () => {
  it("a second lock on a held run is refused naming the holder; a dead holder's lock is taken over", () => {
    const dir = tmp();
    const a = acquireLock(dir);
    expect(() => acquireLock(dir)).toThrow(new RegExp(`in use by process ${process.pid}`));
    a.release();
    expect(existsSync(path.join(dir, 'lock'))).toBe(false);
    writeFileSync(path.join(dir, 'lock'), JSON.stringify({ pid: deadPid(), host: os.hostname(), started: 'then' }));
    const b = acquireLock(dir);
    expect(b.note).toMatch(/took over a stale lock of process \d+/);
    b.release();
  });

  it('two trainings on one --out at once: one runs, the other exits 2', async () => {
    const out = path.join(tmp(), 'run');
    const args = ['train', '--data', VAL, '--epochs', '1', '--batch-size', '35', '--out', out, '--backend', TRAIN_BACKEND, '--json'];
    const [x, y] = await Promise.all([cli(...args), cli(...args)]);
    expect([x.code, y.code].sort()).toEqual([0, 2]);
    expect([x, y].find((r) => r.code === 2)!.stderr).toMatch(/in use by process|already holds a run/);
    const lines = readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
  });

  it('recovers a directory whose swap was interrupted between its two renames', () => {
    const parent = tmp(),
      dir = path.join(parent, 'checkpoint');
    const pid = deadPid();
    mkdirSync(`${dir}.old-${pid}`);
    writeFileSync(path.join(`${dir}.old-${pid}`, 'state.json'), '"old"');
    mkdirSync(`${dir}.tmp-${pid}`);
    writeFileSync(path.join(`${dir}.tmp-${pid}`, 'state.json'), '"new"');
    expect(recoverDir(dir, 'state.json')).toMatch(/recovered/);
    expect(readFileSync(path.join(dir, 'state.json'), 'utf8')).toBe('"new"');
    expect(existsSync(`${dir}.old-${pid}`)).toBe(false);
    // A new version that was not completely written loses to the old one.
    const d2 = path.join(parent, 'last');
    mkdirSync(`${d2}.old-${pid}`);
    writeFileSync(path.join(`${d2}.old-${pid}`, 'model.json'), 'old');
    mkdirSync(`${d2}.tmp-${pid}`);
    recoverDir(d2, 'model.json');
    expect(readFileSync(path.join(d2, 'model.json'), 'utf8')).toBe('old');
    expect(processAlive(process.pid)).toBe(true);
  });

  it('--resume with another --epochs is refused (it would be silently ignored)', async () => {
    const out = path.join(tmp(), 'run');
    expect(
      (await cli('train', '--data', VAL, '--epochs', '1', '--batch-size', '35', '--out', out, '--backend', TRAIN_BACKEND, '--json')).code,
    ).toBe(0);
    const r = await cli('train', '--resume', out, '--epochs', '5', '--backend', TRAIN_BACKEND);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--epochs cannot change/);
  });
});

describe('data', () => {
  function csv(rows: [number, string, string][]): string {
    const f = path.join(tmp(), 'fer2013.csv');
    const px = (v: number) =>
      Array(48 * 48)
        .fill(v)
        .join(' ');
    writeFileSync(f, 'emotion,pixels,Usage\n' + rows.map(([e, p, u]) => `${e},${p === 'px' ? px(e * 20) : p},${u}`).join('\n') + '\n');
    return f;
  }

  it('fer train on a Kaggle CSV uses its Training rows unless told, and says so', async () => {
    const f = csv([
      [0, 'px', 'Training'],
      [1, 'px', 'Training'],
      [2, 'px', 'PublicTest'],
      [3, 'px', 'PrivateTest'],
    ]);
    const out = path.join(tmp(), 'run');
    const r = await cli('train', '--data', f, '--epochs', '1', '--batch-size', '2', '--out', out, '--backend', TRAIN_BACKEND);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/training on its Training rows/);
    expect(r.stderr).toMatch(/: 2 images/);
    expect(JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8')).usage).toBe('Training');
    const same = await cli(
      'train',
      '--data',
      f,
      '--val',
      f,
      '--val-usage',
      'Training',
      '--epochs',
      '1',
      '--out',
      path.join(tmp(), 'r2'),
      '--backend',
      TRAIN_BACKEND,
    );
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/is the training split itself/);
  });

  it('rows with an unknown Usage are counted as skipped; a non-numeric pixel is named', async () => {
    const bad = Array(48 * 48)
      .fill(7)
      .map((v, i) => (i === 16 ? 'abc' : v))
      .join(' ');
    const f = csv([
      [0, 'px', 'Training'],
      [1, 'px', 'Tarining'],
      [2, bad, 'Training'],
    ]);
    const ds = await loadDataset(f, { usage: 'Training' });
    expect(ds.size).toBe(1);
    expect(ds.skipped.map((s) => s.reason)).toEqual([
      'unknown Usage "Tarining" (expected Training, PublicTest, PrivateTest)',
      'pixel 17 is "abc" (expected an integer 0..255)',
    ]);
  });

  it('the cache notices changed pixels (same file sizes); hidden folders such as .git are not classes', async () => {
    const root = path.join(tmp(), 'ds');
    cpSync(VAL, root, { recursive: true });
    mkdirSync(path.join(root, '.git'));
    const cacheDir = tmp();
    process.env.FER_CACHE_DIR = cacheDir;
    try {
      const a = await loadDataset(root);
      expect(a.size).toBe(70);
      const f = a.files[0];
      const raw = { data: new Uint8Array(100 * 100 * 3).fill(255), width: 100, height: 100, channels: 3 as const };
      await writeJpeg(raw, f);
      utimesSync(f, new Date(), new Date(Date.now() + 5000));
      const b = await loadDataset(root);
      expect(b.images.subarray(0, 48 * 48).every((v) => v > 250)).toBe(true);
      expect(a.images.subarray(0, 48 * 48).every((v) => v > 250)).toBe(false);
    } finally {
      delete process.env.FER_CACHE_DIR;
    }
  });
});

describe('messages and names', () => {
  it('--threads outside 1..256 or not whole is a one-line error, exit 2', async () => {
    for (const t of ['0', '-1', '1.5', '1000']) {
      const r = await cli('eval', '--data', VAL, '--threads', t);
      expect(r.code, t).toBe(2);
      expect(r.stderr.trim().split('\n'), t).toHaveLength(1);
    }
  });

  it('a commander error is printed once', async () => {
    const r = await cli('eval', '--bogus');
    expect(r.code).toBe(2);
    expect(r.stderr.match(/unknown option/g)).toHaveLength(1);
  });

  it('corrupt run files are named, exit 3', async () => {
    const out = path.join(tmp(), 'run');
    expect(
      (await cli('train', '--data', VAL, '--epochs', '1', '--batch-size', '35', '--out', out, '--backend', TRAIN_BACKEND, '--json')).code,
    ).toBe(0);
    // a bad option value in run.json is the file's (exit 3, naming it and the field), not a flag the user never gave
    const stored = JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8'));
    writeFileSync(path.join(out, 'run.json'), JSON.stringify({ ...stored, options: { ...stored.options, epochs: 'abc' } }));
    const bad = await cli('train', '--resume', out, '--backend', TRAIN_BACKEND);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain(`${path.join(out, 'run.json')}: options.epochs:`);
    expect(bad.stderr).not.toContain('--epochs');
    writeFileSync(path.join(out, 'run.json'), '{"data": ');
    const r = await cli('train', '--resume', out, '--backend', TRAIN_BACKEND);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(path.join(out, 'run.json'));
  });

  it('a corrupt checkpoint state.json is named, exit 3; an ONNX model of another input shape is a model error', async () => {
    const out = path.join(tmp(), 'run');
    expect(
      (await cli('train', '--data', VAL, '--epochs', '1', '--batch-size', '35', '--out', out, '--backend', TRAIN_BACKEND, '--json')).code,
    ).toBe(0);
    writeFileSync(path.join(out, 'checkpoint', 'state.json'), '{"epoch": 1,');
    const r = await cli('train', '--resume', out, '--backend', TRAIN_BACKEND);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(path.join(out, 'checkpoint', 'state.json'));
    const big = buildModel('mini-xception', { inputSize: 64, seed: 1 });
    const onnx = path.join(tmp(), 'big.onnx');
    writeFileSync(onnx, convertToOnnx(big, defaultMetadata()));
    const e = await cli('eval', '--model', onnx, '--data', VAL);
    expect(e.code).toBe(3);
    expect(e.stderr).toMatch(/takes input \[N,64,64,1\]; a fer classifier takes \[N,48,48,1\]/);
  });

  it('an interrupted prune fine-tune is an ordinary run: fer train --resume finishes it, masks kept', async () => {
    const init = path.join(tmp(), 'pruned');
    expect((await cli('prune', '--model', model, '--target-sparsity', '0.5', '--out', init, '--backend', 'cpu')).code).toBe(0);
    const { meta } = await loadModel(init);
    const out = path.join(tmp(), 'ft');
    await useBackend(TRAIN_BACKEND);
    const ds = await loadDataset(VAL, { cache: false });
    let batches = 0;
    const r = await finetune(init, meta, ds, null, out, {
      epochs: 2,
      lr: 1e-4,
      shouldStop: () => ++batches > 1,
      runJson: { data: VAL, usage: 'Training' },
    });
    expect(r.stopReason).toBe('interrupted');
    const resumed = await cli('train', '--resume', out, '--backend', TRAIN_BACKEND, '--json');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
    const { model: last, meta: lastMeta } = await loadModel(path.join(out, 'last'));
    expect(lastMeta.pruning?.sparsity).toBeGreaterThan(0.49);
    last.dispose();
    await useBackend('cpu');
  });

  it('an interrupted quantize fine-tune: the same command with --resume continues it and writes the quantized model', async () => {
    const out = path.join(tmp(), 'q4');
    await useBackend(TRAIN_BACKEND);
    let batches = 0;
    const argv = { bits: 4, finetuneEpochs: 2, data: VAL, distill: false };
    const r = await quantizeModel(model, out, argv, { shouldStop: () => ++batches > 1, runJson: { command: 'fer quantize' } });
    expect(r.interrupted).toBe(true);
    expect(existsSync(out)).toBe(false);
    const args = ['quantize', '--model', model, '--bits', '4', '--finetune-epochs', '2', '--data', VAL, '--no-distill', '--out', out];
    const again = await cli(...args, '--backend', TRAIN_BACKEND);
    expect(again.code).toBe(2); // the run is there: not started over silently
    expect(again.stderr).toMatch(/holds an interrupted fine-tune\n {2}hint: the same command with --resume continues it/);
    const resumed = await cli(...args, '--resume', '--backend', TRAIN_BACKEND, '--json');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).bits).toBe(4);
    expect(
      readFileSync(path.join(qatRunDir(out), 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(2);
    expect((await loadModel(out)).meta.quantization?.bits).toBe(4);
    await useBackend('cpu');
  });

  it('annotated images get distinct names: same name in two folders, two extensions, video frames', () => {
    const name = annotationNamer();
    expect([name('colA/x.jpg'), name('colB/x.jpg'), name('one.jpg'), name('one.png'), name('clip.mp4', 0), name('clip.mp4', 1)]).toEqual([
      'x',
      'x-2',
      'one',
      'one-2',
      'clip-frame00000',
      'clip-frame00001',
    ]);
  });
});
