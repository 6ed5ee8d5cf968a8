import { type MarkerPhrases, RELATION_TABLE, type RelationSpec } from '@trajectory/relations';

/**
 * Cue phrases that are not relations but steer the segmenter, per language. Relation markers live
 * in the relation table (@trajectory/relations); these say where a refinement chain converges and
 * where a new step of an explanation begins.
 */
export const SIGNAL_PHRASES = {
  /** The user takes an answer: a refinement chain may converge here. */
  acceptance: {
    en: [
      'thanks',
      'thank you',
      'perfect',
      'great',
      'that works',
      'it works',
      'works now',
      'got it',
      'makes sense',
      'exactly',
      'awesome',
      'that did it',
      'solved',
    ],
    de: [
      'danke',
      'perfekt',
      'super',
      'das funktioniert',
      'es funktioniert',
      'klappt',
      'verstanden',
      'ergibt sinn',
      'genau',
      'passt',
      'gelöst',
    ],
    nl: [
      'bedankt',
      'dank je',
      'dank u',
      'perfect',
      'top',
      'het werkt',
      'dat werkt',
      'werkt nu',
      'duidelijk',
      'precies',
      'opgelost',
      'helder',
    ],
    fr: ['merci', 'parfait', 'super', 'ça marche', 'ça fonctionne', 'cela fonctionne', 'compris', 'exactement', 'résolu', 'génial'],
    es: ['gracias', 'perfecto', 'genial', 'funciona', 'ya funciona', 'entendido', 'exacto', 'resuelto', 'estupendo'],
  },
  /** A new step of an explanation or a plan, at the start of a paragraph. */
  step: {
    en: [
      'first(?:ly)?',
      'second(?:ly)?',
      'third(?:ly)?',
      'next',
      'finally',
      'lastly',
      'step \\d+',
      'option \\d+',
      'alternatively',
      'in summary',
      'to summarize',
      'overall',
    ],
    de: [
      'erstens',
      'zweitens',
      'drittens',
      'zuerst',
      'als nächstes',
      'schließlich',
      'zuletzt',
      'schritt \\d+',
      'option \\d+',
      'alternativ',
      'zusammenfassend',
      'insgesamt',
    ],
    nl: [
      'ten eerste',
      'ten tweede',
      'ten derde',
      'eerst',
      'vervolgens',
      'daarna',
      'tot slot',
      'ten slotte',
      'stap \\d+',
      'optie \\d+',
      'als alternatief',
      'samengevat',
      'kortom',
    ],
    fr: [
      'premièrement',
      'deuxièmement',
      'troisièmement',
      "d'abord",
      'ensuite',
      'enfin',
      'finalement',
      'étape \\d+',
      'option \\d+',
      'sinon',
      'en résumé',
      'pour résumer',
    ],
    es: [
      'primero',
      'segundo',
      'tercero',
      'en primer lugar',
      'luego',
      'después',
      'finalmente',
      'por último',
      'paso \\d+',
      'opción \\d+',
      'alternativamente',
      'en resumen',
    ],
  },
  /** Question words, for questions written without a question mark. */
  question: {
    en: [
      'what',
      'which',
      'how',
      'why',
      'when',
      'where',
      'who',
      'should i',
      'can you',
      'could you',
      'is there',
      'are there',
      'do you',
      'does',
    ],
    de: ['was', 'welche[rsmn]?', 'wie', 'warum', 'wann', 'wo', 'wer', 'soll ich', 'kannst du', 'könntest du', 'gibt es'],
    nl: ['wat', 'welke?', 'hoe', 'waarom', 'wanneer', 'waar', 'wie', 'moet ik', 'kun je', 'kunt u', 'zou je', 'is er', 'zijn er'],
    fr: [
      'que',
      "qu'est-ce",
      'quel(?:le)?s?',
      'comment',
      'pourquoi',
      'quand',
      'où',
      'qui',
      'dois-je',
      'peux-tu',
      'pouvez-vous',
      'est-ce que',
      'y a-t-il',
    ],
    es: ['qué', 'cuál(?:es)?', 'cómo', 'por qué', 'cuándo', 'dónde', 'quién', 'debo', 'puedes', 'podrías', 'hay'],
  },
} satisfies Record<string, MarkerPhrases>;

export interface MarkerMatch {
  relation: string;
  /** The phrase as written in the text. */
  phrase: string;
  language: string;
  /** `start` markers open the sentence and are surer than ones found inside it. */
  at: 'start' | 'sentence';
}

// Optional leading punctuation or quotes, then the phrase as whole words.
const startPattern = (phrases: readonly string[]) => new RegExp(`^[\\s"'“‘(\\[*_-]*(?:${phrases.join('|')})(?![\\p{L}\\p{N}])`, 'iu');
const anywherePattern = (phrases: readonly string[]) => new RegExp(`(?<![\\p{L}\\p{N}])(?:${phrases.join('|')})(?![\\p{L}\\p{N}])`, 'iu');

function compile(phrases: MarkerPhrases | undefined, languages: readonly string[], pattern: (p: readonly string[]) => RegExp) {
  return languages.flatMap((language) => {
    const list = phrases?.[language];
    return list && list.length > 0 ? [{ language, regex: pattern(list) }] : [];
  });
}

export interface Markers {
  languages: readonly string[];
  /** The first relation (in table order) whose marker the sentence carries, for a node of `role`. */
  relationOf(sentence: string, role: string): MarkerMatch | undefined;
  isAcceptance(sentence: string): boolean;
  isStep(sentence: string): boolean;
  isQuestion(text: string): boolean;
}

/** Marker matchers for the configured languages (ISO 639-1 codes, e.g. `['en', 'de']`). */
export function compileMarkers(languages: readonly string[], table: readonly RelationSpec[] = RELATION_TABLE): Markers {
  const unknown = languages.filter((l) => !table.some((spec) => spec.markers?.start?.[l] || spec.markers?.sentence?.[l]));
  if (unknown.length > 0) throw new Error(`no relation markers for language(s) ${unknown.join(', ')}: add them to the relation table`);
  const relations = table
    .filter((spec) => spec.markers)
    .map((spec) => ({
      spec,
      start: compile(spec.markers?.start, languages, startPattern),
      sentence: compile(spec.markers?.sentence, languages, anywherePattern),
    }));
  const acceptance = compile(SIGNAL_PHRASES.acceptance, languages, startPattern);
  const step = compile(SIGNAL_PHRASES.step, languages, startPattern);
  const question = compile(SIGNAL_PHRASES.question, languages, startPattern);
  const any = (matchers: { regex: RegExp }[], text: string) => matchers.some((m) => m.regex.test(text));
  return {
    languages,
    relationOf(sentence, role) {
      for (const { spec, start, sentence: inside } of relations) {
        if (spec.role && spec.role !== 'any' && spec.role !== role) continue;
        for (const [at, matchers] of [
          ['start', start],
          ['sentence', inside],
        ] as const) {
          for (const { language, regex } of matchers) {
            const match = regex.exec(sentence);
            if (match) return { relation: spec.name, phrase: match[0].replace(/^[\s"'“‘([*_-]+/u, '').toLowerCase(), language, at };
          }
        }
      }
      return undefined;
    },
    isAcceptance: (sentence) => any(acceptance, sentence),
    isStep: (sentence) => any(step, sentence),
    isQuestion: (text) => /\?\s*$/.test(text.trim()) || any(question, text),
  };
}
