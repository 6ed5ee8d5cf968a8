import type { RelationSpec } from './index.js';

/**
 * The relation vocabulary of the cognitive graph: one row per relation type. Adding a type is
 * adding a row here; the segmenter, the graph (relationship type `name.toUpperCase()`) and the
 * sample weights read this table and nothing else.
 *
 * `detect` says which signal produces the relation:
 * - `sequence`  every node to the node before it (the backbone of a trajectory);
 * - `turn`      an assistant node to the user node it answers;
 * - `marker`    the node opens with (or its first sentence holds) one of `markers`;
 * - `topic`     the topic-shift detector found a new topic here (markers make it certain);
 * - `revision`  a revised answer after a challenge, or a question restated after one;
 * - `chain`     a refinement chain's start to its end.
 *
 * Markers are regular expressions (case-insensitive, Unicode) per language. `start` ones must open
 * the node's first sentence; `sentence` ones may sit anywhere in it. Order matters: when several
 * marker relations match, the earliest row wins.
 */
export const RELATION_TABLE: readonly RelationSpec[] = [
  {
    name: 'follows',
    detect: 'sequence',
    weight: 1.0,
    description: 'The next thought in order; every node follows the one before it.',
  },
  {
    name: 'responds',
    detect: 'turn',
    weight: 1.0,
    description: 'An answer to what the other author said.',
  },
  {
    name: 'iteration_final',
    detect: 'chain',
    weight: 2.5,
    description: 'From the start of a refinement chain to the thought it converged on.',
  },
  {
    name: 'refines',
    detect: 'revision',
    weight: 2.0,
    description: 'A corrected, narrowed or revised version of an earlier thought.',
    role: 'any',
    markers: {
      start: {
        en: [
          'actually',
          'instead',
          'rather',
          'correction',
          'on second thought',
          "you're right",
          'you are right',
          'good point',
          'fair point',
          'let me rephrase',
          'to be more precise',
          'more precisely',
          'more specifically',
          'i meant',
          'what i meant',
        ],
        de: [
          'eigentlich',
          'stattdessen',
          'vielmehr',
          'korrektur',
          'genauer gesagt',
          'besser gesagt',
          'du hast recht',
          'sie haben recht',
          'guter punkt',
          'ich meinte',
          'präziser',
        ],
      },
    },
  },
  {
    name: 'restarts',
    detect: 'topic',
    weight: 1.3,
    description: 'A new topic begins; the thought does not continue the one before it.',
    role: 'user',
    markers: {
      start: {
        en: [
          'new topic',
          'unrelated',
          'different question',
          'another question',
          'by the way',
          'switching gears',
          'changing the subject',
          'on another note',
          "let's talk about",
          'let us talk about',
          'moving on',
        ],
        de: [
          'neues thema',
          'anderes thema',
          'andere frage',
          'übrigens',
          'themenwechsel',
          'etwas ganz anderes',
          'lass uns über',
          'nächstes thema',
        ],
      },
    },
  },
  {
    name: 'contrasts',
    detect: 'marker',
    weight: 1.0,
    description: 'Sets the thought against the one before it: an objection, a caveat, pushback.',
    role: 'any',
    markers: {
      start: {
        en: [
          'but',
          'however',
          'no',
          'nope',
          'not quite',
          'on the other hand',
          'in contrast',
          'whereas',
          'although',
          'that is wrong',
          "that's wrong",
          "that's not",
          'i disagree',
          // The interjection ("Wait, ..."), not the verb ("Wait for the starter to peak").
          'wait(?=\\s*[,!:;—–-])',
        ],
        de: [
          'aber',
          'jedoch',
          'allerdings',
          'nein',
          'nicht ganz',
          'andererseits',
          'im gegensatz',
          'das stimmt nicht',
          'das ist falsch',
          'moment(?=\\s*[,!:;—–-])',
        ],
      },
      sentence: {
        en: [
          "(?:won't|wont|will not|isn't|is not|doesn't|does not|can't|cannot|didn't|did not)\\s+(?:\\w+\\s+){0,2}(?:enough|work|working|help|fit|run|compile)",
          'too (?:expensive|slow|big|small|heavy|much|little|old)',
        ],
        de: [
          '(?:reicht|passt|funktioniert|hilft|läuft|klappt)\\s+(?:\\w+\\s+){0,2}nicht',
          'zu (?:teuer|langsam|groß|klein|schwer|wenig|viel)',
          'nicht genug',
        ],
      },
    },
  },
  {
    name: 'derives',
    detect: 'marker',
    weight: 1.5,
    description: 'A conclusion drawn from the thought before it.',
    role: 'any',
    markers: {
      start: {
        en: [
          'so',
          'therefore',
          'thus',
          'hence',
          'consequently',
          'that means',
          'which means',
          'it follows that',
          'as a result',
          'in that case',
          'then',
        ],
        de: ['daher', 'deshalb', 'deswegen', 'folglich', 'somit', 'demnach', 'das bedeutet', 'dann', 'also'],
      },
    },
  },
  {
    name: 'hypothesizes',
    detect: 'marker',
    weight: 1.3,
    description: 'A testable guess about a cause or an answer.',
    role: 'any',
    markers: {
      start: {
        en: [
          'maybe',
          'perhaps',
          'possibly',
          'probably',
          'my guess is',
          'i suspect',
          'i think',
          'i believe',
          'my hypothesis',
          'could it be',
          'is it possible that',
          'it might be',
          'it could be',
        ],
        de: [
          'vielleicht',
          'möglicherweise',
          'wahrscheinlich',
          'ich vermute',
          'ich glaube',
          'ich denke',
          'meine vermutung',
          'könnte es sein',
          'kann es sein',
          'es könnte',
        ],
      },
    },
  },
  {
    name: 'speculates',
    detect: 'marker',
    weight: 1.5,
    description: 'An open-ended what-if beyond what is known or asked.',
    role: 'any',
    markers: {
      start: {
        en: ['what if', 'imagine', 'suppose', 'i wonder', 'hypothetically', 'in theory', 'someday', 'in the future', "wouldn't it be"],
        de: [
          'was wäre wenn',
          'was wenn',
          'stell dir vor',
          'angenommen',
          'ich frage mich',
          'hypothetisch',
          'theoretisch',
          'irgendwann',
          'in zukunft',
        ],
      },
    },
  },
  {
    name: 'clarifies',
    detect: 'marker',
    weight: 1.0,
    description: 'Makes an earlier thought clearer, or asks for that.',
    role: 'any',
    markers: {
      start: {
        en: [
          'to clarify',
          'in other words',
          'i mean',
          'that is',
          'what do you mean',
          'can you explain',
          'could you explain',
          'could you clarify',
          'to be clear',
          'just to be clear',
        ],
        de: [
          'anders gesagt',
          'mit anderen worten',
          'ich meine',
          'das heißt',
          'was meinst du',
          'kannst du erklären',
          'könntest du erklären',
          'zur klarstellung',
          'um es klar zu sagen',
        ],
      },
    },
  },
];
