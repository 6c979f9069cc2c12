/** The per-step learning rate (lrForStep) against values computed by hand from the cosine formula. */
import { describe, it, expect } from 'vitest';
import { initialSchedule, lrForEpoch, lrForStep } from '../../src/train/schedule.js';
import { trainOptionsSchema } from '../../src/train/options.js';

describe('lrForStep', () => {
  const cosine = trainOptionsSchema.parse({ epochs: 1, lr: 1e-3, minLr: 0, schedule: 'cosine', lrPerStep: true });
  const s = initialSchedule(cosine);

  it('a one-epoch cosine decays within the epoch: lr at step 0, lr/2 half way, lr(1 + cos 3π/4)/2 at 3/4', () => {
    expect(lrForStep(cosine, s, 0, 0, 64)).toBeCloseTo(1e-3, 12);
    expect(lrForStep(cosine, s, 0, 32, 64)).toBeCloseTo(5e-4, 12);
    expect(lrForStep(cosine, s, 0, 48, 64)).toBeCloseTo(0.5e-3 * (1 - Math.SQRT1_2), 12);
    expect(lrForStep(cosine, s, 0, 63, 64)).toBeCloseTo(0.5e-3 * (1 + Math.cos((Math.PI * 63) / 64)), 12);
  });

  it('minLr is the floor, and several epochs share one curve (epoch 1 of 2 starts at the middle)', () => {
    const two = trainOptionsSchema.parse({ epochs: 2, lr: 1e-3, minLr: 1e-4, schedule: 'cosine', lrPerStep: true });
    expect(lrForStep(two, s, 1, 0, 10)).toBeCloseTo(1e-4 + 0.5 * 9e-4, 12);
    expect(lrForStep(two, s, 0, 5, 10)).toBeCloseTo(1e-4 + 0.5 * 9e-4 * (1 + Math.cos(Math.PI / 4)), 12);
  });

  it('without lrPerStep, and for constant or plateau schedules, every step of an epoch gets the epoch rate', () => {
    const epochwise = { ...cosine, lrPerStep: false };
    for (const b of [0, 17, 63]) expect(lrForStep(epochwise, s, 0, b, 64)).toBe(lrForEpoch(epochwise, s, 0));
    expect(lrForStep(epochwise, s, 0, 63, 64)).toBe(1e-3);
    const constant = { ...cosine, schedule: 'constant' as const };
    expect(lrForStep(constant, s, 0, 40, 64)).toBe(1e-3);
    const plateau = { ...cosine, schedule: 'plateau' as const };
    expect(lrForStep(plateau, { ...s, lr: 3e-5 }, 0, 40, 64)).toBe(3e-5);
  });

  it('warmup runs per step too, meeting the epoch-wise values at epoch boundaries', () => {
    const w = trainOptionsSchema.parse({ epochs: 4, lr: 1e-3, minLr: 0, schedule: 'cosine', warmupEpochs: 1, lrPerStep: true });
    expect(lrForStep(w, s, 0, 0, 10)).toBeCloseTo(lrForEpoch(w, s, 0), 12);
    expect(lrForStep(w, s, 0, 5, 10)).toBeCloseTo(1e-3 * 0.75, 12);
    expect(lrForStep(w, s, 1, 0, 10)).toBeCloseTo(lrForEpoch(w, s, 1), 12);
  });
});
