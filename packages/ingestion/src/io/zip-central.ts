import { open as openFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import type { EntryItem } from '../types.js';
import { type ArchiveContext, type Candidate, judge, problem, tooManyEntries } from '../zip-entry.js';
import { SIG_LOCAL } from '../zip-format.js';
import { type DataPlan, EntryStream } from './entry-stream.js';
import { readAt } from './read-at.js';
import { readLocalHeaders } from './zip-local.js';

/*
 * Reading a zip through its central directory, with yauzl (which only parses metadata here: the
 * entry data is read from its own file descriptor). When there is none, or it is damaged, the
 * entries it has not listed are read from their local headers (zip-local.ts).
 */

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    // decodeStrings: false keeps yauzl from validating names itself, which ends the whole
    // archive at the first unsafe name; names are decoded and judged here instead.
    // validateEntrySizes: false for the same reason (a stored entry with inconsistent sizes
    // ends the archive there); sizes are enforced on each entry's stream instead.
    yauzl.open(
      path,
      { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: false, strictFileNames: true },
      (err, zip) => (err ? reject(err) : resolve(zip)),
    );
  });
}

function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | undefined> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    const onEntry = (entry: yauzl.Entry) => {
      cleanup();
      resolve(entry);
    };
    const onEnd = () => {
      cleanup();
      resolve(undefined);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

/** The decoded name of an entry read with decodeStrings: false (UTF-8 flag, Info-ZIP Unicode path field, else CP437). */
function entryPath(entry: yauzl.Entry): string {
  const raw = entry.fileNameRaw ?? (entry.fileName as unknown as Buffer);
  return yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, raw, entry.extraFields, true);
}

/** The entries of the zip at `ctx.path`: through the central directory, else from the local headers. */
export async function* readZip(ctx: ArchiveContext): AsyncGenerator<EntryItem> {
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(ctx.path);
  } catch {
    yield problem(ctx, `byte ${ctx.fileSize}`, 'the zip is truncated or damaged (no central directory): read what precedes the damage');
    yield* readLocalHeaders(ctx, new Set());
    return;
  }
  // yauzl emits at most one error; it reaches the pending nextEntry(), and this keeps one that
  // comes when none is pending (closing the file) from being an unhandled 'error' event.
  zip.on('error', () => {});
  const seen = new Set<number>();
  try {
    for (let index = 0; ; index++) {
      let entry: yauzl.Entry | undefined;
      try {
        entry = await nextEntry(zip);
      } catch (err) {
        yield problem(
          ctx,
          `entry #${index + 1}`,
          `the zip's central directory is damaged (${(err as Error).message}): the remaining entries are read from their local headers`,
        );
        yield* readLocalHeaders(ctx, seen);
        return;
      }
      if (!entry) return;
      const path = entryPath(entry);
      if (index >= ctx.limits.maxEntries) {
        yield tooManyEntries(ctx, path);
        return;
      }
      seen.add(entry.relativeOffsetOfLocalHeader);
      const candidate: Candidate = {
        path,
        flags: entry.generalPurposeBitFlag,
        method: entry.compressionMethod,
        compressedSize: entry.compressedSize,
        uncompressedSize: entry.uncompressedSize,
      };
      const verdict = judge(ctx, candidate);
      if (verdict === undefined) continue;
      if (typeof verdict !== 'string') {
        yield verdict;
        continue;
      }
      ctx.total.used += entry.uncompressedSize;
      const label = `${ctx.fileName}:${path}`;
      const found = entry;
      yield {
        ok: true,
        entry: {
          name: label,
          kind: verdict,
          size: found.uncompressedSize,
          open: () => openCentralEntry(ctx, found, label),
        },
      };
    }
  } finally {
    zip.close();
  }
}

/** The data of an entry found in the central directory, located through its local header. */
async function openCentralEntry(ctx: ArchiveContext, entry: yauzl.Entry, label: string): Promise<Readable> {
  const plan: DataPlan = {
    label,
    path: ctx.path,
    fileSize: ctx.fileSize,
    dataStart: 0,
    compressedSize: entry.compressedSize,
    method: entry.compressionMethod,
    declaredSize: entry.uncompressedSize,
    crc: entry.crc32,
    maxBytes: ctx.limits.maxEntryBytes,
  };
  try {
    const handle = await openFile(ctx.path, 'r');
    let header: Buffer;
    try {
      header = await readAt(handle, entry.relativeOffsetOfLocalHeader, 30);
    } finally {
      await handle.close();
    }
    if (header.length < 30 || header.readUInt32LE(0) !== SIG_LOCAL) {
      return EntryStream.failed(label, `no local file header at byte ${entry.relativeOffsetOfLocalHeader}: the zip is damaged`);
    }
    plan.dataStart = entry.relativeOffsetOfLocalHeader + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  } catch (err) {
    return EntryStream.failed(label, `cannot read the archive: ${(err as Error).message}`);
  }
  if (plan.dataStart + entry.compressedSize > ctx.fileSize) {
    return EntryStream.failed(label, `its data would run past the end of the file (byte ${ctx.fileSize}): the zip is damaged`);
  }
  return new EntryStream(plan);
}
