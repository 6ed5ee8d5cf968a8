import { RELATION_TABLE } from './table.js';

export { RELATION_TABLE };

/** How the segmenter finds a relation; see the table's comment. */
export type RelationSignal = 'sequence' | 'turn' | 'marker' | 'topic' | 'revision' | 'chain';

/** Marker phrases (regular expression sources) per language code. */
export type MarkerPhrases = Readonly<Record<string, readonly string[]>>;

export interface RelationSpec {
  /** snake_case; the Neo4j relationship type is its upper case. */
  name: string;
  detect: RelationSignal;
  /** Default training weight of a sample whose target is reached by this relation. */
  weight: number;
  description: string;
  /** Whose node may carry the marker (default any). */
  role?: 'user' | 'assistant' | 'any';
  markers?: { start?: MarkerPhrases; sentence?: MarkerPhrases };
  /**
   * Named cue lists for the relation's own detector (the refinement detector reads `refines`'
   * `challenge`, `failure`, `acknowledgement`, ...). Same shape as markers; the language `*`
   * holds patterns that need no language, such as a pasted error.
   */
  cues?: Readonly<Record<string, MarkerPhrases>>;
}

const NAME = /^[a-z][a-z0-9_]*$/;

/** Checks the table once at load: a bad row fails every service at start, not a write later. */
export function validateRelationTable(table: readonly RelationSpec[]): void {
  const seen = new Set<string>();
  for (const spec of table) {
    if (!NAME.test(spec.name)) throw new Error(`relation table: name ${JSON.stringify(spec.name)} is not snake_case`);
    if (seen.has(spec.name)) throw new Error(`relation table: ${spec.name} appears twice`);
    seen.add(spec.name);
    if (!(spec.weight >= 0)) throw new Error(`relation table: ${spec.name} has weight ${spec.weight}`);
    for (const phrases of [spec.markers?.start, spec.markers?.sentence, ...Object.values(spec.cues ?? {})]) {
      for (const [language, list] of Object.entries(phrases ?? {})) {
        for (const source of list) {
          try {
            new RegExp(source, 'iu');
          } catch (error) {
            throw new Error(`relation table: ${spec.name} marker ${JSON.stringify(source)} (${language}): ${(error as Error).message}`);
          }
        }
      }
    }
  }
  for (const required of ['follows', 'responds', 'refines', 'iteration_final', 'restarts']) {
    if (!seen.has(required)) throw new Error(`relation table: the segmenter needs a "${required}" row`);
  }
}

validateRelationTable(RELATION_TABLE);

const BY_NAME = new Map(RELATION_TABLE.map((spec) => [spec.name, spec]));

/** Relation names in table order. */
export const RELATION_NAMES: readonly string[] = RELATION_TABLE.map((spec) => spec.name);

export function relationSpec(name: string): RelationSpec {
  const spec = BY_NAME.get(name);
  if (!spec) throw new Error(`unknown relation "${name}" (known: ${RELATION_NAMES.join(', ')})`);
  return spec;
}

/**
 * The Neo4j relationship type of a relation. Cypher cannot take a relationship type as a
 * parameter, so only names of the table (checked snake_case) ever reach a query text.
 */
export function neo4jRelationshipType(name: string): string {
  return relationSpec(name).name.toUpperCase();
}

/** Every node-to-node relationship type in Neo4j. */
export const NEO4J_RELATIONSHIP_TYPES: readonly string[] = RELATION_NAMES.map((name) => name.toUpperCase());

/** The relation of a Neo4j relationship type (FOLLOWS -> follows). */
export function relationOfNeo4jType(type: string): string {
  return relationSpec(type.toLowerCase()).name;
}

/** Default sample weights by relation, from the table. */
export function defaultRelationWeights(): Record<string, number> {
  return Object.fromEntries(RELATION_TABLE.map((spec) => [spec.name, spec.weight]));
}
