import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { segmentExport } from './segment.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

// The design's own example (fixtures/seed), verbatim as a Markdown transcript and written out as
// JSONL: the person iterates until the real question appears. Read by ingestion's own readers and
// segmented by the segmenter the service runs, with and without the embedding model.
for (const file of ['laptop.md', 'laptop.jsonl']) {
  for (const lexicalOnly of [true, false]) {
    test(`the design's example (${file}${lexicalOnly ? ', lexical' : ', with the model where installed'}): the last user turn refines the first and the chain ends in iteration_final`, async () => {
      const { results, warnings } = await segmentExport(join(root, 'fixtures', 'seed', file), { lexicalOnly });
      assert.deepEqual(warnings, []);
      assert.equal(results.length, 1);
      const [{ conversation, segmentation: s }] = results as [(typeof results)[number]];
      assert.equal(conversation.messages.length, 5);
      const nodeOfMessage = (i: number) => s.nodes.find((n) => n.messageIds[0] === conversation.messages[i]?.id);
      const first = nodeOfMessage(0);
      const last = nodeOfMessage(4);
      assert.ok(first && last);
      assert.match(last.text, /^Ah\. So maybe the question isn't/);
      const refines = s.edges.find((e) => e.relation === 'refines' && e.fromId === last.id && e.toId === first.id);
      assert.ok(
        refines,
        `the last user turn refines the first; refines edges: ${JSON.stringify(s.edges.filter((e) => e.relation === 'refines'))}`,
      );
      assert.ok(refines.tags.includes('restated'));

      assert.equal(s.chains.length, 1);
      const [chain] = s.chains;
      assert.deepEqual(chain?.steps, ['idea', 'answer', 'challenge', 'revision', 'convergence']);
      assert.equal(chain?.nodeIds[0], first.id);
      assert.equal(chain?.nodeIds.at(-1), last.id);
      assert.ok(chain?.tags.includes('converged:restated'));
      assert.equal(textOf(s, chain?.nodeIds[2]), 'My laptop only has 16GB RAM.', 'the constraint is the challenge');
      const final = s.edges.find((e) => e.relation === 'iteration_final');
      assert.deepEqual([final?.fromId, final?.toId], [first.id, last.id], 'iteration_final runs from the idea to the convergence');
    });
  }
}

function textOf(s: { nodes: { id: string; text: string }[] }, id: string | undefined): string | undefined {
  return s.nodes.find((n) => n.id === id)?.text;
}
