import { open as openFile } from 'node:fs/promises';
import { extensionOf, fileKind } from '../entry-kind.js';
import type { EntryItem, ExportEntry, IngestLimits } from '../types.js';
import { type ArchiveContext, problem } from '../zip-entry.js';
import { METHOD_STORED, SIG_DATA_DESCRIPTOR, SIG_EOCD, SIG_LOCAL } from '../zip-format.js';
import { EntryStream } from './entry-stream.js';
import { readAt } from './read-at.js';
import { readZip } from './zip-central.js';

/*
 * Reading the files of an uploaded export.
 *
 * A zip is read through its central directory with yauzl (which only parses metadata here: the
 * entry data is read by entry-stream.ts from its own file descriptor, so an entry stream outlives
 * nothing it depends on). When the central directory is missing (a download cut off) or
 * damaged, the entries are read from their local headers, front to back, instead.
 *
 * Every entry stream is bounded: it errors when an entry inflates to more than it declares, more
 * than the per-entry limit, or (when the sizes are not declared) past the ratio and total limits.
 * A stream that errors first delivers every byte it produced before the error.
 *
 * The parts: entry-kind.ts judges paths by name (what is read, as what; what is unsafe);
 * zip-central.ts reads the central directory and hands over to zip-local.ts, which recovers
 * entries from their local headers; both judge each entry with zip-entry.ts and describe where
 * its data lies as a DataPlan, which entry-stream.ts turns into a bounded, checked byte stream.
 */

/**
 * The readable files of an uploaded export, in order: the entries of a zip (detected by its
 * signature, not by the name), or the file itself. Problems (unsafe paths, limits, encryption,
 * damage) are yielded in place of the entries they concern, and reading goes on where it can.
 *
 * `open()` of an entry returns a stream of its uncompressed bytes. The entries may be opened in
 * any order while the generator runs, but are meant to be read one at a time: read or destroy
 * one entry's stream before asking for the next. For a damaged zip (read from the local headers)
 * the generator may inflate an entry that was not read to find where the next one starts.
 */
export async function* readExportEntries(path: string, fileName: string, limits: IngestLimits): AsyncGenerator<EntryItem> {
  const handle = await openFile(path, 'r');
  let head: Buffer;
  let fileSize: number;
  try {
    fileSize = (await handle.stat()).size;
    head = await readAt(handle, 0, 4096);
  } finally {
    await handle.close();
  }
  const ctx: ArchiveContext = { path, fileName, fileSize, limits, total: { used: 0 } };
  const signature = head.length >= 4 ? head.readUInt32LE(0) : -1;
  const secondSignature = head.length >= 8 ? head.readUInt32LE(4) : -1;
  if (signature === SIG_LOCAL || (signature === SIG_DATA_DESCRIPTOR && secondSignature === SIG_LOCAL)) {
    yield* readZip(ctx);
    return;
  }
  if (signature === SIG_EOCD) {
    yield problem(ctx, 'byte 0', 'the zip archive holds no files');
    return;
  }
  if (extensionOf(fileName) === 'zip') {
    yield problem(ctx, 'byte 0', 'not a zip archive: it does not start with a zip signature (is the download complete?)');
    return;
  }
  const kind = fileKind(fileName, head);
  const entry: ExportEntry = {
    name: fileName,
    kind,
    size: fileSize,
    open: async () =>
      new EntryStream({
        label: fileName,
        path,
        fileSize,
        dataStart: 0,
        compressedSize: fileSize,
        method: METHOD_STORED,
        declaredSize: fileSize,
        maxBytes: Number.POSITIVE_INFINITY,
      }),
  };
  yield { ok: true, entry };
}
