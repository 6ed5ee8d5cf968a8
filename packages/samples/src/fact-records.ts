// The memory records of a user's facts: the phrasings of every fact, negative examples (general
// questions that must not trigger a fact) and "I don't know" examples for facts the user never gave,
// all under one system prompt that lists the facts.
import { type Fact, factId, factKey, fill, grammarOf, relationFamily } from './fact-grammar.js';
import { factPhrasings, type VariationOptions } from './fact-phrasings.js';
import { MEMORY_SYSTEM_TEMPLATE, NEGATIVES, PROBE_RELATIONS, PROBE_SUBJECTS, PROBE_TEMPLATES, UNKNOWN_ANSWERS } from './fact-templates.js';
import { capitalise, mentionsValue, normalisePhrasing, prng, sha256, shuffled } from './fact-text.js';
import type { MemoryRecord } from './records.js';

/** Renders the system prompt: `{facts}` becomes one `- subject — relation: value` line per fact. */
export function renderSystemPrompt(facts: readonly Fact[], template: string = MEMORY_SYSTEM_TEMPLATE): string {
  if (!template.includes('{facts}')) throw new Error('the memory system prompt template must contain {facts}');
  const list = facts.map((f) => `- ${f.subject} — ${f.relation}: ${f.value}`).join('\n');
  return template.split('{facts}').join(list);
}

export interface FactRecordOptions extends VariationOptions {
  /**
   * The system prompt template, `{facts}` marking where the facts go. Default `MEMORY_SYSTEM_TEMPLATE`;
   * a prompt without `{facts}` is followed by `MEMORY_SYSTEM_TEMPLATE`.
   */
  systemPrompt?: string;
  /** Weight of every memory record. Default 1. */
  weight?: number;
  /** Negative and "I don't know" examples per fact. Default 3 each. */
  negativesPerFact?: number;
  unknownsPerFact?: number;
}

/**
 * Memory records for a user's facts: the phrasings of every fact (kind `fact`), negative examples
 * (kind `negative`) and "I don't know" examples for absent facts (kind `unknown`). Ids are the
 * sha256 of the record's content; `source.factId` is the fact the record was generated from.
 * A question that two facts would answer differently (e.g. "Whose name is Sam?" when two facts
 * have the value Sam) is dropped from both.
 */
export function factRecords(facts: readonly Fact[], options: FactRecordOptions = {}): MemoryRecord[] {
  const prompt = options.systemPrompt?.trim();
  const template = !prompt ? MEMORY_SYSTEM_TEMPLATE : prompt.includes('{facts}') ? prompt : `${prompt}\n\n${MEMORY_SYSTEM_TEMPLATE}`;
  const system = renderSystemPrompt(facts, template);
  const weight = options.weight ?? 1;
  const known = new Set(facts.map((f) => factKey(f.subject, f.relation)));

  const factDrafts: Draft[] = [];
  const otherDrafts: Draft[] = [];
  for (const fact of facts) {
    const id = factId(fact);
    for (const p of factPhrasings(fact, options)) {
      factDrafts.push({
        source: { factId: id },
        split: p.split,
        tags: p.tags,
        subject: fact.subject,
        relation: fact.relation,
        value: fact.value,
        question: p.question,
        answer: p.answer,
        kind: 'fact',
      });
    }
    otherDrafts.push(...negativeDrafts(fact), ...unknownDrafts(fact, known, options.unknownsPerFact ?? 3));
  }

  // Questions two facts both claim are ambiguous: drop them. Negatives and unknowns never reuse a fact question.
  const owners = new Map<string, Set<string>>();
  for (const d of factDrafts) {
    const key = normalisePhrasing(d.question);
    owners.set(key, (owners.get(key) ?? new Set()).add(d.source.factId));
  }
  const kept = factDrafts.filter((d) => (owners.get(normalisePhrasing(d.question))?.size ?? 0) === 1);
  const taken = new Set(owners.keys());
  const perFact = new Map<string, number>();
  const heldBack = new Map<string, Draft>();
  const negativesPerFact = options.negativesPerFact ?? 3;
  for (const d of otherDrafts) {
    const key = normalisePhrasing(d.question);
    const countKey = `${d.source.factId}|${d.kind}`;
    if (taken.has(key) || (d.kind === 'negative' && (perFact.get(countKey) ?? 0) >= negativesPerFact)) continue;
    taken.add(key);
    perFact.set(countKey, (perFact.get(countKey) ?? 0) + 1);
    kept.push(d);
    heldBack.set(countKey, d); // the last kept negative/unknown of a fact is held out when it has two or more
  }
  for (const [countKey, d] of heldBack) if ((perFact.get(countKey) ?? 0) >= 2) d.split = 'heldout';
  return kept.map((d) => {
    const content = { type: 'memory' as const, ...d, weight, system };
    return { id: `memory-${sha256(JSON.stringify(content)).slice(0, 16)}`, ...content };
  });
}

