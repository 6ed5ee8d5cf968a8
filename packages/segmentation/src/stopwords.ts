/**
 * Stopword tables for lexical cohesion (TextTiling). Modest on purpose: closed-class function words
 * (articles, pronouns, auxiliaries, prepositions, conjunctions, common adverbs) plus a few chat
 * interjections (hi, ok, yeah, thanks), which carry no topic. Lowercase, as `lexicalTokens` produces
 * them; English contractions appear both whole ("don't") and as the pieces a tokenizer that splits
 * on the apostrophe leaves ("don", "t"), since chat exports contain both spellings.
 */

const ENGLISH = `
a about above after again against all also am an and any are aren't as at
be because been before being below between both but by
can can't cannot could couldn't
did didn't do does doesn't doing don don't down during
each either else ever every
few for from further
get got
had hadn't has hasn't have haven't having he he's her here hers herself him himself his how
i i'd i'll i'm i've if in into is isn't it it's its itself
just
let's ll
me more most much must my myself
no nor not now
of off on once one only or other our ours ourselves out over own
re
same she she's should shouldn't so some such
than that that's the their theirs them themselves then there there's these they they're this those
through to too
under until up us
ve very
was wasn't we we're were weren't what what's when where which while who whom why will with won't
would wouldn't
you you'd you'll you're you've your yours yourself yourselves
hi hello hey ok okay oh yes yeah yep nope please thanks thank lol um uh
`;

const GERMAN = `
aber alle allem allen aller alles als also am an ander andere anderen auch auf aus
bei beim bin bis bist
da damit dann das dass dem den denn der des dich die dies diese diesem diesen dieser dieses dir doch dort du durch
ein eine einem einen einer eines er es etwas euch euer
für
gegen gewesen
hab habe haben hat hatte hätte
ich ihm ihn ihnen ihr ihre ihrem ihren ihrer im in ins ist
ja jede jedem jeden jeder jedes jetzt
kann kein keine keinem keinen keiner können könnte
man manche mein meine meinem meinen meiner mich mir mit muss
nach nicht nichts noch nun nur
ob oder ohne
schon sehr sein seine seinem seinen seiner sich sie sind so soll sollte sonst
um und uns unser unsere unter
viel vom von vor
war waren warst was weil weiter welche welchem welchen welcher welches wenn wer werde werden wie wieder will wir wird wo wollen
zu zum zur zwar zwischen
hallo hi hey ok okay ach na nein danke bitte genau
`;

const DUTCH = `
aan al alle alles als altijd andere ben bij daar dan dat de der deze die dit doch doen door dus
een eens en er ge geen geweest haar had heb hebben heeft hem het hier hij hoe hun
iemand iets ik in is ja je jij jou jouw jullie kan kon kunnen kun maar me meer men met mij mijn moet
na naar niet niets nog nu of om omdat onder ons ook op over reeds te tegen toch toen tot u uit uw
van veel voor want waren was wat we wel werd wezen wie wij wil worden wordt zal ze zelf zich zij zijn zo zonder zou
hallo hoi oké ok nee dank bedankt alsjeblieft graag
`;

const FRENCH = `
à ai aie aient ait as au aucun aussi autre aux avec avez avoir avons
c ça ce ceci cela celle celles celui ces cet cette chez comme comment d dans de des donc du
elle elles en encore est et été être eu fait faire il ils j je l la le les leur leurs lui
m ma mais me même mes moi mon n ne ni nos notre nous on ont ou où par pas peu peut plus pour pourquoi
qu quand que quel quelle quelles quels qui s sa sans se ses si son sont sous suis sur t ta te tes toi ton
tous tout toute toutes très tu un une vos votre vous y
bonjour salut ok oui non merci
`;

const SPANISH = `
a al algo algunas algunos ante antes como con contra cual cuando de del desde donde durante
e el ella ellas ellos en entre era es esa esas ese eso esos esta estaba están estar este esto estos
fue fueron ha han hay la las le les lo los más me mi mis muy nada ni no nos nosotros o otra otro
para pero poco por porque que qué quien se sea ser si sí sin sobre son su sus también tan te tengo
tiene todo todos tu tú tus un una uno unos usted y ya yo
hola ok vale gracias
`;

const words = (table: string): ReadonlySet<string> => new Set(table.split(/\s+/).filter((w) => w.length > 0));

/** Stopword sets by ISO 639-1 code. */
export const STOPWORDS: Readonly<Record<string, ReadonlySet<string>>> = {
  en: words(ENGLISH),
  de: words(GERMAN),
  nl: words(DUTCH),
  fr: words(FRENCH),
  es: words(SPANISH),
};

/** Languages that have a stopword table. */
export const STOPWORD_LANGUAGES: readonly string[] = Object.keys(STOPWORDS);

/** The primary subtag of a language code, lowercased: `en-US` and `EN` become `en`. */
export function primaryLanguage(code: string): string {
  return (code.split(/[-_]/)[0] ?? '').toLowerCase();
}

/**
 * The union of the stopword tables of `languages` (codes such as `en`, `de`, `en-GB`). A language
 * without a table contributes nothing: text in it keeps its function words, which only weakens,
 * never breaks, lexical cohesion.
 */
export function stopwordsFor(languages: readonly string[]): ReadonlySet<string> {
  const union = new Set<string>();
  for (const code of languages) {
    const table = STOPWORDS[primaryLanguage(code)];
    if (table) for (const w of table) union.add(w);
  }
  return union;
}

const WORD = /[\p{L}']+/gu;

/**
 * The language of a text among `languages`: the one whose stopwords it uses most (function words
 * are what distinguishes languages in a few sentences). Ties, and a text with none, go to the first
 * of `languages`.
 */
export function guessLanguage(text: string, languages: readonly string[]): string {
  const codes = languages.map(primaryLanguage);
  const hits = new Map(codes.map((code) => [code, 0]));
  for (const word of text.toLowerCase().match(WORD) ?? []) {
    for (const code of codes) if (STOPWORDS[code]?.has(word)) hits.set(code, (hits.get(code) ?? 0) + 1);
  }
  let best = codes[0] ?? '';
  for (const code of codes) if ((hits.get(code) ?? 0) > (hits.get(best) ?? 0)) best = code;
  return best;
}
