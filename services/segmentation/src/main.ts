import { publishEvent, SUBJECTS, startWorker, WORK_QUEUES } from '@trajectory/bus';
import { DEFAULT_PORTS, z } from '@trajectory/config';
import { ConversationIngested, ConversationSegmented } from '@trajectory/contracts';
import { main, runService } from '@trajectory/runtime';
import { SEGMENTER, segmentConversation } from './core/segment.js';

main(() =>
  runService({
    name: 'segmentation',
    defaultPort: DEFAULT_PORTS.segmentation,
    configShape: {
      SEGMENTATION_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
    },
    async start({ config, bus, logger, onShutdown }) {
      const worker = await startWorker({
        bus,
        queue: WORK_QUEUES.segmentation,
        codec: ConversationIngested,
        batch: config.SEGMENTATION_CONCURRENCY,
        async handle(event) {
          const conversation = event.conversation;
          if (!conversation) throw new Error('ConversationIngested without a conversation');
          const { nodes, edges } = segmentConversation(conversation);
          await publishEvent(
            bus,
            SUBJECTS.conversationSegmented,
            ConversationSegmented,
            { ingestId: event.ingestId, contentHash: event.contentHash, segmenter: SEGMENTER, conversation, nodes, edges, chains: [] },
            `segmented:${conversation.id}:${event.contentHash}:${SEGMENTER}`,
          );
          logger.info({ conversationId: conversation.id, nodes: nodes.length, edges: edges.length }, 'conversation segmented');
        },
      });
      onShutdown(() => worker.stop());
    },
  }),
);
