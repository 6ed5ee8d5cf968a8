import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import {
  type Conversation,
  ConversationChange,
  ConversationIngested,
  ExportSource,
  enumSuffix,
  type IngestError,
  type IngestedConversation,
  type IngestReport,
  type UploadExportResult,
} from '@trajectory/contracts';
import { readExportEntries } from './archive.js';
import { isChatGptConversation, normaliseChatGptConversation } from './chatgpt.js';
import { normaliseClaudeConversation } from './claude.js';
import { decodeTextStream } from './decode-stream.js';
import { readJsonElements } from './export-reader.js';
import { parseJsonlConversations } from './jsonl.js';
import { isMarkdownTranscript, parseMarkdownTranscript } from './markdown.js';
import { parseNotes } from './notes.js';
import { readTextWithFallback } from './read-text.js';
import { createRedactor } from './redact.js';
import { DEFAULT_LIMITS, type ExportEntry, type IngestLimits, type ParseContext, type ParsedItem, type Redactor } from './types.js';

/** What ingestion remembers of a conversation it published, to publish only what changed. */
export interface LedgerEntry {
  contentHash: string;
  /** Short hashes of the message ids. */
  messages: string[];
}

export interface Ledger {
  get(conversationId: string): Promise<LedgerEntry | undefined>;
  put(conversationId: string, entry: LedgerEntry): Promise<void>;
}

export interface IngestProgress {
  conversationsRead: number;
  conversationsPublished: number;
}

export interface IngestOptions {
  path: string;
  fileName: string;
  ingestId: string;
  redactor: Redactor;
  limits: IngestLimits;
  /** Absent for an offline inspection: every conversation then counts as new. */
  ledger?: Ledger;
  /** Absent for an offline inspection. Idempotent for the same msgId. */
  publish?: (event: ConversationIngested, msgId: string) => Promise<{ duplicate: boolean }>;
  /**
   * Each conversation read, as it is read: the result holds counts only, so a caller that needs
   * the list (the service, for ListIngestedConversations) keeps it where memory is not spent.
   */
  onConversation?: (conversation: IngestedConversation) => void | Promise<void>;
  onProgress?: (progress: IngestProgress) => void;
}

/** Entries each list of a report keeps; the *Total fields count them all. */
export const REPORT_SAMPLE = 100;
/** Distinct content types a report counts by name; an export controls these strings. */
const MAX_CONTENT_TYPES = 50;
const OTHER_CONTENT_TYPES = '(other)';
/** Longest file name, place and message a report quotes, in characters. */
const MAX_QUOTED = { fileName: 256, place: 256, message: 500, contentType: 64 };

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** Texts read whole (Markdown transcripts, notes) are capped; exports proper stream. */
const MAX_TEXT_FILE_BYTES = 64 * 1024 * 1024;

const shortHash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);

/** Stable identity of a conversation's content (not of where it was read from). */
export function conversationContentHash(conversation: Conversation): string {
  const json = ConversationIngested.toJSON({
    ingestId: '',
    fileName: '',
    contentHash: '',
    conversation: { ...conversation, sourceFile: '' },
    change: ConversationChange.CONVERSATION_CHANGE_UNSPECIFIED,
    newMessageIds: [],
  });
  return createHash('sha256').update(JSON.stringify(json)).digest('hex');
}

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
function note<K extends 'skipped' | 'warnings' | 'files'>(report: IngestReport, list: K, entry: IngestReport[K][number]): void {
  const total = `${list}Total` as const;
  report[total] += 1;
  if (report[list].length < REPORT_SAMPLE) (report[list] as IngestReport[K][number][]).push(entry);
}

function countContentType(report: IngestReport, contentType: string): void {
  const name = clip(contentType, MAX_QUOTED.contentType);
  const known = name in report.contentTypes || Object.keys(report.contentTypes).length < MAX_CONTENT_TYPES;
  bump(report.contentTypes, known ? name : OTHER_CONTENT_TYPES);
}

const bump = (counts: Record<string, number>, key: string, by = 1) => {
  counts[key] = (counts[key] ?? 0) + by;
};

