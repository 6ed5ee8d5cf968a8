// Personal fact variations: from a user's facts file, question phrasings along five
// dimensions (punctuation, formality, directness, subject/object swap, typos) with varied answers,
// a held-out set of phrasings per fact for the recall eval, negative examples (general questions
// that must not trigger the fact) and "I don't know" examples for facts the user never gave.
// Everything is deterministic: randomness comes from a PRNG seeded with the fact id.
import { createHash } from 'node:crypto';
import { isObject, mulberry32 } from '@trajectory/config/util';
import { parseDocument } from 'yaml';
import type { MemoryRecord, Split } from './records.js';

export interface Fact {
  /** Whose fact, in the user's words: "I", "my dog", "my partner". */
  subject: string;
  /** "name", "live in", "birthday", "favourite colour", or any noun ("car colour"). */
  relation: string;
  value: string;
}

export type RelationFamily = 'name' | 'location' | 'date' | 'preference' | 'generic';

/** What a question asks: the value, the subject given the value, or a yes/no confirmation. */
export type Ask = 'value' | 'subject' | 'confirm' | 'confirm-false';

export type Formality = 'casual' | 'neutral' | 'formal';
export type Directness = 'direct' | 'indirect';

/**
 * One question phrasing. `{name}` placeholders are filled from the fact's grammar (see `Grammar`);
 * a capitalised placeholder (`{Do}`) capitalises the filled word.
 */
export interface QuestionTemplate {
  id: string;
  text: string;
  formality: Formality;
  directness: Directness;
  ask: Ask;
  /** true: only when the subject is the user ("I"); false: only for other subjects. */
  self?: boolean;
}

/** An answer form: short ("Pixel."), full sentence, or with context ("You told me ..."). */
export interface AnswerTemplate {
  form: 'short' | 'full' | 'context';
  text: string;
}

/** The default system prompt; `{facts}` becomes the user's facts, one `- ` line each. */
export const MEMORY_SYSTEM_TEMPLATE = [
  'You are a personal assistant. The user has told you these facts about themselves and the people and things in their life:',
  '{facts}',
  "Answer questions about these facts from this list, however they are phrased. If the user asks about something that is not in the list, say that you don't know because they haven't told you. Don't bring these facts into answers to general questions.",
].join('\n');

function fail(message: string): never {
  throw new Error(message);
}

// ---------------------------------------------------------------------------------------------
// Facts file

const FACT_KEYS = ['subject', 'relation', 'value'] as const;

/**
 * Parses a facts file: YAML or JSON (YAML 1.2 reads both), a list of `{ subject, relation, value }`
 * or an object with such a list under `facts`. Errors name the file and the entry index.
 */
