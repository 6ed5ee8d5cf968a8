import { isChatGptConversation, normaliseChatGptConversation } from './chatgpt.js';
import { normaliseClaudeConversation } from './claude.js';
import type { ParseContext, ParsedItem } from './types.js';

/** One element of a JSON export as a conversation, by its shape: ChatGPT's, Claude's, or neither. */
export function conversationOfElement(value: unknown, ctx: ParseContext, place: string): ParsedItem {
  try {
    if (isChatGptConversation(value)) {
      return { ok: true, place, conversation: normaliseChatGptConversation(value, ctx, place) };
    }
    if (value && typeof value === 'object' && 'chat_messages' in value) {
      return { ok: true, place, conversation: normaliseClaudeConversation(value, ctx, place) };
    }
    const keys = value && typeof value === 'object' ? Object.keys(value).slice(0, 8).join(', ') : typeof value;
    return {
      ok: false,
      place,
      message: `unknown export format or version: neither a ChatGPT conversation (mapping) nor a Claude one (chat_messages); found ${keys || 'nothing'}`,
    };
  } catch (err) {
    return { ok: false, place, message: (err as Error).message };
  }
}
