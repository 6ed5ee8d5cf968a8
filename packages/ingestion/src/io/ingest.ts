import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import type { Conversation, IngestedConversation, IngestReport, UploadExportResult } from '@trajectory/contracts';
import { decodeTextStream } from '../decode-stream.js';
import { conversationOfElement } from '../export-element.js';
import { readJsonElements } from '../export-reader.js';
import { parseJsonlConversations } from '../jsonl.js';
import { isMarkdownTranscript, parseMarkdownTranscript } from '../markdown.js';
import { parseNotes } from '../notes.js';
import { readTextWithFallback } from '../read-text.js';
import { ExportRecorder, type IngestProgress, type RecordOptions } from '../record.js';
import { createRedactor } from '../redact.js';
import { emptyReport } from '../report.js';
import { DEFAULT_LIMITS, type ExportEntry, type IngestLimits, type ParseContext, type ParsedItem, type Redactor } from '../types.js';
import { readExportEntries } from './archive.js';

export interface IngestOptions extends RecordOptions {
  /** The export on disk. */
  path: string;
  limits: IngestLimits;
  /**
   * Each conversation read, as it is read: the result holds counts only, so a caller that needs
   * the list (the service, for ListIngestedConversations) keeps it where memory is not spent.
   */
  onConversation?: (conversation: IngestedConversation) => void | Promise<void>;
  onProgress?: (progress: IngestProgress) => void;
}

/** Texts read whole (Markdown transcripts, notes) are capped; exports proper stream. */
const MAX_TEXT_FILE_BYTES = 64 * 1024 * 1024;

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
        yield conversationOfElement(element.value, ctx, element.place);
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
 * Reads an export (a zip, a conversations.json or its shards, a Claude export, JSONL, Markdown
 * transcripts, notes), and publishes one ConversationIngested per new or changed conversation.
 * Each problem is reported with its file and place and skipped; everything else goes through.
 */
export async function ingestExport(options: IngestOptions): Promise<UploadExportResult> {
  const recorder = new ExportRecorder(options);
  for await (const item of readExportEntries(options.path, options.fileName, options.limits)) {
    if (!item.ok) {
      recorder.skipped(item.problem.file, item.problem.place, item.problem.message);
      continue;
    }
    const entry = item.entry;
    recorder.reading(entry.name);
    const ctx: ParseContext = {
      file: entry.name,
      redact: recorder.redact,
      limits: options.limits,
      warn: (place, message) => recorder.warned(entry.name, place, message),
      skip: (place, message) => recorder.skipped(entry.name, place, message),
    };
    try {
      for await (const parsed of conversationsOf(entry, ctx)) {
        if (!parsed.ok) {
          recorder.skipped(entry.name, parsed.place, parsed.message);
          continue;
        }
        const ingested = await recorder.record(parsed.conversation);
        await options.onConversation?.(ingested);
        recorder.read();
        options.onProgress?.(recorder.progress);
      }
    } catch (err) {
      // Stream errors already name the entry; the report names it once, in its file column.
      const message = (err as Error).message.replace(`${entry.name}: `, '');
      recorder.skipped(entry.name, '(entry)', message);
    }
  }
  return { ingestId: options.ingestId, report: recorder.report };
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