export function parseFacts(text: string, fileName: string): Fact[] {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) fail(`${fileName}: not valid YAML or JSON: ${syntax.message}`);
  const data: unknown = doc.toJS();
  const list = Array.isArray(data) ? data : isObject(data) && Array.isArray(data.facts) ? data.facts : undefined;
  if (!list) return fail(`${fileName}: expected a list of facts ({ subject, relation, value }) or an object with a "facts" list`);
  const facts: Fact[] = [];
  const seen = new Map<string, number>();
  for (const [index, entry] of (list as unknown[]).entries()) {
    const at = `${fileName}: facts[${index}]`;
    if (!isObject(entry)) fail(`${at}: expected an object with subject, relation and value`);
    for (const key of Object.keys(entry)) {
      if (!(FACT_KEYS as readonly string[]).includes(key)) fail(`${at}: unknown key "${key}" (expected subject, relation, value)`);
    }
    const fact = {} as Fact;
    for (const key of FACT_KEYS) {
      const raw = entry[key];
      const value = typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : raw;
      if (typeof value !== 'string' || value.trim() === '') fail(`${at}: "${key}" must be a non-empty string`);
      fact[key] = collapse(value as string);
    }
    const key = `${subjectKey(fact.subject)}|${relationKey(fact.relation)}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) fail(`${at}: repeats the subject and relation of facts[${earlier}] ("${fact.subject}", "${fact.relation}")`);
    seen.set(key, index);
    facts.push(fact);
  }
  return facts;
}

/** A fact's id: sha256 of its normalised subject, relation and value (16 hex digits). */
export function factId(fact: Fact): string {
  return sha256(
    `fact\u0000${normalisePhrasing(fact.subject)}\u0000${relationKey(fact.relation)}\u0000${normalisePhrasing(fact.value)}`,
  ).slice(0, 16);
}

/** Renders the system prompt: `{facts}` becomes one `- subject — relation: value` line per fact. */
export function renderSystemPrompt(facts: readonly Fact[], template: string = MEMORY_SYSTEM_TEMPLATE): string {
  if (!template.includes('{facts}')) fail('the memory system prompt template must contain {facts}');
  const list = facts.map((f) => `- ${f.subject} — ${f.relation}: ${f.value}`).join('\n');
  return template.split('{facts}').join(list);
}

// ---------------------------------------------------------------------------------------------
// Text helpers

/** Lowercase, whitespace collapsed and trimmed: the form phrasings must be distinct in. */
export const normalisePhrasing = (text: string): string => collapse(text).toLowerCase();

/** `normalisePhrasing` with punctuation dropped too, for the stricter held-out/train separation. */
const loose = (text: string): string => collapse(text.replace(/[\p{P}\p{S}]+/gu, ' ')).toLowerCase();

function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Does `text` mention `value` as a whole word (case-insensitive)? */
export function mentionsValue(text: string, value: string): boolean {
  const v = collapse(value);
  if (v === '') return false;
  return new RegExp(`(^|[^\\p{L}\\p{N}])${escapeRegExp(v)}($|[^\\p{L}\\p{N}])`, 'iu').test(text);
}

/** Seeded from a hash (its first 32 bits), never from Math.random. */
const prng = (seedHex: string): (() => number) => mulberry32(Number.parseInt(seedHex.slice(0, 8), 16));

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Relation families and the grammar of a subject

const NAME_RELATIONS = new Set(['name', 'called', 'is called', 'named', 'first name']);
const LOCATION_RELATIONS = new Set([
  'live in',
  'lives in',
  'living in',
  'live',
  'lives',
  'based in',
  'is based in',
  'reside in',
  'resides in',
]);
const DATE_RELATIONS = /^(birthday|birth ?date|date of birth|born on|born|anniversary|wedding anniversary|name ?day)$/;
const PREFERENCE_RELATION = /^favou?rite (.+)$/;

/** Which phrasing family a relation belongs to. */
export function relationFamily(relation: string): RelationFamily {
  const r = normalisePhrasing(relation);
  if (NAME_RELATIONS.has(r)) return 'name';
  if (LOCATION_RELATIONS.has(r)) return 'location';
  if (DATE_RELATIONS.test(r)) return 'date';
  if (PREFERENCE_RELATION.test(r)) return 'preference';
  return 'generic';
}

/** The relation as a noun phrase for the question templates ("born on" asks for a "birthday"). */
function relationNoun(relation: string): string {
  const r = normalisePhrasing(relation);
  switch (relationFamily(r)) {
    case 'name':
      return r === 'first name' ? r : 'name';
    case 'location':
      return 'home';
    case 'date':
      return /^(birth ?date|date of birth|born on|born)$/.test(r) ? 'birthday' : r;
    default:
      return r;
  }
}

/** Two spellings of one relation ("lives in", "live in") are one key. */
function relationKey(relation: string): string {
  return `${relationFamily(relation)}:${relationNoun(relation)}`;
}

const SELF = new Set(['i', 'me', 'myself', 'the user', 'user']);
const IRREGULAR_PLURALS = new Set(['children', 'people', 'men', 'women', 'kids', 'parents', 'grandparents', 'in-laws', 'twins']);

/** Everything a template can say about one fact, from the user's side and from the assistant's. */
interface Grammar {
  self: boolean;
  plural: boolean;
  /** User side: "my dog" | "I". */
  subj: string;
  /** User side, object case: "my dog" | "me". */
  subjObj: string;
  /** User side possessive: "my dog's" | "my". */
  poss: string;
  /** Verb forms agreeing with `subj`: do/does, am/is/are, the -s of a present verb. */
  do: string;
  be: string;
  s: string;
  /** Assistant side: "your dog" | "you", "your dog's" | "your", is/are, -s. */
  you: string;
  yourPoss: string;
  youBe: string;
  s2: string;
  /** The subject's head noun ("dog"), with its article ("a dog"). */
  noun: string;
  aNoun: string;
  /** The head noun in the plural ("dogs", "people"). */
  nouns: string;
  rel: string;
  aRel: string;
  /** For "favourite X": X. */
  thing: string;
  value: string;
  /** A plausible wrong value for "Is Biscuit my dog's name?" → "No, ...". */
  distractor: string;
}

const article = (word: string) => (/^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`);
/** A naive English plural of a noun phrase's last word: dog → dogs, person → people, boss → bosses. */
function pluralOf(noun: string): string {
  if (/person$/.test(noun)) return noun.replace(/person$/, 'people');
  if (/child$/.test(noun)) return `${noun}ren`;
  if (/(s|x|z|ch|sh)$/.test(noun)) return `${noun}es`;
  if (/[^aeiou]y$/.test(noun)) return `${noun.slice(0, -1)}ies`;
  return `${noun}s`;
}

