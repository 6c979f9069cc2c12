/**
 * Execution providers (issue #33): the choice among the ones asked for, from onnxruntime-node's own list
 * (listSupportedBackends) and a probe session; a missing one is a one-line error with exit 2 unless
 * --fallback or auto; bench rows, --json, the table and createPredictor name the provider that ran.
 */
import { describe, it, expect, vi } from 'vitest';
import { DEFAULT_ONNX } from '../../src/model/default.js';
import {
  AUTO_PROVIDERS,
  availableProviders,
  chooseProvider,
  createSession,
  listedProviders,
  providerProblem,
  type Provider,
} from '../../src/runtime/ort.js';
import { UsageError } from '../../src/errors.js';
import { benchResultSchema } from '../../src/bench/schema.js';
import { createPredictor } from '../../src/predict/predictor.js';
import { cli } from '../commands/cli.js';

/** What this machine's onnxruntime-node runs (a GPU machine with CUDA installed has more than cpu). */
const AVAILABLE = await availableProviders();

/** A machine where exactly `have` run. */
const only =
  (...have: Provider[]) =>
  async (p: Provider) =>
    have.includes(p) ? null : `not on this test machine`;

describe('chooseProvider', () => {
  it('takes the first provider asked for that runs, with no note when it is the first', async () => {
    expect(await chooseProvider(['cuda', 'cpu'], {}, only('cpu', 'cuda'))).toEqual({ provider: 'cuda', requested: 'cuda,cpu' });
    expect(await chooseProvider('tensorrt', {}, only('cpu', 'cuda', 'tensorrt'))).toEqual({ provider: 'tensorrt', requested: 'tensorrt' });
    expect(await chooseProvider('cpu', {}, only('cpu'))).toEqual({ provider: 'cpu', requested: 'cpu' });
  });

  it('says which provider it skipped and why, never switching silently', async () => {
    const r = await chooseProvider(['tensorrt', 'cuda', 'cpu'], {}, only('cpu', 'cuda'));
    expect(r.provider).toBe('cuda');
    expect(r.note).toBe('execution provider "tensorrt" is not available: not on this test machine; running on cuda');
  });

  it('auto: cuda where it runs, else cpu (with a note); never tensorrt', async () => {
    expect(AUTO_PROVIDERS).toEqual(['cuda', 'cpu']);
    expect(await chooseProvider('auto', {}, only('cpu', 'cuda', 'tensorrt'))).toEqual({ provider: 'cuda', requested: 'auto' });
    const cpu = await chooseProvider('auto', {}, only('cpu'));
    expect(cpu).toMatchObject({ provider: 'cpu', requested: 'auto' });
    expect(cpu.note).toMatch(/"cuda" is not available.*running on cpu/);
  });

  it('none of them: a one-line usage error (exit 2) naming the provider, why, and what is available', async () => {
    const e = await chooseProvider('cuda', { what: 'bench' }, only('cpu')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect((e as UsageError).exitCode).toBe(2);
    expect((e as UsageError).message).toBe('bench: execution provider "cuda" is not available: not on this test machine (available: cpu)');
    expect((e as UsageError).hint).toMatch(/CUDA 12 and cuDNN 9.*ONNXRUNTIME_NODE_INSTALL=cuda12.*--fallback/);
  });

  it('--fallback: cpu, with a note naming what was missing', async () => {
    const r = await chooseProvider(['tensorrt', 'cuda'], { fallback: true }, only('cpu'));
    expect(r.provider).toBe('cpu');
    expect(r.note).toMatch(/"tensorrt" is not available.*"cuda" is not available.*falling back to cpu \(--fallback\)/);
  });
});

describe("this machine's onnxruntime-node", () => {
  it("lists providers with onnxruntime's own listSupportedBackends; those that run here are what chooseProvider picks from", async () => {
    const listed = listedProviders().map((b) => b.name);
    expect(listed).toContain('cpu');
    if (process.platform === 'linux' && process.arch === 'x64') expect(listed).toEqual(expect.arrayContaining(['cuda', 'tensorrt']));
    const available = await availableProviders();
    expect(available[0]).toBe('cpu');
    for (const p of ['cuda', 'tensorrt'] as const) {
      const why = await providerProblem(p);
      expect(why === null).toBe(available.includes(p));
      if (why !== null) expect(why).not.toMatch(/\n/);
    }
  });

  it('createSession reports the provider it runs on and what was asked', async () => {
    const s = await createSession(DEFAULT_ONNX, { provider: 'auto' });
    const expected = (await availableProviders()).includes('cuda') ? 'cuda' : 'cpu';
    expect([s.provider, s.requested]).toEqual([expected, 'auto']);
    await s.release();
  });

  it.skipIf(AVAILABLE.includes('tensorrt'))(
    'a provider missing here fails, or runs on cpu with --fallback, in fer bench (table, --json) and createPredictor',
    async () => {
      const r = await cli('bench', DEFAULT_ONNX, '--provider', 'tensorrt', '--iterations', '2', '--batch', '1');
      expect(r.code).toBe(2);
      expect(r.stderr.split('\n')[0]).toMatch(/^fer: bench: execution provider "tensorrt" is not available: .*\(available: cpu/);
      expect(r.stdout).toBe('');

      const f = await cli('bench', DEFAULT_ONNX, '--provider', 'tensorrt', '--fallback', '--iterations', '2', '--batch', '1', '--json');
      expect(f.code, f.stderr).toBe(0);
      const res = benchResultSchema.parse(JSON.parse(f.stdout));
      expect(res.rows[0]).toMatchObject({ provider: 'cpu', requestedProvider: 'tensorrt' });
      expect(res.notes.join()).toMatch(/"tensorrt" is not available.*falling back to cpu/);

      const t = await cli('bench', DEFAULT_ONNX, '--provider', 'tensorrt', '--fallback', '--iterations', '2', '--batch', '1');
      expect(t.code).toBe(0);
      expect(t.stdout).toMatch(/provider/);
      expect(t.stdout).toMatch(/cpu \(asked tensorrt\)/);
      expect(t.stderr).toMatch(/falling back to cpu/);

      await expect(createPredictor({ executionProviders: ['tensorrt'] })).rejects.toThrow(/"tensorrt" is not available/);
      const p = await createPredictor({ executionProviders: ['tensorrt', 'cpu'] });
      expect(p.provider).toBe('cpu');
      expect(p.providerNote).toMatch(/"tensorrt" is not available.*running on cpu/);
      await p.dispose();
    },
  );

  it('fer bench --provider auto runs and names the provider in every row', async () => {
    const r = await cli('bench', DEFAULT_ONNX, '--provider', 'auto', '--iterations', '2', '--batch', '1,2', '--json');
    expect(r.code, r.stderr).toBe(0);
    const res = benchResultSchema.parse(JSON.parse(r.stdout));
    const ran = (await availableProviders()).includes('cuda') ? 'cuda' : 'cpu';
    for (const row of res.rows) expect(row).toMatchObject({ provider: ran, requestedProvider: 'auto' });
  });
});

describe('createSession: spinning threads', () => {
  // onnxruntime's intra-op threads spin between runs unless told not to: beside fer predict's other work that burnt
  // a fifth of its CPU. Off unless asked for (fer bench asks).
  it('turns onnxruntime spinning off by default and on when asked', async () => {
    const ort = await import('onnxruntime-node');
    const seen: unknown[] = [];
    const create = ort.InferenceSession.create.bind(ort.InferenceSession);
    const spy = vi.spyOn(ort.InferenceSession, 'create').mockImplementation(((m: string, o: unknown) => {
      seen.push((o as { extra?: { session?: Record<string, string> } }).extra?.session?.['intra_op.allow_spinning']);
      return create(m, o as never);
    }) as never);
    try {
      for (const o of [{}, { spinning: true }, { spinning: false, threads: 2 }])
        await (await createSession(DEFAULT_ONNX, o)).session.release();
    } finally {
      spy.mockRestore();
    }
    expect(seen).toEqual(['0', '1', '0']);
  });
});
