// Checks a dataset file (JSONL) against the record schemas, one line at a time.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { type ValidateOptions, type ValidationResult, validateRecords } from '../validate.js';

/** Checks a JSONL file line by line without reading it whole. */
export async function validateFile(path: string, options: ValidateOptions = {}): Promise<ValidationResult> {
  const input = createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    return await validateRecords(lines, options);
  } finally {
    lines.close();
    input.destroy();
  }
}
