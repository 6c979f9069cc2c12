/**
 * util/ordered-map.ts, which `fer predict` and the library's predictMany run photos and video frames through: results
 * in input order with a bounded number in flight; a failure surfaces in its place without an unhandled rejection;
 * stopping early waits for the calls in flight (a predictor disposed right after must not be in use) and closes the
 * source.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { orderedMap } from '../../src/util/ordered-map.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);
process.on('unhandledRejection', onUnhandled);
afterEach(() => {
  expect(unhandled).toEqual([]);
});

describe('orderedMap', () => {
  it('yields in input order with at most `limit` calls in flight', async () => {
    let inFlight = 0,
      most = 0;
    const got: number[] = [];
    for await (const r of orderedMap([30, 5, 20, 1, 10, 2], 3, async (ms, i) => {
      most = Math.max(most, ++inFlight);
      await sleep(ms);
      inFlight--;
      return i;
    }))
      got.push(r);
    expect(got).toEqual([0, 1, 2, 3, 4, 5]);
    expect(most).toBe(3);
  });

  it('throws a failure in its place, after the results before it, with no unhandled rejection', async () => {
    const got: number[] = [];
    const run = async () => {
      // The third call fails at once while the first is still running.
      for await (const r of orderedMap([0, 1, 2, 3], 4, async (i) => {
        if (i === 2) throw new Error('bad input 2');
        await sleep(i === 0 ? 40 : 5);
        return i;
      }))
        got.push(r);
    };
    await expect(run()).rejects.toThrow('bad input 2');
    await sleep(20); // an unhandled rejection would be reported by now
    expect(got).toEqual([0, 1]);
  });

  it('on break: waits for the calls in flight, starts no new one and closes the source', async () => {
    const started: number[] = [],
      finished: number[] = [];
    let closed = false;
    function* source() {
      try {
        for (let i = 0; i < 100; i++) yield i;
      } finally {
        closed = true;
      }
    }
    for await (const r of orderedMap(source(), 3, async (i) => {
      started.push(i);
      await sleep(10 + 5 * i);
      finished.push(i);
      return i;
    }))
      if (r === 1) break;
    // Everything that started has finished by the time the loop is left.
    expect(new Set(finished)).toEqual(new Set(started));
    expect(finished).toHaveLength(started.length);
    expect(started).toHaveLength(5); // 0–2, then one more after each of the two results taken
    expect(closed).toBe(true);
  });
});
