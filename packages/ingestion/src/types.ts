import type { Readable } from 'node:stream';
import type { Conversation } from '@trajectory/contracts';

/** Limits that keep one hostile or huge export from taking the service down. */
export interface IngestLimits {
  /** Largest uncompressed zip entry we read. */
  maxEntryBytes: number;
  /** Largest total uncompressed bytes over all entries of one archive. */
  maxTotalBytes: number;
  /** Largest uncompressed/compressed ratio of a zip entry (zip bombs). */
  maxCompressionRatio: number;
  /** Most entries in one archive. */
  maxEntries: number;
  /** Largest text of a single message; larger ones are skipped and reported. */
  maxMessageBytes: number;
  /**
   * Largest element of a JSON export (one conversation, as UTF-8), the most a JSON reader holds
   * at once; larger ones are skipped as they stream past, and reported.
   */
  maxConversationBytes: number;
}

export const DEFAULT_LIMITS: IngestLimits = {
  maxEntryBytes: 8 * 1024 * 1024 * 1024,
  maxTotalBytes: 16 * 1024 * 1024 * 1024,
  maxCompressionRatio: 200,
  maxEntries: 100_000,
  maxMessageBytes: 1024 * 1024,
  maxConversationBytes: 64 * 1024 * 1024,
};

/** What a file inside an export holds, judged by its name (and, for .json, later by content). */
export type ExportEntryKind = 'json' | 'jsonl' | 'markdown' | 'text';

/** One readable file of an export: the upload itself, or an entry of a zip. */
export interface ExportEntry {
  /** The file name, or `archive.zip:path/in/zip.json` for an entry. */
  name: string;
  kind: ExportEntryKind;
  /** Uncompressed size when known. */
  size?: number;
  /** The raw bytes; the stream errors (with a message naming the entry) if a limit is broken. */
  open(): Promise<Readable>;
}

/** A problem located in the input: shown to the user as `file place: message`. */
export interface Located {
  file: string;
  place: string;
  message: string;
}

export type EntryItem = { ok: true; entry: ExportEntry } | { ok: false; problem: Located };

/** Per-kind counts of placeholders put into a text. */
export type RedactionCounts = Record<string, number>;

/** Replaces secrets (and personal data, when configured) in a text. */
export type Redactor = (text: string) => { text: string; counts: RedactionCounts };

export interface ParseContext {
  /** The entry being read, for messages. */
  file: string;
  redact: Redactor;
  limits: IngestLimits;
  /** Something kept with a caveat (an unknown content type, a message without time). */
  warn(place: string, message: string): void;
  /** Something left out (a message over the size limit). */
  skip(place: string, message: string): void;
}

/** One conversation read from an entry, or why an element could not be read. */
export type ParsedItem = { ok: true; place: string; conversation: Conversation } | { ok: false; place: string; message: string };
