import { type Conversation, ExportSource, Message } from '@trajectory/contracts';

/** A linear conversation of [role, text] turns, a minute apart: what the segmentation tests feed in. */
export function conversationOf(turns: [string, string][], id = 'conv'): Conversation {
  const messages = turns.map(([role, text], i) =>
    Message.fromPartial({
      id: `m${i}`,
      parentId: i > 0 ? `m${i - 1}` : '',
      role,
      text,
      createdAt: new Date(Date.UTC(2024, 0, 1, 0, i)),
      contentType: 'text',
      onCurrentBranch: true,
    }),
  );
  return {
    id,
    source: ExportSource.EXPORT_SOURCE_CHATGPT,
    title: id,
    createdAt: undefined,
    updatedAt: undefined,
    currentLeafId: messages.at(-1)?.id ?? '',
    messages,
    sourceFile: 'test.json',
  };
}
