import type { ConversationSegmented } from '@trajectory/contracts';
import neo4j, { type Driver, Neo4jError, type SessionConfig } from 'neo4j-driver';
import { conversationGraphStatements, MIGRATIONS } from '../cypher.js';

/** Applies the schema migrations not yet recorded in the database, in order. */
export async function migrate(driver: Driver, session: SessionConfig = {}): Promise<string[]> {
  const config = session.database ? { database: session.database } : {};
  // The constraint on SchemaMigration comes with the first migration; MERGE keeps racing starts safe.
  const applied: string[] = [];
  for (const migration of MIGRATIONS) {
    const { records } = await driver.executeQuery('MATCH (m:SchemaMigration {id: $id}) RETURN m.id', { id: migration.id }, config);
    if (records.length > 0) continue;
    // Schema statements cannot share a transaction with data writes: one auto-commit each.
    for (const statement of migration.statements) await driver.executeQuery(statement, {}, config);
    await driver.executeQuery('MERGE (m:SchemaMigration {id: $id}) ON CREATE SET m.appliedAt = datetime()', { id: migration.id }, config);
    applied.push(migration.id);
  }
  return applied;
}

/**
 * Stores segmented conversations in one managed transaction: a reader never sees half of one,
 * and the driver retries the whole transaction on transient errors (deadlocks, leader changes).
 */
export async function writeConversationGraphs(driver: Driver, events: ConversationSegmented[], session: SessionConfig = {}): Promise<void> {
  const statements = conversationGraphStatements(events);
  const s = driver.session(session);
  try {
    await s.executeWrite(async (tx) => {
      for (const statement of statements) await tx.run(statement.text, statement.parameters);
    });
  } finally {
    await s.close();
  }
}

export const writeConversationGraph = (driver: Driver, event: ConversationSegmented, session: SessionConfig = {}) =>
  writeConversationGraphs(driver, [event], session);

/**
 * Whether a failure says the database is out of reach (stopped, restarting, unroutable) rather
 * than that something is wrong with what was written: such a write is retried once it is back.
 */
export function isNeo4jUnavailable(err: unknown): boolean {
  return (
    err instanceof Neo4jError &&
    (err.code === neo4j.error.SERVICE_UNAVAILABLE ||
      err.code === neo4j.error.SESSION_EXPIRED ||
      // the server is up but its database is not (starting, stopping)
      err.code === 'Neo.TransientError.General.DatabaseUnavailable')
  );
}
