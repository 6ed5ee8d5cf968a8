// `trajectory query` against the Neo4j `npm test` starts (tooling/local-servers's launcher, as `npm start`
// runs it): read-only where it matters. The server has auth on and reads no host file with LOAD
// CSV; the CLI runs a statement only when EXPLAIN says it reads, in a READ transaction that the
// server refuses to write in.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { clearGraph, query, startTestServers, type TestServers, testDriver } from '@trajectory/testkit';
import neo4j, { type Driver } from 'neo4j-driver';
import { type CliRun, runCli } from './cli.test-helper.js';

const PASSWD = "LOAD CSV FROM 'file:///etc/passwd' AS row RETURN row LIMIT 1";

let servers: TestServers;
let auth: { user: string; password: string };
let driver: Driver;
let workDir: string;

before(async () => {
  servers = await startTestServers();
  assert.ok(servers.neo4jAuth, `the Neo4j under test (${servers.kind}) must run with auth: no credentials came with it`);
  auth = servers.neo4jAuth;
  driver = testDriver(servers.neo4jUri, auth);
  await clearGraph(driver);
  await driver.executeQuery(
    "CREATE (:Node {id: 'q1', text: 'kept as it is'})-[:FOLLOWS {confidence: 0.9}]->(:Node {id: 'q0', text: 'first'})",
  );
  workDir = mkdtempSync(join(tmpdir(), 'trajectory-query-itest-'));
});

after(async () => {
  await driver?.close();
  await servers?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** Runs `trajectory query CYPHER` with the credentials given (none: NEO4J_USER/NEO4J_PASSWORD unset). */
function cliQuery(
  cypher: string,
  env: Record<string, string | undefined> = { NEO4J_USER: auth.user, NEO4J_PASSWORD: auth.password },
): Promise<CliRun> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, NEO4J_URI: servers.neo4jUri, NEO4J_USER: undefined, NEO4J_PASSWORD: undefined };
  // No local servers' state unless a test gives one (TRAJECTORY_DATA_DIR).
  childEnv.TRAJECTORY_DATA_DIR = join(workDir, 'no-local-servers');
  Object.assign(childEnv, env);
  for (const [key, value] of Object.entries(childEnv)) if (value === undefined) delete childEnv[key];
  return runCli(['query', cypher], childEnv);
}

/** Everything a write could change: nodes with labels and properties, relationships, labels, indexes, users. */
async function snapshot() {
  return {
    nodes: await query(driver, 'MATCH (n) RETURN labels(n) AS labels, properties(n) AS props ORDER BY n.id'),
    relationships: await query(driver, 'MATCH (a)-[r]->(b) RETURN a.id AS from, type(r) AS type, properties(r) AS props, b.id AS to'),
    labels: (await query<{ label: string }>(driver, 'CALL db.labels() YIELD label RETURN label ORDER BY label')).map((r) => r.label),
    indexes: (await query<{ name: string }>(driver, 'SHOW INDEXES YIELD name RETURN name ORDER BY name')).map((r) => r.name),
    users: (await query<{ user: string }>(driver, 'SHOW USERS YIELD user RETURN user ORDER BY user')).map((r) => r.user),
  };
}

test('trajectory query runs a read query and prints its rows', async () => {
  const { code, stdout, stderr } = await cliQuery('MATCH (b:Node)-[r]->(a:Node) RETURN b.id AS b, type(r) AS relation, a.id AS a');
  assert.equal(code, 0, stderr);
  assert.deepEqual(
    stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line)),
    [{ b: 'q1', relation: 'FOLLOWS', a: 'q0' }],
  );
});

test('LOAD CSV of a host file is refused: by the CLI, and by the server itself', async () => {
  const cli = await cliQuery(PASSWD);
  assert.equal(cli.code, 1);
  assert.match(cli.stderr, /refused: trajectory query runs read-only Cypher over the graph, and LOAD CSV reads files or URLs/);
  assert.doesNotMatch(cli.stdout + cli.stderr, /root:/);

  // A client that skips the CLI's check, with the password: Neo4j reads no file, wherever the URL points.
  for (const url of ['file:///etc/passwd', 'file:///../../../../etc/passwd', 'file:///proc/self/environ']) {
    await assert.rejects(driver.executeQuery(`LOAD CSV FROM '${url}' AS row RETURN row LIMIT 1`), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'Neo.ClientError.Statement.ExternalResourceFailed', err.message);
      assert.match(err.message, /configuration property 'dbms.security.allow_csv_import_from_file_urls' is false/);
      return true;
    });
  }
});

