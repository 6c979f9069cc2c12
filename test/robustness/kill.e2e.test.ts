/**
 * kill -9 around every write of an epoch's end (metrics line, best/, last/, checkpoint/ and each of their
 * renames), in real processes: every interrupted run, resumed, ends with the same weights, bit for bit, as an
 * uninterrupted one, and with one metrics line per epoch. The kill points are fault injections
 * (io/files.ts faultPoint, FER_FAULT_KILL=<point>#<n>).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIXTURE_DATA } from '../fixture-model.js';

const bin = path.resolve(import.meta.dirname, '../../bin/fer');
const EPOCHS = 2;
const args = (out: string) => [
  'train',
  '--data',
  path.join(FIXTURE_DATA, 'val'),
  '--val',
  path.join(FIXTURE_DATA, 'val'),
  '--epochs',
  String(EPOCHS),
  '--batch-size',
  '35',
  '--out',
  out,
  '--threads',
  '1',
  '--seed',
  '3',
  '--json',
];

function run(
  argv: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...argv], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

// Each point is passed once per epoch (best/ at every epoch whose val accuracy improves): #1 and #2 are the
// two epochs. The checkpoint's own model is written into its temporary folder (replace:model).
const POINTS = [
  'epoch:metrics',
  'replace:best:before',
  'replace:best:between',
  'replace:best:after',
  'replace:last:before',
  'replace:last:between',
  'replace:last:after',
  'replace:model:between',
  'replace:checkpoint:before',
  'replace:checkpoint:between',
  'replace:checkpoint:after',
  'epoch:checkpoint',
];
const CASES = POINTS.flatMap((p) => [1, 2].map((n) => `${p}#${n}`));

describe('kill -9 at every write of an epoch end', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'fer-kill-'));
  let reference: Buffer;
  beforeAll(async () => {
    const r = await run(args(path.join(tmp, 'reference')));
    expect(r.code, r.stderr).toBe(0);
    reference = readFileSync(path.join(tmp, 'reference', 'last', 'weights.bin'));
  }, 120_000);

  it(`covers ${CASES.length} kill points; each run resumes to the uninterrupted run's weights`, async () => {
    expect(CASES.length).toBeGreaterThanOrEqual(20);
    let killed = 0;
    const one = async (spec: string) => {
      const out = path.join(tmp, spec.replace(/[:#]/g, '_'));
      const first = await run(args(out), { FER_FAULT_KILL: spec });
      if (first.signal === 'SIGKILL') {
        killed++;
        const resumed = await run(['train', '--resume', out, '--threads', '1', '--json']);
        expect(resumed.code, `${spec}: ${resumed.stderr}`).toBe(0);
      } else {
        expect(first.code, `${spec}: ${first.stderr}`).toBe(0); // the point was never reached (no new best)
      }
      expect(readFileSync(path.join(out, 'last', 'weights.bin')).equals(reference), spec).toBe(true);
      const epochs = readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).epoch);
      expect(epochs, spec).toEqual(Array.from({ length: EPOCHS }, (_, i) => i + 1));
      expect(
        readdirSync(out).filter((f) => /\.(tmp|old)-\d+$/.test(f)),
        spec,
      ).toEqual([]); // leftovers cleaned
      expect(existsSync(path.join(out, 'lock')), spec).toBe(false);
    };
    for (let i = 0; i < CASES.length; i += 2) await Promise.all(CASES.slice(i, i + 2).map(one));
    expect(killed).toBeGreaterThanOrEqual(20);
  }, 600_000);
});
