/**
 * Flags that do nothing in an invocation are refused, naming what they apply to (they were ignored without a word:
 * `prune --ratio` without `--structured` ran a weight prune). Checked before any work; defaults never count.
 */
import { describe, it, expect } from 'vitest';
import { cli } from './cli.js';

const FACE = 'fixtures/scenes/one-face.jpg';

describe('flags that do nothing here', () => {
  it.each([
    [['prune', '--ratio', '0.5', '--out', '/tmp/fer-unused-p'], '--ratio', '--structured'],
    [['prune', '--structured', '--pattern', '2:4', '--out', '/tmp/fer-unused-p'], '--pattern', 'a weight prune'],
    [['prune', '--structured', '--target-sparsity', '0.3', '--out', '/tmp/fer-unused-p'], '--target-sparsity', 'a weight prune'],
    [['quantize', '--bits', '16', '--granularity', 'per-tensor', '--out', '/tmp/fer-unused-q'], '--granularity', 'integer bits'],
    [['export', 'onnx', '--precision', 'fp32', '--target', 'tensorrt'], '--target', '--precision int8'],
    [['export', 'onnx', '--precision', 'int8', '--no-keep-io-float32'], '--no-keep-io-float32', '--precision fp16'],
    [['predict', FACE, '--no-detect', '--detector', 'dlib'], '--detector', '--no-detect'],
    [
      ['train', '--data', 'fixtures/fer-mini/train', '--schedule', 'cosine', '--lr-factor', '0.5', '--out', '/tmp/fer-unused-t'],
      '--lr-factor',
      '--schedule plateau',
    ],
    [['train', '--data', 'fixtures/fer-mini/train', '--momentum', '0.8', '--out', '/tmp/fer-unused-t'], '--momentum', '--optimizer sgd'],
    [['eval', '--data', 'fixtures/fer-mini/val', '--usage', 'Training'], '--usage', 'CSV data'],
    [['bench', 'models/onnx/fer-mini-xception.fp32.onnx', '--trt-int8'], '--trt-int8', '--provider tensorrt'],
  ])('%j', async (argv, flag, appliesTo) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    const line = r.stderr.split('\n')[0];
    expect(line.startsWith(`fer: ${flag} does nothing here: it applies to `), line).toBe(true);
    expect(line).toContain(appliesTo);
  });

  it('the same flags where they apply, and defaults, pass the check', async () => {
    // --lr-patience with plateau reaches the data check (no such folder): past the flag check
    const r = await cli('train', '--data', '/no/such/data', '--schedule', 'plateau', '--lr-patience', '3', '--out', '/tmp/fer-unused-t2');
    expect(r.stderr).not.toMatch(/does nothing here/);
    const p = await cli('predict', FACE, '--no-detect', '--json');
    expect(p.code, p.stderr).toBe(0);
  });
});
