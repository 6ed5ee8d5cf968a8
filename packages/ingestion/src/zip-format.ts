/* The zip format's numbers, and the helpers every part of the archive reader shares. */

export const SIG_LOCAL = 0x04034b50;
export const SIG_CENTRAL = 0x02014b50;
export const SIG_EOCD = 0x06054b50;
export const SIG_ZIP64_EOCD = 0x06064b50;
export const SIG_ZIP64_LOCATOR = 0x07064b50;
export const SIG_DATA_DESCRIPTOR = 0x08074b50;

export const FLAG_ENCRYPTED = 0x1;
export const FLAG_DATA_DESCRIPTOR = 0x8;
export const FLAG_STRONG_ENCRYPTION = 0x40;

export const METHOD_STORED = 0;
export const METHOD_DEFLATED = 8;

/** Entries smaller than this may have any compression ratio (tiny files of repeated bytes do). */
export const RATIO_EXEMPT_BYTES = 1024 * 1024;

/** How much of the archive is read at a time. */
export const READ_CHUNK = 64 * 1024;

/** A size as written in messages. */
export const bytes = (n: number): string => `${n} bytes`;