test('a write through trajectory query is refused and changes nothing', async () => {
  const before = await snapshot();
  const writes = [
    "CREATE (:Pwned {by: 'cli'})",
    "MERGE (n:Node {id: 'q1'}) SET n.text = 'changed' RETURN n",
    "MATCH (n:Node {id: 'q1'}) SET n.text = 'changed'",
    "MATCH (n:Node {id: 'q1'}) REMOVE n:Node",
    'MATCH (n) DETACH DELETE n',
    "FOREACH (i IN [1] | CREATE (:Pwned {by: 'foreach'}))",
    "CALL db.createLabel('Pwned')",
    'CALL { CREATE (:Pwned) } IN TRANSACTIONS',
    "LOAD CSV FROM 'file:///etc/passwd' AS row CREATE (:Pwned {line: row[0]})",
    'CREATE INDEX pwned FOR (n:Node) ON (n.text)',
    "CREATE USER pwned SET PASSWORD 'pwned-password' CHANGE NOT REQUIRED",
    "ALTER USER neo4j SET PASSWORD 'pwned-password' CHANGE NOT REQUIRED",
  ];
  for (const cypher of writes) {
    const { code, stdout, stderr } = await cliQuery(cypher);
    assert.equal(code, 1, `${cypher}: ${stdout}`);
    assert.match(stderr, /^trajectory: refused: trajectory query runs read-only Cypher over the graph, and this statement /, cypher);
  }
  assert.deepEqual(await snapshot(), before);

  // Beneath the CLI's check: a READ transaction, where Neo4j itself refuses every write.
  const session = driver.session({ defaultAccessMode: neo4j.session.READ });
  try {
    for (const cypher of writes.filter((w) => !w.includes('IN TRANSACTIONS') && !w.startsWith('LOAD CSV'))) {
      await assert.rejects(
        session.executeRead((tx) => tx.run(cypher)),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'Neo.ClientError.Statement.AccessMode', `${cypher}: ${err.message}`);
          assert.match(err.message, /^Writing in read access mode not allowed/);
          return true;
        },
        cypher,
      );
    }
  } finally {
    await session.close();
  }
  assert.deepEqual(await snapshot(), before);
});

test('the local Neo4j refuses a client without credentials, or with a wrong password', async () => {
  const anonymous = neo4j.driver(servers.neo4jUri);
  try {
    await assert.rejects(anonymous.verifyConnectivity(), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'Neo.ClientError.Security.Unauthorized', err.message);
      return true;
    });
    await assert.rejects(anonymous.executeQuery("CREATE (:Pwned {by: 'anonymous'})"), /Unauthorized|authentication/i);
  } finally {
    await anonymous.close();
  }
  // One wrong attempt only: three in a row lock the user for a few seconds.
  const wrong = neo4j.driver(servers.neo4jUri, neo4j.auth.basic(auth.user, `${auth.password}-wrong`));
  try {
    await assert.rejects(wrong.verifyConnectivity(), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'Neo.ClientError.Security.Unauthorized', err.message);
      return true;
    });
  } finally {
    await wrong.close();
  }
  const cli = await cliQuery('MATCH (n) RETURN count(n) AS n', {});
  assert.equal(cli.code, 1);
  assert.match(cli.stderr, /scheme 'none' is only allowed when auth is disabled/);
  assert.equal((await query(driver, 'MATCH (n:Pwned) RETURN n')).length, 0);
});

test("without NEO4J_USER/NEO4J_PASSWORD, trajectory query logs in with the local servers' password file", async () => {
  // What startLocalServers records in .trajectory/servers/ (servers.json names the 0600 password file).
  const dataDir = join(workDir, 'data');
  mkdirSync(join(dataDir, 'servers'), { recursive: true });
  const passwordFile = join(dataDir, 'servers', 'neo4j-password');
  writeFileSync(passwordFile, `${auth.password}\n`, { mode: 0o600 });
  const local = { uri: servers.neo4jUri, user: auth.user, passwordFile };
  writeFileSync(join(dataDir, 'servers', 'servers.json'), JSON.stringify({ nats: {}, neo4j: local }));
  const cli = await cliQuery("MATCH (n:Node {id: 'q1'}) RETURN n.text AS text", { TRAJECTORY_DATA_DIR: dataDir });
  assert.equal(cli.code, 0, cli.stderr);
  assert.deepEqual(JSON.parse(cli.stdout), { text: 'kept as it is' });

  // Never sent to another server.
  const elsewhere = { ...local, uri: 'bolt://127.0.0.1:1' };
  writeFileSync(join(dataDir, 'servers', 'servers.json'), JSON.stringify({ nats: {}, neo4j: elsewhere }));
  const other = await cliQuery('RETURN 1 AS one', { TRAJECTORY_DATA_DIR: dataDir });
  assert.equal(other.code, 1);
  assert.match(other.stderr, /scheme 'none' is only allowed when auth is disabled/);
});
