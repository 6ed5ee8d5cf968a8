import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { migrate, writeConversationGraphs } from '@trajectory/graph';
import { fixtureEvents } from '@trajectory/graph/testing';
import { clearGraph, query, REPO_ROOT, startTestServers, type TestServers, testDriver } from '@trajectory/testkit';
import type { Driver } from 'neo4j-driver';

/** The recipes exactly as docs/graph.md shows them: `### Recipe: name` then a cypher block. */
function recipes(): Map<string, string> {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'graph.md'), 'utf8');
  const found = new Map<string, string>();
  for (const match of doc.matchAll(/^### Recipe: (.+)\n[\s\S]*?```cypher\n([\s\S]*?)```/gm)) {
    found.set(match[1]?.trim() ?? '', match[2] ?? '');
  }
  return found;
}

let servers: TestServers;
let driver: Driver;
const all = recipes();
const run = (name: string, params: Record<string, unknown> = {}) => {
  const cypher = all.get(name);
  assert.ok(cypher, `docs/graph.md has no recipe "${name}"`);
  return query<Record<string, unknown>>(driver, cypher, params);
};

before(async () => {
  servers = await startTestServers();
  driver = testDriver(servers.neo4jUri, servers.neo4jAuth);
  await clearGraph(driver);
  await migrate(driver);
  await writeConversationGraphs(driver, fixtureEvents());
});

after(async () => {
  await driver?.close();
  await servers?.stop();
});

test('every recipe in docs/graph.md is covered here', () => {
  assert.deepEqual([...all.keys()].sort(), [
    'alternative answers',
    'ideas I refined most',
    'refinement over time',
    'relations in my graph',
    'what I believed then and later',
    'where my thinking changed',
  ]);
});

test('recipe: where my thinking changed', async () => {
  const rows = await run('where my thinking changed', { topic: 'hydration' });
  assert.deepEqual(
    rows.map((r) => [r.before, r.after]),
    [
      ['I think 80% hydration sourdough gives the best crumb', 'Actually my dough spreads flat at 80% hydration, too wet'],
      ['Actually my dough spreads flat at 80% hydration, too wet', 'Then lower hydration to 72% and build strength with folds'],
      ['I no longer believe hydration matters most; fermentation time does', 'So my rule now: 70% hydration, long cold fermentation'],
    ],
  );
});

test('recipe: ideas I refined most', async () => {
  const rows = await run('ideas I refined most');
  assert.deepEqual(
    rows.map((r) => [r.chain, r.length, r.idea, r.conclusion]),
    [
      ['qlora-2024', 4, 'QLoRA quantizes the base model to 4 bit', 'Right, and paged optimizers save memory'],
      [
        'bread-2023',
        3,
        'I think 80% hydration sourdough gives the best crumb',
        'Then lower hydration to 72% and build strength with folds',
      ],
      [
        'bread-2025',
        2,
        'I no longer believe hydration matters most; fermentation time does',
        'So my rule now: 70% hydration, long cold fermentation',
      ],
    ],
  );
});

test('recipe: what I believed then and later', async () => {
  const rows = await run('what I believed then and later', { topic: 'hydration', earlier: 2023, later: 2025 });
  assert.deepEqual(rows, [
    {
      year: 2023,
      said: ['I think 80% hydration sourdough gives the best crumb', 'Actually my dough spreads flat at 80% hydration, too wet'],
    },
    {
      year: 2025,
      said: ['I no longer believe hydration matters most; fermentation time does', 'So my rule now: 70% hydration, long cold fermentation'],
    },
  ]);
});

test('recipe: refinement over time', async () => {
  const rows = await run('refinement over time');
  assert.deepEqual(rows, [
    { year: 2023, chains: 1, averageLength: 3 },
    { year: 2024, chains: 1, averageLength: 4 },
    { year: 2025, chains: 1, averageLength: 2 },
  ]);
});

test('recipe: alternative answers', async () => {
  const rows = await run('alternative answers');
  assert.deepEqual(rows, [
    {
      prompt: 'I think 80% hydration sourdough gives the best crumb',
      chosen: 'High hydration opens the crumb but is harder to shape',
      rejected: 'A regenerated answer about hydration and crumb',
    },
  ]);
});

test('recipe: relations in my graph', async () => {
  const rows = await run('relations in my graph');
  assert.deepEqual(
    rows.map((r) => [r.relation, r.count]),
    [
      ['FOLLOWS', 8],
      ['RESPONDS', 4],
      ['ITERATION_FINAL', 3],
      ['REFINES', 3],
      ['DERIVES', 1],
    ],
  );
  assert.equal(rows[0]?.confidence, 1);
  assert.ok(Math.abs((rows[3]?.confidence as number) - 0.8) < 1e-9);
});
