// Records the generator writes always pass their schema: every real export of the repository and
// seeded synthetic ones (tool chains, code, branches and regenerations, empty and whitespace
// messages, very long messages, several languages and scripts, system messages, pasted
// transcripts) go through ingestion, the service's segmenter and buildDataset (bench/lib/
// offline-dataset.mjs), and every record is checked against its JSON Schema with the samples
// package's validateRecord. Besides the schema: no tool call or tool output reaches a chat, QA,
// preference or knowledge record; each preference pair names its source; no two records left
// after de-duplication are the same training signal.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadEmbedder } from '@trajectory/embeddings';
import { findRepeats, PREFERENCE_SOURCES, validateRecord } from '@trajectory/samples';
import { exportGraphs, offlineDataset } from '../lib/offline-dataset.mjs';
import { syntheticExport, TOOL_CALL_MARK, TOOL_OUTPUT_MARK } from '../lib/synthetic-export.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FACTS = join(ROOT, 'examples', 'facts.yaml');
const SYNTHETIC_CONVERSATIONS = 300;
const SYNTHETIC_SEED = 20261201;

/** Every real export the repository holds. */
async function realExports() {
  const inDir = async (dir, suffix) => (await readdir(join(ROOT, dir))).filter((f) => f.endsWith(suffix)).map((f) => join(ROOT, dir, f));
  return [
    ...(await inDir('fixtures/chatgpt', '.json')),
    ...(await inDir('fixtures/chatgpt-export', '.conversations.json')),
    ...(await inDir('fixtures/refinement', '.conversations.json')),
    join(ROOT, 'examples', 'sample-export', 'conversations.json'),
    join(ROOT, 'e2e', 'fixtures', 'chatgpt', 'conversations.json'),
  ];
}

/** What is wrong with the records of one dataset, as messages naming the record. */
function problems(records, { synthetic }) {
  const out = [];
  const where = (r) => `${r.type} ${r.id} (${r.source?.conversationId ?? r.source?.factId})`;
  for (const r of records) {
    const check = validateRecord(r);
    if (!check.valid) out.push(`${where(r)}: ${check.errors.join('; ')}`);
    if (r.type === 'preference') {
      const sources = PREFERENCE_SOURCES.filter((s) => r.tags?.includes(s));
      if (sources.length !== 1) out.push(`${where(r)}: preference pair tagged with ${sources.length} sources`);
    }
    if (synthetic && ['chat', 'qa', 'preference', 'knowledge'].includes(r.type)) {
      const text = JSON.stringify(r);
      if (text.includes(TOOL_CALL_MARK)) out.push(`${where(r)}: holds a tool call`);
      if (text.includes(TOOL_OUTPUT_MARK)) out.push(`${where(r)}: holds tool output`);
    }
  }
  for (const repeat of findRepeats(records).repeats)
    out.push(`${repeat.type} ${repeat.id}: the same training signal as ${repeat.of}, left after de-duplication`);
  return out;
}

test('every record built from every real export and from seeded synthetic ones passes its schema', async (t) => {
  // The schema does not depend on the encoder: without one, segmentation falls back to markers and lexical cohesion.
  const embedder = await loadEmbedder();
  const work = await mkdtemp(join(tmpdir(), 'records-test-'));
  try {
    const syntheticPath = join(work, 'synthetic.conversations.json');
    await writeFile(syntheticPath, JSON.stringify(syntheticExport(SYNTHETIC_CONVERSATIONS, SYNTHETIC_SEED)));
    const inputs = [...(await realExports()).map((path) => ({ path, synthetic: false })), { path: syntheticPath, synthetic: true }];
    const totals = { conversations: 0, records: 0, byType: {}, bySource: {} };
    const failures = [];
    for (const { path, synthetic } of inputs) {
      const graphs = await exportGraphs(path, { embedder: embedder ?? null });
      const built = await offlineDataset(graphs, join(work, 'datasets'), {
        factsPath: FACTS,
        referenceDate: new Date('2026-01-01T00:00:00Z'),
      });
      const name = synthetic ? `synthetic (${SYNTHETIC_CONVERSATIONS} conversations, seed ${SYNTHETIC_SEED})` : relative(ROOT, path);
      // The build returns each record's head; the records themselves are the file's lines.
      const records = (await readFile(built.recordsPath, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line));
      const found = problems(records, { synthetic });
      if (found.length > 0) failures.push(`${name}: ${found.length} problems, e.g.\n    ${found.slice(0, 5).join('\n    ')}`);
      const schema = built.gates.gates.find((g) => g.name === 'schema');
      if (!schema?.passed) failures.push(`${name}: schema gate: ${schema?.reason}`);
      totals.conversations += graphs.length;
      totals.records += built.records.length;
      for (const r of built.records) totals.byType[r.type] = (totals.byType[r.type] ?? 0) + 1;
      for (const row of built.report.preferencePairsBySource) totals.bySource[row.name] = (totals.bySource[row.name] ?? 0) + row.count;
      t.diagnostic(`${name}: ${graphs.length} conversations, ${built.records.length} records`);
    }
    t.diagnostic(
      `in all: ${totals.conversations} conversations, ${totals.records} records ${JSON.stringify(totals.byType)}, preference pairs ${JSON.stringify(totals.bySource)}`,
    );
    assert.deepEqual(failures, []);
    // The property is only as good as what it saw: every record type, and pairs of both sources.
    for (const type of ['trajectory', 'chat', 'qa', 'preference', 'knowledge', 'memory'])
      assert.ok(totals.byType[type] > 0, `no ${type} records`);
    for (const source of PREFERENCE_SOURCES) assert.ok(totals.bySource[source] > 0, `no preference pairs from ${source}`);
  } finally {
    await embedder?.close();
    await rm(work, { recursive: true, force: true });
  }
});
