/**
 * expandInputs: a folder's own images and videos, sorted; with `recursive`, its subfolders too, depth first, never
 * hidden folders or symbolic links to folders (a link back to a parent cannot loop). `fer predict` hints at
 * --recursive when a folder holds only subfolders.
 */
import { describe, it, expect } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { expandInputs, hasSubfolders } from '../../src/predict/predict.js';
import { cli } from '../commands/cli.js';

function tree(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'fer-expand-'));
  for (const d of ['happy', 'sad/older', '.thumbs']) mkdirSync(path.join(root, 'set', d), { recursive: true });
  for (const f of [
    'happy/b.jpg',
    'happy/a.PNG',
    'happy/notes.txt',
    'happy/f.jfif',
    'sad/c.mp4',
    'sad/g.mpg',
    'sad/h.ts',
    'sad/older/d.webp',
    '.thumbs/e.jpg',
  ])
    writeFileSync(path.join(root, 'set', f), '');
  symlinkSync(path.join(root, 'set'), path.join(root, 'set', 'sad', 'loop'));
  return path.join(root, 'set');
}

// A folder a user cannot list: as root (CI) every folder can be listed, so the check runs as `nobody` there.
const asRoot = process.getuid?.() === 0;
const canDrop = !asRoot || spawnSync('runuser', ['-u', 'nobody', '--', 'true']).status === 0;

describe('expandInputs', () => {
  it.skipIf(!canDrop)('keeps a subfolder it cannot list as an input (reported unreadable later), not an abort of the whole run', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'fer-locked-'));
    mkdirSync(path.join(root, 'locked'));
    writeFileSync(path.join(root, 'a.jpg'), '');
    writeFileSync(path.join(root, 'locked', 'b.jpg'), '');
    chmodSync(root, 0o755);
    chmodSync(path.join(root, 'locked'), 0o000);
    const module = fileURLToPath(new URL('../../src/predict/predict.ts', import.meta.url));
    const script = `import { expandInputs } from ${JSON.stringify(module)}; console.log(JSON.stringify(expandInputs([${JSON.stringify(root)}], { recursive: true })));`;
    const cmd = [process.execPath, '--import', 'tsx', '--input-type=module', '-e', script];
    const r = asRoot
      ? spawnSync('runuser', ['-u', 'nobody', '--', ...cmd], { encoding: 'utf8' })
      : spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([path.join(root, 'a.jpg'), path.join(root, 'locked')]);
  });

  it('reads a folder one level deep by default, and every non-hidden subfolder with recursive', () => {
    const set = tree();
    const rel = (fs: string[]) => fs.map((f) => path.relative(set, f));
    expect(expandInputs([set])).toEqual([]);
    expect(hasSubfolders(set)).toBe(true);
    expect(rel(expandInputs([path.join(set, 'happy')]))).toEqual(['happy/a.PNG', 'happy/b.jpg', 'happy/f.jfif']);
    // .ts is left out (TypeScript as likely as an MPEG transport stream), .mpg taken
    expect(rel(expandInputs([set], { recursive: true }))).toEqual([
      'happy/a.PNG',
      'happy/b.jpg',
      'happy/f.jfif',
      'sad/c.mp4',
      'sad/g.mpg',
      'sad/older/d.webp',
    ]);
    // Files are kept as given, whatever their extension.
    expect(expandInputs(['x.txt'], { recursive: true })).toEqual(['x.txt']);
  });

  it('fer predict on a folder of subfolders says to use --recursive', async () => {
    const r = await cli('predict', tree(), '--no-detect');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no images or videos found[\s\S]*hint: folders are read one level deep; --recursive/);
  });
});