/** "my dog's", "my boss's", but "my parents'". */
const possessive = (phrase: string, plural: boolean) => (plural && /s$/i.test(phrase) ? `${phrase}'` : `${phrase}'s`);

/** Builds the grammar of a fact's subject, relation and value. */
function grammarOf(fact: Fact, distractor = ''): Grammar {
  const subject = collapse(fact.subject);
  const lower = subject.toLowerCase();
  const self = SELF.has(lower);
  const family = relationFamily(fact.relation);
  const rel = relationNoun(fact.relation);
  const thing = PREFERENCE_RELATION.exec(rel)?.[1] ?? rel;
  const base = { rel, aRel: article(rel), thing, value: collapse(fact.value), distractor };
  if (self) {
    const noun = family === 'name' ? 'baby' : 'person';
    return {
      ...base,
      self,
      plural: false,
      subj: 'I',
      subjObj: 'me',
      poss: 'my',
      do: 'do',
      be: 'am',
      s: '',
      you: 'you',
      yourPoss: 'your',
      youBe: 'are',
      s2: '',
      noun,
      aNoun: article(noun),
      nouns: pluralOf(noun),
    };
  }
  const owned = /^(my|our)\s+(.+)$/i.exec(subject);
  const rest = owned?.[2] ?? subject;
  // Drop proper names after the noun ("sister Anna" → "sister") for the general (negative) questions.
  const nounWords = owned ? rest.split(' ').filter((w, i) => i === 0 || !/^\p{Lu}/u.test(w)) : [];
  const noun = nounWords.length > 0 ? nounWords.join(' ').toLowerCase() : family === 'name' ? 'baby' : 'person';
  const last = (nounWords.at(-1) ?? rest).toLowerCase();
  // A heuristic: "my parents", "my kids" are plural; "my boss", "my bus" are not.
  const plural = IRREGULAR_PLURALS.has(last) || (owned !== null && /s$/.test(last) && !/(ss|us|is)$/.test(last));
  const user = owned ? `${owned[1]?.toLowerCase()} ${rest}` : subject;
  const you = owned ? `your ${rest}` : subject;
  return {
    ...base,
    self,
    plural,
    subj: user,
    subjObj: user,
    poss: possessive(user, plural),
    do: plural ? 'do' : 'does',
    be: plural ? 'are' : 'is',
    s: plural ? '' : 's',
    you,
    yourPoss: possessive(you, plural),
    youBe: plural ? 'are' : 'is',
    s2: plural ? '' : 's',
    noun,
    aNoun: article(noun),
    nouns: plural ? noun : pluralOf(noun),
  };
}

/** Fills `{placeholders}` from the grammar; `{Cap}` capitalises. Unknown placeholders are a bug. */
function fill(template: string, g: Grammar): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const key = (name.charAt(0).toLowerCase() + name.slice(1)) as keyof Grammar;
    const value = g[key];
    if (typeof value !== 'string') throw new Error(`template placeholder {${name}} is not known`);
    return name === key ? value : capitalise(value);
  });
}

// ---------------------------------------------------------------------------------------------
// Templates (data). `noun` templates apply to name, date, preference and generic relations (the
// relation is a noun: "my dog's name"); each family adds its own; location ("live in") has its own set.

const q = (id: string, text: string, formality: Formality, directness: Directness, ask: Ask, self?: boolean): QuestionTemplate =>
  self === undefined ? { id, text, formality, directness, ask } : { id, text, formality, directness, ask, self };

