/**
 * Issue 34, items 7, 8, 11 and 12: model files that try to make fer read outside their folder, allocate
 * what they do not hold, or fail as "unexpected". tfjs and ONNX follow one rule: paths stay inside the
 * model's folder (ONNX external data included), sizes and dims are checked arithmetically against the files
 * before anything is allocated, and a message names the model's file and tells nothing about others.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli } from '../commands/cli.js';
import { saveFixtureModel, FIXTURE_DATA } from '../fixture-model.js';
import { useBackend } from '../../src/engine/backend.js';
import { loadModel } from '../../src/model/io.js';
import { onnx } from '../../src/onnx/proto.js';
import { DataType } from '../../src/onnx/builder.js';
import { buildModel } from '../../src/model/mini-xception.js';
import { convertToOnnx } from '../../src/convert/convert.js';
import { defaultMetadata } from '../../src/model/io.js';

const SHIPPED = path.join('models', 'onnx', 'fer-mini-xception.fp32.onnx');
const VAL = path.join(FIXTURE_DATA, 'val');
const FACE = path.join(VAL, 'happy', 'PublicTest_10130075.jpg');
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'fer-models-'));
const oneLine = (s: string) =>
  s
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('  hint:') && !/^fer: (backend |\S+: \d+ images)/.test(l)); // the error, without progress notes

/** The shipped ONNX with its first float initializer moved to external data at `location`. */
function externalOnnx(location: (dir: string) => string): { dir: string; file: string; bytes: Buffer } {
  const dir = path.join(tmp(), 'model');
  mkdirSync(dir);
  const m = onnx.ModelProto.decode(readFileSync(SHIPPED));
  const t = m.graph!.initializer!.find((x) => x.dataType === DataType.FLOAT && (x.rawData?.length ?? 0) > 64)!;
  const bytes = Buffer.from(t.rawData!);
  t.rawData = new Uint8Array();
  t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
  t.externalData = [onnx.StringStringEntryProto.create({ key: 'location', value: location(dir) })];
  const file = path.join(dir, 'model.onnx');
  writeFileSync(file, onnx.ModelProto.encode(m).finish());
  return { dir, file, bytes };
}

/** The shipped ONNX with one more, unused initializer of these dims holding `held` bytes. */
function dimsOnnx(dims: number[], held = 0): string {
  const m = onnx.ModelProto.decode(readFileSync(SHIPPED));
  m.graph!.initializer!.push(onnx.TensorProto.create({ name: 'unused', dataType: DataType.FLOAT, dims, rawData: new Uint8Array(held) }));
  const file = path.join(tmp(), 'bomb.onnx');
  writeFileSync(file, onnx.ModelProto.encode(m).finish());
  return file;
}

const uses = (file: string): string[][] => [
  ['predict', FACE, '--no-detect', '--model', file, '--json'],
  ['bench', file, '--iterations', '1', '--warmup', '0', '--batch', '1'],
  ['eval', '--model', file, '--data', VAL, '--tta', 'none'],
];

beforeAll(async () => {
  await useBackend('cpu');
});

