import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ExplainSummary, readOnlyRefusal } from './query.js';

const plan = (...operatorTypes: string[]): ExplainSummary['plan'] =>
  operatorTypes.reduceRight<ExplainSummary['plan']>((child, operatorType) => ({ operatorType, children: child ? [child] : [] }), false);

test('trajectory query lets a read query run', () => {
  assert.equal(readOnlyRefusal({ queryType: 'r', plan: plan('ProduceResults@neo4j', 'AllNodesScan@neo4j') }), undefined);
  assert.equal(readOnlyRefusal({ queryType: 'r', plan: false }), undefined);
});

test('trajectory query refuses writes, schema and administration commands, and DBMS procedures', () => {
  for (const [queryType, says] of [
    ['w', /writes the graph/],
    ['rw', /reads and writes the graph/],
    ['s', /schema or administration command/],
    ['x', /query type 'x'/],
  ] as const) {
    const refusal = readOnlyRefusal({ queryType, plan: plan('ProduceResults@neo4j') });
    assert.match(refusal ?? '', /^refused: trajectory query runs read-only Cypher over the graph/);
    assert.match(refusal ?? '', says);
  }
});

test('trajectory query refuses LOAD CSV, a read query by its type, anywhere in the plan', () => {
  const refusal = readOnlyRefusal({ queryType: 'r', plan: plan('ProduceResults@neo4j', 'Filter@neo4j', 'LoadCSV@neo4j') });
  assert.match(refusal ?? '', /^refused: .*LOAD CSV reads files or URLs/);
});
