import { createReadStream } from 'node:fs';
import { type FileHandle, open as openFile } from 'node:fs/promises';
import zlib from 'node:zlib';
import yauzl from 'yauzl';
import { shownPath } from '../entry-kind.js';
import type { EntryItem } from '../types.js';
import { type ArchiveContext, type Candidate, judge, problem, tooManyEntries } from '../zip-entry.js';
import {
  FLAG_DATA_DESCRIPTOR,
  METHOD_DEFLATED,
  METHOD_STORED,
  RATIO_EXEMPT_BYTES,
  READ_CHUNK,
  SIG_CENTRAL,
  SIG_DATA_DESCRIPTOR,
  SIG_EOCD,
  SIG_LOCAL,
  SIG_ZIP64_EOCD,
  SIG_ZIP64_LOCATOR,
} from '../zip-format.js';
import { type DataPlan, EntryStream } from './entry-stream.js';
import { readAt } from './read-at.js';

/*
 * Reading a zip from its local headers, front to back: the way when there is no usable central
 * directory (a download cut off, a damaged one). Where an entry's sizes are only in the data
 * descriptor after it, where it ends is found by searching for that descriptor, or (deflated)
 * by inflating it, unless the caller's reading of its stream has already told.
 */

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
export async function* readLocalHeaders(ctx: ArchiveContext, skip: Set<number>): AsyncGenerator<EntryItem> {
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
            `entry ${shownPath(header.path)}`,
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
