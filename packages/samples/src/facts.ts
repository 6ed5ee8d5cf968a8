// Personal fact variations: from a user's facts file, question phrasings along five dimensions
// (punctuation, formality, directness, subject/object swap, typos) with varied answers, a held-out
// set of phrasings per fact for the recall eval, negative examples (general questions that must not
// trigger the fact) and "I don't know" examples for facts the user never gave. Everything is
// deterministic: randomness comes from a PRNG seeded with the fact id.
//
// This file is what the package exports of them; the work is in fact-parse.ts (the facts file),
// fact-grammar.ts (relation families, the grammar of a subject), fact-templates.ts (the phrasings'
// data), fact-phrasings.ts and fact-records.ts, whose helpers stay inside the package.
export { type Fact, factId, type RelationFamily, relationFamily } from './fact-grammar.js';
export { parseFacts } from './fact-parse.js';
export { factPhrasings, type Phrasing, type VariationOptions } from './fact-phrasings.js';
export { type FactRecordOptions, factRecords, renderSystemPrompt } from './fact-records.js';
export {
  type AnswerTemplate,
  type Ask,
  type Directness,
  type Formality,
  MEMORY_SYSTEM_TEMPLATE,
  type QuestionTemplate,
} from './fact-templates.js';
export { mentionsValue, normalisePhrasing } from './fact-text.js';
