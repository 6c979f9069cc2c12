/**
 * Training where the native addon is absent: `auto` falls back to wasm (saying why) and one epoch of `train()`
 * runs to the end. The addon is hidden with FER_NATIVE_ADDON (a path that does not exist), so this runs the same
 * on a machine with oneDNN and one without; the other train() tests need fer-native and skip there.
 */
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadDataset, train, trainOptionsSchema, useBackend, type Dataset } from '../../src/index.js';
import { FIXTURE_DATA } from '../fixture-model.js';

describe('train on wasm, without the native addon', () => {
  let ds: Dataset;
  beforeAll(async () => {
    vi.stubEnv('FER_NATIVE_ADDON', path.join(os.tmpdir(), 'no-such-dir', 'fer_native.node')); // read on the addon's first use
    ds = await loadDataset(path.join(FIXTURE_DATA, 'val'), { cache: false });
  });

  afterAll(() => vi.unstubAllEnvs());

  it('auto picks wasm and one epoch trains and writes the run', async () => {
    const backend = await useBackend('auto');
    expect(backend.name).toBe('wasm');
    expect(backend.note).toMatch(/fer-native unavailable .*not found/);
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'fer-wasm-')), 'run');
    const r = await train(ds, ds, trainOptionsSchema.parse({ epochs: 1, batchSize: 35, seed: 2 }), { out });
    expect(r.stopReason).toBe('done');
    expect(r.history).toHaveLength(1);
    expect(Number.isFinite(r.history[0].loss)).toBe(true);
    for (const f of ['last/model.json', 'best/model.json', 'checkpoint/state.json', 'metrics.jsonl'])
      expect(existsSync(path.join(out, f)), f).toBe(true);
    expect(JSON.parse(readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim()).epoch).toBe(1);
  });
});
