import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { conversationRecords } from '@trajectory/samples';
import { segmentExport } from './segment.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SAMPLE = join(root, 'examples', 'sample-export', 'conversations.json');

// The bundled sample that `npm start` runs (examples/README.md says what each conversation shows):
// offline, with the segmenter and the record builders the services run, it must show what
// Trajectory is for, not only turn pairs.
test('the bundled sample shows refinement chains, refines and iteration_final edges, a topic restart, weights above 1 and a preference pair', async () => {
  const { results, warnings } = await segmentExport(SAMPLE, { lexicalOnly: true });
  assert.deepEqual(warnings, []);
  assert.equal(results.length, 5);
  const byTitle = new Map(results.map((r) => [r.conversation.title, r.segmentation]));
  const converged = (title: string) => byTitle.get(title)?.chains.map((c) => c.tags.find((t) => t.startsWith('converged:')));
  assert.deepEqual(converged('Running a local AI on my laptop'), ['converged:restated']);
  assert.deepEqual(converged('Parsing timestamps from our API'), ['converged:accepted']);
  assert.deepEqual(converged('Weekmenu voor twee'), ['converged:accepted']);
  assert.deepEqual(converged('Postgres-Backup einrichten'), ['converged:accepted']);
  const edges = results.flatMap((r) => r.segmentation.edges);
  const count = (relation: string) => edges.filter((e) => e.relation === relation).length;
  assert.ok(count('refines') >= 6, `refines: ${count('refines')}`);
  assert.equal(count('iteration_final'), 4);
  assert.ok(
    edges.some((e) => e.relation === 'restarts' && e.tags.includes('marker')),
    'the "By the way" question restarts the topic',
  );
  assert.ok(edges.some((e) => e.relation === 'refines' && e.tags.includes('lang:nl')));

  const records = results.flatMap(({ conversation, segmentation: s }) =>
    conversationRecords(
      { conversationId: conversation.id, title: conversation.title, nodes: s.nodes, edges: s.edges, chains: s.chains },
      { referenceDate: new Date('2026-11-30T00:00:00Z'), contextSize: 3, targetRoles: ['user', 'assistant'], systemPrompt: 'You are me.' },
    ),
  );
  const trajectories = records.filter((r) => r.type === 'trajectory');
  assert.ok(trajectories.filter((r) => r.weight > 1).length >= 4, `weights: ${trajectories.map((r) => r.weight.toFixed(2)).join(' ')}`);
  const preferences = records.filter((r) => r.type === 'preference');
  const regenerated = preferences.filter((r) => r.tags?.includes('regenerated'));
  assert.equal(regenerated.length, 1);
  assert.match(regenerated[0]?.type === 'preference' ? regenerated[0].chosen : '', /^QLoRA keeps the frozen base model/);
  // Each chain's challenged answer and its revision are a pair too; the restated question one more.
  const revisions = preferences.filter((r) => r.tags?.includes('revision'));
  assert.equal(revisions.length, 5, `revision pairs: ${revisions.map((r) => r.tags?.join(',')).join('; ')}`);
  assert.equal(revisions.filter((r) => r.tags?.includes('restated')).length, 1);
  assert.equal(records.filter((r) => r.type === 'knowledge').length, 4, 'what each chain settled on');
});
