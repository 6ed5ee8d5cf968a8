// A fact and what the phrasings know of it: the family of its relation (name, location, date,
// preference or any other noun), the grammar of its subject ("my dog" | "I": does/do, is/am, my
// dog's/my, and the assistant's side, "your dog" | "you") that fills the templates' placeholders,
// the key two spellings of one fact share ("I"/"me", "lives in"/"live in") and the fact's id.
import { capitalise, collapse, normalisePhrasing, sha256 } from './fact-text.js';

export interface Fact {
  /** Whose fact, in the user's words: "I", "my dog", "my partner". */
  subject: string;
  /** "name", "live in", "birthday", "favourite colour", or any noun ("car colour"). */
  relation: string;
  value: string;
}

export type RelationFamily = 'name' | 'location' | 'date' | 'preference' | 'generic';

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
export const PREFERENCE_RELATION = /^favou?rite (.+)$/;

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
export interface Grammar {
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
export function grammarOf(fact: Fact, distractor = ''): Grammar {
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
export function fill(template: string, g: Grammar): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const key = (name.charAt(0).toLowerCase() + name.slice(1)) as keyof Grammar;
    const value = g[key];
    if (typeof value !== 'string') throw new Error(`template placeholder {${name}} is not known`);
    return name === key ? value : capitalise(value);
  });
}

const subjectKey = (subject: string) => (SELF.has(normalisePhrasing(subject)) ? 'i' : normalisePhrasing(subject).replace(/^our /, 'my '));

/** Two facts with one key say the same thing about one subject ("I"/"me", "lives in"/"live in"). */
export const factKey = (subject: string, relation: string): string => `${subjectKey(subject)}|${relationKey(relation)}`;

/** A fact's id: sha256 of its normalised subject, relation and value (16 hex digits). */
export function factId(fact: Fact): string {
  return sha256(
    `fact\u0000${normalisePhrasing(fact.subject)}\u0000${relationKey(fact.relation)}\u0000${normalisePhrasing(fact.value)}`,
  ).slice(0, 16);
}
