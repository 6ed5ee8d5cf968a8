// The cognitive graph's model in Neo4j: the Cypher that writes a conversation's graph (cypher.ts)
// and the reads behind the query API (read.ts), both pure; the store that runs them against a
// server (io/neo4j-store.ts) is the one part that talks to the database. The graph service serves
// it; the benchmarks write through it as the service does.
export * from './cypher.js';
export * from './io/neo4j-store.js';
export * from './read.js';
