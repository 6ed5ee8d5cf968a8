import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Conversation, IngestReport } from '@trajectory/contracts';
import { REPO_ROOT } from '@trajectory/testkit';
import { hostileFixture } from './fixtures.test-helper.js';
import { readConversations } from './io/ingest.js';
import { DEFAULT_LIMITS, type IngestLimits } from './types.js';

/*
 * The hostile corpus (fixtures/hostile, see its README.md), one test per case, through the whole
 * offline core (readConversations): (a) each problem is reported naming the file and the place,
 * exactly, and (b) every good conversation of the same file landed, by id.
 */

/** What fixtures/hostile/generate.mjs offers. */
interface Generator {
  SMALL_CASES: Record<string, () => Buffer>;
  LARGE_CASES: Record<string, () => Buffer>;
  writeLarge(dir: string): Record<string, string>;
}
const generator = (await import(pathToFileURL(join(REPO_ROOT, 'fixtures', 'hostile', 'generate.mjs')).href)) as Generator;

let largeDir: string;
let large: Record<string, string>;
before(() => {
  largeDir = mkdtempSync(join(tmpdir(), 'hostile-'));
  large = generator.writeLarge(largeDir);
});
after(() => rmSync(largeDir, { recursive: true, force: true }));

/** A problem the report must hold: which list, and the file, place and message it names. */
type Expected = ['skipped' | 'warnings', string, string, RegExp];

/** Reads a case and checks exactly what landed and exactly what was reported. */
async function check(
  path: string,
  landed: string[],
  problems: Expected[],
  limits: IngestLimits = DEFAULT_LIMITS,
): Promise<{ conversations: Conversation[]; report: IngestReport }> {
  const { conversations, report } = await readConversations(path, { limits });
  assert.deepEqual(
    conversations.map((c) => c.id),
    landed,
    'every good conversation of the file lands',
  );
  assert.equal(report.conversations, landed.length);
  const reported = [
    ...report.skipped.map((p) => ['skipped', p.fileName, p.place, p.message]),
    ...report.warnings.map((p) => ['warnings', p.fileName, p.place, p.message]),
  ];
  assert.deepEqual(
    reported.map(([list, file, place]) => [list, file, place]),
    problems.map(([list, file, place]) => [list, file, place]),
    'each problem names its file and place',
  );
  for (const [i, [, , , message]] of problems.entries()) assert.match(reported[i]?.[3] ?? '', message);
  return { conversations, report };
}

const goodPair = (name: string) => [`${name}-good-1`, `${name}-good-2`];

test('the generator still writes every committed file of the corpus byte for byte', () => {
  const committed = readdirSync(join(REPO_ROOT, 'fixtures', 'hostile')).filter((n) => n !== 'README.md' && !n.endsWith('.mjs'));
  assert.deepEqual(committed.sort(), Object.keys(generator.SMALL_CASES).sort());
  for (const [name, build] of Object.entries(generator.SMALL_CASES)) {
    assert.ok(build().equals(readFileSync(hostileFixture(name))), `${name} differs from what generate.mjs writes`);
  }
});

test('malformed JSON in the middle of an array loses that element only', async () => {
  await check(
    hostileFixture('malformed-middle.json'),
    ['malformed-middle-good-1', 'malformed-middle-good-2', 'malformed-middle-good-3', 'malformed-middle-good-4'],
    [['skipped', 'malformed-middle.json', '[2] at byte 2176', /^malformed JSON: .*\(byte 2218 of the file\)$/]],
  );
});

test('a truncated file: every conversation before the cut lands, the cut one is named', async () => {
  await check(hostileFixture('truncated.json'), goodPair('truncated'), [
    ['skipped', 'truncated.json', '[2] at byte 1921', /the file ends inside this element, at byte 3095/],
  ]);
});

test('a truncated zip: the entries before the cut land, the cut entry and the missing directory are named', async () => {
  await check(hostileFixture('truncated.zip'), goodPair('truncated-zip'), [
    ['skipped', 'truncated.zip', 'byte 665', /the zip is truncated or damaged \(no central directory\)/],
    ['skipped', 'truncated.zip:conversations-001.json', '[0] at byte 3', /the file ends at byte 665, inside this entry/],
  ]);
});

