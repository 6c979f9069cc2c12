/**
 * Fuzz of the readers users point at their own files: folder datasets, Kaggle CSVs, model folders and ONNX
 * files (external data, dims), on generated bad inputs (truncated, wrong sizes, random bytes, path escapes,
 * huge dimensions); of the places outputs are written to (links, user files, inputs); and of requests to
 * fer serve (issue 34). Every input
 * either loads or fails as a documented error (exit 2 for data, 3 for models) — never "unexpected" (1) —
 * and nothing outside the temporary folder is touched.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { cpSync, linkSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { useBackend } from '../../src/engine/backend.js';
import { loadDataset } from '../../src/data/dataset.js';
import { loadModel } from '../../src/model/io.js';
import { describeError } from '../../src/commands/handle-error.js';
import { saveFixtureModel, FIXTURE_DATA } from '../fixture-model.js';
import { Rng } from '../../src/util/rng.js';
import { onnx } from '../../src/onnx/proto.js';
import { inspectOnnx } from '../../src/onnx/inspect.js';
import { createSession } from '../../src/runtime/ort.js';
import { clearProtectedInputs, protectInput, writeOutput } from '../../src/io/output.js';
import { serveSite } from '../../src/web/site.js';
import { oneLine } from '../../src/util/text-table.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'fer-fuzz-'));
const sandbox = path.join(root, 'sandbox');
const sentinel = path.join(root, 'outside.bin');
const rng = new Rng(2026);
const rand = () => rng.next();
const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
const jpeg = readFileSync(path.join(FIXTURE_DATA, 'val', 'happy', 'PublicTest_10130075.jpg'));

/** A PNG header that claims width × height, without the pixels (an image bomb's first bytes). */
function pngHeader(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(25);
  ihdr.writeUInt32BE(13, 0);
  ihdr.write('IHDR', 4, 'latin1');
  ihdr.writeUInt32BE(width, 8);
  ihdr.writeUInt32BE(height, 12);
  ihdr[16] = 8;
  ihdr[17] = 0;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ihdr]);
}

const imageFuzz: (() => Buffer)[] = [
  () => bytes(Math.floor(rand() * 4000)),
  () => jpeg.subarray(0, Math.floor(rand() * jpeg.length)),
  () => Buffer.alloc(0),
  () => pngHeader(1 + Math.floor(rand() * 200_000), 1 + Math.floor(rand() * 200_000)),
  () => Buffer.concat([jpeg.subarray(0, 200), bytes(500)]),
  () => jpeg,
];

