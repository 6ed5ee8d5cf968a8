import neo4j, { type Driver } from 'neo4j-driver';

/** What `EXPLAIN` tells about a statement: its query type and its plan's operators. */
export interface ExplainSummary {
  /** 'r' read, 'rw' read and write, 'w' write, 's' schema, administration or DBMS procedure. */
  queryType: string;
  plan: { operatorType: string; children: ExplainSummary['plan'][] } | false;
}

const QUERY_TYPES: Record<string, string> = {
  rw: 'reads and writes the graph',
  w: 'writes the graph',
  s: 'is a schema or administration command, or calls a DBMS procedure',
};

function operators(plan: ExplainSummary['plan']): string[] {
  return plan ? [plan.operatorType.replace(/@.*$/, ''), ...plan.children.flatMap(operators)] : [];
}

/**
 * Why `trajectory query` refuses a statement, from its `EXPLAIN`; undefined for a read query.
 * Only query type 'r' runs, and no `LOAD CSV` (which is 'r' too, but reads files and URLs, not
 * the graph).
 */
export function readOnlyRefusal(summary: ExplainSummary): string | undefined {
  const what = 'trajectory query runs read-only Cypher over the graph';
  if (summary.queryType !== 'r') {
    const kind = QUERY_TYPES[summary.queryType] ?? `has query type '${summary.queryType}'`;
    return `refused: ${what}, and this statement ${kind} (EXPLAIN's query type '${summary.queryType}')`;
  }
  if (operators(summary.plan).some((op) => op.startsWith('LoadCSV'))) {
    return `refused: ${what}, and LOAD CSV reads files or URLs`;
  }
  return undefined;
}

/**
 * Runs `cypher` only if it is a read query: `EXPLAIN` first (nothing runs), then the statement in
 * a READ transaction, which Neo4j itself refuses to write in. Both in the session's database.
 */
export async function runReadOnlyQuery(driver: Driver, cypher: string, database?: string): Promise<Record<string, unknown>[]> {
  const session = driver.session({ defaultAccessMode: neo4j.session.READ, ...(database ? { database } : {}) });
  try {
    const explained = await session.executeRead((tx) => tx.run(`EXPLAIN ${cypher}`));
    const refusal = readOnlyRefusal({ queryType: explained.summary.queryType, plan: explained.summary.plan });
    if (refusal) throw new Error(refusal);
    const result = await session.executeRead((tx) => tx.run(cypher));
    return result.records.map((record) => record.toObject());
  } finally {
    await session.close();
  }
}
