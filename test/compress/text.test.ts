/** What `fer prune` and `fer quantize` print of their results (compress/text.ts), on results made by hand. */
import { it, expect } from 'vitest';
import { pruneText, quantizeText, slimText } from '../../src/compress/text.js';

it('prune: a row a layer, the totals with R (eq. 1), the model written', () => {
  const layers = [
    { name: 'conv1', total: 200, nonzero: 100, sparsity: 0.5 },
    { name: 'dense', total: 50, nonzero: 50, sparsity: 0 },
  ];
  const r = {
    interrupted: false as const,
    model: 'out/m',
    layers,
    total: 250,
    nonzero: 150,
    sparsity: 0.4,
    compressionRatio: 1.6667,
    kernelSparsity: 0.4,
  };
  expect(pruneText(r).split('\n')).toEqual([
    'layer  weights  non-zero  sparsity',
    '-----  -------  --------  --------',
    'conv1      200       100     50.0%',
    'dense       50        50      0.0%',
    '',
    'total 250 weights, 150 non-zero: sparsity 40.0%, compression ratio R = 1.67 (eq. 1)',
    'wrote out/m',
  ]);
});

it('quantize: fp16, or b-bit weights at their granularity', () => {
  const r = { interrupted: false as const, model: 'q', granularity: 'per-channel' as const, calibrationImages: 64, layersCalibrated: 9 };
  expect(quantizeText({ ...r, bits: 16 })).toBe('quantized to fp16 weights; calibrated 9 activations on 64 images; wrote q');
  expect(quantizeText({ ...r, bits: 4 })).toBe('quantized to 4-bit per-channel weights; calibrated 9 activations on 64 images; wrote q');
});

it('prune --structured: the channels kept, each module as first separable conv / output (an arrow read as before → after)', () => {
  const r = {
    interrupted: false as const,
    model: 'out/s',
    channels: { stem: [4, 4] as [number, number], inner: [8, 16], out: [8, 32] },
    parameters: { before: 2000, after: 1000 },
    macs: { before: 4000, after: 1000 },
    layers: [{ role: 'stem1', macsBefore: 4000, macsAfter: 1000, paramsBefore: 2000, paramsAfter: 1000 }],
  };
  const lines = slimText(r).split('\n');
  expect(lines).toContain('channels kept: stem 4, 4; modules (first separable conv / output) 8/8, 16/32');
  expect(lines).toContain('parameters 2000 → 1000 (50.0%), multiply-adds 4.0k → 1.0k (25.0%) per image');
  expect(lines.at(-1)).toBe('wrote out/s');
});
