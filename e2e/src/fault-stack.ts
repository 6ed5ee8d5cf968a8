import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JetStreamApiError, type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { STREAMS, WORK_QUEUES } from '@trajectory/bus';
import { buildDataset, loadTargets, type Targets } from '@trajectory/cli';
import { freePort, startNeo4j } from '@trajectory/local-servers';
import { checkHealth } from '@trajectory/runtime';
import {
  clearGraph,
  harnessGrpcToken,
  query,
  REPO_ROOT,
  resetBus,
  SERVICE_NAMES,
  type ServiceName,
  type ServiceProcess,
  startServiceProcess,
  startTestNats,
  type TestNats,
  targetVariable,
  testDriver,
} from '@trajectory/testkit';
import type { Driver } from 'neo4j-driver';

/** What one run of the export leaves behind: the graph's counts and the dataset built from it. */
export interface Counts {
  conversations: number;
  messages: number;
  nodes: number;
  /** Relationships between segmented nodes (FOLLOWS, RESPONDS, REFINES, ...). */
  edges: number;
  /** Every relationship in the graph: a doubled IN_CONVERSATION or REPLY_TO shows here. */
  relationships: number;
  /** Records of the dataset the samples service builds (BuildDataset). */
  records: number;
  /** A content hash of the dataset's records and settings: equal ids, identical datasets. */
  datasetId: string;
}

const DATASET_AS_OF = new Date('2026-01-01T00:00:00Z');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A NATS and a Neo4j of the suite's own (it stops and restarts them on the same data and ports,
 * so it cannot share `npm test`'s), the five services as processes, and a small real export.
 */
export class FaultStack {
  readonly services = new Map<ServiceName, ServiceProcess>();
  readonly env: Record<string, string>;
  readonly targets: Targets;
  /** The first conversations of the largest real export in the repository. */
  readonly exportFile: string;
  readonly exportConversations: number;

  private constructor(
    readonly dir: string,
    private nats: { url: string; port: number; nats: TestNats; stop(): Promise<void> },
    private neo4j: { uri: string; port: number; httpPort: number; auth: { user: string; password: string }; stop(): Promise<void> },
    readonly driver: Driver,
    readonly nc: NatsConnection,
    readonly jsm: JetStreamManager,
    private readonly ports: Record<ServiceName, number>,
    conversations: number,
  ) {
    this.env = {
      GRPC_TOKEN: harnessGrpcToken(),
      // Each service connects as its own NATS user.
      ...nats.nats.serviceEnv(),
      NEO4J_URI: neo4j.uri,
      NEO4J_USER: neo4j.auth.user,
      NEO4J_PASSWORD: neo4j.auth.password,
      SAMPLES_DATASET_DIR: join(dir, 'datasets'),
      LOG_LEVEL: 'info',
    };
    for (const name of SERVICE_NAMES) this.env[targetVariable(name)] = `127.0.0.1:${ports[name]}`;
    this.targets = loadTargets(this.env);
    const all = JSON.parse(
      readFileSync(join(REPO_ROOT, 'fixtures', 'chatgpt-export', 'pkuppens_2023-06_export.conversations.json'), 'utf8'),
    ) as unknown[];
    this.exportFile = join(dir, 'conversations.json');
    writeFileSync(this.exportFile, JSON.stringify(all.slice(0, conversations)));
    this.exportConversations = conversations;
  }