/** The conversations of one export entry, by what the entry holds. */
async function* conversationsOf(entry: ExportEntry, ctx: ParseContext): AsyncGenerator<ParsedItem> {
  const baseName = entry.name.split(/[/:]/).at(-1) ?? entry.name;
  switch (entry.kind) {
    case 'json':
      for await (const element of readJsonElements(await entry.open(), {
        maxElementBytes: ctx.limits.maxConversationBytes,
        warn: ctx.warn,
      })) {
        if (!element.ok) {
          yield element;
          continue;
        }
        try {
          const value = element.value;
          if (isChatGptConversation(value)) {
            yield { ok: true, place: element.place, conversation: normaliseChatGptConversation(value, ctx, element.place) };
          } else if (value && typeof value === 'object' && 'chat_messages' in value) {
            yield { ok: true, place: element.place, conversation: normaliseClaudeConversation(value, ctx, element.place) };
          } else {
            const keys = value && typeof value === 'object' ? Object.keys(value).slice(0, 8).join(', ') : typeof value;
            yield {
              ok: false,
              place: element.place,
              message: `unknown export format or version: neither a ChatGPT conversation (mapping) nor a Claude one (chat_messages); found ${keys || 'nothing'}`,
            };
          }
        } catch (err) {
          yield { ok: false, place: element.place, message: (err as Error).message };
        }
      }
      return;
    case 'jsonl': {
      const lines = createInterface({ input: decodeTextStream(await entry.open(), entry.name), crlfDelay: Number.POSITIVE_INFINITY });
      yield* parseJsonlConversations(lines, ctx, baseName);
      return;
    }
    case 'markdown':
    case 'text': {
      const { text, warning } = await readTextWithFallback(await entry.open(), entry.name, MAX_TEXT_FILE_BYTES);
      if (warning) ctx.warn('(whole file)', warning);
      const transcript = entry.kind === 'markdown' || isMarkdownTranscript(text) ? parseMarkdownTranscript(text, ctx, baseName) : undefined;
      yield { ok: true, place: '(whole file)', conversation: transcript ?? parseNotes(text, ctx, baseName) };
      return;
    }
  }
}

/**
 * Message bodies are redacted as they are parsed; this covers every other text of a conversation
 * that a person wrote or saw: its title, author names, file names and asset references. Titles
 * and names count as redactions (a person wrote them); the file it came from does not.
 */
function redactNames(conversation: Conversation, redact: Redactor, quiet: (text: string) => string): Conversation {
  return {
    ...conversation,
    title: redact(conversation.title).text,
    sourceFile: quiet(conversation.sourceFile),
    messages: conversation.messages.map((m) => ({
      ...m,
      authorName: m.authorName ? redact(m.authorName).text : m.authorName,
      parts: m.parts.map((p) => (p.reference ? { ...p, reference: redact(p.reference).text } : p)),
    })),
  };
}

function branchPoints(conversation: Conversation): number {
  const children = new Map<string, number>();
  for (const m of conversation.messages) if (m.parentId) children.set(m.parentId, (children.get(m.parentId) ?? 0) + 1);
  return [...children.values()].filter((n) => n > 1).length;
}

/**
 * Reads an export (a zip, a conversations.json or its shards, a Claude export, JSONL, Markdown
 * transcripts, notes), and publishes one ConversationIngested per new or changed conversation.
 * Each problem is reported with its file and place and skipped; everything else goes through.
 */
