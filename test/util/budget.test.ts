/**
 * util/budget.ts, which bounds the pixels a photo batch decodes at once (predict/batch.ts): holders fit under the limit,
 * in arrival order, and one holder larger than the limit still runs alone.
 */
import { describe, it, expect } from 'vitest';
import { Budget } from '../../src/util/budget.js';
import { photoPixelBudget } from '../../src/predict/batch.js';
import { MAX_PIXELS } from '../../src/io/image.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('Budget', () => {
  it('lets in what fits, queues the rest in order, and one oversized holder alone', async () => {
    const b = new Budget(100);
    const inside: string[] = [];
    const enter = (name: string, n: number) => b.acquire(n).then(() => inside.push(name));
    void enter('a60', 60);
    void enter('b30', 30);
    void enter('c50', 50); // 60 + 30 + 50 > 100: waits
    void enter('d5', 5); // fits, but arrived after c: waits behind it (no overtaking)
    await tick();
    expect(inside).toEqual(['a60', 'b30']);
    b.release(60);
    await tick();
    expect(inside).toEqual(['a60', 'b30', 'c50', 'd5']);
    b.release(30);
    b.release(50);
    b.release(5);
    void enter('huge', 500); // over the limit, but nothing else holds: runs
    await tick();
    expect(inside.at(-1)).toBe('huge');
    void enter('e1', 1); // waits for huge
    await tick();
    expect(inside.at(-1)).toBe('huge');
    b.release(500);
    await tick();
    expect(inside.at(-1)).toBe('e1');
  });

  it("photo batches: a quarter of the machine's memory at 20 bytes a pixel, at least one largest photo", () => {
    expect(photoPixelBudget(24 * 2 ** 30)).toBe(Math.floor((24 * 2 ** 30) / 4 / 20));
    expect(photoPixelBudget(2 ** 30)).toBe(MAX_PIXELS);
  });
});