test('zip slip: entries with ../ and absolute paths are refused by name, the rest lands', async () => {
  await check(hostileFixture('zip-slip.zip'), goodPair('zip-slip'), [
    ['skipped', 'zip-slip.zip', 'entry ../../../../tmp/evil.json', /^unsafe path \(it has a "\.\." segment\): skipped$/],
    ['skipped', 'zip-slip.zip', 'entry /etc/cron.d/evil.json', /^unsafe path \(it is absolute\): skipped$/],
  ]);
});

test('a zip bomb and an entry whose header lies about its size are stopped by name, the rest lands', async () => {
  await check(hostileFixture('zip-bomb.zip'), goodPair('zip-bomb'), [
    ['skipped', 'zip-bomb.zip', 'entry bomb.json', /compression ratio \d+:1 is over the limit of 200:1 .*a likely zip bomb: skipped$/],
    ['skipped', 'zip-bomb.zip:liar.json', 'byte 0', /inflates to more than the 100 bytes it declares \(its header lies\): stopped$/],
  ]);
});

test('a zip inside the zip is reported as not opened, by its path; the rest lands', async () => {
  await check(hostileFixture('nested.zip'), goodPair('nested'), [
    ['skipped', 'nested.zip', 'entry older/export-2023.zip', /^an archive inside the archive is not opened/],
  ]);
});

test('a PNG named .json, an empty file and a 0-byte zip: each is named with byte 0, nothing lands', async () => {
  await check(
    hostileFixture('png-named.json'),
    [],
    [['skipped', 'png-named.json', 'byte 0', /expected a JSON array or object, found byte 0x89/]],
  );
  await check(hostileFixture('empty.json'), [], [['skipped', 'empty.json', 'byte 0', /^the file is empty$/]]);
  await check(
    hostileFixture('empty.zip'),
    [],
    [['skipped', 'empty.zip', 'byte 0', /^not a zip archive: it does not start with a zip signature/]],
  );
});

test('UTF-16 JSON, with a byte order mark (LE) and without (BE), reads whole', async () => {
  await check(hostileFixture('utf16le-bom.json'), goodPair('utf16le'), []);
  await check(hostileFixture('utf16be.json'), goodPair('utf16be'), [
    ['warnings', 'utf16be.json', '(whole file)', /^no byte order mark; read as UTF-16BE/],
  ]);
});

test('Latin-1 JSON reads whole, its accents intact, with a warning naming the first byte that is not UTF-8', async () => {
  const { conversations } = await check(hostileFixture('latin1.json'), goodPair('latin1'), [
    ['warnings', 'latin1.json', '[0]', /not valid UTF-8 at byte 466.*read as Windows-1252 \(Latin-1\)/],
  ]);
  assert.equal(conversations[0]?.messages[0]?.text, "Café crème, s'il vous plaît");
});

test('one bad UTF-8 byte mid-file costs nothing: all 20 conversations land, the warning names the element and the exact byte', async () => {
  const path = hostileFixture('bad-utf8.json');
  const badByte = readFileSync(path).indexOf(0xff);
  const { conversations } = await check(
    path,
    Array.from({ length: 20 }, (_, i) => `bad-utf8-${i}`),
    [['warnings', 'bad-utf8.json', '[10]', new RegExp(`^not valid UTF-8 at byte ${badByte} .*U\\+FFFD`)]],
  );
  assert.equal(conversations[10]?.messages[0]?.text, 'café ☕ naïve, \uFFFD here');
});

test('an oversized value is skipped as it streams past, named by element, byte and size; the rest lands', async () => {
  // 2 MiB of string against a 1 MiB limit: a 400 MB value against the 64 MiB default, at test size
  // (`node fixtures/hostile/generate.mjs DIR --oversized-mib 400` writes that one).
  await check(
    large['oversized-value.json'] as string,
    goodPair('oversized'),
    [
      [
        'skipped',
        'oversized-value.json',
        '[1] at byte 961',
        /^\d+ bytes, over the limit of 1048576 bytes for one conversation \(maxConversationBytes\): skipped$/,
      ],
    ],
    { ...DEFAULT_LIMITS, maxConversationBytes: 1024 * 1024 },
  );
});

test('a parent cycle is cut and reported; every message of it lands', async () => {
  const { conversations } = await check(
    hostileFixture('cycle.json'),
    ['cycle-good-1', 'cycle-broken', 'cycle-good-2'],
    [
      [
        'warnings',
        'cycle.json',
        '[1] conversation cycle-broken node cycle-broken-m0',
        /^parent links form a cycle .*: the link from cycle-broken-m0 to its parent cycle-broken-m2 is cut/,
      ],
    ],
  );
  assert.equal(conversations[1]?.messages.length, 3);
});

