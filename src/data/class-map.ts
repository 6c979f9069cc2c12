/** Class-map files (`--class-map`): which source labels each trained class merges. */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UsageError } from '../errors.js';

const classMapSchema = z.record(z.string(), z.array(z.string()).min(1));

/** A class-map file: JSON `{ "negative": ["angry", "disgust", "fear", "sad"], "neutral": ["neutral"], … }`. */
export function readClassMap(file: string): Record<string, string[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(
      `--class-map ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not JSON: ' + (e as Error).message.split('\n')[0]}`,
    );
  }
  const r = classMapSchema.safeParse(raw);
  if (!r.success) throw new UsageError(`--class-map ${file}: expected {"class": ["source label", …], …}`);
  return r.data;
}
