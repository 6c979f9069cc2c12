import { describe, it, expect } from 'vitest';
import { RecentRate } from '../../src/util/recent-rate.js';

describe('RecentRate', () => {
  it('is 0 before any step, then items per second of the median step (hand-computed)', () => {
    const r = new RecentRate(4);
    expect(r.perSecond()).toBe(0);
    r.add(64, 0.02); // 0.0003125 s an item
    expect(r.perSecond()).toBeCloseTo(3200, 9);
    r.add(64, 0.04); // median of two: (0.0003125 + 0.000625) / 2 = 0.00046875 s an item
    expect(r.perSecond()).toBeCloseTo(1 / 0.00046875, 9);
  });

  it('shrugs off one suspended step that a mean over the epoch would carry to its end', () => {
    const r = new RecentRate(32);
    let seconds = 0,
      items = 0;
    for (let i = 0; i < 100; i++) {
      const s = i === 50 ? 600 : 0.025; // ten minutes stopped in the middle
      r.add(64, s);
      seconds += s;
      items += 64;
    }
    expect(items / seconds).toBeLessThan(11); // the running mean: ~10.6 img/s
    expect(r.perSecond()).toBeCloseTo(2560, 6); // 64 / 0.025
  });

  it('forgets steps older than its window', () => {
    const r = new RecentRate(3);
    for (let i = 0; i < 3; i++) r.add(10, 1); // 10/s
    for (let i = 0; i < 3; i++) r.add(10, 0.5); // 20/s, replacing all three
    expect(r.perSecond()).toBeCloseTo(20, 9);
    r.add(10, 1); // one slow step of three: the median is still 20/s
    expect(r.perSecond()).toBeCloseTo(20, 9);
  });
});