  static async start(conversations: number): Promise<FaultStack> {
    const dir = mkdtempSync(join(tmpdir(), 'trajectory-faults-'));
    const [nats, neo4j] = await Promise.all([startTestNats({ dataDir: join(dir, 'nats') }), startNeo4j({ dataDir: join(dir, 'neo4j') })]);
    const driver = testDriver(neo4j.uri, neo4j.auth);
    // The suite's own view of the bus outlives a nats-server restart (as the harness's admin: it
    // inspects consumers and injects messages).
    const nc = await connect({ ...nats.nats.connectOptions('admin'), maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    const jsm = await jetstreamManager(nc);
    const ports = Object.fromEntries(await Promise.all(SERVICE_NAMES.map(async (n) => [n, await freePort()]))) as Record<
      ServiceName,
      number
    >;
    return new FaultStack(dir, nats, neo4j, driver, nc, jsm, ports, conversations);
  }

  get natsUrl() {
    return this.nats.url;
  }

  target(name: ServiceName): string {
    return `127.0.0.1:${this.ports[name]}`;
  }

  async startService(name: ServiceName, env: Record<string, string> = {}): Promise<ServiceProcess> {
    const service = await startServiceProcess(name, {
      env: { ...this.env, ...env },
      logDir: join(this.dir, 'logs'),
      port: this.ports[name],
    });
    this.services.set(name, service);
    return service;
  }

  service(name: ServiceName): ServiceProcess {
    const service = this.services.get(name);
    if (!service) throw new Error(`${name} is not running`);
    return service;
  }

  /** SIGTERM to every service at once; the exit code of each. */
  async stopServices(): Promise<Record<string, number | null>> {
    const exits = await Promise.all([...this.services.values()].map(async (s) => [s.name, await s.stop()] as const));
    this.services.clear();
    return Object.fromEntries(exits);
  }

  /** An empty graph and bus (streams, ledger, registries) and five fresh services. */
  async fresh(env: Partial<Record<ServiceName, Record<string, string>>> = {}): Promise<void> {
    await this.stopServices();
    await resetBus(this.nats.nats);
    await clearGraph(this.driver);
    await Promise.all(SERVICE_NAMES.map((name) => this.startService(name, env[name])));
  }

  async stopNats(): Promise<void> {
    await this.nats.stop();
  }

  async startNats(): Promise<void> {
    this.nats = await startTestNats({ dataDir: join(this.dir, 'nats'), port: this.nats.port });
  }

  async stopNeo4j(): Promise<void> {
    await this.neo4j.stop();
  }

  async startNeo4j(): Promise<void> {
    this.neo4j = await startNeo4j({ dataDir: join(this.dir, 'neo4j'), boltPort: this.neo4j.port, httpPort: this.neo4j.httpPort });
  }

  async health(name: ServiceName): Promise<string> {
    return checkHealth(this.target(name), 1_000).catch((err: Error) => `unreachable (${err.message})`);
  }

  async graphCounts(): Promise<Omit<Counts, 'records' | 'datasetId'>> {
    const [counts] = await query<Omit<Counts, 'records' | 'datasetId'>>(
      this.driver,
      `CALL { MATCH (c:Conversation) RETURN count(c) AS conversations }
       CALL { MATCH (m:Message) RETURN count(m) AS messages }
       CALL { MATCH (n:Node) RETURN count(n) AS nodes }
       CALL { MATCH (:Node)-[r]->(:Node) RETURN count(r) AS edges }
       CALL { MATCH ()-[r]->() RETURN count(r) AS relationships }
       RETURN conversations, messages, nodes, edges, relationships`,
    );
    if (!counts) throw new Error('no counts');
    return counts;
  }

  /** Messages of a work queue not yet delivered or delivered and not yet acknowledged. */
  async backlog(durable: string): Promise<number> {
    try {
      const info = await this.jsm.consumers.info(STREAMS.events.name, durable);
      return info.num_pending + info.num_ack_pending;
    } catch (err) {
      if (err instanceof JetStreamApiError && err.status === 404) return Number.POSITIVE_INFINITY;
      throw err;
    }
  }

  async deadLetters(): Promise<number> {
    try {
      return (await this.jsm.streams.info(STREAMS.deadLetters.name)).state.messages;
    } catch (err) {
      if (err instanceof JetStreamApiError && err.status === 404) return 0;
      throw err;
    }
  }

  /**
   * Waits until the graph holds `expected`'s counts and segmentation's and graph's queues are
   * empty (nothing more is coming), then builds the dataset. Resolves with what it saw and how
   * long that took; on timeout with the counts of that moment, for the caller's assertion to show.
   */
  async settle(expected: Counts | undefined, timeoutMs: number): Promise<{ counts: Counts; ms: number; settled: boolean }> {
    const started = Date.now();
    let graph = await this.graphCounts();
    let settled = false;
    while (Date.now() - started < timeoutMs) {
      graph = await this.graphCounts().catch(() => graph);
      const idle =
        (await this.backlog(WORK_QUEUES.segmentation.durable).catch(() => 1)) === 0 &&
        (await this.backlog(WORK_QUEUES.graph.durable).catch(() => 1)) === 0;
      if (idle && (!expected || graph.conversations === expected.conversations)) {
        settled = true;
        break;
      }
      await sleep(200);
    }
    const ms = Date.now() - started;
    graph = await this.graphCounts();
    const dataset = await buildDataset(this.targets, { asOf: DATASET_AS_OF });
    return { counts: { ...graph, records: dataset.recordCount, datasetId: dataset.datasetId }, ms, settled };
  }

  /** Stops everything; the services' and servers' logs stay where they are when `keepLogs`. */
  async close(keepLogs = false): Promise<void> {
    await this.stopServices();
    await this.nc.close().catch(() => undefined);
    await this.driver.close();
    await Promise.all([this.nats.stop(), this.neo4j.stop()]);
    if (keepLogs) console.log(`fault suite logs: ${join(this.dir, 'logs')} (services), ${this.dir}/{nats,neo4j} (servers)`);
    else rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Counts as one short line for the table. */
export const shortCounts = (c: Counts) =>
  `${c.conversations}c ${c.messages}m ${c.nodes}n ${c.edges}e ${c.relationships}r ${c.records}rec ${c.datasetId.slice(0, 8)}`;
