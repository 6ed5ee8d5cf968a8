import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NATS_CREDENTIALS_FILE, natsConfig, startNeo4j } from '@trajectory/local-servers';
import { startTestNats, TestNats, testNatsUserEntries } from './nats.js';
import { chooseTestServers, probeContainerServers, TEST_CONTAINER_IMAGES } from './server-choice.js';

const [NATS_IMAGE, NEO4J_IMAGE] = TEST_CONTAINER_IMAGES;

export interface TestServers {
  natsUrl: string;
  /**
   * The NATS with its users: auth is on (each service its own user, the harness an admin) except
   * for a NATS from the environment without NATS_CREDENTIALS_FILE.
   */
  nats: TestNats;
  neo4jUri: string;
  /**
   * Credentials for the Neo4j: the local servers' generated password, the containers', or
   * NEO4J_USER/NEO4J_PASSWORD with servers from the environment (absent where those are unset).
   */
  neo4jAuth?: { user: string; password: string };
  /** How they were obtained: given in the environment, containers, or local processes. */
  kind: 'environment' | 'containers' | 'local';
  stop(): Promise<void>;
}

export interface TestServerOptions {
  /** Forces a NATS of our own with this max_payload (claim-check tests). */
  natsMaxPayload?: number;
}

/**
 * Finds or starts the servers a test needs. NATS_URL + NEO4J_URI in the environment win, with
 * NATS_CREDENTIALS_FILE, the passwords of the harness's NATS users, admin included (`npm test`
 * starts one pair for the whole run and exports all three); NATS_URL without it is not used (a
 * NATS of the harness's own shares NEO4J_URI's Neo4j instead). Otherwise containers where a container
 * runtime answers and can provide the images (an engine without a registry or the images cached
 * cannot: then one line says so); otherwise the local servers of tooling/local-servers.
 * TRAJECTORY_TEST_SERVERS=local|containers overrides the choice (chooseTestServers).
 */
export async function startTestServers(options: TestServerOptions = {}): Promise<TestServers> {
  const { NATS_URL, NEO4J_URI, NATS_CREDENTIALS_FILE } = process.env;
  const choice = await chooseTestServers({
    environmentServers: Boolean(NATS_URL && NEO4J_URI && NATS_CREDENTIALS_FILE && !options.natsMaxPayload),
    setting: process.env.TRAJECTORY_TEST_SERVERS,
    probeContainers: probeOnce,
  });
  if (choice.kind === 'environment') {
    const nats = new TestNats(NATS_URL as string, NATS_CREDENTIALS_FILE as string);
    return {
      natsUrl: NATS_URL as string,
      nats,
      neo4jUri: NEO4J_URI as string,
      ...environmentAuth(),
      kind: 'environment',
      stop: async () => {},
    };
  }
  if (choice.note && !noted) {
    noted = true;
    console.log(choice.note);
  }
  return choice.kind === 'containers' ? startContainers(options) : startLocal(options);
}

// One probe (it may try a pull) and one line per test process, however many suites start servers.
let probed: ReturnType<typeof probeContainerServers> | undefined;
let noted = false;
const probeOnce = () => {
  probed ??= probeContainerServers();
  return probed;
};

/** NEO4J_USER/NEO4J_PASSWORD, as `npm test` exports them beside NEO4J_URI. */
function environmentAuth(): { neo4jAuth?: { user: string; password: string } } {
  const { NEO4J_USER, NEO4J_PASSWORD } = process.env;
  return NEO4J_USER && NEO4J_PASSWORD ? { neo4jAuth: { user: NEO4J_USER, password: NEO4J_PASSWORD } } : {};
}

async function startLocal(options: TestServerOptions): Promise<TestServers> {
  const dir = mkdtempSync(join(tmpdir(), 'trajectory-test-'));
  const nats = await startTestNats({
    dataDir: join(dir, 'nats'),
    ...(options.natsMaxPayload ? { maxPayload: options.natsMaxPayload } : {}),
  });
  try {
    // A NATS of our own (odd max_payload) can still share the run's Neo4j.
    const sharedNeo4j = process.env.NEO4J_URI;
    const neo4j = sharedNeo4j
      ? { uri: sharedNeo4j, ...environmentAuth(), stop: async () => {} }
      : await startNeo4j({ dataDir: join(dir, 'neo4j') }).then((n) => ({ uri: n.uri, neo4jAuth: n.auth, stop: n.stop }));
    return {
      natsUrl: nats.url,
      nats: nats.nats,
      neo4jUri: neo4j.uri,
      ...(neo4j.neo4jAuth ? { neo4jAuth: neo4j.neo4jAuth } : {}),
      kind: 'local',
      async stop() {
        await Promise.all([nats.stop(), neo4j.stop()]);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await nats.stop();
    throw err;
  }
}

async function startContainers(options: TestServerOptions): Promise<TestServers> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const { Neo4jContainer } = await import('@testcontainers/neo4j');
  // The same users and permissions as the local servers, in a config file copied into the
  // container; the passwords stay in a 0600 file on this side.
  const dir = mkdtempSync(join(tmpdir(), 'trajectory-test-'));
  const credentialsFile = join(dir, NATS_CREDENTIALS_FILE);
  const config = natsConfig({
    listen: '0.0.0.0:4222',
    serverName: 'trajectory-test',
    storeDir: '/data',
    ...(options.natsMaxPayload ? { maxPayload: options.natsMaxPayload } : {}),
    users: testNatsUserEntries(credentialsFile),
  });
  const [nats, neo4j] = await Promise.all([
    new GenericContainer(NATS_IMAGE)
      .withCopyContentToContainer([{ content: config, target: '/etc/nats/trajectory.conf', mode: 0o644 }])
      .withCommand(['-c', '/etc/nats/trajectory.conf'])
      .withExposedPorts(4222)
      .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
      .start(),
    // As in deploy/docker-compose.yml: LOAD CSV reads no file.
    new Neo4jContainer(NEO4J_IMAGE).withEnvironment({ NEO4J_dbms_security_allow__csv__import__from__file__urls: 'false' }).start(),
  ]);
  const natsUrl = `nats://${nats.getHost()}:${nats.getMappedPort(4222)}`;
  return {
    natsUrl,
    nats: new TestNats(natsUrl, credentialsFile),
    neo4jUri: neo4j.getBoltUri(),
    neo4jAuth: { user: neo4j.getUsername(), password: neo4j.getPassword() },
    kind: 'containers',
    async stop() {
      await Promise.all([nats.stop(), neo4j.stop()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
