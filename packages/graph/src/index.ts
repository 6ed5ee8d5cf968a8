// The cognitive graph's model in Neo4j: the Cypher that writes a conversation's graph (cypher.ts),
// the reads behind the query API (read.ts) and the store that runs them (neo4j-store.ts). The
// graph service serves it; the benchmarks write through it as the service does.
export * from './cypher.js';
export * from './neo4j-store.js';
export * from './read.js';
