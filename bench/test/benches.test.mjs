// Benches that cannot rot: every bench under bench/ (and a library's own, such as
// packages/ingestion/bench) runs here at a tiny scale, as `npm test`
// runs it, and must finish and print its table. The figures are not checked (they are printed
// for people, and a timed assertion on a shared 2-core machine would be noise); that the bench
// runs its whole path on the code of this commit is.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const BENCH = fileURLToPath(new URL('../', import.meta.url));

/** Runs `node bench/<script> ...args` and returns its output, failing with its tail when it fails. */
function runBench(script, args) {
  const result = spawnSync(process.execPath, [script, ...args], { cwd: BENCH, encoding: 'utf8', timeout: 240_000 });
  const output = `${result.stdout}\n${result.stderr}`;
  assert.equal(result.status, 0, `${script} ${args.join(' ')} exited with ${result.status ?? result.signal}:\n${output.slice(-3000)}`);
  return output;
}

test('graph-write: the service and both baselines write a tiny seed-shaped graph into a real Neo4j', () => {
  const out = runBench('graph-write.mjs', ['0.002', '--no-grid', '--best', '8,2']);
  assert.match(out, /A plain UNWIND, nodes\+edges/);
  assert.match(out, /B writeConversationGraphs\s+G=8 conv\/tx, P=2\s+493\s+525/);
  assert.match(out, /The service reaches [\d.]+x of the nodes\+edges baseline/);
});

test('utf8-validation (packages/ingestion/bench): the hand UTF-8 walker beside the platform, on 1 MiB', () => {
  const out = runBench('../packages/ingestion/bench/utf8-validation.mjs', ['--mib', '1', '--runs', '1']);
  assert.match(out, /hand walker \(findInvalidUtf8\)\s+\S+ MB\/s\s+\S+ ms\s+-> 1047576/);
  assert.match(out, /UTF-16 to text/);
});

test('segmentation-quality --smoke: TIAGE, the real-conversation gold and the relation table', () => {
  const out = runBench('segmentation-quality.mjs', ['--smoke']);
  assert.match(out, /topic model/);
  assert.match(out, /Speed per core/);
});

test('segmentation-speed --smoke: the encoders side by side and the cache', () => {
  const out = runBench('segmentation-speed.mjs', ['--smoke']);
  assert.match(out, /conv\/s\/core/);
  assert.match(out, /Where the CPU goes/);
  assert.match(out, /withEmbeddingCache/);
});

test('segmentation-scaling: one worker on its own servers segments every conversation once', () => {
  const out = runBench('segmentation-scaling.mjs', ['--conversations', '6', '--workers', '1', '--stall', '60', '--quiet-wait', '10']);
  // workers, conversations, ..., duplicates 0, handled 6
  assert.match(out, /^\s+1\s+6\s+[\d.]+\s+[\d.]+\s+1\.00x\s+.*\s0\s+6\s/m);
});

test('generate-export --measure: a seeded history zip, read back and segmented offline', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-generate-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = runBench('generate-export.mjs', ['--out', join(dir, 'h.zip'), '--conversations', '3', '--mean-exchanges', '4', '--measure']);
  assert.match(out, /3 conversations in 1 shards/);
  assert.match(out, /\| this export\s+\|\s+3 \|/);
});

test('samples-memory: a tiny history segmented offline, its dataset built in a child process', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-samples-memory-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const graphs = join(dir, 'graphs.jsonl');
  const out = runBench('samples-memory.mjs', ['--conversations', '3', '--mean-exchanges', '4', '--graphs', graphs]);
  assert.match(out, /graphs: 3 conversations segmented/);
  assert.match(out, /^\| 3\s+\|\s+[\d,]+ \|.*\|\s+[\d,]+ MB \| +(passed|failed) \| +[0-9a-f]{16} \|$/m);
  // The second run builds from the graphs the first one kept.
  assert.match(runBench('samples-memory.mjs', ['--conversations', '3', '--graphs', graphs]), /kept from an earlier run/);
});

test('end-to-end: a tiny history through every service, per stage, with the targets', () => {
  const out = runBench('end-to-end.mjs', ['--conversations', '4', '--mean-exchanges', '4', '--workers', '1']);
  for (const stage of ['ingest', 'segment', 'graph write', 'samples', 'total']) assert.match(out, new RegExp(`^\\| ${stage}\\s+\\|`, 'm'));
  assert.match(out, /events: ingested 4, segmented 4, stored 4, datasets 1; gates passed/);
  assert.match(out, /^targets:$/m);
});
