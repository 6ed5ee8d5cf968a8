import { PoisonMessageError, publishEvent, SUBJECTS, startWorker, WORK_QUEUES } from '@trajectory/bus';
import { DEFAULT_PORTS, listSetting, z } from '@trajectory/config';
import { ConversationIngested, ConversationSegmented } from '@trajectory/contracts';
import { ENCODER_CHOICES, type EncoderChoice, loadEmbedder, withEmbeddingCache } from '@trajectory/embeddings';
import { main, runService } from '@trajectory/runtime';
import { DEFAULT_LANGUAGES, segmentConversation, segmenterName } from '@trajectory/segmentation';
import { ATTR_CONVERSATION_ID } from '@trajectory/telemetry';

main(() =>
  runService({
    name: 'segmentation',
    defaultPort: DEFAULT_PORTS.segmentation,
    configShape: {
      SEGMENTATION_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
      /** Marker and cue languages, comma separated ISO 639-1 codes of the relation table. */
      SEGMENTATION_LANGUAGES: listSetting(DEFAULT_LANGUAGES).transform((languages) => languages.map((l) => l.toLowerCase())),
      /** Folder of the sentence-embedding model (packages/embeddings/scripts/fetch-model.mjs fills it). */
      TRAJECTORY_EMBEDDING_MODEL_DIR: z.string().optional(),
      /** Folder of the static encoder derived from it (default: all-MiniLM-L6-v2-static beside it). */
      TRAJECTORY_STATIC_EMBEDDING_MODEL_DIR: z.string().optional(),
      /**
       * Which sentence encoder: `auto` (the static encoder where it was derived, else MiniLM),
       * `static`, or `minilm` (the transformer itself, ~40x the CPU per conversation). CPU only.
       */
      SEGMENTATION_ENCODER: z.enum(ENCODER_CHOICES as [EncoderChoice, ...EncoderChoice[]]).default('auto'),
      /**
       * Sentences whose vectors are kept (LRU, ~1.8 kB each): a redelivered or re-exported
       * conversation is segmented again without embedding its unchanged sentences. 0 turns it off.
       */
      SEGMENTATION_EMBEDDING_CACHE: z.coerce.number().int().min(0).default(50_000),
      /** `lexical` skips the model even where it exists. */
      SEGMENTATION_SIGNAL: z.enum(['auto', 'lexical']).default('auto'),
    },
    async start({ config, bus, logger, onShutdown }) {
      const encoder =
        config.SEGMENTATION_SIGNAL === 'lexical'
          ? null
          : await loadEmbedder({
              encoder: config.SEGMENTATION_ENCODER,
              ...(config.TRAJECTORY_EMBEDDING_MODEL_DIR ? { modelDir: config.TRAJECTORY_EMBEDDING_MODEL_DIR } : {}),
              ...(config.TRAJECTORY_STATIC_EMBEDDING_MODEL_DIR ? { staticModelDir: config.TRAJECTORY_STATIC_EMBEDDING_MODEL_DIR } : {}),
            });
      const embedder =
        encoder && config.SEGMENTATION_EMBEDDING_CACHE > 0
          ? withEmbeddingCache(encoder, { maxEntries: config.SEGMENTATION_EMBEDDING_CACHE })
          : encoder;
      if (embedder) logger.info({ model: embedder.id }, 'segmenting with sentence embeddings and lexical cohesion');
      else
        logger.warn(
          'no embedding model: segmenting on lexical cohesion and markers only (fetch it with packages/embeddings/scripts/fetch-model.mjs)',
        );
      const segmenter = segmenterName(embedder);
      const worker = await startWorker({
        bus,
        queue: WORK_QUEUES.segmentation,
        codec: ConversationIngested,
        batch: config.SEGMENTATION_CONCURRENCY,
        spanAttributes: (event) => ({ [ATTR_CONVERSATION_ID]: event.conversation?.id }),
        async handle(event) {
          const conversation = event.conversation;
          // Nothing to segment, whatever the number of tries: dead-lettered at once.
          if (!conversation) throw new PoisonMessageError('ConversationIngested without a conversation');
          const { nodes, edges, chains } = await segmentConversation(conversation, { embedder, languages: config.SEGMENTATION_LANGUAGES });
          await publishEvent(
            bus,
            SUBJECTS.conversationSegmented,
            ConversationSegmented,
            { ingestId: event.ingestId, contentHash: event.contentHash, segmenter, conversation, nodes, edges, chains },
            `segmented:${conversation.id}:${event.contentHash}:${segmenter}`,
          );
          logger.info(
            { conversationId: conversation.id, nodes: nodes.length, edges: edges.length, chains: chains.length },
            'conversation segmented',
          );
        },
      });
      onShutdown(async () => {
        await worker.stop();
        await embedder?.close();
      });
    },
  }),
);
