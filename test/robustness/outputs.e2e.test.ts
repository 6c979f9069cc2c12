/**
 * Issue 34, items 1–4 and 9: every output goes through one writer (io/output.ts) that never replaces a file
 * fer did not write (known by its manifest, not by its name), never writes through a symlink, never onto an
 * input of the same command; a run is fer's only when its run.json says so; --force removes only fer's files.
 * Each case: one line, exit 2, and every file outside fer's own output as it was.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli } from '../commands/cli.js';
import { saveFixtureModel, FIXTURE_DATA } from '../fixture-model.js';
import { useBackend } from '../../src/engine/backend.js';
import { registerNativeBackend } from '../../src/engine/native/backend.js';
import { clearProtectedInputs } from '../../src/io/output.js';

const TRAIN_BACKEND = registerNativeBackend() ? 'native' : 'wasm';
const VAL = path.join(FIXTURE_DATA, 'val');
const FACE = path.join(VAL, 'happy', 'PublicTest_10130075.jpg');
const ONNX = path.join('models', 'onnx', 'fer-mini-xception.fp32.onnx');
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'fer-outputs-'));
/** The error line(s) of a failed command, without progress notes and hints. */
const errorLines = (s: string) =>
  s
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('  hint:') && !/^fer: (backend |\S+: \d+ images|training for)/.test(l));

/** A file outside every folder fer is pointed at, and a check that it is untouched. */
function outsideFile(): { file: string; intact: () => boolean } {
  const file = path.join(tmp(), 'important.txt');
  writeFileSync(file, 'years of work');
  const before = statSync(file).mtimeMs;
  return { file, intact: () => readFileSync(file, 'utf8') === 'years of work' && statSync(file).mtimeMs === before };
}

