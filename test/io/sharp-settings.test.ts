/**
 * sharp's thread pool and cache are process-wide: the library leaves them as the host set them, even after
 * decoding, and only the CLI (or an explicit configureSharp call) changes them. (vitest runs each file in its
 * own process, pool 'forks', so no other file's CLI run can have set them here.)
 */
import { it, expect } from 'vitest';
import path from 'node:path';
import sharp from 'sharp';
import { decodeRgb } from '../../src/io/image.js';

const photo = path.resolve(import.meta.dirname, '..', '..', 'fixtures', 'scenes', 'one-face.jpg');

it('decoding an image leaves sharp as the host configured it; the CLI sets 2 threads and no cache', async () => {
  sharp.concurrency(3); // the host's own choice
  const before = sharp.cache();
  const image = await decodeRgb(photo);
  expect(image.width).toBeGreaterThan(0);
  expect(sharp.concurrency()).toBe(3);
  expect(sharp.cache()).toMatchObject({ memory: { max: before.memory.max }, items: { max: before.items.max } });

  const { runCli } = await import('../../src/commands/main.js');
  await runCli(['--version']);
  expect(sharp.concurrency()).toBe(2);
  expect(sharp.cache()).toMatchObject({ memory: { max: 0 }, files: { max: 0 }, items: { max: 0 } });
});
