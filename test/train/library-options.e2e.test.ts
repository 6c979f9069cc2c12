/**
 * The library's training entry points take the options a caller gives, the rest at `fer train`'s defaults, as the
 * README says (they required every one of the schema's ~50 fields: a TS2740 error, or a TypeError from plain JS).
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveRunInputs, trainRun } from '../../src/index.js';
import { FIXTURE_DATA } from '../fixture-model.js';

describe('trainRun with partial options', () => {
  it('fills the rest from the schema, which refuses a bad value', async () => {
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'fer-libtrain-')), 'run');
    const r = resolveRunInputs({ out, source: { data: FIXTURE_DATA + '/train', val: FIXTURE_DATA + '/val' } });
    const result = await trainRun(r, { epochs: 1, batchSize: 32, seed: 3 });
    expect(result.history).toHaveLength(1);
    const run = JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8'));
    expect(run.options).toMatchObject({ epochs: 1, batchSize: 32, seed: 3, lr: 1e-3, optimizer: 'adam', labelSmoothing: 0 });
    await expect(trainRun(r, { epochs: 0 })).rejects.toThrow(/epochs/);
  }, 120_000);
});
