import type { ConversationSegmented } from '@trajectory/contracts';
import type { Driver, SessionConfig } from 'neo4j-driver';
import { conversationGraphStatements, SCHEMA_STATEMENTS } from '../core/cypher.js';

export async function ensureSchema(driver: Driver, session: SessionConfig = {}): Promise<void> {
  for (const statement of SCHEMA_STATEMENTS)
    await driver.executeQuery(statement, {}, session.database ? { database: session.database } : {});
}

/** Stores one segmented conversation in a single transaction; replays leave the graph unchanged. */
export async function writeConversationGraph(driver: Driver, event: ConversationSegmented, session: SessionConfig = {}): Promise<void> {
  const statements = conversationGraphStatements(event);
  const s = driver.session(session);
  try {
    await s.executeWrite(async (tx) => {
      for (const statement of statements) await tx.run(statement.text, statement.parameters);
    });
  } finally {
    await s.close();
  }
}
