import { createReadStream } from 'node:fs';
import { type FileHandle, open as openFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import yauzl from 'yauzl';
import { LateErrorReadable } from './text-encoding.js';
import type { EntryItem, ExportEntry, ExportEntryKind, IngestLimits, Located } from './types.js';

/*
 * Reading the files of an uploaded export.
 *
 * A zip is read through its central directory with yauzl (which only parses metadata here: the
 * entry data is read by this module from its own file descriptor, so an entry stream outlives
 * nothing it depends on). When the central directory is missing (a download cut off) or
 * damaged, the entries are read from their local headers, front to back, instead.
 *
 * Every entry stream is bounded: it errors when an entry inflates to more than it declares, more
 * than the per-entry limit, or (when the sizes are not declared) past the ratio and total limits.
 * A stream that errors first delivers every byte it produced before the error.
 */

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_DATA_DESCRIPTOR = 0x08074b50;

const FLAG_ENCRYPTED = 0x1;
const FLAG_DATA_DESCRIPTOR = 0x8;
const FLAG_STRONG_ENCRYPTION = 0x40;

const METHOD_STORED = 0;
const METHOD_DEFLATED = 8;

/** Entries smaller than this may have any compression ratio (tiny files of repeated bytes do). */
const RATIO_EXEMPT_BYTES = 1024 * 1024;

const READ_CHUNK = 64 * 1024;

/** JSON files of ChatGPT and Claude exports that hold account metadata, not conversations. */
const METADATA_JSON = new Set([
  'user.json',
  'users.json',
  'message_feedback.json',
  'model_comparisons.json',
  'shared_conversations.json',
  'projects.json',
  'memories.json',
]);

const KIND_BY_EXTENSION: Record<string, ExportEntryKind> = {
  json: 'json',
  jsonl: 'jsonl',
  ndjson: 'jsonl',
  md: 'markdown',
  markdown: 'markdown',
  txt: 'text',
};

function extensionOf(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}

/** Archives and compressed files, which an export can hold but this reader does not open. */
const ARCHIVE_EXTENSIONS = new Set(['zip', 'gz', 'tgz', 'tar', 'bz2', 'xz', 'zst', '7z', 'rar']);

/** macOS's copies of a file's metadata (`__MACOSX/`, `._name`): never content. */
const isResourceFork = (path: string): boolean => path.startsWith('__MACOSX/') || path.slice(path.lastIndexOf('/') + 1).startsWith('._');

/**
 * The kind of a zip entry by its path, or undefined for a file that is not export content
 * (media, HTML, account metadata, macOS resource forks): those are skipped without a word.
 */
export function zipEntryKind(path: string): ExportEntryKind | undefined {
  const base = path.slice(path.lastIndexOf('/') + 1).toLowerCase();
  if (isResourceFork(path)) return undefined;
  if (METADATA_JSON.has(base)) return undefined;
  return KIND_BY_EXTENSION[extensionOf(base)];
}

/**
 * Whether a zip entry is an archive of its own (a zip in the zip, a .tar.gz). It may hold
 * conversations, so it is reported rather than passed over; it is not opened: an archive inside
 * an archive multiplies what the limits of the outer one were set for.
 */
export const isNestedArchive = (path: string): boolean => !isResourceFork(path) && ARCHIVE_EXTENSIONS.has(extensionOf(path));

/** Why an entry path is unsafe to use, or undefined when it is a plain relative path. */
export function unsafePathReason(path: string): string | undefined {
  if (path.length === 0) return 'the name is empty';
  if (path.includes('\\')) return 'it contains a backslash';
  if (path.startsWith('/')) return 'it is absolute';
  if (/^[a-zA-Z]:/.test(path)) return 'it starts with a drive letter';
  if (path.split('/').includes('..')) return 'it has a ".." segment';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'it contains control characters';
  return undefined;
}

/** An entry path as shown in a message: control characters escaped. */
function shown(path: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters is the point
  return path.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const bytes = (n: number): string => `${n} bytes`;

/** State shared by the entries of one archive. */
interface ArchiveContext {
  path: string;
  fileName: string;
  fileSize: number;
  limits: IngestLimits;
  /** Uncompressed bytes: declared sizes of the entries yielded, plus bytes streamed of entries without one. */
  total: { used: number };
}

const problem = (ctx: { fileName: string }, place: string, message: string): EntryItem => ({
  ok: false,
  problem: { file: ctx.fileName, place, message } satisfies Located,
});

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
  const extension = extensionOf(fileName);
  if (extension === 'zip') {
    yield problem(ctx, 'byte 0', 'not a zip archive: it does not start with a zip signature (is the download complete?)');
    return;
  }
  const kind = KIND_BY_EXTENSION[extension] ?? sniffKind(head);
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

/** 'json' when the first significant byte opens a JSON value, else 'text'. */
function sniffKind(head: Buffer): ExportEntryKind {
  for (const c of head) {
    // Whitespace, byte order marks and the zero bytes of UTF-16.
    if (
      c === 0x20 ||
      c === 0x0a ||
      c === 0x0d ||
      c === 0x09 ||
      c === 0x00 ||
      c === 0xef ||
      c === 0xbb ||
      c === 0xbf ||
      c === 0xff ||
      c === 0xfe
    ) {
      continue;
    }
    return c === 0x5b || c === 0x7b ? 'json' : 'text';
  }
  return 'text';
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

// ---------------------------------------------------------------------------------------------
// Judging an entry (both ways of reading a zip)

interface Candidate {
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
function judge(ctx: ArchiveContext, c: Candidate): ExportEntryKind | EntryItem | undefined {
  const place = `entry ${shown(c.path)}`;
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

function tooManyEntries(ctx: ArchiveContext, path: string): EntryItem {
  const max = ctx.limits.maxEntries;
  return problem(
    ctx,
    `entry ${shown(path)}`,
    `the archive has more than ${max} entries, the limit (maxEntries): only the first ${max} were read`,
  );
}

// ---------------------------------------------------------------------------------------------
// Reading through the central directory (yauzl)

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

async function* readZip(ctx: ArchiveContext): AsyncGenerator<EntryItem> {
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

// ---------------------------------------------------------------------------------------------
// Reading from the local headers, front to back (no usable central directory)

interface LocalHeader {
  path: string;
  flags: number;
  method: number;
  crc: number;
  compressedSize: number;
  uncompressedSize: number;
  dataStart: number;
  zip64: boolean;
}

/**
 * Reads the entries from their local headers. `skip` holds the header offsets already handled
 * through the central directory. Stops at the central directory, at the end of the file, or at
 * the first bytes that are not an entry.
 */
async function* readLocalHeaders(ctx: ArchiveContext, skip: Set<number>): AsyncGenerator<EntryItem> {
  const handle = await openFile(ctx.path, 'r');
  try {
    let position = 0;
    for (let count = 0; ; ) {
      const header = await readLocalHeader(handle, position);
      if (header === 'end' || header === 'cut') return; // a cut: the damage is already reported
      if (header === 'marker') {
        position += 4;
        continue;
      }
      if (header === 'garbage') {
        yield problem(ctx, `byte ${position}`, 'unreadable data where a zip entry should start: the rest of the zip is not read');
        return;
      }
      if (++count > ctx.limits.maxEntries) {
        yield tooManyEntries(ctx, header.path);
        return;
      }
      const deferred = (header.flags & FLAG_DATA_DESCRIPTOR) !== 0;
      const deflatedDeferred = deferred && header.method === METHOD_DEFLATED;
      // Where the entry's data ends, when that is known without inflating it.
      let extent: Extent | undefined;
      if (!deferred) extent = { compressedSize: header.compressedSize, descriptorLength: 0 };
      else if (deflatedDeferred) extent = undefined;
      else if (header.compressedSize > 0) {
        const at = header.dataStart + header.compressedSize;
        extent = {
          compressedSize: header.compressedSize,
          descriptorLength: await dataDescriptorLength(handle, at, header.compressedSize, header.zip64),
        };
      } else extent = await findDataDescriptor(handle, header.dataStart, ctx.fileSize);

      const learned: Learned = {};
      let yielded = false;
      if (!skip.has(position)) {
        let uncompressedSize: number | undefined;
        if (extent !== undefined) {
          uncompressedSize = deferred && header.method === METHOD_STORED ? extent.compressedSize : header.uncompressedSize;
        }
        const candidate: Candidate = {
          path: header.path,
          flags: header.flags,
          method: header.method,
          compressedSize: extent?.compressedSize,
          uncompressedSize,
        };
        const verdict = judge(ctx, candidate);
        if (typeof verdict === 'object') yield verdict;
        else if (verdict !== undefined) {
          if (uncompressedSize !== undefined) ctx.total.used += uncompressedSize;
          const plan = localPlan(ctx, header, extent, uncompressedSize, learned);
          yielded = true;
          yield {
            ok: true,
            entry: { name: plan.label, kind: verdict, size: uncompressedSize, open: async () => new EntryStream(plan) },
          };
        }
      }

      if (learned.cut) return; // the entry's stream reached the end of the file and said so
      if (deflatedDeferred) {
        // Learned from the caller reading the entry to its end, else found by inflating it here.
        const compressedSize = learned.compressedSize ?? (await findDeflateEnd(ctx, header.dataStart));
        if (compressedSize !== undefined) {
          const at = header.dataStart + compressedSize;
          extent = { compressedSize, descriptorLength: await dataDescriptorLength(handle, at, compressedSize, header.zip64) };
        }
      }
      if (extent === undefined) {
        // Cut off, damaged or over the limits. An entry that was yielded says so on its stream.
        if (!yielded) {
          yield problem(
            ctx,
            `entry ${shown(header.path)}`,
            'cannot find where this entry ends (it is cut off, damaged or over the limits): the rest of the zip is not read',
          );
        }
        return;
      }
      position = header.dataStart + extent.compressedSize + extent.descriptorLength;
      if (position >= ctx.fileSize) return;
    }
  } finally {
    await handle.close();
  }
}

async function readLocalHeader(handle: FileHandle, position: number): Promise<LocalHeader | 'end' | 'cut' | 'marker' | 'garbage'> {
  const fixed = await readAt(handle, position, 30);
  if (fixed.length === 0) return 'end';
  if (fixed.length < 4) return 'cut';
  const signature = fixed.readUInt32LE(0);
  if (signature === SIG_CENTRAL || signature === SIG_EOCD || signature === SIG_ZIP64_EOCD || signature === SIG_ZIP64_LOCATOR) return 'end';
  if (signature === SIG_DATA_DESCRIPTOR && position === 0) return 'marker';
  if (signature !== SIG_LOCAL) return 'garbage';
  if (fixed.length < 30) return 'cut';
  const flags = fixed.readUInt16LE(6);
  const method = fixed.readUInt16LE(8);
  const crc = fixed.readUInt32LE(14);
  let compressedSize = fixed.readUInt32LE(18);
  let uncompressedSize = fixed.readUInt32LE(22);
  const nameLength = fixed.readUInt16LE(26);
  const extraLength = fixed.readUInt16LE(28);
  const variable = await readAt(handle, position + 30, nameLength + extraLength);
  if (variable.length < nameLength + extraLength) return 'cut';
  const nameRaw = variable.subarray(0, nameLength);
  let extraFields: yauzl.ExtraField[] = [];
  try {
    extraFields = yauzl.parseExtraFields(variable.subarray(nameLength));
  } catch {
    // A malformed extra field: read the entry without it.
  }
  // A zip64 field also means a data descriptor after the entry has 64-bit sizes.
  const zip64Field = extraFields.find((f) => f.id === 0x0001);
  const zip64 = zip64Field !== undefined;
  if (zip64Field && (compressedSize === 0xffffffff || uncompressedSize === 0xffffffff)) {
    // In a local header the zip64 field holds both sizes, uncompressed first.
    if (zip64Field.data.length >= 16) {
      uncompressedSize = Number(zip64Field.data.readBigUInt64LE(0));
      compressedSize = Number(zip64Field.data.readBigUInt64LE(8));
    }
  }
  return {
    path: yauzl.getFileNameLowLevel(flags, nameRaw, extraFields, true),
    flags,
    method,
    crc,
    compressedSize,
    uncompressedSize,
    dataStart: position + 30 + nameLength + extraLength,
    zip64,
  };
}

function localPlan(
  ctx: ArchiveContext,
  header: LocalHeader,
  extent: Extent | undefined,
  uncompressedSize: number | undefined,
  learned: Learned,
): DataPlan {
  const deferred = (header.flags & FLAG_DATA_DESCRIPTOR) !== 0;
  const plan: DataPlan = {
    label: `${ctx.fileName}:${header.path}`,
    path: ctx.path,
    fileSize: ctx.fileSize,
    dataStart: header.dataStart,
    compressedSize: extent?.compressedSize,
    method: header.method,
    declaredSize: uncompressedSize,
    crc: deferred ? undefined : header.crc,
    maxBytes: ctx.limits.maxEntryBytes,
    onCut: () => {
      learned.cut = true;
    },
  };
  if (uncompressedSize === undefined) {
    // Sizes only in the data descriptor: limits are enforced on what the entry inflates to.
    plan.streamLimits = { ratio: ctx.limits.maxCompressionRatio, total: ctx.total, maxTotal: ctx.limits.maxTotalBytes };
  }
  if (deferred && header.method === METHOD_DEFLATED) {
    plan.onComplete = async (compressedSize, crc, size) => {
      learned.compressedSize = compressedSize;
      const descriptor = await readDataDescriptor(ctx.path, header.dataStart + compressedSize, compressedSize, header.zip64);
      if (descriptor && (descriptor.crc !== crc || descriptor.size !== size % (header.zip64 ? 2 ** 64 : 2 ** 32))) {
        return 'its data does not match the checksum or size recorded after it: the entry is damaged';
      }
      return undefined;
    };
  }
  return plan;
}

/** What reading an entry's stream told about where its data ends. */
interface Learned {
  compressedSize?: number;
  /** The data runs up to the end of the file: there is nothing after it to read. */
  cut?: boolean;
}

/** Where an entry's data ends, and the length of the data descriptor after it. */
interface Extent {
  compressedSize: number;
  descriptorLength: number;
}

/**
 * Finds the data descriptor after a (not deflated) entry whose sizes are only there: its
 * signature followed by a compressed size equal to the distance from the data's start.
 */
async function findDataDescriptor(handle: FileHandle, dataStart: number, fileSize: number): Promise<Extent | undefined> {
  const overlap = 24;
  for (let at = dataStart; at < fileSize; at += READ_CHUNK) {
    const chunk = await readAt(handle, at, READ_CHUNK + overlap);
    for (let i = chunk.indexOf('PK\x07\x08', 0, 'latin1'); i >= 0 && i < READ_CHUNK; i = chunk.indexOf('PK\x07\x08', i + 1, 'latin1')) {
      const distance = at + i - dataStart;
      if (i + 16 <= chunk.length && chunk.readUInt32LE(i + 8) === distance) return { compressedSize: distance, descriptorLength: 16 };
      if (i + 24 <= chunk.length && Number(chunk.readBigUInt64LE(i + 8)) === distance)
        return { compressedSize: distance, descriptorLength: 24 };
    }
  }
  return undefined;
}

/** The data descriptor at `position`: crc and uncompressed size, and its length (with or without signature, 32 or 64-bit sizes). */
function parseDataDescriptor(
  buffer: Buffer,
  compressedSize: number,
  zip64: boolean,
): { crc: number; size: number; length: number } | undefined {
  const start = buffer.length >= 4 && buffer.readUInt32LE(0) === SIG_DATA_DESCRIPTOR ? 4 : 0;
  if (buffer.length >= start + 12 && !zip64 && buffer.readUInt32LE(start + 4) === compressedSize % 2 ** 32) {
    return { crc: buffer.readUInt32LE(start), size: buffer.readUInt32LE(start + 8), length: start + 12 };
  }
  if (buffer.length >= start + 20 && Number(buffer.readBigUInt64LE(start + 4)) === compressedSize) {
    return { crc: buffer.readUInt32LE(start), size: Number(buffer.readBigUInt64LE(start + 12)), length: start + 20 };
  }
  if (buffer.length >= start + 12 && buffer.readUInt32LE(start + 4) === compressedSize % 2 ** 32) {
    return { crc: buffer.readUInt32LE(start), size: buffer.readUInt32LE(start + 8), length: start + 12 };
  }
  return undefined;
}

async function dataDescriptorLength(handle: FileHandle, position: number, compressedSize: number, zip64: boolean): Promise<number> {
  const descriptor = parseDataDescriptor(await readAt(handle, position, 24), compressedSize, zip64);
  // Without a recognisable descriptor, assume the common 16-byte form; a wrong guess ends the
  // reading at the next header with a problem rather than silently.
  return descriptor?.length ?? 16;
}

async function readDataDescriptor(path: string, position: number, compressedSize: number, zip64: boolean) {
  const handle = await openFile(path, 'r');
  try {
    return parseDataDescriptor(await readAt(handle, position, 24), compressedSize, zip64);
  } finally {
    await handle.close();
  }
}

/**
 * Inflates (and discards) a deflated entry of unknown size to find where its data ends. Gives up
 * (undefined) at damaged data, at the end of the file, or past the size and ratio limits.
 */
function findDeflateEnd(ctx: ArchiveContext, dataStart: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    if (dataStart >= ctx.fileSize) {
      resolve(undefined);
      return;
    }
    const raw = createReadStream(ctx.path, { start: dataStart, highWaterMark: READ_CHUNK });
    const inflate = zlib.createInflateRaw();
    let out = 0;
    const finish = (result: number | undefined) => {
      raw.destroy();
      inflate.destroy();
      resolve(result);
    };
    raw.on('error', () => finish(undefined));
    inflate.on('error', () => finish(undefined));
    inflate.on('data', (chunk: Buffer) => {
      out += chunk.length;
      const ratio = out / Math.max(inflate.bytesWritten, 1);
      if (out > ctx.limits.maxEntryBytes || (out > RATIO_EXEMPT_BYTES && ratio > ctx.limits.maxCompressionRatio)) finish(undefined);
    });
    inflate.on('end', () => finish(inflate.bytesWritten));
    raw.pipe(inflate);
  });
}

// ---------------------------------------------------------------------------------------------
// Entry data streams

interface DataPlan {
  /** `archive.zip:path/in/zip` (or the file name), for messages. */
  label: string;
  path: string;
  fileSize: number;
  dataStart: number;
  /** Undefined: unknown, the data is read up to the end of the deflate stream (or of the file). */
  compressedSize: number | undefined;
  method: number;
  /** Exact uncompressed size, when declared. */
  declaredSize?: number | undefined;
  crc?: number | undefined;
  maxBytes: number;
  /** Limits enforced while streaming when the sizes are not declared. */
  streamLimits?: { ratio: number; total: { used: number }; maxTotal: number };
  /** Called when the data turns out to be cut off by the end of the file. */
  onCut?: () => void;
  /** Called at the end of the data with what it held; returns a problem, if any. */
  onComplete?: (compressedSize: number, crc: number, size: number) => Promise<string | undefined>;
}

/**
 * The uncompressed bytes of one entry, read from the file on demand (bounded memory). Errors
 * carry the entry's label, and come after every byte produced before them has been read.
 */
class EntryStream extends LateErrorReadable {
  private readonly raw: Readable;
  private readonly inflate: zlib.InflateRaw | undefined;
  private readonly source: Readable;
  private produced = 0;
  private crc = 0;
  private rawEnded = false;
  private wanted = false;
  private completing = false;

  /** A stream that errors as soon as it is read. */
  static failed(label: string, message: string): Readable {
    return new Readable({
      read() {
        this.destroy(new Error(`${label}: ${message}`));
      },
    });
  }

  constructor(private readonly plan: DataPlan) {
    super({ highWaterMark: READ_CHUNK });
    const { compressedSize, dataStart } = plan;
    this.raw =
      compressedSize === 0 || dataStart >= plan.fileSize
        ? Readable.from([], { objectMode: false })
        : createReadStream(plan.path, {
            start: dataStart,
            end: compressedSize === undefined ? undefined : dataStart + compressedSize - 1,
            highWaterMark: READ_CHUNK,
          });
    this.raw.on('end', () => {
      this.rawEnded = true;
    });
    this.raw.on('error', (err: Error) => this.fail(`cannot read the archive: ${err.message}`));
    if (plan.method === METHOD_DEFLATED) {
      // Z_SYNC_FLUSH at the end of the input: data cut off mid-stream yields everything that
      // precedes the cut (Z_FINISH would drop the last partial block and error); `complete()`
      // then tells a cut from a whole entry.
      const inflate = zlib.createInflateRaw({ finishFlush: zlib.constants.Z_SYNC_FLUSH });
      this.inflate = inflate;
      inflate.on('error', (err: Error) => this.fail(this.explainInflateError(err)));
      // The deflate stream ended (it may end before the bytes read for it): stop reading.
      inflate.on('end', () => this.raw.destroy());
      this.raw.pipe(inflate);
      this.source = inflate;
    } else {
      this.source = this.raw;
    }
    this.source.on('readable', () => this.pump());
    this.source.on('end', () => void this.complete());
  }

  /**
   * The file ends before this entry's data does: its declared extent runs past the end, or (size
   * unknown) it was read up to the end of the file without the deflate stream ending first.
   */
  private get truncated(): boolean {
    const { compressedSize, dataStart, fileSize } = this.plan;
    if (compressedSize !== undefined) return dataStart + compressedSize > fileSize;
    return dataStart + (this.inflate ? this.inflate.bytesWritten : this.produced) >= fileSize;
  }

  private explainInflateError(err: Error): string {
    if (this.rawEnded && this.truncated) return this.cutMessage();
    return `damaged compressed data (${err.message})`;
  }

  private cutMessage(): string {
    return `the file ends at byte ${this.plan.fileSize}, inside this entry: the zip is truncated and the rest of the entry is missing`;
  }

  override _read(): void {
    this.wanted = true;
    this.pump();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.stopSource();
    callback(err);
  }

  private pump(): void {
    while (this.wanted && !this.failing) {
      const chunk = this.source.read() as Buffer | null;
      if (chunk === null) return;
      const problem = this.check(chunk);
      if (problem) {
        this.fail(problem);
        return;
      }
      this.wanted = this.push(chunk);
    }
  }

  private check(chunk: Buffer): string | undefined {
    const { plan } = this;
    this.produced += chunk.length;
    if (plan.declaredSize !== undefined && this.produced > plan.declaredSize) {
      return `inflates to more than the ${bytes(plan.declaredSize)} it declares (its header lies): stopped`;
    }
    if (this.produced > plan.maxBytes) {
      return `over the limit of ${bytes(plan.maxBytes)} per entry (maxEntryBytes): stopped`;
    }
    const limits = plan.streamLimits;
    if (limits) {
      limits.total.used += chunk.length;
      if (limits.total.used > limits.maxTotal) {
        return `the archive inflates to more than the limit of ${bytes(limits.maxTotal)} in all (maxTotalBytes): stopped`;
      }
      const consumed = Math.max(this.inflate?.bytesWritten ?? this.produced, 1);
      if (this.produced > RATIO_EXEMPT_BYTES && this.produced / consumed > limits.ratio) {
        return `inflates over ${limits.ratio} times its compressed size (maxCompressionRatio), a likely zip bomb: stopped`;
      }
    }
    if (plan.crc !== undefined || plan.onComplete) this.crc = zlib.crc32(chunk, this.crc);
    return undefined;
  }

  private async complete(): Promise<void> {
    if (this.completing || this.failing) return;
    this.completing = true;
    const { plan } = this;
    if (this.truncated) {
      plan.onCut?.();
      this.fail(this.cutMessage());
      return;
    }
    if (plan.declaredSize !== undefined && this.produced < plan.declaredSize) {
      this.fail(`holds only ${bytes(this.produced)} of the ${bytes(plan.declaredSize)} it declares: the entry is damaged`);
      return;
    }
    if (plan.crc !== undefined && plan.crc !== this.crc) {
      this.fail('its data does not match its checksum (CRC-32): the entry is damaged');
      return;
    }
    if (plan.onComplete) {
      const consumed = this.inflate?.bytesWritten ?? this.produced;
      let message: string | undefined;
      try {
        message = await plan.onComplete(consumed, this.crc, this.produced);
      } catch (err) {
        message = `cannot read the archive: ${(err as Error).message}`;
      }
      if (message) {
        this.fail(message);
        return;
      }
    }
    if (!this.failing) this.push(null);
  }

  private stopSource(): void {
    this.raw.destroy();
    this.inflate?.destroy();
  }

  private fail(message: string): void {
    if (this.failing) return;
    this.stopSource();
    this.failAfterData(new Error(`${this.plan.label}: ${message}`));
  }
}
