/**
 * Issue 34, items 10 and 11: a run's files are checked by schema (zod) on resume. A hand-edited or damaged
 * state.json, optimizer.json, optimizer.bin or run.json is a bad run: exit 3 naming the file and the field,
 * never a run trained on nonsense (negative epochs, a NaN epoch), never "bad flags" (2) or a crash (1).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli } from '../commands/cli.js';
import { FIXTURE_DATA } from '../fixture-model.js';
import { registerNativeBackend } from '../../src/engine/native/backend.js';
import { resolveRunInputs } from '../../src/train/run.js';
import { ModelError } from '../../src/errors.js';

const TRAIN_BACKEND = registerNativeBackend() ? 'native' : 'wasm';
const VAL = path.join(FIXTURE_DATA, 'val');
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'fer-runfiles-'));
const errorLines = (s: string) =>
  s
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('  hint:') && !/^fer: (backend |\S+: \d+ images|training for|resuming)/.test(l));

let run: string;
beforeAll(async () => {
  run = path.join(tmp(), 'run');
  const r = await cli('train', '--data', VAL, '--epochs', '2', '--batch-size', '35', '--out', run, '--backend', TRAIN_BACKEND);
  expect(r.code, r.stderr).toBe(0);
  // the run's end says where its pictures are
  expect(r.stderr).toContain(`fer: curves: ${path.join(run, 'curves.png')}; all of the run on one page: fer report ${run}`);
  // Its checkpoint as if stopped after epoch 1 (a finished run has nothing to resume, and its files are not read).
  const state = path.join(run, 'checkpoint', 'state.json');
  writeFileSync(state, JSON.stringify({ ...JSON.parse(readFileSync(state, 'utf8')), epoch: 1, bestEpoch: 1 }));
}, 120_000);

/** A copy of the run with one file edited. */
function edited(file: string, edit: (text: string) => string): string {
  const dir = path.join(tmp(), 'run');
  cpSync(run, dir, { recursive: true });
  const f = path.join(dir, file);
  writeFileSync(f, edit(readFileSync(f, 'utf8')));
  return dir;
}
const merged = (o: Record<string, unknown>) => (t: string) => JSON.stringify({ ...JSON.parse(t), ...o });
const setJson = (key: string, value: unknown) => (t: string) => JSON.stringify({ ...JSON.parse(t), [key]: value });

describe('resume on edited or damaged run files', () => {
  it.each([
    ['state.json epoch -3', 'checkpoint/state.json', setJson('epoch', -3), /state\.json: epoch: /],
    ['state.json batch 1000000', 'checkpoint/state.json', setJson('batch', 1_000_000), /state\.json: batch: /],
    ['state.json = null', 'checkpoint/state.json', () => 'null', /state\.json: \(the whole file\)/],
    [
      'an edited option in state.json',
      'checkpoint/state.json',
      (t: string) => {
        const s = JSON.parse(t);
        s.options.lr = 'fast';
        return JSON.stringify(s);
      },
      /state\.json: options\.lr: /,
    ],
    ['optimizer.json {}', 'checkpoint/optimizer.json', () => '{}', /optimizer\.json: slots: /],
    [
      'optimizer.json with a bad shape',
      'checkpoint/optimizer.json',
      (t: string) => t.replace(/"shape":\[\d+/, '"shape":[-5'),
      /optimizer\.json: slots\.\d+\.shape/,
    ],
    ['optimizer.json truncated', 'checkpoint/optimizer.json', (t: string) => t.slice(0, 20), /optimizer\.json is not valid JSON/],
    ['run.json = null', 'run.json', () => 'null', /run\.json: \(the whole file\)/],
    ['run.json with a numeric data', 'run.json', setJson('data', 7), /run\.json: data: /],
  ])(
    '%s: exit 3 naming the file and field',
    async (_n, file, edit, message) => {
      const dir = edited(file, edit);
      const r = await cli('train', '--resume', dir, '--backend', TRAIN_BACKEND, '--json');
      expect(r.code, r.stderr).toBe(3);
      expect(errorLines(r.stderr), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain(path.join(dir, file));
    },
    60_000,
  );

  it('optimizer.bin shorter than optimizer.json describes: exit 3 before it is read', async () => {
    const dir = edited('checkpoint/optimizer.bin', () => 'x');
    const r = await cli('train', '--resume', dir, '--backend', TRAIN_BACKEND);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/optimizer\.bin holds \d+ bytes/);
  });

  it('a lock that is a folder: exit 2 naming it (not a crash)', async () => {
    const dir = edited('run.json', (t) => t);
    mkdirSync(path.join(dir, 'lock'));
    const r = await cli('train', '--resume', dir, '--backend', TRAIN_BACKEND);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/lock is not a lock file fer wrote/);
    rmSync(path.join(dir, 'lock'), { recursive: true });
  });

  it("--resume from another folder: run.json's relative paths are taken from the folder the run started in (its cwd)", () => {
    const rel = edited('run.json', merged({ cwd: FIXTURE_DATA, data: 'val', val: 'train' }));
    const r = resolveRunInputs({ resume: rel, source: { data: undefined, val: undefined } });
    expect(r.source).toMatchObject({ data: path.join(FIXTURE_DATA, 'val'), val: path.join(FIXTURE_DATA, 'train') });
    // not there (or no cwd recorded, as before): the path as typed, which the data check then names
    const missing = edited('run.json', merged({ cwd: FIXTURE_DATA, data: 'nowhere' }));
    expect((resolveRunInputs({ resume: missing, source: { data: undefined } }).source as { data: string }).data).toBe('nowhere');
    const old = edited('run.json', merged({ cwd: undefined, data: 'val' }));
    expect((resolveRunInputs({ resume: old, source: { data: undefined } }).source as { data: string }).data).toBe('val');
  });

  it('a new run stores its option paths absolute (the checkpoint is read on --resume from any folder) and the folder it began in', async () => {
    const out = path.join(tmp(), 'abs');
    const init = path.join('models', 'fer-mini-xception'); // relative to the tests' working folder, the checkout
    const r = await cli(
      'train',
      '--data',
      path.relative(process.cwd(), VAL),
      '--init',
      init,
      '--epochs',
      '1',
      '--out',
      out,
      '--backend',
      TRAIN_BACKEND,
    );
    expect(r.code, r.stderr).toBe(0);
    const runJson = JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8'));
    expect(runJson.cwd).toBe(process.cwd());
    expect(runJson.options.init).toBe(path.resolve(init));
    expect(JSON.parse(readFileSync(path.join(out, 'checkpoint', 'state.json'), 'utf8')).options.init).toBe(path.resolve(init));
  }, 120_000);

  it("the library's resolveRunInputs gives a resumed run's options parsed, and a bad one as the file's ModelError (exit 3)", () => {
    const ok = resolveRunInputs({ resume: run, source: { data: undefined } });
    expect(ok.stored).toMatchObject({ epochs: 2, batchSize: 35 });
    const dir = edited('run.json', (t) => JSON.stringify({ ...JSON.parse(t), options: { ...JSON.parse(t).options, lr: -1 } }));
    expect(() => resolveRunInputs({ resume: dir, source: { data: undefined } })).toThrow(ModelError);
    expect(() => resolveRunInputs({ resume: dir, source: { data: undefined } })).toThrow(`${path.join(dir, 'run.json')}: options.lr:`);
  });
});
