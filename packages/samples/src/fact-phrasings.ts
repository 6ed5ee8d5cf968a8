// The question phrasings of one fact along five dimensions (punctuation, formality, directness,
// subject/object swap, typos), each with an answer, and the held-out share of them for the recall
// eval. Deterministic: randomness comes from a PRNG seeded with the fact id.
import {
  type Fact,
  factId,
  fill,
  type Grammar,
  grammarOf,
  PREFERENCE_RELATION,
  type RelationFamily,
  relationFamily,
} from './fact-grammar.js';
import {
  ANSWERS,
  type AnswerTable,
  type AnswerTemplate,
  type Ask,
  DISTRACTORS,
  FAMILY_QUESTIONS,
  NOUN_QUESTIONS,
  type QuestionTemplate,
} from './fact-templates.js';
import { capitalise, loose, mentionsValue, normalisePhrasing, prng, sha256, shuffled } from './fact-text.js';
import type { Split } from './records.js';

/** One generated question with its answer, dimensions (tags) and split. */
export interface Phrasing {
  question: string;
  answer: string;
  ask: Ask;
  /** The template it came from; its punctuation and typo variants share it and its split. */
  template: string;
  /** Dimension tags: formality:*, directness:*, swap:*, punctuation:*, typo:*, answer:*, family:*. */
  tags: string[];
  split: Extract<Split, 'train' | 'heldout'>;
}

export interface VariationOptions {
  /** Share of phrasings per fact held out of training for the recall eval. Default 0.2. */
  heldoutShare?: number;
  /** At least this many held-out phrasings per fact. Default 5. */
  minHeldout?: number;
}

type PunctuationVariant = 'none' | 'interrobang' | 'double' | 'spaced';

/** Applies a punctuation variant to a phrasing that ends in `?` or `.`; undefined if it does not apply. */
function punctuate(text: string, variant: PunctuationVariant): string | undefined {
  const m = /^(.*?)([?.])$/.exec(text);
  if (!m) return undefined;
  const [, body = '', mark] = m;
  switch (variant) {
    case 'none':
      return body;
    case 'interrobang':
      return mark === '?' ? `${body}!?` : undefined;
    case 'double':
      return mark === '?' ? `${body}??` : undefined;
    case 'spaced':
      // space before the mark and trailing spaces, as typed on some phones
      return mark === '?' ? `${body} ?   ` : undefined;
  }
}

/**
 * A deterministic typo: swap two adjacent letters, drop one, or double one, in a word of 3+
 * letters outside the value (the value stays intact so the answer still matches).
 */
function typo(text: string, value: string, random: () => number): { text: string; kind: string } | undefined {
  const lower = text.toLowerCase();
  const v = value.toLowerCase();
  const protectedRanges: [number, number][] = [];
  for (let i = v ? lower.indexOf(v) : -1; i >= 0; i = lower.indexOf(v, i + 1)) protectedRanges.push([i, i + v.length]);
  const words = [...text.matchAll(/\p{L}{3,}/gu)].filter((m) => {
    const start = m.index ?? 0;
    const end = start + m[0].length;
    return !protectedRanges.some(([s, e]) => start < e && end > s);
  });
  if (words.length === 0) return undefined;
  const word = words[Math.floor(random() * words.length)] as RegExpExecArray;
  const start = word.index ?? 0;
  const w = word[0];
  const kinds = ['swap', 'drop', 'double'] as const;
  const kind = kinds[Math.floor(random() * kinds.length)] ?? 'swap';
  const i = 1 + Math.floor(random() * (w.length - 2)); // never the first letter
  let typed: string;
  if (kind === 'swap') typed = w.slice(0, i) + (w[i + 1] ?? '') + (w[i] ?? '') + w.slice(i + 2);
  else if (kind === 'drop') typed = w.slice(0, i) + w.slice(i + 1);
  else typed = w.slice(0, i) + (w[i] ?? '') + w.slice(i);
  if (typed === w) return undefined;
  return { text: text.slice(0, start) + typed + text.slice(start + w.length), kind };
}

