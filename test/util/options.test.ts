/** Library options: a misspelt name or a bad value is one UsageError line naming the option (they were ignored, or zod's report). */
import { describe, it, expect } from 'vitest';
import { z } from 'zod';
import { UsageError } from '../../src/errors.js';
import { closestName, libraryOptions, parseOptions } from '../../src/util/options.js';
import { evaluate } from '../../src/eval/evaluate-data.js';
import { trainOptionsSchema } from '../../src/train/options.js';
import { quantizeModel } from '../../src/compress/quantize.js';
import { FIXTURE_DATA } from '../fixture-model.js';

const schema = z.object({ epochs: z.coerce.number().int().min(1).default(3), tta: z.enum(['none', 'flip']).default('flip') });

function thrown(f: () => unknown): UsageError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return e as UsageError;
  }
  throw new Error('did not throw');
}

describe('parseOptions', () => {
  it('fills defaults and passes the extra keys through unchecked', () => {
    expect(parseOptions(schema, { epochs: '5' }, 'stage')).toEqual({ epochs: 5, tta: 'flip' });
    expect(parseOptions(schema, undefined, 'stage')).toEqual({ epochs: 3, tta: 'flip' });
    expect(parseOptions(schema, { tta: 'none', onBatch: () => 0 }, 'stage', ['onBatch'])).toEqual({ epochs: 3, tta: 'none' });
  });

  it('an unknown name is refused with the nearest option as the hint', () => {
    const e = thrown(() => parseOptions(schema, { epohcs: 3 }, 'train'));
    expect(e.message).toBe('train: unknown option "epohcs"');
    expect(e.hint).toBe('did you mean epochs?');
    expect(e.exitCode).toBe(2);
    expect(thrown(() => parseOptions(schema, { zzzzzz: 1 }, 'train')).hint).toBe('options: epochs, tta');
  });

  it('a bad value is one line naming the option, with how many more issues there are', () => {
    const e = thrown(() => parseOptions(schema, { epochs: 0, tta: 'x' }, 'evaluate'));
    expect(e.message).toMatch(/^evaluate: option epochs: [^\n]+ \(and 1 more\)$/);
    expect(e.cause).toBeInstanceOf(z.ZodError);
  });

  it('closestName takes typos, not unrelated names', () => {
    expect(closestName('tat', ['tta', 'out'])).toBe('tta');
    expect(closestName('learningRate', ['lr', 'epochs'])).toBeUndefined();
  });

  it('libraryOptions keeps only the schema keys (a command hands the library its flags)', () => {
    expect(libraryOptions(schema, { epochs: 2, json: true, model: 'm' })).toEqual({ epochs: 2 });
  });
});

describe('library entry points', () => {
  it('evaluate refuses a misspelt option before any work (it ran with tta flip)', async () => {
    await expect(evaluate('models/fer-mini-xception', `${FIXTURE_DATA}/val`, { tat: 'none' } as never)).rejects.toThrow(
      /^evaluate: unknown option "tat"$/,
    );
    await expect(evaluate('models/fer-mini-xception', `${FIXTURE_DATA}/val`, { tta: 'bogus' as never })).rejects.toThrow(
      /^evaluate: option tta: [^\n]+$/,
    );
  });

  it('quantize and train schemas are checked the same way', async () => {
    await expect(quantizeModel('models/fer-mini-xception', '/tmp/unused', { bitz: 4 } as never)).rejects.toThrow(
      /^quantize: unknown option "bitz"$/,
    );
    expect(thrown(() => parseOptions(trainOptionsSchema, { epohcs: 3 }, 'train')).hint).toBe('did you mean epochs?');
  });
});