test('a self-parent is read as the start and reported; its conversation lands', async () => {
  await check(
    hostileFixture('self-parent.json'),
    ['self-parent-good-1', 'self-parent-broken', 'self-parent-good-2'],
    [['warnings', 'self-parent.json', '[1] conversation self-parent-broken node self-parent-broken-m0', /is its own parent/]],
  );
});

test('a missing and a dangling current_node each warn and name the branch taken', async () => {
  await check(
    hostileFixture('no-current-node.json'),
    ['no-current-node-good-1', 'no-current-node-missing', 'no-current-node-dangling', 'no-current-node-good-2'],
    [
      [
        'warnings',
        'no-current-node.json',
        '[1] conversation no-current-node-missing',
        /^has no current_node: .* end at node no-current-node-missing-m1/,
      ],
      [
        'warnings',
        'no-current-node.json',
        '[2] conversation no-current-node-dangling',
        /^current_node "a-node-that-is-not-there" names no node of the mapping: .* end at node no-current-node-dangling-m1/,
      ],
    ],
  );
});

test('a content part nested 10,000 deep keeps its text and is reported', async () => {
  const { conversations } = await check(
    large['deep-parts.json'] as string,
    ['deep-parts-good-1', 'deep-parts-broken', 'deep-parts-good-2'],
    [
      [
        'warnings',
        'deep-parts.json',
        '[1] conversation deep-parts-broken message deep-parts-broken-m0',
        /content part \[1\] .* 20000 level\(s\) deep: its text is kept/,
      ],
    ],
  );
  assert.equal(conversations[1]?.messages[0]?.text, 'on top\n\nthe text at the bottom');
});

test('Claude tool blocks nested 20,000 deep: the conversation lands whole', async () => {
  const { conversations } = await check(
    large['deep-claude-tools.json'] as string,
    ['deep-claude-tools-good-1', 'deep-claude-tools-broken', 'deep-claude-tools-good-2'],
    [],
  );
  assert.deepEqual(
    conversations[1]?.messages.map((m) => m.id),
    ['deep-q', 'deep-call', 'deep-result'],
  );
  assert.equal(conversations[1]?.messages[2]?.text, 'the innermost result');
});

test('__proto__, constructor and toString as keys and ids are only data: nothing is polluted, all lands', async () => {
  const { conversations } = await check(
    hostileFixture('proto-keys.json'),
    ['proto-keys-good-1', 'proto-keys-odd', 'proto-keys-good-2'],
    [],
  );
  const odd = conversations[1];
  assert.deepEqual(
    odd?.messages.map((m) => [m.id, m.parentId, m.text, m.onCurrentBranch]),
    [
      ['__proto__', '', 'hello from __proto__', true],
      ['hasOwnProperty', '__proto__', 'and from toString', false],
    ],
  );
  assert.equal(odd?.title, '__proto__');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('Cypher-looking text is carried verbatim, as data', async () => {
  const { conversations } = await check(hostileFixture('cypher.json'), ['cypher-text', ...goodPair('cypher')], []);
  assert.equal(conversations[0]?.title, "x'}) MATCH (n) DETACH DELETE n //");
  assert.deepEqual(
    conversations[0]?.messages.map((m) => m.text),
    [
      "'}) MATCH (n) DETACH DELETE n WITH 1 AS x CALL { RETURN 1 } //",
      'LOAD CSV FROM "file:///etc/passwd" AS line RETURN line; `backticks` $param {{x}}',
    ],
  );
});

test('binary garbage inside a message (NUL, escapes, lone surrogates, all 256 byte values) lands as it was', async () => {
  const { conversations } = await check(hostileFixture('binary-garbage.json'), ['binary-garbage-text', ...goodPair('binary-garbage')], []);
  const written = JSON.parse(readFileSync(hostileFixture('binary-garbage.json'), 'utf8'))[0].mapping;
  assert.deepEqual(
    conversations[0]?.messages.map((m) => m.text),
    ['binary-garbage-text-m0', 'binary-garbage-text-m1'].map((key) => written[key].message.content.parts[0]),
  );
});

test('an element of an unknown export version is named by its index and keys; the rest lands', async () => {
  await check(hostileFixture('unknown-version.json'), goodPair('unknown-version'), [
    ['skipped', 'unknown-version.json', '[1]', /^unknown export format or version: .*found schema_version, conversation$/],
  ]);
});