const NOUN_QUESTIONS: QuestionTemplate[] = [
  q('noun-what-is', 'What is {poss} {rel}?', 'neutral', 'direct', 'value'),
  q('noun-whats', "What's {poss} {rel}?", 'neutral', 'direct', 'value'),
  q('noun-do-you-know', 'Do you know {poss} {rel}?', 'neutral', 'direct', 'value'),
  q('noun-remember', 'Do you remember {poss} {rel}?', 'neutral', 'direct', 'value'),
  q('noun-what-did-i-say', 'What did I tell you {poss} {rel} is?', 'neutral', 'direct', 'value'),
  q('noun-yo', "yo what's {poss} {rel}", 'casual', 'direct', 'value'),
  q('noun-again', 'whats {poss} {rel} again', 'casual', 'direct', 'value'),
  q('noun-quick', 'hey quick one, {poss} {rel}?', 'casual', 'direct', 'value'),
  q('noun-could-you', 'Could you tell me {poss} {rel}?', 'formal', 'direct', 'value'),
  q('noun-may-i', 'May I ask what {poss} {rel} is?', 'formal', 'direct', 'value'),
  q('noun-kindly', 'Would you kindly remind me what {poss} {rel} is?', 'formal', 'indirect', 'value'),
  q('noun-forgot', 'I forgot {poss} {rel}, remind me.', 'neutral', 'indirect', 'value'),
  q('noun-cant-remember', "I can't remember {poss} {rel}.", 'neutral', 'indirect', 'value'),
  q('noun-tell-me', 'Tell me {poss} {rel}.', 'neutral', 'indirect', 'value'),
  q('noun-wondering', 'I was wondering what {poss} {rel} is.', 'neutral', 'indirect', 'value'),
  q('noun-blanked', 'ugh I blanked on {poss} {rel}, help', 'casual', 'indirect', 'value'),
  q('noun-is-value', 'Is {value} {poss} {rel}?', 'neutral', 'direct', 'confirm'),
  q('noun-value-right', '{value} is {poss} {rel}, right?', 'casual', 'direct', 'confirm'),
  q('noun-confirm-whether', 'Could you confirm whether {value} is {poss} {rel}?', 'formal', 'indirect', 'confirm'),
  q('noun-i-think', "I think {poss} {rel} is {value}, but I'm not sure.", 'neutral', 'indirect', 'confirm'),
  q('noun-wait-is', 'wait is {value} {poss} {rel}', 'casual', 'direct', 'confirm'),
  q('noun-whose', 'Whose {rel} is {value}?', 'neutral', 'direct', 'subject', false),
  q('noun-is-distractor', 'Is {distractor} {poss} {rel}?', 'neutral', 'direct', 'confirm-false'),
];

