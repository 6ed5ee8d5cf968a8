import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  ChainOrder,
  type ConversationGraph,
  GraphServiceClient,
  GraphServiceService,
  type ListRefinementChainsRequest,
  type RefinementChainView,
  type TopicEvolutionRequest,
  type TopicPoint,
} from '@trajectory/contracts';
import { migrate, writeConversationGraphs } from '@trajectory/graph';
import { FIXTURE_COUNTS, fixtureEvents } from '@trajectory/graph/testing';
import { createClient, unary } from '@trajectory/runtime';
import { clearGraph, startTestServers, type TestServers, testDriver } from '@trajectory/testkit';
import type { Driver } from 'neo4j-driver';
import { graphQueryService } from './query-service.js';

let servers: TestServers;
let driver: Driver;
let server: grpc.Server;
let client: GraphServiceClient;

before(async () => {
  servers = await startTestServers();
  driver = testDriver(servers.neo4jUri, servers.neo4jAuth);
  await clearGraph(driver);
  await migrate(driver);
  // The full-text index fills asynchronously; wait for it before searching.
  await driver.executeQuery('CALL db.awaitIndexes(60)');
  await writeConversationGraphs(driver, fixtureEvents());
  server = new grpc.Server();
  server.addService(GraphServiceService, graphQueryService(driver));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  // The query adapter on a bare server, without runService's token check: no credentials.
  client = createClient(GraphServiceClient, `127.0.0.1:${port}`, {});
});

after(async () => {
  client?.close();
  await new Promise<void>((resolve) => (server ? server.tryShutdown(() => resolve()) : resolve()));
  await driver?.close();
  await servers?.stop();
});

function collect<Req, Res>(open: (req: Req) => grpc.ClientReadableStream<Res>, request: Req): Promise<Res[]> {
  return new Promise((resolve, reject) => {
    const out: Res[] = [];
    const s = open(request);
    s.on('data', (m: Res) => out.push(m));
    s.on('error', reject);
    s.on('end', () => resolve(out));
  });
}

const chains = (req: Partial<ListRefinementChainsRequest>) =>
  collect<ListRefinementChainsRequest, RefinementChainView>((r) => client.listRefinementChains(r), {
    minLength: 0,
    maxLength: 0,
    tag: '',
    limit: 0,
    order: ChainOrder.CHAIN_ORDER_UNSPECIFIED,
    ...req,
  });

const topic = (req: Partial<TopicEvolutionRequest>) =>
  collect<TopicEvolutionRequest, TopicPoint>((r) => client.topicEvolution(r), { text: '', limit: 0, ...req });

const statusOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return (err as grpc.ServiceError).code;
  }
  return grpc.status.OK;
};

test('GetStats counts the fixture exactly', async () => {
  const stats = await unary(client.getStats, client, {});
  const edges = Object.values(FIXTURE_COUNTS.edgesByRelation).reduce((a, b) => a + b, 0);
  assert.deepEqual(stats, {
    conversations: FIXTURE_COUNTS.conversations,
    messages: FIXTURE_COUNTS.messages,
    nodes: FIXTURE_COUNTS.nodes,
    edges,
    edgesByRelation: FIXTURE_COUNTS.edgesByRelation,
    refinementChains: FIXTURE_COUNTS.chains,
    averageChainLength: FIXTURE_COUNTS.averageChainLength,
    nodesWithTimePercent: FIXTURE_COUNTS.nodesWithTimePercent,
  });
});

test('GetConversationGraph returns the nodes, edges and chain of one conversation', async () => {
  const graph: ConversationGraph = await unary(client.getConversationGraph, client, { conversationId: 'conv-bread-2023' });
  assert.equal(graph.title, 'Bread hydration');
  assert.deepEqual(
    graph.nodes.map((n) => n.id),
    ['h1', 'h2', 'h3', 'h4'],
  );
  assert.deepEqual(graph.nodes[0]?.messageIds, ['m-h1']);
  assert.equal(graph.nodes[0]?.createdAt?.toISOString(), '2023-03-01T09:00:00.000Z');
  assert.equal(graph.edges.length, 7);
  const refines = graph.edges.filter((e) => e.relation === 'refines');
  assert.deepEqual(refines.map((e) => `${e.fromId}->${e.toId}`).sort(), ['h3->h1', 'h4->h3']);
  assert.deepEqual(refines[0]?.tags, ['correction']);
  assert.deepEqual(graph.chains, [
    {
      id: 'bread-2023',
      conversationId: 'conv-bread-2023',
      nodeIds: ['h1', 'h3', 'h4'],
      steps: ['idea', 'revision', 'convergence'],
      tags: ['baking'],
    },
  ]);
});