function distractorFor(fact: Fact, family: RelationFamily, random: () => number): string {
  const thing = PREFERENCE_RELATION.exec(normalisePhrasing(fact.relation))?.[1];
  const pool =
    family === 'preference' ? (thing ? DISTRACTORS.things[thing] : undefined) : family === 'generic' ? undefined : DISTRACTORS[family];
  const options = (pool ?? []).filter((d) => !mentionsValue(fact.value, d) && !mentionsValue(d, fact.value));
  return options.length > 0 ? (options[Math.floor(random() * options.length)] as string) : '';
}

/**
 * The question phrasings of one fact with answers, dimension tags and the held-out split.
 * Phrasings are distinct after `normalisePhrasing`; no held-out phrasing equals a training one even
 * with punctuation dropped (punctuation and typo variants stay with their template's split).
 */
export function factPhrasings(fact: Fact, options: VariationOptions = {}): Phrasing[] {
  const id = factId(fact);
  const random = prng(sha256(`phrasings:${id}`));
  const family = relationFamily(fact.relation);
  const g = grammarOf(fact, distractorFor(fact, family, random));
  const templates = (family === 'location' ? FAMILY_QUESTIONS.location : [...NOUN_QUESTIONS, ...FAMILY_QUESTIONS[family]]).filter(
    (t) => (t.self === undefined || t.self === g.self) && (g.distractor !== '' || t.ask !== 'confirm-false'),
  );
  const answers = ANSWERS[family];
  const answerTurn: Record<Ask, number> = { value: 0, subject: 0, confirm: 0, 'confirm-false': 0 };
  for (const ask of Object.keys(answerTurn) as Ask[]) answerTurn[ask] = Math.floor(random() * answers[ask].length);

  const out: Phrasing[] = [];
  const seen = new Set<string>();
  const add = (question: string, template: QuestionTemplate, answer: AnswerTemplate, extra: string[]) => {
    const key = normalisePhrasing(question);
    if (seen.has(key)) return;
    seen.add(key);
    const tags = [
      `family:${family}`,
      `formality:${template.formality}`,
      `directness:${template.directness}`,
      `swap:${template.ask === 'value' ? 'none' : template.ask === 'subject' ? 'subject' : 'confirm'}`,
      `answer:${answer.form}`,
      ...extra,
    ];
    // Answers start with a capital unless they start with the value, whose spelling is the user's.
    const text = fill(answer.text, g);
    out.push({
      question,
      answer: answer.text.startsWith('{value}') ? text : capitalise(text),
      ask: template.ask,
      template: template.id,
      tags,
      split: 'train',
    });
  };

  const variants: PunctuationVariant[] = ['none', 'interrobang', 'double', 'spaced'];
  for (const template of templates) {
    const list = answers[template.ask];
    const nextAnswer = () => list[answerTurn[template.ask]++ % list.length] as AnswerTemplate;
    const base = fill(template.text, g);
    const mark = /[?.]$/.exec(base)?.[0];
    const baseMark = mark === '?' ? 'punctuation:question' : mark === '.' ? 'punctuation:period' : 'punctuation:none';
    add(base, template, nextAnswer(), [baseMark]);
    // About two in three templates get one punctuation variant.
    if (random() < 0.67) {
      const variant = variants[Math.floor(random() * variants.length)] as PunctuationVariant;
      const text = punctuate(base, variant) ?? punctuate(base, 'none');
      const tag = punctuate(base, variant) !== undefined ? variant : 'none';
      const tags = tag === 'spaced' ? ['punctuation:space-before', 'punctuation:trailing-space'] : [`punctuation:${tag}`];
      if (text !== undefined) add(text, template, nextAnswer(), tags);
    }
    // About one in three gets a typo.
    if (random() < 0.35) {
      const typed = typo(base, g.value, random);
      if (typed) add(typed.text, template, nextAnswer(), [baseMark, `typo:${typed.kind}`]);
    }
  }
  // Every dimension must show up: make sure of a typo and of each punctuation variant.
  ensureDimensions(out, templates, g, random, add, answers);
  assignHeldout(out, options, random);
  return out;
}

