/** --model accepts a shipped model's name: resolved to the package's copy, never shadowing a real path. */
import { describe, it, expect } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_MODEL, DEFAULT_ONNX, MODELS_DIR, SHIPPED_MODELS, resolveModel } from '../../src/model/default.js';
import { cli } from '../commands/cli.js';
import { FIXTURE_DATA } from '../fixture-model.js';

describe('resolveModel', () => {
  it("maps a shipped model's name to its tfjs directory, or to its fp32 ONNX export for a classifier", () => {
    expect(resolveModel('fer-mini-xception')).toBe(DEFAULT_MODEL);
    expect(resolveModel('fer-mini-xception', 'onnx')).toBe(DEFAULT_ONNX);
  });

  it('every shipped model has its tfjs folder and its four ONNX exports, and resolves by name', () => {
    for (const name of SHIPPED_MODELS) {
      expect(existsSync(path.join(MODELS_DIR, name, 'model.json')), name).toBe(true);
      for (const p of ['fp32', 'fp16', 'int8', 'int8-tensorrt'])
        expect(existsSync(path.join(MODELS_DIR, 'onnx', `${name}.${p}.onnx`)), `${name} ${p}`).toBe(true);
      expect(resolveModel(name)).toBe(path.join(MODELS_DIR, name));
      expect(resolveModel(name, 'onnx')).toBe(path.join(MODELS_DIR, 'onnx', `${name}.fp32.onnx`));
    }
  });

  it('returns paths and unknown names as given', () => {
    expect(resolveModel('runs/x/best')).toBe('runs/x/best');
    expect(resolveModel('no-such-model', 'onnx')).toBe('no-such-model');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fer-resolve-'));
    const own = path.join(dir, 'fer-mini-xception');
    mkdirSync(own);
    const cwd = process.cwd();
    try {
      process.chdir(dir); // a folder of that name in the working directory is the user's, not the package's
      expect(resolveModel('fer-mini-xception')).toBe('fer-mini-xception');
    } finally {
      process.chdir(cwd);
    }
  });

  it('fer eval --model NAME evaluates the shipped model', async () => {
    const r = await cli('eval', '--model', 'fer-mini-xception', '--data', FIXTURE_DATA + '/val', '--tta', 'none', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).model).toBe(DEFAULT_MODEL);
  });
});
