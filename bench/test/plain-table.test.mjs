import assert from 'node:assert/strict';
import { test } from 'node:test';
import { plainTable, plainTableOf } from '../lib/plain-table.mjs';

test('plainTable pads each column to its widest cell: names left, figures right', () => {
  assert.equal(
    plainTable(
      ['name', 'n'],
      [
        ['a', 10],
        ['bbbbb', 2],
      ],
    ),
    ['name    n', '-----  --', 'a      10', 'bbbbb   2'].join('\n'),
  );
  assert.equal(
    plainTable(
      ['x', 'y'],
      [
        ['1', '22'],
        ['333', '4'],
      ],
      { left: 0 },
    ),
    ['  x   y', '---  --', '  1  22', '333   4'].join('\n'),
  );
});

test("plainTableOf takes the header from the first row's keys", () => {
  assert.equal(
    plainTableOf(
      [
        { a: 'x', b: 1 },
        { b: 22, a: 'yy' },
      ],
      { left: 2 },
    ),
    ['a   b ', '--  --', 'x   1 ', 'yy  22'].join('\n'),
  );
});