test('StreamConversationGraphs streams every conversation, oldest first, with chains', async () => {
  const graphs = await collect((r) => client.streamConversationGraphs(r), { conversationIds: [] });
  assert.deepEqual(
    graphs.map((g) => [g.conversationId, g.nodes.length, g.chains.map((c) => c.nodeIds.join(','))]),
    [
      ['conv-bread-2023', 4, ['h1,h3,h4']],
      ['conv-qlora', 4, ['q1,q2,q3,q4']],
      ['conv-bread-2025', 3, ['b1,b3']],
    ],
  );
  const one = await collect((r) => client.streamConversationGraphs(r), { conversationIds: ['conv-qlora'] });
  assert.deepEqual(
    one.map((g) => g.conversationId),
    ['conv-qlora'],
  );
});

test('StreamConversationGraphs sends the same graphs in the same order whatever the page size', async () => {
  const whole = await collect((r) => client.streamConversationGraphs(r), { conversationIds: [] });
  // Pages of one or two conversations (the fixture's conversations have 3-4 nodes each).
  for (const page of [
    { conversations: 1, nodes: 1_000 },
    { conversations: 10, nodes: 5 },
  ]) {
    const paged = new grpc.Server();
    paged.addService(GraphServiceService, graphQueryService(driver, {}, { page }));
    const port = await new Promise<number>((resolve, reject) =>
      paged.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const pagedClient = createClient(GraphServiceClient, `127.0.0.1:${port}`, {});
    try {
      assert.deepEqual(await collect((r) => pagedClient.streamConversationGraphs(r), { conversationIds: [] }), whole);
      assert.deepEqual(
        (await collect((r) => pagedClient.streamConversationGraphs(r), { conversationIds: ['conv-bread-2025', 'conv-bread-2023'] })).map(
          (g) => g.conversationId,
        ),
        ['conv-bread-2023', 'conv-bread-2025'],
      );
    } finally {
      pagedClient.close();
      await new Promise<void>((resolve) => paged.tryShutdown(() => resolve()));
    }
  }
  assert.equal(whole.length, 3);
});

test('GetStoredConversations answers which versions the graph holds, with their node and edge counts', async () => {
  const stored = await unary(client.getStoredConversations, client, {
    conversations: [
      { conversationId: 'conv-bread-2023', contentHash: 'hash-conv-bread-2023' },
      { conversationId: 'conv-qlora', contentHash: 'an older version' },
      { conversationId: 'conv-never-ingested', contentHash: 'hash-conv-never-ingested' },
      { conversationId: 'conv-bread-2025', contentHash: 'hash-conv-bread-2025' },
    ],
  });
  const expected = fixtureEvents()
    .filter((e) => e.conversation?.id !== 'conv-qlora')
    .map((e) => [e.conversation?.id, e.contentHash, e.nodes.length, e.edges.length]);
  assert.deepEqual(stored.conversations.map((c) => [c.conversationId, c.contentHash, c.nodeCount, c.edgeCount]).sort(), expected.sort());
  const tooMany = Array.from({ length: 1_001 }, (_, i) => ({ conversationId: `c${i}`, contentHash: 'h' }));
  assert.equal(await statusOf(unary(client.getStoredConversations, client, { conversations: tooMany })), grpc.status.INVALID_ARGUMENT);
});

test('GetConversationGraph of an unknown conversation is NOT_FOUND', async () => {
  assert.equal(await statusOf(unary(client.getConversationGraph, client, { conversationId: 'nope' })), grpc.status.NOT_FOUND);
});

test('ListRefinementChains filters by length, tag and time, oldest first', async () => {
  const long = await chains({ minLength: 3 });
  assert.deepEqual(
    long.map((c) => c.chain?.id),
    ['bread-2023', 'qlora-2024'],
  );
  assert.deepEqual(
    long[0]?.nodes.map((n) => n.id),
    ['h1', 'h3', 'h4'],
  );
  assert.equal(long[0]?.conversationTitle, 'Bread hydration');
  assert.deepEqual(long[1]?.chain?.nodeIds, ['q1', 'q2', 'q3', 'q4']);
  assert.deepEqual(long[1]?.chain?.steps, ['idea', 'revision', 'revision', 'convergence']);

  assert.deepEqual(
    (await chains({ tag: 'baking' })).map((c) => c.chain?.id),
    ['bread-2023', 'bread-2025'],
  );
  assert.deepEqual(
    (await chains({ from: new Date('2025-01-01T00:00:00Z'), to: new Date('2025-12-31T23:59:59Z') })).map((c) => c.chain?.id),
    ['bread-2025'],
  );
  assert.deepEqual(
    (await chains({ maxLength: 2 })).map((c) => c.chain?.id),
    ['bread-2025'],
  );
  assert.deepEqual(
    (await chains({ limit: 1 })).map((c) => c.chain?.id),
    ['bread-2023'],
  );
  assert.deepEqual(await chains({ tag: "baking' OR 1=1 //" }), []);
});

test('ListRefinementChains orders longest or newest first before the limit', async () => {
  const ids = async (req: Partial<ListRefinementChainsRequest>) => (await chains(req)).map((c) => c.chain?.id);
  assert.deepEqual(await ids({ order: ChainOrder.CHAIN_ORDER_LONGEST }), ['qlora-2024', 'bread-2023', 'bread-2025']);
  assert.deepEqual(await ids({ order: ChainOrder.CHAIN_ORDER_RECENT }), ['bread-2025', 'qlora-2024', 'bread-2023']);
  // The limit keeps the first of that order, not the first of the oldest.
  assert.deepEqual(await ids({ order: ChainOrder.CHAIN_ORDER_LONGEST, limit: 1 }), ['qlora-2024']);
  assert.deepEqual(await ids({ order: ChainOrder.CHAIN_ORDER_RECENT, limit: 1, tag: 'baking' }), ['bread-2025']);
});

test('GetNeighbourhood returns the nodes one hop away and the edges among them', async () => {
  const hood = await unary(client.getNeighbourhood, client, { nodeId: 'h3', depth: 1, limit: 0 });
  assert.equal(hood.center?.id, 'h3');
  assert.deepEqual(hood.nodes.map((n) => n.id).sort(), ['h1', 'h2', 'h4']);
  const edges = hood.edges.map((e) => `${e.fromId}-${e.relation.toUpperCase()}->${e.toId}`).sort();
  assert.deepEqual(edges, [
    'h1-ITERATION_FINAL->h4',
    'h2-FOLLOWS->h1',
    'h2-RESPONDS->h1',
    'h3-FOLLOWS->h2',
    'h3-REFINES->h1',
    'h4-FOLLOWS->h3',
    'h4-REFINES->h3',
  ]);
  // Never crosses into another conversation (there are no relations between them), whatever the depth.
  const deep = await unary(client.getNeighbourhood, client, { nodeId: 'q1', depth: 9, limit: 0 });
  assert.deepEqual(deep.nodes.map((n) => n.id).sort(), ['q2', 'q3', 'q4']);
  const limited = await unary(client.getNeighbourhood, client, { nodeId: 'h3', depth: 1, limit: 1 });
  assert.equal(limited.nodes.length, 1);
});

test('GetNeighbourhood of an unknown node is NOT_FOUND', async () => {
  assert.equal(
    await statusOf(unary(client.getNeighbourhood, client, { nodeId: 'no-such-node', depth: 1, limit: 0 })),
    grpc.status.NOT_FOUND,
  );
});

test('TopicEvolution orders matches by time, each with its refinements', async () => {
  const points = await topic({ text: 'hydration' });
  assert.deepEqual(
    points.map((p) => p.node?.id),
    ['h1', 'h2', 'h3', 'h4', 'b1', 'b2', 'b3'],
  );
  assert.ok(points.every((p) => p.score > 0 && /hydration/i.test(p.node?.text ?? '')));
  assert.deepEqual(
    points[0]?.refinements.map((n) => n.id),
    ['h3', 'h4'],
  );
  assert.deepEqual(
    points.find((p) => p.node?.id === 'b1')?.refinements.map((n) => n.id),
    ['b3'],
  );
  const late = await topic({ text: 'hydration', from: new Date('2024-01-01T00:00:00Z') });
  assert.deepEqual(
    late.map((p) => p.node?.id),
    ['b1', 'b2', 'b3'],
  );
  assert.deepEqual(
    (await topic({ text: 'hydration', limit: 2 })).map((p) => p.node?.id),
    ['h1', 'h2'],
  );
});

test('TopicEvolution text cannot inject query syntax', async () => {
  const injected = await topic({ text: 'hydration") OR 1=1 //' });
  assert.ok(injected.length > 0);
  assert.ok(injected.every((p) => /hydration/i.test(p.node?.text ?? '')));
  assert.deepEqual(await topic({ text: '*:*' }), []);
  assert.deepEqual(await topic({ text: 'text:* OR id:q1' }), []);
  assert.deepEqual(await topic({ text: 'qlora~ AND "' }).then((ps) => ps.map((p) => p.node?.id)), ['q1']);
});

test('TopicEvolution without text is INVALID_ARGUMENT', async () => {
  assert.equal(await statusOf(topic({ text: '  ' })), grpc.status.INVALID_ARGUMENT);
});
