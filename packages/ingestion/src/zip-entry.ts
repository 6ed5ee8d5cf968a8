import { isNestedArchive, shownPath, unsafePathReason, zipEntryKind } from './entry-kind.js';
import type { EntryItem, ExportEntryKind, IngestLimits, Located } from './types.js';
import { bytes, FLAG_ENCRYPTED, FLAG_STRONG_ENCRYPTION, METHOD_DEFLATED, METHOD_STORED, RATIO_EXEMPT_BYTES } from './zip-format.js';

/* What both ways of reading a zip (central directory, local headers) share: the archive's state and the verdict on each entry. */

/** State shared by the entries of one archive. */
export interface ArchiveContext {
  path: string;
  fileName: string;
  fileSize: number;
  limits: IngestLimits;
  /** Uncompressed bytes: declared sizes of the entries yielded, plus bytes streamed of entries without one. */
  total: { used: number };
}

export const problem = (ctx: { fileName: string }, place: string, message: string): EntryItem => ({
  ok: false,
  problem: { file: ctx.fileName, place, message } satisfies Located,
});

/** An entry as either way of reading a zip finds it. */
export interface Candidate {
  path: string;
  flags: number;
  method: number;
  /** Undefined when the local header leaves it to a data descriptor. */
  compressedSize: number | undefined;
  uncompressedSize: number | undefined;
}

/**
 * What to do with an entry: its kind when it is to be read, a problem when it is reported and
 * skipped, or undefined when it is skipped without a word (directories, media, metadata).
 */
export function judge(ctx: ArchiveContext, c: Candidate): ExportEntryKind | EntryItem | undefined {
  const place = `entry ${shownPath(c.path)}`;
  const unsafe = unsafePathReason(c.path);
  if (unsafe) return problem(ctx, place, `unsafe path (${unsafe}): skipped`);
  if (c.path.endsWith('/')) return undefined;
  const kind = zipEntryKind(c.path);
  if (!kind) {
    if (!isNestedArchive(c.path)) return undefined;
    return problem(
      ctx,
      place,
      'an archive inside the archive is not opened (nested archives are not read): skipped; unpack it and upload what it holds',
    );
  }
  if (c.flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) return problem(ctx, place, 'the entry is encrypted: skipped');
  if (c.method !== METHOD_STORED && c.method !== METHOD_DEFLATED) {
    return problem(ctx, place, `unsupported compression method ${c.method} (only stored and deflated entries are read): skipped`);
  }
  const { limits } = ctx;
  const size = c.uncompressedSize;
  if (size !== undefined) {
    if (size > limits.maxEntryBytes) {
      return problem(
        ctx,
        place,
        `declares ${bytes(size)}, over the limit of ${bytes(limits.maxEntryBytes)} per entry (maxEntryBytes): skipped`,
      );
    }
    if (c.compressedSize !== undefined && size > RATIO_EXEMPT_BYTES) {
      const ratio = size / Math.max(c.compressedSize, 1);
      if (ratio > limits.maxCompressionRatio) {
        return problem(
          ctx,
          place,
          `compression ratio ${Math.round(ratio)}:1 is over the limit of ${limits.maxCompressionRatio}:1 (maxCompressionRatio), a likely zip bomb: skipped`,
        );
      }
    }
    if (c.method === METHOD_STORED && c.compressedSize !== undefined && c.compressedSize !== size) {
      return problem(ctx, place, `the stored entry declares ${bytes(size)} but holds ${bytes(c.compressedSize)}: skipped`);
    }
    if (ctx.total.used + size > limits.maxTotalBytes) {
      return problem(
        ctx,
        place,
        `its ${bytes(size)} would bring the archive over the limit of ${bytes(limits.maxTotalBytes)} in all (maxTotalBytes): skipped`,
      );
    }
  }
  return kind;
}

export function tooManyEntries(ctx: ArchiveContext, path: string): EntryItem {
  const max = ctx.limits.maxEntries;
  return problem(
    ctx,
    `entry ${shownPath(path)}`,
    `the archive has more than ${max} entries, the limit (maxEntries): only the first ${max} were read`,
  );
}
