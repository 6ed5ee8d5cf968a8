// Every real export in the repository's fixtures (the ChatGPT samples, the whole real export, the 20
// + 43 real conversations of the refinement gold), the Claude-format fixture, the bundled sample and
// the e2e sample, through ingestion, the service's segmenter and buildDataset with the samples
// service's default settings and no facts file: each dataset passes its gates. `trajectory run`
// through the services on the largest is e2e/src/real-export.e2e.ts.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadEmbedder } from '@trajectory/embeddings';
import { exportGraphs, offlineDataset } from '../lib/offline-dataset.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = (...parts) => join(ROOT, 'fixtures', ...parts);
const EXPORTS = [
  ...readdirSync(fixtures('chatgpt'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => fixtures('chatgpt', f)),
  fixtures('chatgpt-export', 'pkuppens_2023-06_export.conversations.json'),
  fixtures('refinement', 'refine_dev.conversations.json'),
  fixtures('refinement', 'refine_heldout.conversations.json'),
  fixtures('claude', 'conversations.json'),
  join(ROOT, 'examples', 'sample-export', 'conversations.json'),
  join(ROOT, 'e2e', 'fixtures', 'chatgpt', 'conversations.json'),
];

test('every real export in the fixtures builds a dataset whose gates pass', async () => {
  const embedder = await loadEmbedder();
  const dir = await mkdtemp(join(tmpdir(), 'real-exports-'));
  try {
    for (const path of EXPORTS) {
      const graphs = await exportGraphs(path, { embedder });
      assert.ok(graphs.length > 0, `${path}: no conversation read`);
      const built = await offlineDataset(graphs, dir, { referenceDate: new Date('2026-12-01T00:00:00Z') });
      const failed = built.gates.gates.filter((g) => !g.passed).map((g) => `${g.name}: ${g.reason}`);
      assert.deepEqual(failed, [], `${path}: ${built.records.length} records`);
    }
  } finally {
    await embedder?.close();
    await rm(dir, { recursive: true, force: true });
  }
});
