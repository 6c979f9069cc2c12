/** formatDuration, every ETA and epoch time fer prints: each unit carries over instead of showing 60. */
import { describe, it, expect, vi } from 'vitest';
import { formatDuration, Progress } from '../../src/commands/progress.js';

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

describe('Progress in a log (stderr not a terminal)', () => {
  it("writes a note-shaped line at the start and every 30 s, none in between (bench wrote a line a round; compress's lines lacked 'fer:')", () => {
    vi.useFakeTimers();
    try {
      vi.setSystemTime(0);
      const lines: string[] = [];
      const stream = { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream;
      const bar = new Progress(stream);
      for (let r = 1; r <= 10; r++) {
        vi.setSystemTime(r * 1000);
        bar.tick(r, 40, 'bench round');
      }
      expect(lines).toEqual(['fer: bench round 1/40, ETA 39s\n']); // the first, then quiet
      vi.setSystemTime(31_000);
      bar.tick(31, 40, 'bench round');
      vi.setSystemTime(32_000);
      bar.update(32, 40, 'compress built', 'int8');
      expect(lines.slice(1)).toEqual(['fer: bench round 31/40, ETA 9s\n']);
      vi.setSystemTime(62_000);
      bar.update(33, 40, 'compress built', 'int8');
      expect(lines[2]).toBe('fer: compress built 33/40 int8\n');
    } finally {
      vi.useRealTimers();
    }
  });
});
