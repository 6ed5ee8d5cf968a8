// The README's folder table is the map a reader starts from: it must name every folder of the
// tree and every workspace, and nothing that is not there.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, workspaces } from './workspaces.mjs';

/** The first cell of each row of the table under `| folder | what it is |`, without backticks or a trailing slash. */
function folderTableEntries(readme) {
  const lines = readme.split('\n');
  const start = lines.findIndex((line) => /^\|\s*folder\s*\|/.test(line));
  assert.notEqual(start, -1, 'README.md has no "| folder | what it is |" table');
  const entries = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const cell = line.split('|')[1].trim();
    const folder = cell.match(/^`([^`]+)`$/)?.[1];
    if (folder) entries.push(folder.replace(/\/$/, ''));
  }
  return entries;
}

/** Whether a table entry (`services/*`, `packages/bus`, `deploy`) covers a folder. */
const covers = (entry, folder) =>
  entry.endsWith('/*') ? folder.startsWith(`${entry.slice(0, -1)}`) && !folder.slice(entry.length - 1).includes('/') : entry === folder;

const entries = folderTableEntries(readFileSync(join(ROOT, 'README.md'), 'utf8'));

test("the README's folder table names every top-level folder the repository tracks", () => {
  const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n');
  const topFolders = [...new Set(tracked.filter((p) => p.includes('/')).map((p) => p.split('/')[0]))].filter(
    (name) => !name.startsWith('.'),
  );
  const missing = topFolders.filter((folder) => !entries.some((entry) => entry === folder || entry.startsWith(`${folder}/`)));
  assert.deepEqual(missing, []);
});

test("the README's folder table names every workspace", () => {
  const missing = workspaces()
    .map((w) => w.folder)
    .filter((folder) => !entries.some((entry) => covers(entry, folder) || entry === folder.split('/')[0]));
  assert.deepEqual(missing, []);
});

test("every folder the README's table names is there", () => {
  const absent = entries.filter((entry) => !existsSync(join(ROOT, entry.replace(/\/\*$/, ''))));
  assert.deepEqual(absent, []);
});

test('the table reader reads the table', () => {
  const readme = '# x\n\n| folder | what it is |\n|---|---|\n| `proto/` | a |\n| **libraries** | |\n| `services/*` | b |\n\nafter';
  assert.deepEqual(folderTableEntries(readme), ['proto', 'services/*']);
  assert.equal(covers('services/*', 'services/graph'), true);
  assert.equal(covers('services/*', 'services/graph/src'), false);
  assert.equal(covers('packages/bus', 'packages/bus'), true);
});
