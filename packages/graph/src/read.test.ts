import assert from 'node:assert/strict';
import { test } from 'node:test';
import { conversationPages } from './read.js';

const rows = (...nodes: number[]) => nodes.map((n, i) => ({ id: `c${i}`, nodes: n }));

test('pages keep the order and close at the conversation or the node limit', () => {
  const limits = { conversations: 3, nodes: 100 };
  assert.deepEqual(conversationPages(rows(10, 10, 10, 10, 10, 10, 10), limits), [['c0', 'c1', 'c2'], ['c3', 'c4', 'c5'], ['c6']]);
  assert.deepEqual(conversationPages(rows(60, 30, 20, 5), limits), [
    ['c0', 'c1'],
    ['c2', 'c3'],
  ]);
});

test('a conversation larger than the node limit is a page of its own, never dropped', () => {
  assert.deepEqual(conversationPages(rows(5, 500, 5), { conversations: 10, nodes: 100 }), [['c0'], ['c1'], ['c2']]);
  assert.deepEqual(conversationPages([{ id: 'big', nodes: 10n ** 6n }]), [['big']]);
});

test('no conversations, no pages', () => {
  assert.deepEqual(conversationPages([]), []);
});