const FAMILY_QUESTIONS: Record<RelationFamily, QuestionTemplate[]> = {
  name: [
    q('name-called', 'What {be} {subj} called?', 'neutral', 'direct', 'value'),
    q('name-gave', 'What name did I give {subjObj}?', 'neutral', 'direct', 'value', false),
    q('name-call-again', 'what do i call {subjObj} again', 'casual', 'direct', 'value', false),
    q('name-is-called', '{Be} {subj} called {value}?', 'neutral', 'direct', 'confirm'),
    q('name-who-is', 'Who is {value}?', 'neutral', 'direct', 'subject', false),
    q('name-who-named', 'Who did I name {value}?', 'neutral', 'direct', 'subject', false),
    q('name-called-distractor', '{Be} {subj} called {distractor}?', 'casual', 'direct', 'confirm-false'),
  ],
  date: [
    q('date-when', 'When is {poss} {rel}?', 'neutral', 'direct', 'value'),
    q('date-whens', "when's {poss} {rel}", 'casual', 'direct', 'value'),
    q('date-which-date', 'On which date is {poss} {rel}?', 'formal', 'direct', 'value'),
    q('date-remind-when', 'Remind me when {poss} {rel} is.', 'neutral', 'indirect', 'value'),
    q('date-could-remind', 'Could you remind me when {poss} {rel} is?', 'formal', 'indirect', 'value'),
    q('date-is-on', 'Is {poss} {rel} on {value}?', 'neutral', 'direct', 'confirm'),
    q('date-whose-on', 'Whose {rel} falls on {value}?', 'formal', 'direct', 'subject', false),
  ],
  preference: [
    q('pref-which-best', 'Which {thing} {do} {subj} like best?', 'neutral', 'direct', 'value'),
    q('pref-fave', "what's {poss} fave {thing}", 'casual', 'direct', 'value'),
    q('pref-know-which', 'Do you know which {thing} {subj} like{s} most?', 'neutral', 'direct', 'value'),
    q('pref-could-which', 'Could you tell me which {thing} {subj} prefer{s}?', 'formal', 'direct', 'value'),
    q('pref-like-value', '{Do} {subj} like {value} best?', 'neutral', 'direct', 'confirm'),
    q('pref-like-distractor', '{Do} {subj} like {distractor} best?', 'neutral', 'direct', 'confirm-false'),
  ],
  generic: [],
  location: [
    q('loc-where', 'Where {do} {subj} live?', 'neutral', 'direct', 'value'),
    q('loc-where-again', 'Where {do} {subj} live again?', 'neutral', 'direct', 'value'),
    q('loc-which-place', 'Which town or city {do} {subj} live in?', 'neutral', 'direct', 'value'),
    q('loc-based', 'Where {be} {subj} based?', 'neutral', 'direct', 'value'),
    q('loc-do-you-know', 'Do you know where {subj} live{s}?', 'neutral', 'direct', 'value'),
    q('loc-yo', 'yo where {do} {subj} live', 'casual', 'direct', 'value'),
    q('loc-these-days', 'where {be} {subj} living these days', 'casual', 'direct', 'value'),
    q('loc-could-you', 'Could you tell me where {subj} live{s}?', 'formal', 'direct', 'value'),
    q('loc-may-i', 'May I ask where {subj} reside{s}?', 'formal', 'direct', 'value'),
    q('loc-kindly', 'Would you be so kind as to remind me where {subj} live{s}?', 'formal', 'indirect', 'value'),
    q('loc-forgot', 'I forgot where {subj} live{s}, remind me.', 'neutral', 'indirect', 'value'),
    q('loc-cant-remember', "I can't remember where {subj} live{s}.", 'neutral', 'indirect', 'value'),
    q('loc-tell-me', 'Tell me where {subj} live{s}.', 'neutral', 'indirect', 'value'),
    q('loc-blanking', 'ugh blanking on where {subj} live{s}, help', 'casual', 'indirect', 'value'),
    q('loc-do-live-in', '{Do} {subj} live in {value}?', 'neutral', 'direct', 'confirm'),
    q('loc-value-right', '{value} is where {subj} live{s}, right?', 'casual', 'direct', 'confirm'),
    q('loc-is-value-where', 'Is {value} where {subj} live{s}?', 'neutral', 'direct', 'confirm'),
    q('loc-confirm', 'Could you confirm that {subj} live{s} in {value}?', 'formal', 'indirect', 'confirm'),
    q('loc-i-think', "I think {subj} live{s} in {value}, but I'm not sure.", 'neutral', 'indirect', 'confirm'),
    q('loc-wait', 'wait {do} {subj} live in {value}', 'casual', 'direct', 'confirm'),
    q('loc-who-said', 'Who did I say lives in {value}?', 'neutral', 'direct', 'subject', false),
    q('loc-distractor', '{Do} {subj} live in {distractor}?', 'neutral', 'direct', 'confirm-false'),
  ],
};

const a = (form: AnswerTemplate['form'], text: string): AnswerTemplate => ({ form, text });

type AnswerTable = Record<Ask, AnswerTemplate[]>;

const NOUN_ANSWERS: AnswerTable = {
  value: [
    a('short', '{value}.'),
    a('full', '{YourPoss} {rel} is {value}.'),
    a('context', 'You told me {yourPoss} {rel} is {value}.'),
    a('short', "It's {value}."),
    a('full', '{YourPoss} {rel}? That would be {value}.'),
    a('context', 'You mentioned that {yourPoss} {rel} is {value}.'),
    a('context', 'From what you told me: {yourPoss} {rel} is {value}.'),
  ],
  subject: [
    a('short', '{You}.'),
    a('full', '{value} is {yourPoss} {rel}.'),
    a('context', 'You told me {yourPoss} {rel} is {value}.'),
    a('full', "That's {yourPoss} {rel}: {value}."),
  ],
  confirm: [
    a('short', 'Yes.'),
    a('full', 'Yes, {yourPoss} {rel} is {value}.'),
    a('context', 'Yes — you told me {yourPoss} {rel} is {value}.'),
    a('full', "That's right, it's {value}."),
  ],
  'confirm-false': [
    a('short', "No, it's {value}."),
    a('full', 'No, {yourPoss} {rel} is {value}, not {distractor}.'),
    a('context', 'No — you told me {yourPoss} {rel} is {value}.'),
  ],
};

