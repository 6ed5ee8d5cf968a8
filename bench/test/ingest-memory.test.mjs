// bench/ingest-memory.mjs at its smoke scale, as `npm test` runs it: every case must read every
// conversation it should (the one over maxConversationBytes skipped by its index and byte, which
// the bench checks itself) and print its peak RSS and the ratios. The ratios are printed, not
// asserted: at this scale the process's baseline is all of them, and a shared machine is noise.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const BENCH = fileURLToPath(new URL('../', import.meta.url));

test('ingest-memory --smoke: tiny conversations and a large value, as JSON and zipped, with and without a 64 MB heap cap', () => {
  const result = spawnSync(process.execPath, ['ingest-memory.mjs', '--smoke'], { cwd: BENCH, encoding: 'utf8', timeout: 240_000 });
  const output = `${result.stdout}\n${result.stderr}`;
  assert.equal(result.status, 0, `ingest-memory.mjs --smoke exited with ${result.status ?? result.signal}:\n${output.slice(-3000)}`);
  // 2 inputs x 2 files x 2 heaps for each family, every one with its figures.
  const rows = output.split('\n').filter((line) => /^\| (2,000|4,000) tiny conversations|^\| a [14] MB value/.test(line));
  assert.equal(rows.length, 16, output);
  for (const row of rows) assert.match(row, /\| +\d+ MB \|$/, `a peak RSS in every row: ${row}`);
  assert.ok(
    rows.filter((row) => row.startsWith('| a 4 MB value')).every((row) => /\| +2 \| +1 \|/.test(row)),
    'the conversation over the limit is skipped, its two neighbours read',
  );
  const ratios = output.split('\n').filter((line) => /peak RSS ratio [\d.]+; flat \(<= 1\.3\): (met|not met)$/.test(line));
  assert.equal(ratios.length, 8, output);
});
