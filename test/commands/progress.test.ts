/** formatDuration, every ETA and epoch time fer prints: each unit carries over instead of showing 60. */
import { describe, it, expect } from 'vitest';
import { formatDuration } from '../../src/commands/progress.js';

describe('formatDuration', () => {
  it.each([
    [0.4, '0s'],
    [42, '42s'],
    [59.6, '1m00s'],
    [65, '1m05s'],
    [119.6, '2m00s'],
    [3599.6, '1h00m'],
    [7170, '2h00m'],
    [7380, '2h03m'],
    [Number.NaN, '?'],
  ])('%s s → %s', (s, text) => expect(formatDuration(s)).toBe(text));
});