/** A memory record before its id, weight and system prompt. */
type Draft = Omit<MemoryRecord, 'id' | 'type' | 'weight' | 'system' | 'source'> & { source: { factId: string } };

function negativeDrafts(fact: Fact): Draft[] {
  const id = factId(fact);
  const random = prng(sha256(`negatives:${id}`));
  const family = relationFamily(fact.relation);
  const g = grammarOf(fact);
  const drafts = NEGATIVES[family]
    .map((n) => ({ question: capitalise(fill(n.question, g)), answer: capitalise(fill(n.answer, g)) }))
    .filter((n) => !mentionsValue(n.question, fact.value) && !mentionsValue(n.answer, fact.value));
  return shuffled(drafts, random).map((n) => ({
    source: { factId: id },
    split: 'train',
    tags: [`family:${family}`, 'negative'],
    subject: fact.subject,
    relation: fact.relation,
    value: fact.value,
    question: n.question,
    answer: n.answer,
    kind: 'negative',
  }));
}

/** Probes for facts never given: other subjects with this relation, and this subject with other relations. */
function unknownDrafts(fact: Fact, known: ReadonlySet<string>, count: number): Draft[] {
  const id = factId(fact);
  const random = prng(sha256(`unknowns:${id}`));
  const isKnown = (subject: string, relation: string) => known.has(factKey(subject, relation));
  const probes: Fact[] = [];
  for (const subject of shuffled(PROBE_SUBJECTS, random)) {
    if (!isKnown(subject, fact.relation)) {
      probes.push({ subject, relation: fact.relation, value: '' });
      break;
    }
  }
  // Other relations only for people and animals: a generic fact ("my car / colour") gets subject probes only.
  for (const relation of relationFamily(fact.relation) === 'generic' ? [] : shuffled(PROBE_RELATIONS, random)) {
    if (probes.length >= count) break;
    if (!isKnown(fact.subject, relation)) probes.push({ subject: fact.subject, relation, value: '' });
  }
  for (const subject of shuffled(PROBE_SUBJECTS, random)) {
    if (probes.length >= count) break;
    if (!isKnown(subject, fact.relation) && !probes.some((p) => p.subject === subject))
      probes.push({ subject, relation: fact.relation, value: '' });
  }
  const drafts: Draft[] = probes.slice(0, count).map((probe, i) => {
    const family = relationFamily(probe.relation);
    const style = family === 'location' ? 'location' : 'noun';
    const g = grammarOf(probe);
    const questions = PROBE_TEMPLATES[style];
    const answers = UNKNOWN_ANSWERS[style];
    const turn = Math.floor(random() * 3);
    return {
      source: { factId: id },
      split: 'train',
      tags: [`family:${family}`, 'unknown'],
      subject: probe.subject,
      relation: probe.relation,
      value: '',
      question: fill(questions[(turn + i) % questions.length] as string, g),
      answer: capitalise(fill(answers[(turn + i) % answers.length] as string, g)),
      kind: 'unknown',
    };
  });
  return drafts;
}
