// The record schema files themselves (packages/samples/schemas), for the tests: the library checks
// records against the schemas generated from them (src/gen/schemas.ts), and the trainer links the folder.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RECORD_TYPES, type RecordType } from './records.js';

/** Where the record schemas live: `<package>/schemas/<type>.schema.json` (../schemas from src or dist). */
export const SCHEMA_DIR = fileURLToPath(new URL('../schemas/', import.meta.url));

/** Reads the six record schemas from `dir`. */
export function loadRecordSchemas(dir: string = SCHEMA_DIR): Record<RecordType, Record<string, unknown>> {
  const out = {} as Record<RecordType, Record<string, unknown>>;
  for (const type of RECORD_TYPES) {
    const file = join(dir, `${type}.schema.json`);
    try {
      out[type] = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`cannot load the ${type} record schema from ${file}: ${(err as Error).message}`);
    }
  }
  return out;
}
