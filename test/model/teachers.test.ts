import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MODELS_DIR, resolveTeacher } from '../../src/model/default.js';

describe('resolveTeacher (fer train --teacher NAME)', () => {
  const store = mkdtempSync(path.join(os.tmpdir(), 'fer-teachers-'));
  mkdirSync(path.join(store, 'resnet18-w32'));
  writeFileSync(path.join(store, 'resnet18-w32', 'model.json'), '{}');
  mkdirSync(path.join(store, 'empty'));

  it('a teacher kept in the store resolves by name to its folder', () => {
    expect(resolveTeacher('resnet18-w32', store)).toBe(path.join(store, 'resnet18-w32'));
  });
  it('an existing path wins over a name, and a path is never looked up in the store', () => {
    const cwdDir = mkdtempSync(path.join(os.tmpdir(), 'fer-teacher-path-'));
    expect(resolveTeacher(cwdDir, store)).toBe(cwdDir);
    expect(resolveTeacher('runs/resnet18-w32', store)).toBe('runs/resnet18-w32');
  });
  it('a folder without model.json, or an unknown name, comes back as given (the caller reports it missing)', () => {
    expect(resolveTeacher('empty', store)).toBe('empty');
    expect(resolveTeacher('no-such-teacher', store)).toBe('no-such-teacher');
  });
  it('shipped models resolve by name too (the default model can teach)', () => {
    expect(resolveTeacher('fer-mini-xception', store)).toBe(path.join(MODELS_DIR, 'fer-mini-xception'));
  });
});
