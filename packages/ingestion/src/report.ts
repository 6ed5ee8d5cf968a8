import type { IngestReport } from '@trajectory/contracts';

/* An ingest report: what it keeps of an export's problems and counts, and its text for the CLI. */

/** Entries each list of a report keeps; the *Total fields count them all. */
export const REPORT_SAMPLE = 100;
/** Distinct content types a report counts by name; an export controls these strings. */
const MAX_CONTENT_TYPES = 50;
const OTHER_CONTENT_TYPES = '(other)';
/** Longest file name, place and message a report quotes, in characters. */
export const MAX_QUOTED = { fileName: 256, place: 256, message: 500, contentType: 64 };

export const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export function emptyReport(): IngestReport {
  return {
    conversationsBySource: {},
    conversations: 0,
    conversationsNew: 0,
    conversationsContinued: 0,
    conversationsEdited: 0,
    conversationsUnchanged: 0,
    messages: 0,
    messagesNew: 0,
    messagesWithoutTime: 0,
    branchPoints: 0,
    contentTypes: {},
    redactionsByKind: {},
    skipped: [],
    warnings: [],
    files: [],
    bytes: 0,
    skippedTotal: 0,
    warningsTotal: 0,
    filesTotal: 0,
  };
}

/** Adds to a report's list up to REPORT_SAMPLE entries; its total counts every one. */
export function note<K extends 'skipped' | 'warnings' | 'files'>(report: IngestReport, list: K, entry: IngestReport[K][number]): void {
  const total = `${list}Total` as const;
  report[total] += 1;
  if (report[list].length < REPORT_SAMPLE) (report[list] as IngestReport[K][number][]).push(entry);
}

export function countContentType(report: IngestReport, contentType: string): void {
  const name = clip(contentType, MAX_QUOTED.contentType);
  const known = name in report.contentTypes || Object.keys(report.contentTypes).length < MAX_CONTENT_TYPES;
  bump(report.contentTypes, known ? name : OTHER_CONTENT_TYPES);
}

export const bump = (counts: Record<string, number>, key: string, by = 1) => {
  counts[key] = (counts[key] ?? 0) + by;
};

/** A one-screen text rendering of a report, for the CLI. */
export function formatReport(report: IngestReport): string {
  const kv = (m: Record<string, number>) =>
    Object.entries(m)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  const more = (shown: number, total: number) => (total > shown ? ` ... and ${(total - shown).toLocaleString('en')} more` : '');
  const lines = [
    `files: ${report.files.join(', ') || 'none'}${more(report.files.length, report.filesTotal)}`,
    `conversations: ${report.conversations} (${kv(report.conversationsBySource)}); new ${report.conversationsNew}, continued ${report.conversationsContinued}, edited ${report.conversationsEdited}, unchanged ${report.conversationsUnchanged}`,
    `messages: ${report.messages}, new ${report.messagesNew}, without a time in the export ${report.messagesWithoutTime}; branch points ${report.branchPoints}`,
    `content types: ${kv(report.contentTypes)}`,
    `redactions: ${kv(report.redactionsByKind)}`,
  ];
  for (const s of report.skipped) lines.push(`skipped  ${s.fileName} ${s.place}: ${s.message}`);
  if (report.skippedTotal > report.skipped.length) lines.push(`skipped ${more(report.skipped.length, report.skippedTotal).trim()}`);
  for (const w of report.warnings) lines.push(`warning  ${w.fileName} ${w.place}: ${w.message}`);
  if (report.warningsTotal > report.warnings.length) lines.push(`warning ${more(report.warnings.length, report.warningsTotal).trim()}`);
  return lines.join('\n');
}
