/**
 * Ctrl-C during `fer train` (a real process and a real SIGINT): the run stops within a batch or two, saves a
 * mid-epoch checkpoint, exits 130, and `--resume` takes it from there (noted in run.json). Commands without a
 * graceful stop say they were interrupted and exit 130.
 */
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIXTURE_DATA } from '../fixture-model.js';

const bin = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../bin/fer');

describe('fer train and SIGINT', () => {
  it('answers Ctrl-C within the epoch: checkpoint at the batch reached, exit code 130', async () => {
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'fer-sigint-')), 'run');
    // 210 images in batches of 4: 52 batches an epoch, several seconds, so the signal lands mid-epoch.
    const child = spawn(
      process.execPath,
      [bin, 'train', '--data', path.join(FIXTURE_DATA, 'train'), '--epochs', '3', '--batch-size', '4', '--out', out, '--threads', '1'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    let signalled = 0;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // Epoch 1's end line (stderr is not a terminal: no bar; the progress line that starts the run is "fer: epoch 1/3 1/52 …")
      // means training runs: interrupt epoch 2.
      if (!signalled && /^epoch 1\/3 /m.test(stderr)) {
        signalled = Date.now();
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve)); // after stderr drains
    expect(signalled).toBeGreaterThan(0);
    expect(Date.now() - signalled).toBeLessThan(15_000);
    expect(code).toBe(130);
    expect(stderr, stderr).toMatch(/interrupted at epoch 2, batch \d+\/52/);
    const state = JSON.parse(readFileSync(path.join(out, 'checkpoint', 'state.json'), 'utf8'));
    expect(state.epoch).toBe(1);
    expect(state.batch).toBeGreaterThan(0);
    expect(state.batch).toBeLessThan(52);

    // --resume finishes the run, and run.json records where and how it was resumed.
    const resumed = spawn(process.execPath, [bin, 'train', '--resume', out, '--threads', '1', '--json'], { stdio: 'ignore' });
    expect(await new Promise((resolve) => resumed.on('close', resolve))).toBe(0);
    const run = JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8'));
    expect(run.command).not.toContain('--resume');
    expect(run.resumed).toHaveLength(1);
    expect(run.resumed[0].command).toContain('--resume');
    expect(run.resumed[0].at).toEqual({ epoch: 2, batch: state.batch });
    expect(run.resumed[0].threads).toBe(1);
  }, 120_000);
});

describe('commands without a graceful stop', () => {
  it('fer bench on Ctrl-C: one line saying it was interrupted, exit 130 (it ended silently)', async () => {
    const child = spawn(
      process.execPath,
      [
        bin,
        'bench',
        path.join(path.dirname(bin), '..', 'models', 'onnx', 'fer-mini-xception.fp32.onnx'),
        '--duration',
        '60',
        '--threads',
        '1',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    let signalled = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!signalled && /round 1\//.test(stderr)) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(signalled, stderr).toBe(true);
    expect(code).toBe(130);
    expect(stderr.trim().split('\n').at(-1)).toBe('fer: interrupted');
  }, 120_000);
});