function folderCase(k: number): string {
  const dir = path.join(sandbox, `folder-${k}`);
  const classes = ['happy', 'sad', pick(['angry', 'neutral', 'Happy', 'not-a-class', '.hidden'])];
  for (const c of classes.slice(0, 1 + Math.floor(rand() * 3))) {
    mkdirSync(path.join(dir, c), { recursive: true });
    const n = Math.floor(rand() * 4);
    for (let i = 0; i < n; i++) writeFileSync(path.join(dir, c, `${i}${pick(['.jpg', '.png', '.txt', ''])}`), pick(imageFuzz)());
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

function csvCase(k: number): string {
  const f = path.join(sandbox, `data-${k}.csv`);
  const row = () => {
    const n = pick([2304, 2304, 2303, 0, 10]);
    const px = Array.from({ length: n }, () => pick([String(Math.floor(rand() * 256)), '256', '-1', 'x', '1e3', '']));
    return `${pick(['0', '3', '7', '-1', 'x', ''])},${px.join(' ')},${pick(['Training', 'PublicTest', 'Tarining', ''])}`;
  };
  const header = pick(['emotion,pixels,Usage', 'emotion,pixels', 'label,image', '']);
  const body = rand() < 0.2 ? bytes(300).toString('latin1') : Array.from({ length: Math.floor(rand() * 4) }, row).join('\n');
  writeFileSync(f, `${header}\n${body}\n`);
  return f;
}

let goodModel: string;
function modelCase(k: number): string {
  const dir = path.join(sandbox, `model-${k}`);
  cpSync(goodModel, dir, { recursive: true });
  const file = path.join(dir, 'model.json');
  const json = JSON.parse(readFileSync(file, 'utf8'));
  const edit = Math.floor(rand() * 8);
  if (edit === 0) writeFileSync(file, readFileSync(file, 'utf8').slice(0, Math.floor(rand() * 2000)));
  else if (edit === 1) writeFileSync(file, bytes(200));
  else if (edit === 2)
    json.weightsManifest[0].paths = [pick(['../outside.bin', '../../outside.bin', sentinel, '/etc/hostname', 'sub/../../outside.bin'])];
  else if (edit === 3) writeFileSync(path.join(dir, 'weights.bin'), bytes(Math.floor(rand() * 1000)));
  else if (edit === 4) json.weightsManifest[0].weights[0].shape = [1e6, 1e6];
  else if (edit === 5) json.weightsManifest = pick([null, [], [{}], 'x']);
  else if (edit === 6) delete json.modelTopology;
  else json.weightsManifest[0].weights[Math.floor(rand() * 10)].dtype = pick(['float64', 'complex64', 'string']);
  if (edit >= 2) writeFileSync(file, JSON.stringify(json));
  return dir;
}

describe('fuzz: dataset readers and the model loader on bad inputs', () => {
  beforeAll(async () => {
    await useBackend('cpu');
    mkdirSync(sandbox, { recursive: true });
    writeFileSync(sentinel, 'outside');
    goodModel = await saveFixtureModel(8);
  });

  it('≥ 200 generated inputs: loaded, or a documented error (2 or 3); nothing outside touched', async () => {
    const before = statSync(sentinel);
    const codes = new Map<number, number>();
    const cases: [string, () => Promise<unknown>][] = [];
    for (let k = 0; k < 80; k++) {
      const d = folderCase(k);
      cases.push([d, () => loadDataset(d, { cache: false })]);
    }
    for (let k = 0; k < 70; k++) {
      const f = csvCase(k);
      cases.push([f, () => loadDataset(f, { usage: pick([undefined, 'Training']) as 'Training' | undefined })]);
    }
    for (let k = 0; k < 60; k++) {
      const d = modelCase(k);
      cases.push([d, async () => (await loadModel(d)).model.dispose()]);
    }
    expect(cases.length).toBeGreaterThanOrEqual(200);
    const t0 = Date.now();
    for (const [input, load] of cases) {
      let code = 0;
      try {
        await load();
      } catch (e) {
        code = describeError(e).exitCode;
        expect([2, 3], `${input}: ${(e as Error).message}`).toContain(code);
        expect((e as Error).message.split('\n'), input).toHaveLength(1);
      }
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    expect(Date.now() - t0).toBeLessThan(60_000);
    // Each outcome occurs: some inputs load (with skipped files), bad data is 2, bad models 3.
    expect([...codes.keys()].sort()).toEqual([0, 2, 3]);
    const after = statSync(sentinel);
    expect(readFileSync(sentinel, 'utf8')).toBe('outside');
    expect(after.mtimeMs).toBe(before.mtimeMs);
  }, 120_000);
});

/** The shipped classifier with one generated edit: bad bytes, escaping external data, impossible dims. */
function onnxCase(k: number, base: Uint8Array): string {
  const dir = path.join(sandbox, `onnx-${k}`);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'model.onnx');
  const edit = Math.floor(rand() * 6);
  if (edit === 0) writeFileSync(file, base.subarray(0, Math.floor(rand() * base.length)));
  else if (edit === 1) writeFileSync(file, bytes(Math.floor(rand() * 3000)));
  else {
    const m = onnx.ModelProto.decode(base);
    const inits = m.graph!.initializer!.filter((t) => (t.rawData?.length ?? 0) > 0);
    const t = pick(inits);
    if (edit === 2 || edit === 3) {
      const location = pick([
        '../outside.bin',
        sentinel,
        '../../../../../../etc/passwd',
        'sub/../../outside.bin',
        'missing.bin',
        'w.bin',
        'a\nb',
      ]);
      writeFileSync(path.join(dir, 'w.bin'), edit === 2 ? Buffer.from(t.rawData!) : bytes(Math.floor(rand() * 100)));
      t.rawData = new Uint8Array();
      t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      t.externalData = [onnx.StringStringEntryProto.create({ key: 'location', value: location })];
      if (rand() < 0.3)
        t.externalData.push(onnx.StringStringEntryProto.create({ key: 'offset', value: pick(['-4', '1e30', '99999999', '0']) }));
    } else if (edit === 4) t.dims = pick([[1e7, 1e7], [-1, 4], [2 ** 40, 2 ** 40], [3], []]);
    else m.graph!.initializer!.push(onnx.TensorProto.create({ name: 'unused', dataType: 1, dims: [1e7, 1e7], rawData: bytes(8) }));
    writeFileSync(file, onnx.ModelProto.encode(m).finish());
  }
  return file;
}

describe('fuzz: ONNX files, output places and serve requests (issue 34)', () => {
  it('≥ 60 generated ONNX files: loaded, or exit 2/3 in one line, telling nothing of the outside; nothing outside touched', async () => {
    const before = statSync(sentinel);
    const base = readFileSync(path.join('models', 'onnx', 'fer-mini-xception.fp32.onnx'));
    const codes = new Set<number>();
    const t0 = Date.now();
    for (let k = 0; k < 60; k++) {
      const file = onnxCase(k, base);
      let code = 0;
      try {
        inspectOnnx(file);
        await (await createSession(file)).session.release();
      } catch (e) {
        code = describeError(e).exitCode;
        const m = (e as Error).message;
        expect([2, 3], `${file}: ${m}`).toContain(code);
        expect(oneLine(m).split('\n'), m).toHaveLength(1);
        expect(m).not.toMatch(new RegExp(`\\b${statSync('/etc/passwd').size}\\b`));
      }
      codes.add(code);
    }
    expect(Date.now() - t0).toBeLessThan(60_000);
    expect([...codes].sort()).toContain(3);
    expect(readFileSync(sentinel, 'utf8')).toBe('outside');
    expect(statSync(sentinel).mtimeMs).toBe(before.mtimeMs);
  }, 120_000);

  it('≥ 100 generated output places: written, or refused (2) — never through a link, onto a user file or an input', () => {
    const before = statSync(sentinel);
    const outcomes = new Map<string, number>();
    for (let k = 0; k < 100; k++) {
      const dir = path.join(sandbox, `out-${k}`);
      mkdirSync(dir, { recursive: true });
      const target = path.join(dir, pick(['eval.json', 'bench.png', 'x.png', 'report.html']));
      const kind = pick(['none', 'symlink', 'hardlink', 'user', 'folder', 'fer', 'fer-edited', 'input', 'dangling']);
      if (kind === 'symlink') symlinkSync(sentinel, target);
      if (kind === 'dangling') symlinkSync(path.join(root, 'nowhere', 'x'), target);
      if (kind === 'hardlink') linkSync(sentinel, target);
      if (kind === 'user' || kind === 'input') writeFileSync(target, 'mine');
      if (kind === 'folder') mkdirSync(target);
      if (kind === 'fer' || kind === 'fer-edited') writeOutput(target, 'fer wrote this');
      if (kind === 'fer-edited') writeFileSync(target, 'the user changed it');
      if (kind === 'input') protectInput(target);
      let code = 0;
      try {
        writeOutput(target, 'new');
      } catch (e) {
        code = describeError(e).exitCode;
        expect(code, (e as Error).message).toBe(2);
      }
      clearProtectedInputs();
      const expected = kind === 'none' || kind === 'fer' ? 0 : 2;
      expect(code, `${kind} ${target}`).toBe(expected);
      if (kind === 'user' || kind === 'input') expect(readFileSync(target, 'utf8')).toBe('mine');
      if (kind === 'fer-edited') expect(readFileSync(target, 'utf8')).toBe('the user changed it');
      outcomes.set(kind, (outcomes.get(kind) ?? 0) + 1);
    }
    expect(outcomes.size).toBeGreaterThanOrEqual(8);
    expect(readFileSync(sentinel, 'utf8')).toBe('outside');
    expect(statSync(sentinel).mtimeMs).toBe(before.mtimeMs);
  });

  it('≥ 300 generated requests to fer serve: 200/400/404/405 only, nothing outside served, the server stays up', async () => {
    const site = path.join(sandbox, 'site');
    mkdirSync(path.join(site, 'sub'), { recursive: true });
    writeFileSync(path.join(site, 'index.html'), 'page');
    writeFileSync(path.join(site, 'sub', 'a.txt'), 'inside');
    symlinkSync(sentinel, path.join(site, 'link.bin'));
    symlinkSync(root, path.join(site, 'rootlink'));
    const server = await serveSite(site);
    const port = (server.server.address() as { port: number }).port;
    const parts = [
      '',
      '.',
      '..',
      '%2e%2e',
      '%2f',
      '%',
      '%zz',
      '%00',
      'sub',
      'a.txt',
      'index.html',
      'link.bin',
      'rootlink',
      'outside.bin',
      '%C0%AE',
      '\u00e9',
      '?x',
      '#y',
      '//',
    ];
    try {
      for (let k = 0; k < 300; k++) {
        const p = '/' + Array.from({ length: 1 + Math.floor(rand() * 4) }, () => pick(parts)).join('/');
        const method = rand() < 0.9 ? 'GET' : pick(['POST', 'PUT', 'DELETE', 'HEAD']);
        const r = await rawRequest(port, p, method);
        expect([200, 400, 404, 405], `${method} ${p}`).toContain(r.status);
        expect(r.body, p).not.toContain('outside');
      }
      expect((await rawRequest(port, '/sub/a.txt', 'GET')).body).toBe('inside');
    } finally {
      await server.close();
    }
  });
});

/** One HTTP request with its path sent as is (no client-side normalisation). */
function rawRequest(port: number, p: string, method: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: encodeURI(p).replace(/%25/g, '%'), method }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
