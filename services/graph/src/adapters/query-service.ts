import { once } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import type { GraphServiceServer } from '@trajectory/contracts';
import {
  CONVERSATION_GRAPH_PARAMS,
  CONVERSATION_GRAPH_QUERY,
  CONVERSATION_IDS_PARAMS,
  CONVERSATION_IDS_QUERY,
  CONVERSATION_PAGE,
  type ConversationGraphRow,
  type ConversationIdRow,
  conversationPages,
  MAX_STORED_QUERY,
  NEIGHBOURHOOD_PARAMS,
  NEIGHBOURHOOD_QUERIES,
  neighbourhoodDepth,
  type PageLimits,
  REFINEMENT_CHAINS_PARAMS,
  REFINEMENT_CHAINS_QUERY,
  type RefinementChainRow,
  STATS_PARAMS,
  STATS_QUERY,
  STORED_CONVERSATIONS_PARAMS,
  STORED_CONVERSATIONS_QUERY,
  type StatsRow,
  type StoredConversationRow,
  TOPIC_EVOLUTION_PARAMS,
  TOPIC_EVOLUTION_QUERY,
  toConversationGraph,
  toGraphStats,
  toNeighbourhood,
  toRefinementChainView,
  toStoredConversation,
  toTopicPoint,
} from '@trajectory/graph';
import { answerUnary, grpcStatusOf, ServiceError } from '@trajectory/runtime';
import neo4j, { type Driver, Neo4jError, type SessionConfig } from 'neo4j-driver';

/** A driver or query failure as clients see it: the database away is UNAVAILABLE, a statement it refused INVALID_ARGUMENT. */
function neo4jFailure(err: unknown): unknown {
  if (!(err instanceof Neo4jError)) return err;
  const away = err.code === 'ServiceUnavailable' || err.code === 'SessionExpired';
  if (away) return new ServiceError('UNAVAILABLE', err.message, { cause: err });
  if (err.code.startsWith('Neo.ClientError.Statement.')) return new ServiceError('INVALID_ARGUMENT', err.message, { cause: err });
  return err;
}

/** The status a failed server stream ends with. */
const toStatus = (err: unknown) => grpcStatusOf(neo4jFailure(err));

export interface QueryServiceOptions {
  /** How StreamConversationGraphs cuts the history into page queries (default CONVERSATION_PAGE). */
  page?: PageLimits;
}

/**
 * The GraphService implementation over a Neo4j driver: fixed, parameterised, read-only Cypher,
 * run in read sessions. Streaming calls write one message per record as records arrive.
 */
export function graphQueryService(driver: Driver, database: SessionConfig = {}, options: QueryServiceOptions = {}): GraphServiceServer {
  const config = database.database ? { database: database.database } : {};

  const read = async <T>(cypher: string, params: Record<string, unknown>): Promise<T[]> => {
    const { records } = await driver.executeQuery(cypher, params, { ...config, routing: neo4j.routing.READ });
    return records.map((r) => r.toObject() as T);
  };

  const stream = <T, M>(
    call: grpc.ServerWritableStream<unknown, M>,
    cypher: string,
    params: Record<string, unknown>,
    map: (row: T) => M,
  ): void => {
    const session = driver.session({ ...config, defaultAccessMode: neo4j.session.READ });
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      void session.close();
      call.emit('error', toStatus(err));
    };
    call.on('cancelled', () => void session.close());
    session.run(cypher, params).subscribe({
      onNext(record) {
        if (failed) return;
        try {
          call.write(map(record.toObject() as T));
        } catch (err) {
          fail(err);
        }
      },
      onCompleted() {
        if (failed) return;
        void session.close();
        call.end();
      },
      onError: fail,
    });
  };

  const unary = <M>(callback: grpc.sendUnaryData<M>, work: () => Promise<M>) =>
    answerUnary(
      work().catch((err: unknown) => {
        throw neo4jFailure(err);
      }),
      callback,
    );

  return {
    getStats(_call, callback) {
      unary(callback, async () => toGraphStats((await read<StatsRow>(STATS_QUERY, STATS_PARAMS()))[0]));
    },

    getStoredConversations(call, callback) {
      unary(callback, async () => {
        const versions = call.request.conversations;
        if (versions.length > MAX_STORED_QUERY)
          throw new ServiceError('INVALID_ARGUMENT', `at most ${MAX_STORED_QUERY} conversations a call, not ${versions.length}`);
        if (versions.length === 0) return { conversations: [] };
        const rows = await read<StoredConversationRow>(STORED_CONVERSATIONS_QUERY, STORED_CONVERSATIONS_PARAMS(versions));
        return { conversations: rows.map(toStoredConversation) };
      });
    },

    streamConversationGraphs(call) {
      // One transaction per page instead of one for the whole history: Neo4j and this process
      // hold a page at a time, and the next page is read only once the client has taken the last
      // one (the write buffer drained).
      const cancelled = new AbortController();
      call.on('cancelled', () => cancelled.abort());
      (async () => {
        const ids = await read<ConversationIdRow>(CONVERSATION_IDS_QUERY, CONVERSATION_IDS_PARAMS(call.request.conversationIds));
        for (const page of conversationPages(ids, options.page ?? CONVERSATION_PAGE)) {
          for (const row of await read<ConversationGraphRow>(CONVERSATION_GRAPH_QUERY, CONVERSATION_GRAPH_PARAMS(page))) {
            cancelled.signal.throwIfAborted();
            if (!call.write(toConversationGraph(row))) await once(call, 'drain', { signal: cancelled.signal });
          }
        }
        call.end();
      })().catch((err: unknown) => {
        if (!cancelled.signal.aborted) call.emit('error', toStatus(err));
      });
    },

    getConversationGraph(call, callback) {
      unary(callback, async () => {
        const id = call.request.conversationId;
        if (!id) throw new ServiceError('INVALID_ARGUMENT', 'conversation_id is required');
        const row = (await read<ConversationGraphRow>(CONVERSATION_GRAPH_QUERY, CONVERSATION_GRAPH_PARAMS([id])))[0];
        if (!row) throw new ServiceError('NOT_FOUND', `no conversation ${id}`);
        return toConversationGraph(row);
      });
    },

    listRefinementChains(call) {
      stream(call, REFINEMENT_CHAINS_QUERY, REFINEMENT_CHAINS_PARAMS(call.request), (row: RefinementChainRow) =>
        toRefinementChainView(row),
      );
    },

    getNeighbourhood(call, callback) {
      unary(callback, async () => {
        const { nodeId, depth, limit } = call.request;
        if (!nodeId) throw new ServiceError('INVALID_ARGUMENT', 'node_id is required');
        const rows = await read<Parameters<typeof toNeighbourhood>[0]>(
          NEIGHBOURHOOD_QUERIES[neighbourhoodDepth(depth)],
          NEIGHBOURHOOD_PARAMS(nodeId, limit),
        );
        if (!rows[0]) throw new ServiceError('NOT_FOUND', `no node ${nodeId}`);
        return toNeighbourhood(rows[0]);
      });
    },

    topicEvolution(call) {
      if (call.request.text.trim() === '') {
        call.emit('error', grpcStatusOf(new ServiceError('INVALID_ARGUMENT', 'text is required')));
        return;
      }
      const params = TOPIC_EVOLUTION_PARAMS(call.request);
      // Text without a single word (only Lucene syntax, say) matches nothing.
      if (params.query === '') {
        call.end();
        return;
      }
      stream(call, TOPIC_EVOLUTION_QUERY, params, toTopicPoint);
    },
  };
}
