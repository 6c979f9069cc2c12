/**
 * A library error names its option by key (a library user's word); the CLI prints the flag. One message, two
 * spellings: `describeError` rewrites the key where the message names it (at its start or after "stage: ").
 */
import { it, expect } from 'vitest';
import { asFlag, describeError } from '../../src/commands/handle-error.js';
import { optionOf, UsageError } from '../../src/errors.js';
import { resolvePrior } from '../../src/data/prior.js';
import { checkOutputFile } from '../../src/io/output.js';

it('asFlag: the key at the start or after "stage: ", camelCase in kebab-case; nothing else touched', () => {
  expect(asFlag('prior bogus: expected train', 'prior')).toBe('--prior bogus: expected train');
  expect(asFlag('prior: happy=NaN is not a weight', 'prior')).toBe('--prior: happy=NaN is not a weight');
  expect(asFlag('classMap m.json: no such file', 'classMap')).toBe('--class-map m.json: no such file');
  expect(asFlag('evaluate: out x exists', 'out')).toBe('evaluate: --out x exists');
  expect(asFlag('the prior of outliers', 'prior')).toBe('the prior of outliers');
  expect(asFlag('prior bogus', undefined)).toBe('prior bogus');
});

it('optionOf: library keys only (not a flag, a word or a stage prefix)', () => {
  expect(['out', 'classMap', '--out', 'output', 'train:'].map(optionOf)).toEqual(['out', 'classMap', undefined, undefined, undefined]);
});

it("a library call's error says the option; the same error through the CLI's describeError says the flag", () => {
  let err: unknown;
  try {
    resolvePrior('bogus', ['happy', 'sad']);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(UsageError);
  expect((err as UsageError).message).toMatch(/^prior bogus: /);
  expect(describeError(err).message).toMatch(/^--prior bogus: /);
  try {
    checkOutputFile('/proc/self', 'out');
  } catch (e) {
    err = e;
  }
  expect((err as UsageError).option).toBe('out');
  expect(describeError(err).message).toBe('--out /proc/self is a symbolic link; fer does not write through links');
});
