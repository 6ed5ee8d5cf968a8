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
  /**
   * A turn that opens by pointing back ("Can I generalize this", "Kun je dit vertalen") continues
   * what came before: it starts no topic. Read in the turn's first words.
   */
  anaphora: {
    en: [
      'this',
      'that',
      'these',
      'those',
      'it',
      'them',
      'the (?:above|same|code|answer|previous|last|example|list|text)',
      'also',
      'again',
      'instead',
    ],
    de: ['dies(?:e[rsnm]?)?', 'das', 'es', 'sie', 'auch', 'wieder', 'stattdessen'],
    nl: ['dit', 'dat', 'deze', 'die', 'het', 'ze', 'ook', 'weer', 'in plaats daarvan'],
    fr: ['ce', 'cela', 'ça', 'ceci', 'celui-ci', 'celle-ci', 'les', 'aussi', 'encore', 'plutôt'],
    es: ['esto', 'eso', 'esta', 'este', 'estos', 'lo', 'la', 'también', 'otra vez', 'en cambio'],
  },
  /** The assistant asks the person for something ("Please provide the text"): the answer serves that request. */
  request: {
    en: [
      'please (?:provide|share|paste|send|give)',
      '(?:could|can|would) you (?:provide|share|paste|send|tell me|give)',
      'let me know',
      'what (?:is|are) your',
    ],
    de: ['bitte (?:gib|schick|teile|füge)', '(?:kannst|könntest) du (?:mir )?(?:sagen|schicken|geben|teilen)', 'lass mich wissen'],
    nl: [
      '(?:geef|stuur|deel|plak) (?:me|mij)',
      '(?:kun|kunt|zou) (?:je|u) (?:me |mij )?(?:vertellen|geven|sturen|delen|plakken)',
      'laat (?:me|mij) weten',
    ],
    fr: [
      '(?:merci de|veuillez) (?:fournir|partager|coller|envoyer)',
      '(?:pouvez|pourriez)-vous (?:me )?(?:dire|fournir|partager|envoyer)',
      'dites-moi',
    ],
    es: ['por favor (?:proporciona|comparte|pega|envía)', '(?:puedes|podrías) (?:decirme|darme|compartir|enviar)', 'dime'],
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
// (A hyphen after the phrase makes it part of a compound: "Non-correlated" carries no "non".)
const startPattern = (phrases: readonly string[]) => new RegExp(`^[\\s"'“‘(\\[*_-]*(?:${phrases.join('|')})(?![\\p{L}\\p{N}-])`, 'iu');
const anywherePattern = (phrases: readonly string[]) => new RegExp(`(?<![\\p{L}\\p{N}-])(?:${phrases.join('|')})(?![\\p{L}\\p{N}-])`, 'iu');

function compile(phrases: MarkerPhrases | undefined, languages: readonly string[], pattern: (p: readonly string[]) => RegExp) {
  return languages.flatMap((language) => {
    const list = phrases?.[language];
    return list && list.length > 0 ? [{ language, regex: pattern(list) }] : [];
  });
}

/**
 * Matchers of the configured languages. Each method takes the language of the text (see
 * `guessLanguage`): markers of other languages are not tried, so German "also" (therefore) never
 * fires on English "Also, ..." nor French "non" on "Non-linear". Without a language, all are tried.
 */
export interface Markers {
  languages: readonly string[];
  /** The first relation (in table order) whose marker the sentence carries, for a node of `role`. */
  relationOf(sentence: string, role: string, language?: string): MarkerMatch | undefined;
  isAcceptance(sentence: string, language?: string): boolean;
  isStep(sentence: string, language?: string): boolean;
  isQuestion(text: string, language?: string): boolean;
  /** Whether the text's first words point back at what was said before. */
  pointsBack(text: string, language?: string): boolean;
  /** Whether the text asks the other person for something (read in its last sentences). */
  asksFor(text: string, language?: string): boolean;
}

/** Where a turn sets its subject: its first few words. */
const OPENING_WORDS = 4;
const openingWords = (text: string) => text.trim().split(/\s+/).slice(0, OPENING_WORDS).join(' ');

/** Whether a matcher of `language` applies to a text of `textLanguage` (undefined: any). */
export const inLanguage = (language: string, textLanguage: string | undefined) =>
  textLanguage === undefined || language === textLanguage || language === '*';

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
  const anaphora = compile(SIGNAL_PHRASES.anaphora, languages, anywherePattern);
  const request = compile(SIGNAL_PHRASES.request, languages, anywherePattern);
  const any = (matchers: { language: string; regex: RegExp }[], text: string, textLanguage: string | undefined) =>
    matchers.some((m) => inLanguage(m.language, textLanguage) && m.regex.test(text));
  return {
    languages,
    relationOf(sentence, role, textLanguage) {
      for (const { spec, start, sentence: inside } of relations) {
        if (spec.role && spec.role !== 'any' && spec.role !== role) continue;
        for (const [at, matchers] of [
          ['start', start],
          ['sentence', inside],
        ] as const) {
          for (const { language, regex } of matchers) {
            if (!inLanguage(language, textLanguage)) continue;
            const match = regex.exec(sentence);
            if (match) return { relation: spec.name, phrase: match[0].replace(/^[\s"'“‘([*_-]+/u, '').toLowerCase(), language, at };
          }
        }
      }
      return undefined;
    },
    isAcceptance: (sentence, language) => any(acceptance, sentence, language),
    isStep: (sentence, language) => any(step, sentence, language),
    isQuestion: (text, language) => /\?\s*$/.test(text.trim()) || any(question, text, language),
    pointsBack: (text, language) => any(anaphora, openingWords(text), language),
    asksFor: (text, language) => /\?\s*$/.test(text.trim()) || any(request, text.slice(-300), language),
  };
}