function ensureDimensions(
  out: Phrasing[],
  templates: QuestionTemplate[],
  g: Grammar,
  random: () => number,
  add: (question: string, template: QuestionTemplate, answer: AnswerTemplate, extra: string[]) => void,
  answers: AnswerTable,
): void {
  const has = (prefix: string) => out.some((p) => p.tags.some((t) => t.startsWith(prefix)));
  const questionTemplates = templates.filter((t) => t.text.endsWith('?'));
  const pick = (list: QuestionTemplate[]) => list[Math.floor(random() * list.length)] as QuestionTemplate;
  const answer = (t: QuestionTemplate) => answers[t.ask][0] as AnswerTemplate;
  for (let tries = 0; !has('typo:') && tries < 20; tries++) {
    const t = pick(templates);
    const typed = typo(fill(t.text, g), g.value, random);
    if (typed) add(typed.text, t, answer(t), [`typo:${typed.kind}`]);
  }
  const punctuation: [PunctuationVariant, string][] = [
    ['none', 'punctuation:none'],
    ['interrobang', 'punctuation:interrobang'],
    ['spaced', 'punctuation:trailing-space'],
  ];
  for (const [variant, tag] of punctuation) {
    for (let tries = 0; !has(tag) && tries < 20 && questionTemplates.length > 0; tries++) {
      const t = pick(questionTemplates);
      const text = punctuate(fill(t.text, g), variant);
      const tags = variant === 'spaced' ? ['punctuation:space-before', 'punctuation:trailing-space'] : [tag];
      if (text !== undefined) add(text, t, answer(t), tags);
    }
  }
}

/**
 * Holds out whole templates (with their punctuation and typo variants) until at least
 * max(minHeldout, heldoutShare × count) phrasings are held out, skipping a template when that
 * would take the last training phrasing of a dimension. A training phrasing that equals a
 * held-out one with punctuation dropped moves to held-out too.
 */
function assignHeldout(out: Phrasing[], options: VariationOptions, random: () => number): void {
  const target = Math.max(options.minHeldout ?? 5, Math.ceil((options.heldoutShare ?? 0.2) * out.length));
  const byTemplate = new Map<string, Phrasing[]>();
  for (const p of out) byTemplate.set(p.template, [...(byTemplate.get(p.template) ?? []), p]);
  const dimensionTags = (p: Phrasing) => p.tags.filter((t) => !t.startsWith('answer:') && !t.startsWith('family:'));
  const trainCount = new Map<string, number>();
  for (const p of out) for (const t of dimensionTags(p)) trainCount.set(t, (trainCount.get(t) ?? 0) + 1);
  let held = 0;
  for (const template of shuffled([...byTemplate.keys()], random)) {
    if (held >= target) break;
    const group = byTemplate.get(template) ?? [];
    if (held + group.length > target + 3 && held > 0) continue; // keep the share near the target
    const removed = new Map<string, number>();
    for (const p of group) for (const t of dimensionTags(p)) removed.set(t, (removed.get(t) ?? 0) + 1);
    if ([...removed].some(([t, n]) => (trainCount.get(t) ?? 0) - n < 1)) continue;
    for (const [t, n] of removed) trainCount.set(t, (trainCount.get(t) ?? 0) - n);
    for (const p of group) p.split = 'heldout';
    held += group.length;
  }
  const heldLoose = new Set(out.filter((p) => p.split === 'heldout').map((p) => loose(p.question)));
  for (const p of out) if (p.split === 'train' && heldLoose.has(loose(p.question))) p.split = 'heldout';
}
