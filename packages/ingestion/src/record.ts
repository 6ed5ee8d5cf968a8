import { createHash } from 'node:crypto';
import {
  type Conversation,
  ConversationChange,
  ConversationIngested,
  ExportSource,
  enumSuffix,
  type IngestError,
  type IngestedConversation,
  type IngestReport,
} from '@trajectory/contracts';
import { bump, clip, countContentType, emptyReport, MAX_QUOTED, note } from './report.js';
import type { Redactor } from './types.js';

/* What ingestion does with each conversation it reads, wherever the bytes came from: redact its
 * names, count it in the report, compare it with the ledger and publish what changed. */

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

export interface RecordOptions {
  fileName: string;
  ingestId: string;
  redactor: Redactor;
  /** Absent for an offline inspection: every conversation then counts as new. */
  ledger?: Ledger;
  /** Absent for an offline inspection. Idempotent for the same msgId. */
  publish?: (event: ConversationIngested, msgId: string) => Promise<{ duplicate: boolean }>;
}

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
 * The report and progress of one export's ingestion, and what each conversation read goes
 * through. Every text it keeps is redacted: contents through `redact`, which counts placeholders
 * by kind, and names and places through `quiet`, which does not count them.
 */
export class ExportRecorder {
  readonly report: IngestReport = emptyReport();
  readonly progress: IngestProgress = { conversationsRead: 0, conversationsPublished: 0 };
  /** Every placeholder the redactor puts in is counted, by kind. */
  readonly redact: Redactor = (text) => {
    const result = this.options.redactor(text);
    for (const [kind, n] of Object.entries(result.counts)) bump(this.report.redactionsByKind, kind, n);
    return result;
  };
  /**
   * Names and places in the report can quote what a person wrote (a title, a file name): they are
   * redacted too, without counting as redactions of content.
   */
  readonly quiet = (text: string) => this.options.redactor(text).text;

  constructor(private readonly options: RecordOptions) {}

  /** A problem as the report shows it: clipped and redacted. */
  locate(file: string, place: string, message: string): IngestError {
    return {
      fileName: clip(this.quiet(file), MAX_QUOTED.fileName),
      place: clip(this.quiet(place), MAX_QUOTED.place),
      message: clip(this.quiet(message), MAX_QUOTED.message),
    };
  }

  skipped(file: string, place: string, message: string): void {
    note(this.report, 'skipped', this.locate(file, place, message));
  }

  warned(file: string, place: string, message: string): void {
    note(this.report, 'warnings', this.locate(file, place, message));
  }

  /** An entry of the export that is read. */
  reading(file: string): void {
    note(this.report, 'files', clip(this.quiet(file), MAX_QUOTED.fileName));
  }

  /** One more conversation went through. */
  read(): void {
    this.progress.conversationsRead += 1;
  }

  /** Counts one conversation read, compares it with the ledger, and publishes it if it changed. */
  async record(parsed: Conversation): Promise<IngestedConversation> {
    const { options, report, progress, redact, quiet } = this;
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