describe('ONNX external data (item 7)', () => {
  it('data inside the folder loads; predict gives the same answer as the single-file model', async () => {
    const { dir, file, bytes } = externalOnnx(() => 'weights.bin');
    writeFileSync(path.join(dir, 'weights.bin'), bytes);
    const a = await cli('predict', FACE, '--no-detect', '--model', file, '--json');
    const b = await cli('predict', FACE, '--no-detect', '--model', SHIPPED, '--json');
    expect(a.code, a.stderr).toBe(0);
    expect(JSON.parse(a.stdout).faces[0].probabilities).toEqual(JSON.parse(b.stdout).faces[0].probabilities);
  }, 60_000);

  it.each([
    [
      'a ../ path',
      (dir: string) => {
        mkdirSync(path.join(dir, '..', 'outside'));
        return '../outside/secret.bin';
      },
    ],
    ['an absolute path', (dir: string) => path.join(dir, '..', 'outside-abs.bin')],
    ['a deep escape to a system file', () => '../../../../../../../../etc/passwd'],
    ['a symlink leading out', () => 'link.bin'],
  ])(
    '%s: predict, bench and eval exit 3 naming the model, telling nothing about the outside file',
    async (name, where) => {
      const { dir, file, bytes } = externalOnnx(where);
      writeFileSync(path.join(dir, '..', 'outside-abs.bin'), bytes);
      if (name.includes('../ path')) writeFileSync(path.join(dir, '..', 'outside', 'secret.bin'), bytes);
      if (name.includes('symlink'))
        (await import('node:fs')).symlinkSync(path.join(dir, '..', 'outside-abs.bin'), path.join(dir, 'link.bin'));
      const passwd = String(statSync('/etc/passwd').size);
      for (const argv of uses(file)) {
        const r = await cli(...argv);
        expect(r.code, `${argv[0]}: ${r.stderr}`).toBe(3);
        expect(oneLine(r.stderr), argv[0]).toHaveLength(1);
        expect(r.stderr).toMatch(/outside the model's folder/);
        expect(r.stderr).toContain(file);
        expect(r.stderr).not.toContain(String(bytes.length));
        expect(r.stderr).not.toContain(` ${passwd} `);
      }
    },
    60_000,
  );

  it('fer export web refuses a model with external data (the page loads one file), exit 3', async () => {
    const { dir, file, bytes } = externalOnnx(() => 'weights.bin');
    writeFileSync(path.join(dir, 'weights.bin'), bytes);
    const r = await cli('export', 'web', '--model', file, '--out', path.join(tmp(), 'site'));
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/external data/);
  });
});

describe('ONNX dims and sizes (items 7, 11)', () => {
  it('an unused initializer of dims [1e7, 1e7] is exit 3 within seconds in predict, bench and eval', async () => {
    const file = dimsOnnx([1e7, 1e7], 16);
    for (const argv of uses(file)) {
      const t0 = Date.now();
      const r = await cli(...argv);
      expect(r.code, `${argv[0]}: ${r.stderr}`).toBe(3);
      expect(r.stderr).toMatch(/has dims \[10000000,10000000\]/);
      expect(Date.now() - t0).toBeLessThan(10_000);
    }
  }, 60_000);

  it('a missing .onnx is 2 and an empty one 3, the same in predict, bench and eval', async () => {
    const missing = path.join(tmp(), 'none.onnx');
    const empty = path.join(tmp(), 'empty.onnx');
    writeFileSync(empty, '');
    for (const [file, code] of [
      [missing, 2],
      [empty, 3],
    ] as const) {
      for (const argv of uses(file)) {
        const r = await cli(...argv);
        expect(r.code, `${argv[0]} ${file}: ${r.stderr}`).toBe(code);
        expect(oneLine(r.stderr)).toHaveLength(1);
      }
    }
  });

  it('a model onnxruntime cannot check (an unknown op, a dangling input) is exit 3 in one line, not 4', async () => {
    for (const edit of [
      (m: ReturnType<typeof onnx.ModelProto.decode>) => (m.graph!.node![0].opType = 'NoSuchOp'),
      (m: ReturnType<typeof onnx.ModelProto.decode>) => (m.graph!.node![1].input![0] = 'dangling'),
    ]) {
      const m = onnx.ModelProto.decode(readFileSync(SHIPPED));
      edit(m);
      const file = path.join(tmp(), 'bad.onnx');
      writeFileSync(file, onnx.ModelProto.encode(m).finish());
      const r = await cli('predict', FACE, '--no-detect', '--model', file);
      expect(r.code, r.stderr).toBe(3);
      expect(oneLine(r.stderr)).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\.cc:\d+/);
    }
  });

  it('fer bench on an ONNX whose input is not 48×48 is a model error (3), not a crash (1)', async () => {
    const big = buildModel('mini-xception', { inputSize: 64, seed: 1 });
    const file = path.join(tmp(), 'big.onnx');
    writeFileSync(file, convertToOnnx(big, defaultMetadata()));
    big.dispose();
    const r = await cli('bench', file, '--iterations', '1', '--warmup', '0', '--batch', '1');
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/takes input \[N,64,64,1\]/);
  }, 60_000);
});

