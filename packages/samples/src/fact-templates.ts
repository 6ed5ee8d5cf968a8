// The templates of the fact phrasings (data): questions, answers, the general questions that must
// not trigger a fact, plausible wrong values, and the probes for facts never given. `noun` templates
// apply to name, date, preference and generic relations (the relation is a noun: "my dog's name");
// each family adds its own; location ("live in") has its own set.
import type { RelationFamily } from './fact-grammar.js';

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

const q = (id: string, text: string, formality: Formality, directness: Directness, ask: Ask, self?: boolean): QuestionTemplate =>
  self === undefined ? { id, text, formality, directness, ask } : { id, text, formality, directness, ask, self };

export const NOUN_QUESTIONS: QuestionTemplate[] = [
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

export const FAMILY_QUESTIONS: Record<RelationFamily, QuestionTemplate[]> = {
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

export type AnswerTable = Record<Ask, AnswerTemplate[]>;

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

export const ANSWERS: Record<RelationFamily, AnswerTable> = {
  name: NAME_ANSWERS,
  location: LOCATION_ANSWERS,
  date: DATE_ANSWERS,
  preference: NOUN_ANSWERS,
  generic: NOUN_ANSWERS,
};

/** "I don't know" answers for a fact the user never gave. */
export const UNKNOWN_ANSWERS: Record<'noun' | 'location', string[]> = {
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
export const NEGATIVES: Record<RelationFamily, { question: string; answer: string }[]> = {
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
export const DISTRACTORS: Partial<Record<RelationFamily, string[]>> & { things: Record<string, string[]> } = {
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
export const PROBE_SUBJECTS = ['my cat', 'my brother', 'my neighbour', 'my boss', 'my best friend', 'my sister'];
export const PROBE_RELATIONS = ['name', 'birthday', 'live in', 'favourite food', 'favourite colour'];
/** The templates an "I don't know" probe is asked with. */
export const PROBE_TEMPLATES: Record<'noun' | 'location', string[]> = {
  noun: ['What is {poss} {rel}?', 'Do you remember {poss} {rel}?', "yo what's {poss} {rel}"],
  location: ['Where {do} {subj} live?', 'Do you know where {subj} live{s}?', 'yo where {do} {subj} live'],
};