const NAME_ANSWERS: AnswerTable = {
  value: [...NOUN_ANSWERS.value, a('full', '{You} {youBe} called {value}.'), a('context', 'You told me {you} {youBe} called {value}.')],
  subject: [...NOUN_ANSWERS.subject, a('context', 'You told me {you} {youBe} called {value}.')],
  confirm: [...NOUN_ANSWERS.confirm, a('full', 'Yes, {you} {youBe} called {value}.')],
  'confirm-false': [...NOUN_ANSWERS['confirm-false'], a('full', 'No, {you} {youBe} called {value}.')],
};

const DATE_ANSWERS: AnswerTable = {
  ...NOUN_ANSWERS,
  value: [...NOUN_ANSWERS.value, a('short', 'On {value}.'), a('full', '{YourPoss} {rel} falls on {value}.')],
};

const LOCATION_ANSWERS: AnswerTable = {
  value: [
    a('short', '{value}.'),
    a('short', 'In {value}.'),
    a('full', '{You} live{s2} in {value}.'),
    a('full', '{You} {youBe} based in {value}.'),
    a('context', 'You told me {you} live{s2} in {value}.'),
    a('context', 'You mentioned that {you} live{s2} in {value}.'),
    a('context', 'From what you told me, {you} live{s2} in {value}.'),
  ],
  subject: [a('short', '{You}.'), a('full', '{You} live{s2} in {value}.'), a('context', 'You told me {you} live{s2} in {value}.')],
  confirm: [
    a('short', 'Yes.'),
    a('full', 'Yes, {you} live{s2} in {value}.'),
    a('context', 'Yes — you told me {you} live{s2} in {value}.'),
    a('full', "That's right, {value}."),
  ],
  'confirm-false': [
    a('short', 'No, in {value}.'),
    a('full', 'No, {you} live{s2} in {value}, not {distractor}.'),
    a('context', 'No — you told me {you} live{s2} in {value}.'),
  ],
};

const ANSWERS: Record<RelationFamily, AnswerTable> = {
  name: NAME_ANSWERS,
  location: LOCATION_ANSWERS,
  date: DATE_ANSWERS,
  preference: NOUN_ANSWERS,
  generic: NOUN_ANSWERS,
};

/** "I don't know" answers for a fact the user never gave. */
const UNKNOWN_ANSWERS: Record<'noun' | 'location', string[]> = {
  noun: [
    "I don't know — you haven't told me {yourPoss} {rel}.",
    "You haven't told me {yourPoss} {rel}, so I don't know it. If you tell me, I'll remember.",
    "I don't have {yourPoss} {rel}: you never mentioned it.",
  ],
  location: [
    "I don't know — you haven't told me where {you} live{s2}.",
    "You haven't told me where {you} live{s2}, so I can't say.",
    "I don't have that: you never mentioned where {you} live{s2}.",
  ],
};

