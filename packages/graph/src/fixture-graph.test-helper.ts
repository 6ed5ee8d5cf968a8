import { type ConversationSegmented, type Edge, ExportSource, Message } from '@trajectory/contracts';

/**
 * A small cognitive graph with known answers, for the store, query API and recipe tests:
 *
 *  "Bread hydration" (2023-03): h1 user idea -> h2 assistant -> h3 user challenge -> h4 assistant revision
 *     chain bread-2023 [h1, h3, h4] (tag baking); h3 REFINES h1, h4 REFINES h3; ITERATION_FINAL h1 -> h4;
 *     a regenerated answer: message h2b is an alternative of h2 (BRANCH_OF).
 *  "Bread again" (2025-05): b1 user correction -> b2 assistant -> b3 user conclusion
 *     chain bread-2025 [b1, b3] (tag baking); b3 REFINES b1, ITERATION_FINAL b1 -> b3.
 *  "QLoRA notes" (2024-11): q1 -> q2 -> q3 -> q4, one chain [q1, q2, q3, q4] (tag ml), q4 has no time.
 */
export function fixtureEvents(): ConversationSegmented[] {
  return [
    conversation(
      'conv-bread-2023',
      'Bread hydration',
      '2023-03-01T09:00:00Z',
      [
        ['h1', 'user', 'I think 80% hydration sourdough gives the best crumb', 0],
        ['h2', 'assistant', 'High hydration opens the crumb but is harder to shape', 5],
        ['h3', 'user', 'Actually my dough spreads flat at 80% hydration, too wet', 60],
        ['h4', 'assistant', 'Then lower hydration to 72% and build strength with folds', 65],
      ],
      {
        edges: [
          ['h2', 'h1', 'RESPONDS'],
          ['h3', 'h1', 'REFINES'],
          ['h4', 'h3', 'REFINES'],
          ['h1', 'h4', 'ITERATION_FINAL'],
        ],
        chains: [['bread-2023', ['h1', 'h3', 'h4'], ['baking']]],
        alternative: ['h2b', 'h1', 'A regenerated answer about hydration and crumb'],
      },
    ),
    conversation(
      'conv-bread-2025',
      'Bread again',
      '2025-05-10T18:00:00Z',
      [
        ['b1', 'user', 'I no longer believe hydration matters most; fermentation time does', 0],
        ['b2', 'assistant', 'Fermentation develops flavour and structure, hydration still affects handling', 10],
        ['b3', 'user', 'So my rule now: 70% hydration, long cold fermentation', 30],
      ],
      {
        edges: [
          ['b2', 'b1', 'RESPONDS'],
          ['b3', 'b1', 'REFINES'],
          ['b1', 'b3', 'ITERATION_FINAL'],
        ],
        chains: [['bread-2025', ['b1', 'b3'], ['baking']]],
      },
    ),
    conversation(
      'conv-qlora',
      'QLoRA notes',
      '2024-11-20T08:00:00Z',
      [
        ['q1', 'user', 'QLoRA quantizes the base model to 4 bit', 0],
        ['q2', 'assistant', 'Yes, NF4 with double quantization', 2],
        ['q3', 'user', 'So adapters train in bf16 on top', 4],
        ['q4', 'assistant', 'Right, and paged optimizers save memory', null],
      ],
      {
        edges: [
          ['q2', 'q1', 'RESPONDS'],
          ['q3', 'q2', 'DERIVES'],
          ['q4', 'q3', 'RESPONDS'],
          ['q1', 'q4', 'ITERATION_FINAL'],
        ],
        chains: [['qlora-2024', ['q1', 'q2', 'q3', 'q4'], ['ml']]],
      },
    ),
  ];
}

/** What the fixture holds, for exact assertions. */
export const FIXTURE_COUNTS = {
  conversations: 3,
  messages: 12, // 11 node messages + the regenerated alternative h2b
  nodes: 11,
  follows: 8, // consecutive nodes in each conversation
  edgesByRelation: { DERIVES: 1, FOLLOWS: 8, ITERATION_FINAL: 3, REFINES: 3, RESPONDS: 4 },
  chains: 3,
  averageChainLength: 3, // (3 + 2 + 4) / 3
  nodesWithTimePercent: (10 / 11) * 100,
};

type NodeSpec = [id: string, role: string, text: string, minutesAfterStart: number | null];

function conversation(
  id: string,
  title: string,
  start: string,
  nodes: NodeSpec[],
  extra: { edges: [string, string, string][]; chains: [string, string[], string[]][]; alternative?: [string, string, string] },
): ConversationSegmented {
  const at = (minutes: number | null) => (minutes === null ? undefined : new Date(new Date(start).getTime() + minutes * 60_000));
  const messages = nodes.map(([nid, role, text, minutes], i) =>
    Message.fromPartial({
      id: `m-${nid}`,
      parentId: i === 0 ? '' : `m-${nodes[i - 1]?.[0]}`,
      role,
      text,
      createdAt: at(minutes),
      createdAtFromSource: minutes !== null,
      contentType: 'text',
      onCurrentBranch: true,
    }),
  );
  if (extra.alternative) {
    const [alt, parent, text] = extra.alternative;
    messages.push(
      Message.fromPartial({
        id: `m-${alt}`,
        parentId: `m-${parent}`,
        role: 'assistant',
        text,
        createdAt: at(4),
        contentType: 'text',
        onCurrentBranch: false,
      }),
    );
  }
  const edges: Edge[] = [
    ...nodes.slice(1).map(([nid], i) => ({ fromId: nid, toId: nodes[i]?.[0] ?? '', relation: 'follows', confidence: 1, tags: [] })),
    ...extra.edges.map(([from, to, type]) => ({
      fromId: from,
      toId: to,
      relation: type.toLowerCase(),
      confidence: 0.8,
      tags: type === 'REFINES' ? ['correction'] : [],
    })),
  ];
  return {
    ingestId: 'fixture',
    contentHash: `hash-${id}`,
    segmenter: 'fixture',
    conversation: {
      id,
      source: ExportSource.EXPORT_SOURCE_CHATGPT,
      title,
      createdAt: new Date(start),
      updatedAt: undefined,
      currentLeafId: messages.filter((m) => m.onCurrentBranch).at(-1)?.id ?? '',
      messages,
      sourceFile: 'fixture-export.zip:conversations.json',
    },
    nodes: nodes.map(([nid, role, text, minutes]) => ({
      id: nid,
      conversationId: id,
      messageIds: [`m-${nid}`],
      role,
      text,
      createdAt: at(minutes),
      tags: extra.chains.find(([, ids]) => ids.includes(nid))?.[2] ?? [],
      onCurrentBranch: true,
      sentenceStart: 0,
      sentenceEnd: 1,
    })),
    edges,
    chains: extra.chains.map(([chainId, nodeIds, tags]) => ({
      id: chainId,
      conversationId: id,
      nodeIds,
      steps: nodeIds.map((_, i) => (i === 0 ? 'idea' : i === nodeIds.length - 1 ? 'convergence' : 'revision')),
      tags,
    })),
  };
}
