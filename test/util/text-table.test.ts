import { it, expect } from 'vitest';
import { textTable } from '../../src/util/text-table.js';

it('aligns the first column left and the others right, under a rule as wide as each column', () => {
  expect(
    textTable(
      ['name', 'n'],
      [
        ['a', 10],
        ['bbbb', 2],
      ],
    ),
  ).toBe(['name   n', '----  --', 'a     10', 'bbbb   2'].join('\n'));
});
