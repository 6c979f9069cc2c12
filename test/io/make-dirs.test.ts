import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeDirs } from '../../src/io/make-dirs.js';

describe('makeDirs', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'fer-mkdirs-'));

  it('makes every missing level, and is a no-op on a folder that exists', () => {
    const deep = path.join(root, 'a', 'b', 'c');
    makeDirs(deep);
    expect(statSync(deep).isDirectory()).toBe(true);
    makeDirs(deep);
    makeDirs(path.relative(process.cwd(), path.join(root, 'a'))); // relative paths too
    expect(statSync(path.join(root, 'a', 'b')).isDirectory()).toBe(true);
  });

  it('refuses a file where a folder should be, with the system error', () => {
    const file = path.join(root, 'file');
    writeFileSync(file, 'x');
    expect(() => makeDirs(file)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(() => makeDirs(path.join(file, 'under'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
  });

  // Node 20's recursive mkdir never returns here (ENOENT from /proc with the parent present, retried forever).
  it.runIf(existsSync('/proc/self'))(
    'fails at once under /proc instead of looping',
    () => {
      expect(() => makeDirs('/proc/fer-no-such/dir')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    },
    5_000,
  );
});
