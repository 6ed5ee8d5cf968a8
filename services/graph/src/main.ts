import { PoisonMessageError, publishEvent, SUBJECTS, startWorker, WORK_QUEUES } from '@trajectory/bus';
import { DEFAULT_PORTS, neo4jConfigShape, z } from '@trajectory/config';
import { ConversationSegmented, GraphServiceService, GraphStored } from '@trajectory/contracts';
import { isNeo4jUnavailable, migrate, writeConversationGraphs } from '@trajectory/graph';
import { main, runService } from '@trajectory/runtime';
import { ATTR_CONVERSATION_ID, withSpan } from '@trajectory/telemetry';
import neo4j from 'neo4j-driver';
import { graphQueryService } from './adapters/query-service.js';
import { createWriteBatcher } from './adapters/write-batcher.js';

main(() =>
  runService({
    name: 'graph',
    defaultPort: DEFAULT_PORTS.graph,
    configShape: {
      ...neo4jConfigShape,
      GRAPH_WRITE_BATCH: z.coerce.number().int().min(1).max(256).default(32),
      GRAPH_WRITE_WAIT_MS: z.coerce.number().int().min(0).max(5_000).default(20),
    },
    async start({ config, bus, logger, addGrpcService, onShutdown, dependency }) {
      const driver = neo4j.driver(
        config.NEO4J_URI,
        config.NEO4J_USER && config.NEO4J_PASSWORD ? neo4j.auth.basic(config.NEO4J_USER, config.NEO4J_PASSWORD) : undefined,
        // A write that cannot reach Neo4j soon gives up to the wait below, which resumes it within
        // a probe interval of Neo4j's return instead of at the driver's next backoff step (up to 16 s).
        { disableLosslessIntegers: true, maxTransactionRetryTime: 5_000 },
      );
      onShutdown(() => driver.close());
      const database = config.NEO4J_DATABASE ? { database: config.NEO4J_DATABASE } : {};
      try {
        await driver.verifyConnectivity();
      } catch (err) {
        throw new Error(`cannot reach Neo4j at ${config.NEO4J_URI}: ${(err as Error).message}`);
      }
      const applied = await migrate(driver, database);
      if (applied.length > 0) logger.info({ migrations: applied }, 'graph schema migrated');
      // NOT_SERVING while Neo4j is out of reach; deliveries wait for it rather than fail.
      const neo4jReachable = dependency('neo4j', () => driver.verifyConnectivity(database));

      // Up to GRAPH_WRITE_BATCH deliveries are in flight at once; their conversations share one
      // transaction (see bench/graph-write.mjs for how batch size and parallelism were chosen).
      const batcher = createWriteBatcher((events) => writeConversationGraphs(driver, events, database), {
        maxBatch: config.GRAPH_WRITE_BATCH,
        maxWaitMs: config.GRAPH_WRITE_WAIT_MS,
        failsEveryone: isNeo4jUnavailable,
      });

      /**
       * Stores one conversation, waiting out a Neo4j outage (the worker's heartbeats keep the
       * message ours meanwhile): an outage is no reason to spend the delivery's retries, let
       * alone to dead-letter it, and the write goes in as soon as Neo4j answers again.
       */
      async function store(event: ConversationSegmented): Promise<void> {
        for (;;) {
          await neo4jReachable.whenAvailable();
          try {
            await batcher.add(event);
            return;
          } catch (err) {
            if (!isNeo4jUnavailable(err)) throw err;
            neo4jReachable.lost(err as Error);
          }
        }
      }

      const worker = await startWorker({
        bus,
        queue: WORK_QUEUES.graph,
        codec: ConversationSegmented,
        batch: config.GRAPH_WRITE_BATCH,
        spanAttributes: (event) => ({ [ATTR_CONVERSATION_ID]: event.conversation?.id }),
        async handle(event) {
          const conversation = event.conversation;
          if (!conversation) throw new PoisonMessageError('ConversationSegmented without a conversation');
          await withSpan('neo4j write conversation', { attributes: { 'db.system': 'neo4j', nodes: event.nodes.length } }, () =>
            store(event),
          );
          const stored: GraphStored = {
            ingestId: event.ingestId,
            conversationId: conversation.id,
            contentHash: event.contentHash,
            messageCount: conversation.messages.length,
            nodeCount: event.nodes.length,
            edgeCount: event.edges.length,
          };
          await publishEvent(
            bus,
            SUBJECTS.graphStored,
            GraphStored,
            stored,
            `stored:${stored.conversationId}:${event.contentHash}:${event.segmenter}`,
          );
          logger.info({ conversationId: stored.conversationId, nodes: stored.nodeCount, edges: stored.edgeCount }, 'conversation stored');
        },
      });
      onShutdown(() => worker.stop());

      addGrpcService(GraphServiceService, graphQueryService(driver, database));
    },
  }),
);
