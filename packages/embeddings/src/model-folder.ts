// What both embedders do with the folder their model comes in: check that its files are there and
// match its manifest.json, and read its JSON files, every error naming the file and how to get a
// good copy again; and the unit-length scaling both apply to a summed vector.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ModelFolder {
  dir: string;
  /** What the errors call the folder: `embedding model folder`, `static encoder folder`. */
  kind: string;
  /** How to get a good copy again, the end of every error. */
  hint: string;
}

/** Throws, naming the first one missing, unless every file of `names` is in the folder. */
export function requireFiles(folder: ModelFolder, names: readonly string[]): void {
  for (const name of names) {
    const path = join(folder.dir, name);
    if (!existsSync(path)) throw new Error(`${folder.kind} ${folder.dir} is incomplete: ${path} is missing; ${folder.hint}`);
  }
}

/** The folder's JSON file `name` parsed (from `bytes` where the caller read it already). */
export function readJsonFile(folder: ModelFolder, name: string, bytes?: Buffer): object {
  const path = join(folder.dir, name);
  try {
    return JSON.parse((bytes ?? readFileSync(path)).toString('utf8')) as object;
  } catch (err) {
    throw new Error(`${path}: not readable JSON (${err instanceof Error ? err.message : String(err)}); ${folder.hint}`);
  }
}

/**
 * When the folder has fetch-model.mjs's manifest.json, every file it lists must match its size and
 * sha256: a truncated or swapped file otherwise either fails deep inside the loader or, worse,
 * loads and yields different vectors. A hand-made folder without a manifest is taken as is.
 * `read` gives a listed file's bytes (default: read from disk, for a caller that holds none yet).
 */
export function verifyManifest(folder: ModelFolder, read: (name: string) => Buffer = (name) => readFileSync(join(folder.dir, name))): void {
  if (!existsSync(join(folder.dir, 'manifest.json'))) return;
  const manifest = readJsonFile(folder, 'manifest.json') as { files?: Record<string, { sha256?: string; bytes?: number }> };
  for (const [name, expected] of Object.entries(manifest.files ?? {})) {
    requireFiles(folder, [name]);
    const path = join(folder.dir, name);
    const bytes = read(name);
    if (expected.bytes !== undefined && bytes.length !== expected.bytes) {
      throw new Error(`${path}: ${bytes.length} bytes, manifest.json says ${expected.bytes} (truncated?); ${folder.hint}`);
    }
    const hash = createHash('sha256').update(bytes).digest('hex');
    if (expected.sha256 !== undefined && hash !== expected.sha256) {
      throw new Error(`${path}: sha256 ${hash} does not match manifest.json (${expected.sha256}); ${folder.hint}`);
    }
  }
}

/**
 * `sum` scaled to unit length, as float32. As sentence-transformers' Normalize: divided by
 * max(norm, 1e-12), so a mean's 1/length cancels and need not be taken.
 */
export function unitLength(sum: Float64Array): Float32Array {
  let norm = 0;
  for (let d = 0; d < sum.length; d++) norm += (sum[d] as number) ** 2;
  const scale = 1 / Math.max(Math.sqrt(norm), 1e-12);
  const vector = new Float32Array(sum.length);
  for (let d = 0; d < sum.length; d++) vector[d] = (sum[d] as number) * scale;
  return vector;
}
