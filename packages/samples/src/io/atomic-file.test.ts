import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AtomicFile, writeAtomic, writeJsonAtomic } from './atomic-file.js';

function inTempDir(body: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'samples-atomic-'));
    try {
      await body(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test(
  'a file appears only on commit, replacing the earlier one, and leaves no temporary',
  inTempDir(async (dir) => {
    const path = join(dir, 'rows.jsonl');
    writeFileSync(path, 'old\n');
    const file = new AtomicFile(path);
    await file.write('a\n');
    await file.write('b\n');
    assert.equal(readFileSync(path, 'utf8'), 'old\n');
    await file.commit();
    assert.equal(readFileSync(path, 'utf8'), 'a\nb\n');
    assert.equal(file.writes, 2);
    assert.deepEqual(readdirSync(dir), ['rows.jsonl']);
  }),
);

test(
  'with nothing written, commit writes an empty file, or with dropEmpty removes the earlier one',
  inTempDir(async (dir) => {
    await new AtomicFile(join(dir, 'empty.jsonl')).commit();
    assert.equal(readFileSync(join(dir, 'empty.jsonl'), 'utf8'), '');
    writeFileSync(join(dir, 'stale.jsonl'), 'old\n');
    await new AtomicFile(join(dir, 'stale.jsonl'), { dropEmpty: true }).commit();
    assert.equal(existsSync(join(dir, 'stale.jsonl')), false);
  }),
);

test(
  'a fill that throws leaves the earlier file as it was and no temporary',
  inTempDir(async (dir) => {
    const path = join(dir, 'data.json');
    await writeJsonAtomic(path, { a: 1 });
    assert.equal(readFileSync(path, 'utf8'), '{\n  "a": 1\n}\n');
    await assert.rejects(
      writeAtomic(path, async (file) => {
        await file.write('{"half": ');
        throw new Error('no more');
      }),
      /no more/,
    );
    assert.equal(readFileSync(path, 'utf8'), '{\n  "a": 1\n}\n');
    assert.deepEqual(readdirSync(dir), ['data.json']);
  }),
);
