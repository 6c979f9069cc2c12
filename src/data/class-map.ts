/** Class-map files (`--class-map`): which source labels each trained class merges. */
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { readUserJsonFile } from '../io/files.js';

const classMapSchema = z.record(z.string(), z.array(z.string()).min(1));

/** A class-map file: JSON `{ "negative": ["angry", "disgust", "fear", "sad"], "neutral": ["neutral"], … }`. */
export function readClassMap(file: string): Record<string, string[]> {
  const r = classMapSchema.safeParse(readUserJsonFile(file, 'classMap'));
  if (!r.success) throw new UsageError(`classMap ${file}: expected {"class": ["source label", …], …}`, { option: 'classMap' });
  return r.data;
}
