import type { ExportEntryKind } from './types.js';

/* Which files of an export are read, as what, and which entry paths are unsafe: judged by name alone. */

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

export function extensionOf(name: string): string {
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
export function shownPath(path: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters is the point
  return path.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The kind of a file uploaded on its own (not a zip): by its extension, else by its first bytes. */
export function fileKind(fileName: string, head: Buffer): ExportEntryKind {
  return KIND_BY_EXTENSION[extensionOf(fileName)] ?? sniffKind(head);
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
