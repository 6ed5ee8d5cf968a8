// Files that appear whole or not at all: written under a temporary name beside the target and
// renamed into place, so a trainer reading an export folder, or a build replacing an earlier one,
// never sees half a file. The temporary name starts with a dot and carries the process id, so two
// processes writing one folder do not write into each other's file.
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { finished } from 'node:stream/promises';

export interface AtomicFileOptions {
  /** With nothing written, `commit` removes the file (an earlier one too) instead of writing it empty. */
  dropEmpty?: boolean;
}

/** A file written piece by piece with backpressure under a temporary name, renamed into place by `commit`. */
export class AtomicFile {
  readonly tmp: string;
  private out: WriteStream | undefined;
  /** Pieces written so far. */
  writes = 0;

  constructor(
    readonly path: string,
    private readonly options: AtomicFileOptions = {},
  ) {
    this.tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  }

  async write(text: string): Promise<void> {
    this.out ??= createWriteStream(this.tmp);
    this.writes += 1;
    if (!this.out.write(text)) await once(this.out, 'drain');
  }

  async commit(): Promise<void> {
    if (!this.out) {
      if (this.options.dropEmpty) {
        await rm(this.path, { force: true });
        return;
      }
      this.out = createWriteStream(this.tmp);
    }
    this.out.end();
    await finished(this.out);
    await rename(this.tmp, this.path);
  }

  /** Drops what was written; the file at `path` stays as it was. */
  async abort(): Promise<void> {
    this.out?.destroy();
    await rm(this.tmp, { force: true });
  }
}

/** Writes a file through `fill` and commits it, or aborts it when `fill` throws. */
export async function writeAtomic<T>(path: string, fill: (file: AtomicFile) => Promise<T>, options?: AtomicFileOptions): Promise<T> {
  const file = new AtomicFile(path, options);
  try {
    const result = await fill(file);
    await file.commit();
    return result;
  } catch (err) {
    await file.abort();
    throw err;
  }
}

/** Writes `value` as indented JSON with a final newline, whole or not at all. */
export const writeJsonAtomic = (path: string, value: unknown): Promise<void> =>
  writeAtomic(path, (file) => file.write(`${JSON.stringify(value, null, 2)}\n`));
