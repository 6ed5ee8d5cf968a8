import assert from 'node:assert/strict';
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RECORD_TYPES } from './records.js';
import { SCHEMA_DIR } from './schema-files.test-helper.js';

// Run from dist/: the schemas, the generated types and the trainer's link are in the checkout.
const TRAINER_SCHEMAS = fileURLToPath(new URL('../../../trainer-gpu/src/trajectory_trainer/schemas', import.meta.url));
const GENERATED = new URL('../src/gen/records.ts', import.meta.url);

const schemaFiles = () =>
  readdirSync(SCHEMA_DIR)
    .filter((name) => name.endsWith('.schema.json'))
    .sort();

test('the Python trainer validates records.jsonl with these same schema files', () => {
  // trainer-gpu/src/trajectory_trainer/schemas is a link to this folder, not a copy (a wheel copies it).
  assert.equal(realpathSync(TRAINER_SCHEMAS), realpathSync(SCHEMA_DIR));
  assert.deepEqual(readdirSync(TRAINER_SCHEMAS).sort(), readdirSync(SCHEMA_DIR).sort());
});

test('each record type is a schema file, and its type is generated from that file', () => {
  assert.deepEqual(
    schemaFiles(),
    [...RECORD_TYPES].sort().map((type) => `${type}.schema.json`),
  );
  const generated = readFileSync(GENERATED, 'utf8');
  for (const name of schemaFiles()) {
    const { title } = JSON.parse(readFileSync(join(SCHEMA_DIR, name), 'utf8')) as { title: string };
    // json-schema-to-typescript names a type after its schema's title: "chat record" -> ChatRecord.
    const typeName = title.replace(/(^|\s)(\w)/g, (_, __, c: string) => c.toUpperCase());
    assert.match(generated, new RegExp(`^export interface ${typeName} \\{$`, 'm'), `${name}: ${typeName} not in src/gen/records.ts`);
  }
  assert.doesNotMatch(generated, /\[k: string\]/, 'a record type has an index signature (a schema left its object open?)');
});
