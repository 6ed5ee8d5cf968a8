import neo4j, { type Driver } from 'neo4j-driver';

/** A driver for the test Neo4j, with `auth` (a TestServers' neo4jAuth) or NEO4J_USER/NEO4J_PASSWORD. */
export function testDriver(uri: string, auth?: { user: string; password: string }): Driver {
  const user = auth?.user ?? process.env.NEO4J_USER;
  const password = auth?.password ?? process.env.NEO4J_PASSWORD;
  return neo4j.driver(uri, user && password ? neo4j.auth.basic(user, password) : undefined, {
    disableLosslessIntegers: true,
  });
}

/** Empties the database; tests that share one Neo4j run one file at a time. */
export async function clearGraph(driver: Driver): Promise<void> {
  await driver.executeQuery('MATCH (n) DETACH DELETE n');
}

/** Runs a read query and returns plain objects. */
export async function query<T = Record<string, unknown>>(
  driver: Driver,
  cypher: string,
  params: Record<string, unknown> = {},
): Promise<T[]> {
  const { records } = await driver.executeQuery(cypher, params);
  return records.map((r) => r.toObject() as T);
}
