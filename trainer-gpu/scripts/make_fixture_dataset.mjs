#!/usr/bin/env node
// Builds the trainer's test dataset with the samples service's own code (@trajectory/samples):
// memory records from the bundled facts file (examples/facts.yaml) and the records of two
// hand-written conversation graphs, through buildDataset (eval split, gates, exports) with a fixed
// reference date, so the output is the same on every run.
//
//   npm run build -w @trajectory/samples     # once: the package's dist/ (the graphs' node and edge
//                                            # factories are its test fixtures', @trajectory/samples/testing)
//   node trainer-gpu/scripts/make_fixture_dataset.mjs [OUT_DIR]
//
// OUT_DIR defaults to trainer-gpu/tests/fixtures/dataset; records.jsonl, sft.jsonl and
// sft.eval.jsonl are copied there (the other exports are not needed by the trainer's tests).
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultRelationWeights } from '@trajectory/relations';
import { buildDataset, DEFAULT_SYSTEM_PROMPT, defaultDatasetSettings, factRecords, parseFacts } from '@trajectory/samples';
import { edge, node as fixtureNode } from '@trajectory/samples/testing';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const out = resolve(process.argv[2] ?? join(ROOT, 'trainer-gpu', 'tests', 'fixtures', 'dataset'));
const factsPath = join(ROOT, 'examples', 'facts.yaml');
const facts = parseFacts(await readFile(factsPath, 'utf8'), 'facts.yaml');
const memory = factRecords(facts, { systemPrompt: DEFAULT_SYSTEM_PROMPT });

const node = (id, role, minute, text) =>
  fixtureNode(id, role, new Date(Date.UTC(2024, 4, 1, 12, minute)).toISOString(), { conversationId: 'c-bread', text });
const graph = {
  conversationId: 'c-bread',
  title: 'Sourdough hydration',
  nodes: [
    node('u1', 'user', 0, 'My sourdough comes out flat. Should I raise the hydration?'),
    node(
      'a1',
      'assistant',
      1,
      'Flat loaves usually mean weak structure, not too little water: try lower hydration, around 70%, and longer bulk fermentation.',
    ),
    node('u2', 'user', 2, 'But a wetter dough gives a more open crumb, no?'),
    node(
      'a2',
      'assistant',
      3,
      'It can, once the gluten is strong. Build strength first with stretch and folds, then raise the water step by step.',
    ),
    node('u3', 'user', 4, 'So: 70% now, four sets of folds, and go up to 75% once it holds its shape.'),
    node('a3', 'assistant', 5, 'Exactly. Keep notes of each bake so you can see what changed.'),
  ],
  edges: [
    // follows: the order of the nodes (each node's predecessor), then the cognitive relations.
    edge('a1', 'u1', 'follows'),
    edge('u2', 'a1', 'follows'),
    edge('a2', 'u2', 'follows'),
    edge('u3', 'a2', 'follows'),
    edge('a3', 'u3', 'follows'),
    edge('a1', 'u1', 'responds'),
    edge('u2', 'a1', 'contrasts'),
    edge('a2', 'u2', 'responds'),
    edge('a2', 'a1', 'refines'),
    edge('u3', 'a2', 'follows'),
    edge('u3', 'u1', 'refines'),
    edge('a3', 'u3', 'responds'),
  ],
  chains: [
    {
      id: 'ch-1',
      conversationId: 'c-bread',
      nodeIds: ['u1', 'a1', 'u2', 'a2', 'u3'],
      steps: ['idea', 'answer', 'challenge', 'revision', 'convergence'],
      tags: [],
    },
  ],
};

// A second conversation, so that the eval split (drawn by whole conversations) can take one and
// leave the other to training; each holds every hard-case kind (a terse prompt, a trade-off, a follow-up).
const bikeNode = (id, role, minute, text) => ({
  ...node(id, role, minute, text),
  conversationId: 'c-bike',
  createdAt: new Date(Date.UTC(2024, 2, 10, 8, minute)),
});
const bike = {
  conversationId: 'c-bike',
  title: 'Squeaky bike chain',
  nodes: [
    bikeNode('b-u1', 'user', 0, 'My bike chain squeaks after every rainy ride. What should I put on it?'),
    bikeNode(
      'b-a1',
      'assistant',
      1,
      'Clean and dry it first, then use a wet lube: it stays on in the rain, though it gathers more dirt than a dry one.',
    ),
    bikeNode('b-u2', 'user', 2, 'I want something cheaper, but it has to last a week of commuting.'),
    bikeNode(
      'b-a2',
      'assistant',
      3,
      'Then a plain wet lube from the hardware store: one bottle lasts months. Wipe off the excess after each coat.',
    ),
    bikeNode('b-u3', 'user', 4, 'How often?'),
    bikeNode('b-a3', 'assistant', 5, 'About once a week in winter and every two weeks in summer, and after any long ride in the rain.'),
  ],
  edges: [
    edge('b-a1', 'b-u1', 'follows'),
    edge('b-u2', 'b-a1', 'follows'),
    edge('b-a2', 'b-u2', 'follows'),
    edge('b-u3', 'b-a2', 'follows'),
    edge('b-a3', 'b-u3', 'follows'),
    edge('b-a1', 'b-u1', 'responds'),
    edge('b-u2', 'b-u1', 'refines'),
    edge('b-a2', 'b-u2', 'responds'),
    edge('b-a3', 'b-u3', 'responds'),
  ],
  chains: [],
};

async function* graphs() {
  yield graph;
  yield bike;
}

const work = await mkdtemp(join(tmpdir(), 'trajectory-fixture-'));
try {
  const built = await buildDataset(
    graphs(),
    work,
    defaultDatasetSettings(new Date('2024-06-01T00:00:00Z'), { relationWeights: defaultRelationWeights() }),
    memory,
  );
  await mkdir(out, { recursive: true });
  for (const file of ['records.jsonl', 'sft.jsonl', 'sft.eval.jsonl']) await copyFile(join(built.dir, file), join(out, file));
  const failed = built.gates.gates.filter((g) => !g.passed).map((g) => `${g.name}: ${g.reason}`);
  console.log(JSON.stringify({ datasetId: built.datasetId, records: built.records.length, gatesPassed: built.gates.passed, failed, out }));
} finally {
  await rm(work, { recursive: true, force: true });
}