describe('tfjs model.json (items 8, 11, 12)', () => {
  let model: string;
  beforeAll(async () => {
    model = await saveFixtureModel(9);
  });
  function edited(edit: (json: { weightsManifest: unknown[] } & Record<string, unknown>) => void, name = 'm'): string {
    const dir = path.join(tmp(), name);
    cpSync(model, dir, { recursive: true });
    const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
    edit(json);
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
    return dir;
  }

  it('weights.bin listed 1,000 times is refused before it is read (no 1 GiB peak)', async () => {
    const dir = edited((j) => {
      const g = j.weightsManifest[0] as { paths: string[]; weights: unknown[] };
      g.paths = Array(1000).fill('weights.bin');
      g.weights = Array.from({ length: 1000 }, () => g.weights).flat();
    });
    const rss0 = process.memoryUsage().rss;
    await expect(loadModel(dir)).rejects.toMatchObject({ exitCode: 3, message: expect.stringMatching(/more than once/) });
    expect(process.memoryUsage().rss - rss0).toBeLessThan(200 * 2 ** 20);
  });

  it.each([
    ['weightsManifest: [null]', (j: Record<string, unknown>) => (j.weightsManifest = [null]), /weightsManifest\[0\]/],
    ['a string paths', (j: Record<string, unknown>) => ((j.weightsManifest as { paths: unknown }[])[0].paths = 'weights.bin'), /paths/],
    [
      'a non-numeric shape',
      (j: Record<string, unknown>) => ((j.weightsManifest as { weights: { shape: unknown[] }[] }[])[0].weights[0].shape = ['x', 3]),
      /weights\[0\]\.shape\[0\]/,
    ],
    ['model.json = null', (j: Record<string, unknown>) => Object.keys(j).forEach((k) => delete j[k]), /not a tfjs Layers model/],
  ])('%s is a one-line model error (3) saying what is wrong', async (_n, edit, message) => {
    const dir = edited(edit as never);
    const r = await cli('eval', '--model', dir, '--data', VAL, '--backend', 'cpu');
    expect(r.code, r.stderr).toBe(3);
    expect(oneLine(r.stderr), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/unknown dtype/);
  });

  it('a symlinked weight file leading out is refused without telling where it leads', async () => {
    const secret = path.join(tmp(), 'very-secret-place', 'w.bin');
    mkdirSync(path.dirname(secret));
    cpSync(path.join(model, 'weights.bin'), secret);
    const dir = edited((j) => ((j.weightsManifest[0] as { paths: string[] }).paths = ['w.bin']));
    (await import('node:fs')).symlinkSync(secret, path.join(dir, 'w.bin'));
    await expect(loadModel(dir)).rejects.toMatchObject({ exitCode: 3, message: expect.not.stringMatching(/very-secret-place/) });
  });

  it('export onnx --model x.onnx says it takes a tfjs model (not "is not valid JSON"), exit 2', async () => {
    const r = await cli('export', 'onnx', '--model', SHIPPED, '--out', path.join(tmp(), 'x.onnx'), '--backend', 'cpu');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is an ONNX file; this command takes a tfjs model folder/);
  });

  it('a photo given as --model is "not a model", exit 2 (it was "is not valid JSON", a damaged model, exit 3)', async () => {
    const photo = path.join(path.dirname(FIXTURE_DATA), 'scenes', 'one-face.jpg');
    const r = await cli('eval', '--model', photo, '--data', path.join(FIXTURE_DATA, 'val'), '--backend', 'cpu');
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim()).toBe(
      `fer: model: ${photo} is not a model (a fer model folder, its model.json, a run folder, or an .onnx file)`,
    );
  });

  it('a newline in a file name does not split the one-line error', async () => {
    const dir = path.join(tmp(), 'two\nlines');
    mkdirSync(dir);
    const r = await cli('eval', '--model', path.join(dir, 'm.onnx'), '--data', VAL);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toHaveLength(1);
  });
});
