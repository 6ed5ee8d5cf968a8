#!/usr/bin/env node
// The memory records of a facts file, as the samples service builds them (@trajectory/samples:
// parseFacts + factRecords with the default system prompt): every phrasing of every fact with its
// split (train / heldout), the negative and the "I don't know" examples. One JSON object a line.
//
//   npm run build -w @trajectory/samples     # once: the package's dist/
//   node trainer-gpu/scripts/fact_records.mjs FACTS.yaml [LIMIT] > records.jsonl
//
// LIMIT: only the file's first LIMIT facts (a smaller benchmark).
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { DEFAULT_SYSTEM_PROMPT, factRecords, parseFacts } from '@trajectory/samples';

const [path, limit] = process.argv.slice(2);
if (!path || (limit !== undefined && !(Number(limit) > 0))) {
  console.error('usage: node trainer-gpu/scripts/fact_records.mjs FACTS.yaml [LIMIT] > records.jsonl');
  process.exit(2);
}
const facts = parseFacts(await readFile(path, 'utf8'), basename(path)).slice(0, limit === undefined ? undefined : Number(limit));
for (const record of factRecords(facts, { systemPrompt: DEFAULT_SYSTEM_PROMPT })) process.stdout.write(`${JSON.stringify(record)}\n`);
