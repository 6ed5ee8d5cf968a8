import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseHumanTime } from './dates.js';

test('human times: ISO with or without zone (UTC), month names; junk is no time', () => {
  assert.deepEqual(parseHumanTime('2024-06-01'), new Date('2024-06-01T00:00:00Z'));
  assert.deepEqual(parseHumanTime('2024-06-01 10:00'), new Date('2024-06-01T10:00:00Z'));
  assert.deepEqual(parseHumanTime('2024-06-01T10:00:00+02:00'), new Date('2024-06-01T08:00:00Z'));
  assert.deepEqual(parseHumanTime('2024-06-01T10:00:00.250Z'), new Date('2024-06-01T10:00:00.250Z'));
  assert.deepEqual(parseHumanTime('June 1, 2024'), new Date('2024-06-01T00:00:00Z'));
  assert.deepEqual(parseHumanTime('1 Jun 2024'), new Date('2024-06-01T00:00:00Z'));
  assert.equal(parseHumanTime('2024-02-30'), undefined);
  assert.equal(parseHumanTime('someday'), undefined);
  assert.equal(parseHumanTime('Juneteenth 2024'), undefined);
});
