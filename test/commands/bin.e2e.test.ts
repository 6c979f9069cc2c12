/**
 * bin/fer, the entry point, as a user runs it: it asks libgomp for threads that spin briefly, then sleep
 * (GOMP_SPINCOUNT=10000) unless the user chose a policy or a spin count. libgomp reports what it read when the native addon loads (OMP_DISPLAY_ENV=verbose),
 * which is what is checked: an assignment made after the addon loaded would not show. Its policy line reads
 * PASSIVE when unset too, so the spin count tells them apart (0 under PASSIVE, 300,000 by default; ACTIVE spins
 * without limit).
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { registerNativeBackend } from '../../src/engine/native/backend.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const policyOf = (extra: Record<string, string>) => {
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_DISPLAY_ENV: 'verbose', ...extra };
  if (!('OMP_WAIT_POLICY' in extra)) delete env.OMP_WAIT_POLICY;
  if (!('GOMP_SPINCOUNT' in extra)) delete env.GOMP_SPINCOUNT;
  const r = spawnSync(
    process.execPath,
    ['bin/fer', 'eval', '--model', 'models/fer-mini-xception', '--data', 'fixtures/fer-mini/val', '--backend', 'native'],
    { cwd: root, env, encoding: 'utf8', timeout: 120_000 },
  );
  expect(r.status).toBe(0);
  return { policy: /OMP_WAIT_POLICY = '(\w+)'/.exec(r.stderr)?.[1], spin: /GOMP_SPINCOUNT = '(\w+)'/.exec(r.stderr)?.[1] };
};

describe.skipIf(!registerNativeBackend(1))('bin/fer and OpenMP', () => {
  it('sets a short spin (GOMP_SPINCOUNT=10000) before the native engine loads', () => {
    expect(policyOf({})).toEqual({ policy: 'PASSIVE', spin: '10000' });
  });
  it("keeps the user's GOMP_SPINCOUNT", () => {
    expect(policyOf({ GOMP_SPINCOUNT: '0' }).spin).toBe('0');
  });
  it("keeps the user's OMP_WAIT_POLICY", () => {
    expect(policyOf({ OMP_WAIT_POLICY: 'ACTIVE' }).policy).toBe('ACTIVE');
  });
});

describe('bin/fer when its reader stops early', () => {
  it('ends quietly when stdout is closed (`fer predict … | head -1`): exit 0, no stack trace', () => {
    // Eight copies of a photo: more lines than `head -1` reads, so fer writes to a closed pipe.
    const photos = Array.from({ length: 8 }, () => 'fixtures/scenes/two-faces.jpg').join(' ');
    const r = spawnSync('bash', ['-c', `set -o pipefail; node bin/fer predict ${photos} --json | head -1 > /dev/null`], {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.stderr).not.toMatch(/EPIPE|Error/);
    expect(r.status, r.stderr).toBe(0);
  });
});