/** General questions that must not trigger the fact; their answers never mention a value. */
const NEGATIVES: Record<RelationFamily, { question: string; answer: string }[]> = {
  name: [
    {
      question: 'What are popular {noun} names?',
      answer:
        'Popular names change over time and from country to country; short names of one or two syllables are common. Want some ideas?',
    },
    {
      question: 'How do I choose a name for {aNoun}?',
      answer:
        "Pick something short and easy to say, that doesn't sound like a word you use often, and that you will still like in ten years.",
    },
    { question: "What's your name?", answer: "I'm an AI assistant, so I don't have a personal name of my own." },
  ],
  location: [
    {
      question: 'What is it like to live in a big city?',
      answer: 'Big cities offer more jobs, culture and transport, but usually cost more and are busier. It depends on what you value.',
    },
    {
      question: 'How do I find a good place to live?',
      answer:
        'Set a budget, list what matters most (commute, schools, quiet), visit neighbourhoods at different times of day, and compare a few options.',
    },
    { question: 'Where do you live?', answer: "I don't live anywhere — I'm an AI assistant, not a person with a home." },
    {
      question: 'Where do most {nouns} live?',
      answer: 'That varies a lot by country and circumstance; tell me more about what you want to know and I can give you an overview.',
    },
  ],
  date: [
    {
      question: 'How do people usually celebrate {aRel}?',
      answer: 'Traditions vary: many people share a meal, give small gifts or cards, or spend time with family and friends.',
    },
    {
      question: "What's a good gift for {aNoun}'s {rel}?",
      answer: 'Something personal usually works best: an experience you can share, something tied to their hobbies, or a handwritten note.',
    },
    { question: 'When is your {rel}?', answer: "I'm an AI assistant, so I don't have a {rel}." },
  ],
  preference: [
    {
      question: 'What is the most popular {thing}?',
      answer: "Surveys differ by country and age group, so there isn't a single answer — it depends on whom you ask.",
    },
    {
      question: 'Why do people have a favourite {thing}?',
      answer:
        'Favourites usually grow out of early experiences, associations and culture; they often say more about memories than about the thing itself.',
    },
    {
      question: "What's your favourite {thing}?",
      answer: "I don't have personal preferences, but I'm happy to help you explore options you might enjoy.",
    },
    {
      question: 'Which {thing} do most {nouns} like?',
      answer: 'Tastes differ from one to the next; there are surveys, but no answer that holds for everyone.',
    },
  ],
  generic: [
    {
      question: 'What does "{rel}" mean?',
      answer: 'That depends on the context; tell me where you came across it and I can explain.',
    },
    {
      question: "How would I find out {aNoun}'s {rel}?",
      answer:
        'Usually from records or documents, or by asking someone who knows; tell me more about the situation and I can be more specific.',
    },
    { question: "What's your {rel}?", answer: "I'm an AI assistant, so I don't have a {rel} of my own." },
  ],
};

/** Plausible wrong values for the "Is Biscuit my dog's name?" → "No, ..." phrasings. */
const DISTRACTORS: Partial<Record<RelationFamily, string[]>> & { things: Record<string, string[]> } = {
  name: ['Biscuit', 'Max', 'Luna', 'Charlie', 'Milo', 'Sam', 'Robin'],
  location: ['Rotterdam', 'Berlin', 'Lisbon', 'Toronto', 'Osaka', 'Leeds'],
  date: ['3 June', '21 October', '1 January', '14 August', '9 November'],
  things: {
    colour: ['blue', 'green', 'red', 'yellow', 'purple', 'orange'],
    color: ['blue', 'green', 'red', 'yellow', 'purple', 'orange'],
    food: ['pizza', 'sushi', 'pasta', 'curry', 'tacos'],
    drink: ['coffee', 'tea', 'water', 'lemonade'],
    season: ['spring', 'summer', 'autumn', 'winter'],
    animal: ['cat', 'dog', 'horse', 'owl', 'fox'],
    sport: ['football', 'tennis', 'swimming', 'cycling'],
  },
};

/** Subjects and relations to ask about when probing for facts the user never gave. */
const PROBE_SUBJECTS = ['my cat', 'my brother', 'my neighbour', 'my boss', 'my best friend', 'my sister'];
const PROBE_RELATIONS = ['name', 'birthday', 'live in', 'favourite food', 'favourite colour'];
/** The templates an "I don't know" probe is asked with. */
const PROBE_TEMPLATES: Record<'noun' | 'location', string[]> = {
  noun: ['What is {poss} {rel}?', 'Do you remember {poss} {rel}?', "yo what's {poss} {rel}"],
  location: ['Where {do} {subj} live?', 'Do you know where {subj} live{s}?', 'yo where {do} {subj} live'],
};

// ---------------------------------------------------------------------------------------------
// Phrasings

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

// ---------------------------------------------------------------------------------------------
// Records

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
  const known = new Set(facts.map((f) => `${normalisePhrasing(subjectKey(f.subject))}|${relationKey(f.relation)}`));

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

const subjectKey = (subject: string) => (SELF.has(normalisePhrasing(subject)) ? 'i' : normalisePhrasing(subject).replace(/^our /, 'my '));

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
  const isKnown = (subject: string, relation: string) => known.has(`${subjectKey(subject)}|${relationKey(relation)}`);
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