export async function ingestExport(options: IngestOptions): Promise<UploadExportResult> {
  const report = emptyReport();
  const progress: IngestProgress = { conversationsRead: 0, conversationsPublished: 0 };
  // Names and places in the report can quote what a person wrote (a title, a file name): they are
  // redacted too, without counting as redactions of content.
  const quiet = (text: string) => options.redactor(text).text;
  const locate = (file: string, place: string, message: string): IngestError => ({
    fileName: clip(quiet(file), MAX_QUOTED.fileName),
    place: clip(quiet(place), MAX_QUOTED.place),
    message: clip(quiet(message), MAX_QUOTED.message),
  });
  // Every placeholder the redactor puts in is counted here, by kind.
  const redact: Redactor = (text) => {
    const result = options.redactor(text);
    for (const [kind, n] of Object.entries(result.counts)) bump(report.redactionsByKind, kind, n);
    return result;
  };

  for await (const item of readExportEntries(options.path, options.fileName, options.limits)) {
    if (!item.ok) {
      note(report, 'skipped', locate(item.problem.file, item.problem.place, item.problem.message));
      continue;
    }
    const entry = item.entry;
    note(report, 'files', clip(quiet(entry.name), MAX_QUOTED.fileName));
    const ctx: ParseContext = {
      file: entry.name,
      redact,
      limits: options.limits,
      warn: (place, message) => note(report, 'warnings', locate(entry.name, place, message)),
      skip: (place, message) => note(report, 'skipped', locate(entry.name, place, message)),
    };
    try {
      for await (const parsed of conversationsOf(entry, ctx)) {
        if (!parsed.ok) {
          note(report, 'skipped', locate(entry.name, parsed.place, parsed.message));
          continue;
        }
        const ingested = await record(parsed.conversation);
        await options.onConversation?.(ingested);
        progress.conversationsRead += 1;
        options.onProgress?.(progress);
      }
    } catch (err) {
      // Stream errors already name the entry; the report names it once, in its file column.
      const message = (err as Error).message.replace(`${entry.name}: `, '');
      note(report, 'skipped', locate(entry.name, '(entry)', message));
    }
  }
  return { ingestId: options.ingestId, report };

  async function record(parsed: Conversation): Promise<IngestedConversation> {
    const conversation = redactNames(parsed, redact, quiet);
    const contentHash = conversationContentHash(conversation);
    report.conversations += 1;
    bump(report.conversationsBySource, enumSuffix(ExportSource, conversation.source, 'EXPORT_SOURCE_'));
    report.messages += conversation.messages.length;
    report.messagesWithoutTime += conversation.messages.filter((m) => !m.createdAtFromSource).length;
    report.branchPoints += branchPoints(conversation);
    for (const m of conversation.messages) countContentType(report, m.contentType);

    const known = await options.ledger?.get(conversation.id);
    const seen = new Set(known?.messages ?? []);
    const newMessageIds = conversation.messages.filter((m) => !seen.has(shortHash(m.id))).map((m) => m.id);
    const change = !known
      ? ConversationChange.CONVERSATION_CHANGE_NEW
      : known.contentHash === contentHash
        ? ConversationChange.CONVERSATION_CHANGE_UNSPECIFIED
        : newMessageIds.length > 0
          ? ConversationChange.CONVERSATION_CHANGE_CONTINUED
          : ConversationChange.CONVERSATION_CHANGE_EDITED;
    const unchanged = change === ConversationChange.CONVERSATION_CHANGE_UNSPECIFIED;
    let duplicate = unchanged;
    if (unchanged) {
      report.conversationsUnchanged += 1;
    } else {
      if (change === ConversationChange.CONVERSATION_CHANGE_NEW) report.conversationsNew += 1;
      else if (change === ConversationChange.CONVERSATION_CHANGE_CONTINUED) report.conversationsContinued += 1;
      else report.conversationsEdited += 1;
      report.messagesNew += newMessageIds.length;
      if (options.publish) {
        const event: ConversationIngested = {
          ingestId: options.ingestId,
          fileName: quiet(options.fileName),
          contentHash,
          conversation,
          change,
          newMessageIds,
        };
        duplicate = (await options.publish(event, `ingested:${conversation.id}:${contentHash}`)).duplicate;
        // Remembered only once the event is safely in the stream: a crash before this line
        // republishes, which the stream's dedupe and the graph's MERGE absorb.
        await options.ledger?.put(conversation.id, { contentHash, messages: conversation.messages.map((m) => shortHash(m.id)) });
        progress.conversationsPublished += 1;
      }
    }
    return {
      id: conversation.id,
      contentHash,
      messages: conversation.messages.length,
      duplicate,
      change,
      newMessages: unchanged ? 0 : newMessageIds.length,
      source: conversation.source,
    };
  }
}

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

/**
 * The conversations of an export as ingestion would publish them, read in this process with no
 * server, ledger or bus (every conversation counts as new): for the CLI's offline commands, the
 * benches and the fitting scripts. Redaction `secrets` and the default limits unless given.
 */
export async function readConversations(
  path: string,
  options: { redactor?: Redactor; limits?: IngestLimits; ingestId?: string } = {},
): Promise<{ conversations: Conversation[]; report: IngestReport }> {
  const conversations: Conversation[] = [];
  const result = await ingestExport({
    path,
    fileName: basename(path),
    ingestId: options.ingestId ?? 'offline',
    redactor: options.redactor ?? createRedactor('secrets'),
    limits: options.limits ?? DEFAULT_LIMITS,
    publish: async (event) => {
      if (event.conversation) conversations.push(event.conversation);
      return { duplicate: false };
    },
  });
  return { conversations, report: result.report ?? emptyReport() };
}
