import { createHash } from 'node:crypto';
import { type Conversation, ConversationIngested, type IngestError, type UploadExportResult } from '@trajectory/contracts';
import { normaliseChatGptConversation } from './chatgpt.js';
import { readJsonExport } from './export-reader.js';

export interface IngestFileOptions {
  path: string;
  fileName: string;
  ingestId: string;
  redact: boolean;
  /** Publishes one event, idempotent for the same msgId; true when the stream had it already. */
  publish: (event: ConversationIngested, msgId: string) => Promise<{ duplicate: boolean }>;
}

/** Stable identity of a conversation's content: re-ingesting the same export dedupes. */
export function conversationContentHash(conversation: Conversation): string {
  return createHash('sha256')
    .update(JSON.stringify(ConversationIngested.toJSON({ ingestId: '', fileName: '', contentHash: '', conversation })))
    .digest('hex');
}

/**
 * Reads a ChatGPT export element by element and publishes one ConversationIngested per
 * conversation. A bad element is reported with its place and skipped; the rest go through.
 */
export async function ingestChatGptFile(options: IngestFileOptions): Promise<UploadExportResult> {
  const result: UploadExportResult = {
    ingestId: options.ingestId,
    conversationsPublished: 0,
    messages: 0,
    redactions: 0,
    errors: [],
    conversations: [],
  };
  const fail = (place: string, message: string): IngestError => ({ fileName: options.fileName, place, message });
  for await (const item of readJsonExport(options.path)) {
    if (!item.ok) {
      result.errors.push(fail(item.place, item.message));
      continue;
    }
    let conversation: Conversation;
    try {
      conversation = normaliseChatGptConversation(item.value, { redact: options.redact });
    } catch (err) {
      result.errors.push(fail(item.place, (err as Error).message));
      continue;
    }
    const contentHash = conversationContentHash(conversation);
    const { duplicate } = await options.publish(
      { ingestId: options.ingestId, fileName: options.fileName, contentHash, conversation },
      `ingested:${conversation.id}:${contentHash}`,
    );
    result.conversationsPublished += 1;
    result.messages += conversation.messages.length;
    result.redactions += conversation.messages.reduce((n, m) => n + m.redactions, 0);
    result.conversations.push({ id: conversation.id, contentHash, messages: conversation.messages.length, duplicate });
  }
  return result;
}
