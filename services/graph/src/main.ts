import type * as grpc from '@grpc/grpc-js';
import { publishEvent, SUBJECTS, startWorker, WORK_QUEUES } from '@trajectory/bus';
import { DEFAULT_PORTS, neo4jConfigShape } from '@trajectory/config';
import {
  type ConversationGraph,
  ConversationSegmented,
  type GetStatsRequest,
  GraphServiceService,
  type GraphStats,
  GraphStored,
  type StreamConversationGraphsRequest,
} from '@trajectory/contracts';
import { main, runService } from '@trajectory/runtime';
import { withSpan } from '@trajectory/telemetry';
import neo4j from 'neo4j-driver';
import { ensureSchema, writeConversationGraph } from './adapters/neo4j-store.js';
import { CONVERSATION_GRAPH_PARAMS, CONVERSATION_GRAPH_QUERY, STATS_QUERY, toConversationGraph } from './core/read.js';

main(() =>
  runService({
    name: 'graph',
    defaultPort: DEFAULT_PORTS.graph,
    configShape: { ...neo4jConfigShape },
    async start({ config, bus, logger, addGrpcService, onShutdown }) {
      const driver = neo4j.driver(
        config.NEO4J_URI,
        config.NEO4J_USER && config.NEO4J_PASSWORD ? neo4j.auth.basic(config.NEO4J_USER, config.NEO4J_PASSWORD) : undefined,
        { disableLosslessIntegers: true },
      );
      onShutdown(() => driver.close());
      const database = config.NEO4J_DATABASE ? { database: config.NEO4J_DATABASE } : {};
      try {
        await driver.verifyConnectivity();
      } catch (err) {
        throw new Error(`cannot reach Neo4j at ${config.NEO4J_URI}: ${(err as Error).message}`);
      }
      await ensureSchema(driver, database);

      const worker = await startWorker({
        bus,
        queue: WORK_QUEUES.graph,
        codec: ConversationSegmented,
        async handle(event) {
          await withSpan('neo4j write conversation', { attributes: { 'db.system': 'neo4j', nodes: event.nodes.length } }, () =>
            writeConversationGraph(driver, event, database),
          );
          const conversation = event.conversation;
          const stored: GraphStored = {
            ingestId: event.ingestId,
            conversationId: conversation?.id ?? '',
            contentHash: event.contentHash,
            messageCount: conversation?.messages.length ?? 0,
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

      addGrpcService(GraphServiceService, {
        getStats(_call: grpc.ServerUnaryCall<GetStatsRequest, GraphStats>, callback: grpc.sendUnaryData<GraphStats>) {
          driver
            .executeQuery(STATS_QUERY, {}, { ...database, routing: neo4j.routing.READ })
            .then(({ records }) => {
              const r = records[0]?.toObject() ?? {};
              callback(null, { conversations: r.conversations ?? 0, messages: r.messages ?? 0, nodes: r.nodes ?? 0, edges: r.edges ?? 0 });
            })
            .catch((err: Error) => callback(err));
        },
        streamConversationGraphs(call: grpc.ServerWritableStream<StreamConversationGraphsRequest, ConversationGraph>) {
          const session = driver.session({ ...database, defaultAccessMode: neo4j.session.READ });
          // Rows stream from Bolt to gRPC one conversation at a time.
          session.run(CONVERSATION_GRAPH_QUERY, CONVERSATION_GRAPH_PARAMS(call.request.conversationIds)).subscribe({
            onNext(record) {
              call.write(toConversationGraph(record.toObject() as Parameters<typeof toConversationGraph>[0]));
            },
            onCompleted() {
              void session.close();
              call.end();
            },
            onError(err) {
              void session.close();
              call.destroy(err);
            },
          });
        },
      });
    },
  }),
);
