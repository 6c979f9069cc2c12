/**
 * The library's pixel input (`predict({ data, width, height, channels })`): what is wrong with it is a UsageError
 * saying what, and a canvas's ImageData bytes (Uint8ClampedArray) are taken as they are.
 */
import { describe, it, expect } from 'vitest';
import { decodeInput } from '../../src/predict/predict.js';
import { UsageError } from '../../src/errors.js';
import type { RawImage } from '../../src/io/image.js';

const raw = (o: Omit<Partial<RawImage>, 'data'> & { data: unknown }) => ({ width: 4, height: 4, channels: 3, ...o }) as RawImage;
async function fails(o: RawImage, message: RegExp): Promise<void> {
  const e = await decodeInput(o).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(UsageError);
  expect((e as Error).message).toMatch(message);
}

describe('decodeInput on pixels', () => {
  it('names the wrong part: sides, channels, byte count', async () => {
    await fails(raw({ data: new Uint8Array(0), width: 0, height: 0 }), /width and height must be whole numbers above 0, got 0×0/);
    await fails(raw({ data: new Uint8Array(48), width: Number.NaN }), /got NaN×4/);
    await fails(raw({ data: new Uint8Array(48), width: 2.5 }), /whole numbers/);
    await fails(raw({ data: new Uint8Array(32), channels: 2 as 3 }), /channels must be 1, 3 or 4, got 2/);
    await fails(raw({ data: new Uint8Array(10) }), /expected 4×4×3 = 48 bytes \(a Uint8Array\), got 10/);
    await fails(raw({ data: Array.from({ length: 48 }, () => 0) }), /a Uint8Array/);
  });

  it('names what plain JavaScript passed instead of a path, bytes or pixels', async () => {
    for (const [input, kind] of [
      [null, 'null'],
      [42, 'number'],
      [[1, 2, 3], 'an array'],
      [{ path: 'a.jpg' }, 'an object'],
    ] as const) {
      const e = await decodeInput(input as never).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(UsageError);
      expect((e as Error).message).toBe(
        `predict: expected a file path, encoded image bytes (a Buffer or Uint8Array) or pixels ({ data, width, height, channels }), got ${kind}`,
      );
    }
  });

  it('takes a Uint8ClampedArray (ImageData) as the same bytes, RGBA as RGB (alpha dropped), a Uint8Array as it is', async () => {
    const clamped = new Uint8ClampedArray(64).map((_, i) => i * 3);
    const img = await decodeInput(raw({ data: clamped, channels: 4 }));
    expect(img.data).toBeInstanceOf(Uint8Array);
    expect(img.channels).toBe(3);
    expect(Array.from(img.data)).toEqual(Array.from(clamped).filter((_, i) => i % 4 !== 3));
    const plain = raw({ data: new Uint8Array(48) });
    expect(await decodeInput(plain)).toBe(plain);
  });
});
