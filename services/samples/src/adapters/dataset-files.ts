// The samples service's reads of a dataset version's files: its records (one line at a time: a
// version may hold 10⁵ records, never all kept), a file to validate, and a facts file.
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { ServiceError } from '@trajectory/runtime';
import {
  type DatasetRecord,
  type DrawCandidate,
  factRecords,
  type MemoryRecord,
  parseFacts,
  type ValidationResult,
  validateFile,
} from '@trajectory/samples';

/** A file that is not there (a dataset's records, a path to validate) is NOT_FOUND to the client. */
export const missingFile = (err: unknown) =>
  err instanceof Error && (err as NodeJS.ErrnoException).code === 'ENOENT'
    ? new ServiceError('NOT_FOUND', err.message, { cause: err })
    : err;

/** The records of a dataset file, one parsed line at a time. */
export async function* readRecords(path: string): AsyncGenerator<DatasetRecord> {
  try {
    const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
    for await (const line of lines) if (line.trim()) yield JSON.parse(line) as DatasetRecord;
  } catch (err) {
    throw missingFile(err);
  }
}

/** What a spot-check draws from: the id and type of every record of a dataset file. */
export async function drawCandidates(path: string): Promise<DrawCandidate[]> {
  const candidates: DrawCandidate[] = [];
  for await (const r of readRecords(path)) candidates.push({ id: r.id, type: r.type });
  return candidates;
}

/** The records of a dataset file with the given ids, by id. */
export async function findRecords(path: string, ids: ReadonlySet<string>): Promise<Map<string, DatasetRecord>> {
  const found = new Map<string, DatasetRecord>();
  for await (const r of readRecords(path)) if (ids.has(r.id)) found.set(r.id, r);
  return found;
}

/** Checks a JSONL file against the record schemas; a file that is not there is NOT_FOUND. */
export function validateDatasetFile(path: string): Promise<ValidationResult> {
  return validateFile(path).catch((err: unknown) => {
    throw missingFile(err);
  });
}

/** The memory records of a facts file: its text as sent, else the file read at `factsPath`; neither: none. */
export async function memoryRecords(factsPath: string | undefined, factsText: string, systemPrompt: string): Promise<MemoryRecord[]> {
  if (!factsText && !factsPath) return [];
  const facts = parseFacts(factsText || (await readFile(factsPath as string, 'utf8')), factsPath || 'facts');
  return factRecords(facts, { systemPrompt });
}