async function refused(argv: string[], message: RegExp): Promise<void> {
  clearProtectedInputs();
  const r = await cli(...argv);
  expect(r.code, r.stderr).toBe(2);
  expect(errorLines(r.stderr), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(message);
}

let model: string;
beforeAll(async () => {
  await useBackend('cpu');
  model = await saveFixtureModel(7);
});

describe('item 1: never onto an input of the same command', () => {
  it('fer predict photo.png --annotate <its own folder> keeps photo.png; a folder of PNGs keeps every original', async () => {
    const dir = tmp();
    cpSync(FACE, path.join(dir, 'photo.png')); // a JPEG named .png decodes all the same
    cpSync(FACE, path.join(dir, 'other.png'));
    const orig = readFileSync(FACE);
    await refused(
      ['predict', path.join(dir, 'photo.png'), '--no-detect', '--annotate', dir],
      /photo\.png (is an input|exists and was not written by fer)/,
    );
    await refused(['predict', dir, '--no-detect', '--annotate', dir], /\.png (is an input|exists and was not written by fer)/);
    for (const f of ['photo.png', 'other.png']) expect(readFileSync(path.join(dir, f)).equals(orig), f).toBe(true);
  });

  it('fer report RUN --out RUN/eval.json (an input of the report) is refused', async () => {
    const run = path.join(tmp(), 'run');
    cpSync(path.join('models', 'run'), run, { recursive: true });
    const before = readFileSync(path.join(run, 'eval.json'));
    await refused(['report', run, '--out', path.join(run, 'eval.json')], /is an input of this command/);
    expect(readFileSync(path.join(run, 'eval.json')).equals(before)).toBe(true);
  });
});

describe("item 2: output folders keep the user's same-named files", () => {
  it.each([
    ['eval --out', 'eval.json', (d: string) => ['eval', '--model', ONNX, '--data', VAL, '--tta', 'none', '--out', d]],
    ['eval --out', 'confusion.png', (d: string) => ['eval', '--model', ONNX, '--data', VAL, '--tta', 'none', '--out', d]],
    ['bench --out', 'bench.json', (d: string) => ['bench', ONNX, '--iterations', '1', '--warmup', '0', '--batch', '1', '--out', d]],
    ['bench --out', 'bench.png', (d: string) => ['bench', ONNX, '--iterations', '1', '--warmup', '0', '--batch', '1', '--out', d]],
    ['report', 'report.html', (d: string) => ['report', d]],
    ['predict --annotate', 'PublicTest_10130075.png', (d: string) => ['predict', FACE, '--no-detect', '--annotate', d]],
  ])('%s: a user file %s is kept (exit 2, before the work)', async (_n, name, argv) => {
    const d = tmp();
    writeFileSync(path.join(d, name), 'mine');
    await refused(argv(d), new RegExp(`${name.replace('.', '\\.')} exists and was not written by fer`));
    expect(readFileSync(path.join(d, name), 'utf8')).toBe('mine');
  });

  it("fer's own outputs are replaced on the next run; a user's edit to one makes it the user's", async () => {
    const d = tmp();
    const argv = ['eval', '--model', ONNX, '--data', VAL, '--tta', 'none', '--out', d];
    expect((await cli(...argv)).code).toBe(0);
    expect((await cli(...argv)).code).toBe(0);
    writeFileSync(path.join(d, 'eval.json'), '{"mine": true}');
    await refused(argv, /eval\.json exists and was not written by fer/);
    expect(readFileSync(path.join(d, 'eval.json'), 'utf8')).toBe('{"mine": true}');
  });

  it("a run written before manifests (models/run) is still fer's: eval --out and report replace their files there", async () => {
    const run = path.join(tmp(), 'run');
    cpSync(path.join('models', 'run'), run, { recursive: true });
    expect((await cli('report', run)).code).toBe(0);
    expect((await cli('eval', '--model', ONNX, '--data', VAL, '--tta', 'none', '--out', run)).code).toBe(0);
    expect((await cli('report', run)).code).toBe(0);
  });
});

describe('item 3: a folder is a fer run only when its run.json says so', () => {
  it('{"tool":"x"} in run.json: fer train --out refuses (exit 2) and keeps run.json and metrics.jsonl', async () => {
    const f = tmp();
    writeFileSync(path.join(f, 'run.json'), '{"tool":"x"}');
    writeFileSync(path.join(f, 'metrics.jsonl'), 'my metrics\n');
    await refused(['train', '--data', VAL, '--epochs', '1', '--out', f, '--backend', TRAIN_BACKEND], /is not a fer run; refusing/);
    expect(readFileSync(path.join(f, 'run.json'), 'utf8')).toBe('{"tool":"x"}');
    expect(readFileSync(path.join(f, 'metrics.jsonl'), 'utf8')).toBe('my metrics\n');
  });
});

describe('item 4: never through a symlink', () => {
  it('S/metrics.jsonl → an outside file: fer train --out S exits 2 and the file is intact', async () => {
    const o = outsideFile();
    const s = tmp();
    writeFileSync(path.join(s, 'run.json'), JSON.stringify({ generatedBy: 'fer', command: 'fer train', options: {} }));
    symlinkSync(o.file, path.join(s, 'metrics.jsonl'));
    await refused(['train', '--data', VAL, '--epochs', '1', '--batch-size', '35', '--out', s, '--backend', TRAIN_BACKEND], /symbolic link/);
    expect(o.intact()).toBe(true);
  });

  it.each([
    ['eval.json', (d: string) => ['eval', '--model', ONNX, '--data', VAL, '--tta', 'none', '--out', d]],
    ['confusion.png', (d: string) => ['eval', '--model', ONNX, '--data', VAL, '--tta', 'none', '--out', d]],
    ['bench.json', (d: string) => ['bench', ONNX, '--iterations', '1', '--warmup', '0', '--batch', '1', '--out', d]],
    ['report.html', (d: string) => ['report', d]],
    ['PublicTest_10130075.png', (d: string) => ['predict', FACE, '--no-detect', '--annotate', d]],
    ['curves.png', (d: string) => ['train', '--data', VAL, '--epochs', '1', '--batch-size', '35', '--out', d, '--backend', TRAIN_BACKEND]],
  ])(
    '%s as a symlink to an outside file: exit 2, the file intact',
    async (name, argv) => {
      const o = outsideFile();
      const d = tmp();
      if (name === 'curves.png')
        writeFileSync(path.join(d, 'run.json'), JSON.stringify({ generatedBy: 'fer', command: 'fer train', options: {} }));
      symlinkSync(o.file, path.join(d, name));
      await refused(argv(d), /symbolic link/);
      expect(o.intact()).toBe(true);
    },
    60_000,
  );

  it('a model --out that is a symlink is refused, even with --force', async () => {
    const target = path.join(tmp(), 'q');
    expect((await cli('quantize', '--model', model, '--bits', '8', '--out', target, '--backend', 'cpu')).code).toBe(0);
    const link = path.join(tmp(), 'link');
    symlinkSync(target, link);
    await refused(['quantize', '--model', model, '--bits', '8', '--out', link, '--force', '--backend', 'cpu'], /symbolic link/);
  });
});

describe('item 9: --force replaces only fer files', () => {
  it("a run's NOTES.txt and a user sub-folder survive fer prune --finetune-epochs --force", async () => {
    const run = path.join(tmp(), 'ft');
    const argv = ['prune', '--model', model, '--target-sparsity', '0.5', '--finetune-epochs', '1', '--data', VAL, '--out', run];
    const first = await cli(...argv, '--backend', TRAIN_BACKEND);
    expect(first.code, first.stderr).toBe(0);
    writeFileSync(path.join(run, 'NOTES.txt'), 'what I tried');
    mkdirSync(path.join(run, 'mine'));
    writeFileSync(path.join(run, 'mine', 'plot.py'), 'print(1)');
    const again = await cli(...argv, '--force', '--backend', TRAIN_BACKEND);
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(path.join(run, 'NOTES.txt'), 'utf8')).toBe('what I tried');
    expect(readFileSync(path.join(run, 'mine', 'plot.py'), 'utf8')).toBe('print(1)');
    expect(existsSync(path.join(run, 'run.json'))).toBe(true);
    expect(readdirSync(run)).toEqual(expect.arrayContaining(['best', 'last', 'metrics.jsonl']));
  }, 300_000); // two prunes with --data, each refitting the kept weights before its fine-tune

  it('a model folder holding a file fer did not write is not replaced, even with --force', async () => {
    const out = path.join(tmp(), 'q');
    const argv = ['quantize', '--model', model, '--bits', '8', '--out', out, '--backend', 'cpu'];
    expect((await cli(...argv)).code).toBe(0);
    writeFileSync(path.join(out, 'NOTES.txt'), 'mine');
    await refused([...argv, '--force'], /holds files fer did not write \(NOTES\.txt\)/);
    expect(readFileSync(path.join(out, 'NOTES.txt'), 'utf8')).toBe('mine');
  });
});
