import { type MarkerPhrases, RELATION_TABLE, type RelationSpec } from '@trajectory/relations';
import { inLanguage } from './markers.js';
import { guessLanguage } from './stopwords.js';
import { splitIntoUnits } from './units.js';

/**
 * Refinement episodes: where a person's request or an answer was challenged and revised.
 *
 * Two kinds, as in the annotation guidelines of fixtures/refinement:
 * - **pushback**: a user turn that challenges, corrects or reports a failure of an earlier answer
 *   (a disputed claim, a pasted error after applying the answer, an ignored instruction repeated,
 *   "that is incomplete"); its revision is the next answer;
 * - **self-refine**: a user turn that changes or narrows the user's own earlier request (a new
 *   constraint, a changed instruction, "I wasn't clear"); its target is that earlier request.
 *
 * Both sides of the conversation count: the user's cue and the assistant's reply, which usually
 * says so ("You're right", "Excuses voor het misverstand"). The cue phrases are data: the `cues`
 * of the `refines` row of the relation table, per language.
 */

export type RefinementKind = 'pushback' | 'self_refine';

/** The cue lists the detector reads, by name (see the relation table's `refines` row). */
export const CUE_NAMES = [
  'challenge',
  'failure',
  'error',
  'instruction',
  'incomplete',
  'narrowing',
  'constraint',
  'reframing',
  'acknowledgement',
  'diagnosis',
  'edit',
] as const;
export type CueName = (typeof CUE_NAMES)[number];

/** User cues that make a turn pushback on the answer before it, and how sure each is alone. */
const PUSHBACK_CUES: Partial<Record<CueName, number>> = { error: 0.8, failure: 0.8, instruction: 0.75, incomplete: 0.75, challenge: 0.7 };
/** User cues that make a turn a refinement of the user's own request. */
const SELF_REFINE_CUES: Partial<Record<CueName, number>> = { narrowing: 0.7, constraint: 0.65, reframing: 0.7 };
/** Cues read at the head and tail of a user turn: requests and complaints sit there, not in a pasted document. */
const HEAD_SENTENCES = 3;
const TAIL_SENTENCES = 2;
/** The assistant acknowledges a mistake in its opening sentences, not deep in an explanation. */
const ACK_SENTENCES = 2;

export interface CueMatch {
  cue: CueName;
  phrase: string;
  language: string;
}

/** Cue matchers; like markers, each method takes the text's language and tries only that one's (and `*`). */
export interface RefinementCues {
  languages: readonly string[];
  /** The first cue of `names` found in `text`. */
  find(names: readonly CueName[], text: string, language?: string): CueMatch | undefined;
  /** The relation table's `refines` or `contrasts` opener the text starts with, and its language. */
  opener(text: string, language?: string): { relation: 'refines' | 'contrasts'; language: string } | undefined;
}

const anywhere = (phrases: readonly string[]) => new RegExp(`(?<![\\p{L}\\p{N}-])(?:${phrases.join('|')})(?![\\p{L}\\p{N}-])`, 'iu');
const opening = (phrases: readonly string[]) => new RegExp(`^[\\s"'“‘(\\[*_-]*(?:${phrases.join('|')})(?![\\p{L}\\p{N}-])`, 'iu');

function phrasesOf(lists: MarkerPhrases | undefined, languages: readonly string[]) {
  return [...languages, '*'].flatMap((language) => {
    const list = lists?.[language];
    return list && list.length > 0 ? [{ language, list }] : [];
  });
}

/** The refinement cues of the configured languages, compiled once. */
export function compileRefinementCues(languages: readonly string[], table: readonly RelationSpec[] = RELATION_TABLE): RefinementCues {
  const refines = table.find((spec) => spec.name === 'refines');
  const contrasts = table.find((spec) => spec.name === 'contrasts');
  const cues = new Map<CueName, { language: string; regex: RegExp }[]>();
  for (const name of CUE_NAMES) {
    cues.set(
      name,
      phrasesOf(refines?.cues?.[name], languages).map(({ language, list }) => ({ language, regex: anywhere(list) })),
    );
  }
  const openers = (spec: RelationSpec | undefined) =>
    phrasesOf(spec?.markers?.start, languages).map(({ language, list }) => ({ language, regex: opening(list) }));
  const refinesOpeners = openers(refines);
  const contrastsOpeners = openers(contrasts);
  return {
    languages,
    find(names, text, textLanguage) {
      for (const cue of names) {
        for (const { language, regex } of cues.get(cue) ?? []) {
          if (!inLanguage(language, textLanguage)) continue;
          const match = regex.exec(text);
          if (match) return { cue, phrase: match[0].trim().toLowerCase(), language };
        }
      }
      return undefined;
    },
    opener(text, textLanguage) {
      for (const [relation, list] of [
        ['refines', refinesOpeners],
        ['contrasts', contrastsOpeners],
      ] as const) {
        const match = list.find((m) => inLanguage(m.language, textLanguage) && m.regex.test(text));
        if (match) return { relation, language: match.language };
      }
      return undefined;
    },
  };
}

/** A message of the conversation as the detector sees it, in the order the person read them. */
export interface RefinementTurn {
  role: string;
  /** The whole text, code included (a pasted error often sits in a code block). */
  text: string;
  /** The prose sentences, in order. */
  sentences: readonly string[];
  /** The turn's language (ISO 639-1): its cues are read in that language. Undefined: every language. */
  language?: string;
  /** A topic starts at this turn: nothing before it is refined by it. */
  topicStart?: boolean;
}

export interface RefinementEpisode {
  kind: RefinementKind;
  /** Turn indexes: the user turn that challenges or refines, the answer it reacts to, the revision. */
  trigger: number;
  answered: number;
  /** What is refined: the answer for pushback, the user's own earlier request for a self-refine. */
  target: number;
  revision?: number;
  confidence: number;
  /** What fired: `cue:<name>` (with the phrase) and `acknowledged` when the reply admits it. */
  evidence: CueMatch[];
  acknowledged: boolean;
  /** The turn restates its chain's idea in refined form: it ends the chain and `refines` the idea. */
  restates?: boolean;
}

export type ChainStepRole = 'idea' | 'answer' | 'challenge' | 'revision' | 'convergence';
export type Convergence = 'restated' | 'accepted' | 'moved-on' | 'open';

export interface RefinementChainPlan {
  steps: { turn: number; role: ChainStepRole }[];
  converged: Convergence;
  episodes: RefinementEpisode[];
  /** The user turn that restates the idea in its refined form, and how close it is to the idea. */
  convergence?: { turn: number; similarity: number };
}

export interface DetectOptions {
  /** How alike two turns are (0..1), for a restated idea; embedding cosine or lexical cohesion. */
  similarity?: (a: number, b: number) => number;
  /** A restatement is at least this close to the idea. */
  restatedSimilarity?: number;
  /** A pasted error is about an answer when at least this close to one of the last answers. */
  relatedSimilarity?: number;
  /** Whether a user turn accepts an answer ("thanks, that works"). */
  isAcceptance?: (text: string) => boolean;
  /** Whether a user turn asks something: a restated idea is a question (or carries a reframing cue). */
  isQuestion?: (text: string) => boolean;
}

/** The first `head` and the last `tail` sentences, each once. */
const endSentences = (sentences: readonly string[], head: number, tail: number) =>
  sentences.filter((_, i) => i < head || i >= sentences.length - tail);
/** Cues are matched sentence by sentence, so a cue may be anchored at a sentence's start (`^`). */
const firstMatch = (cues: RefinementCues, cue: CueName, sentences: readonly string[], language: string | undefined) => {
  for (const sentence of sentences) {
    const match = cues.find([cue], sentence, language);
    if (match) return match;
  }
  return undefined;
};

/** The cues of a user turn: in its first and last sentences, and pasted errors anywhere. */
function userCues(turn: RefinementTurn, cues: RefinementCues): CueMatch[] {
  const ends = endSentences(turn.sentences, HEAD_SENTENCES, TAIL_SENTENCES);
  const found: CueMatch[] = [];
  for (const cue of CUE_NAMES) {
    if (cue === 'acknowledgement' || cue === 'diagnosis') continue;
    const match = cue === 'error' ? cues.find([cue], turn.text) : firstMatch(cues, cue, ends, turn.language);
    if (match) found.push(match);
  }
  const opener = cues.opener(turn.sentences[0] ?? '', turn.language);
  if (opener?.relation === 'refines' && !found.some((m) => m.cue === 'narrowing')) {
    found.push({ cue: 'narrowing', phrase: 'opener', language: opener.language });
  }
  return found;
}

/**
 * The turns of messages (in reading order) as the detector sees them: whole text, prose sentences,
 * and the language among `languages` that the prose is written in.
 */
export function refinementTurns(messages: readonly { role: string; text: string }[], languages: readonly string[]): RefinementTurn[] {
  return messages.map((message) => {
    const sentences = splitIntoUnits(message.text)
      .filter((u) => !u.code)
      .map((u) => u.text);
    return { role: message.role, text: message.text, sentences, language: guessLanguage(sentences.join(' '), languages) };
  });
}

/** Everything the detector knows about one user turn that reacts to an answer. */
export interface TurnEvidence {
  answered: number;
  reply: number;
  found: CueMatch[];
  ack?: CueMatch | undefined;
  diagnosis?: CueMatch | undefined;
  acknowledged: boolean;
  /** How sure the cues make a pushback and a self-refinement (0 when no cue of the family fired). */
  pushback: number;
  selfRefine: number;
}

/** How many of the last answers a challenge may be about, and how much closer an earlier one must be to win. */
const RECENT_ANSWERS = 3;
const EARLIER_ANSWER_MARGIN = 0.1;

/** The last assistant turns before `i` within its topic, the latest first. */
function recentAnswers(turns: readonly RefinementTurn[], i: number, topicStart: readonly boolean[]): number[] {
  const found: number[] = [];
  for (let k = i - 1; k >= 0 && found.length < RECENT_ANSWERS; k--) {
    if (turns[k]?.role === 'assistant') found.push(k);
    if (topicStart[k]) break;
  }
  return found;
}

/** The nearest earlier turn of `role` within the topic of `i` (a topic start is its topic's first turn). */
function previousTurn(turns: readonly RefinementTurn[], i: number, role: string, topicStart: readonly boolean[]): number {
  for (let k = i - 1; k >= 0; k--) {
    if (turns[k]?.role === role) return k;
    if (topicStart[k]) return -1;
  }
  return -1;
}

function nextAnswer(turns: readonly RefinementTurn[], i: number): number {
  for (let k = i + 1; k < turns.length; k++) {
    const role = turns[k]?.role;
    if (role === 'assistant') return k;
    if (role === 'user') return -1;
  }
  return -1;
}

/**
 * The evidence of user turn `i`: its cues, the reply's, and the features the model reads;
 * undefined when the turn reacts to no answer (the first exchange of its topic).
 */
export function turnEvidence(
  turns: readonly RefinementTurn[],
  i: number,
  cues: RefinementCues,
  topicStart: readonly boolean[] = turns.map((t) => Boolean(t.topicStart)),
): TurnEvidence | undefined {
  const turn = turns[i];
  if (turn?.role !== 'user') return undefined;
  const answered = previousTurn(turns, i, 'assistant', topicStart);
  if (answered < 0) return undefined;
  const found = userCues(turn, cues);
  const reply = nextAnswer(turns, i);
  const replyTurn = reply >= 0 ? turns[reply] : undefined;
  const ack = replyTurn ? firstMatch(cues, 'acknowledgement', replyTurn.sentences.slice(0, ACK_SENTENCES), replyTurn.language) : undefined;
  const acknowledgedOpener = replyTurn ? cues.opener(replyTurn.sentences[0] ?? '', replyTurn.language)?.relation === 'refines' : false;
  const acknowledged = Boolean(ack) || acknowledgedOpener;
  // The answer explains an error: the user reported a failure, even in words no cue list has.
  const diagnosis = replyTurn ? firstMatch(cues, 'diagnosis', replyTurn.sentences.slice(0, ACK_SENTENCES), replyTurn.language) : undefined;
  const has = (cue: CueName) => found.some((m) => m.cue === cue);
  const strongest = (weights: Partial<Record<CueName, number>>) => Math.max(0, ...found.map((m) => weights[m.cue] ?? 0));
  let pushback = strongest(PUSHBACK_CUES);
  let selfRefine = strongest(SELF_REFINE_CUES);
  const contrastOpener = cues.opener(turn.sentences[0] ?? '', turn.language)?.relation === 'contrasts';
  const isEdit = has('edit');
  // A request to reformat or shorten generated text is not a refinement (the guidelines), unless
  // the turn also disputes the answer or reports a failure.
  if (isEdit && pushback === 0) selfRefine = 0;
  if (diagnosis && pushback === 0) pushback = 0.6;
  if (acknowledged) {
    // The reply admits the challenge: any user cue, even a weak "but", becomes sure.
    if (pushback === 0 && selfRefine === 0) {
      if (contrastOpener) pushback = 0.6;
      else if (!isEdit) pushback = 0.55;
    }
    pushback = pushback > 0 ? Math.min(1, pushback + 0.2) : 0;
    selfRefine = selfRefine > 0 ? Math.min(1, selfRefine + 0.2) : 0;
  }
  return {
    answered,
    reply,
    found,
    ack,
    diagnosis,
    acknowledged,
    pushback,
    selfRefine,
  };
}

/**
 * Finds the refinement episodes of a conversation (its turns along the branch the person kept)
 * and groups them into refinement chains. Pure and deterministic.
 */
export function detectRefinements(
  turns: readonly RefinementTurn[],
  cues: RefinementCues,
  options: DetectOptions = {},
): { episodes: RefinementEpisode[]; chains: RefinementChainPlan[]; vetoedTopicStarts: number[] } {
  const episodes: RefinementEpisode[] = [];
  const topicStart = turns.map((turn) => Boolean(turn.topicStart));
  const vetoedTopicStarts: number[] = [];
  for (let i = 0; i < turns.length; i++) {
    const evidence = turnEvidence(turns, i, cues, topicStart);
    if (!evidence) continue;
    const { answered, reply, found, ack, diagnosis, acknowledged, pushback, selfRefine } = evidence;
    const confidence = Math.max(pushback, selfRefine);
    if (confidence === 0) continue;
    // The answers this turn may react to (the latest first), and how alike it is to each.
    const recent = recentAnswers(turns, i, topicStart);
    const likeness = recent.map((k) => options.similarity?.(i, k) ?? 0);
    // A pasted error, or an answer that explains one, is pushback only when it comes from applying
    // an answer: the turn must share what it is about with one of the last answers. An error of the
    // person's own code, brought as a new question, is not a refinement (the guidelines).
    const onlyAnError = !acknowledged && found.every((m) => m.cue === 'error' || m.cue === 'edit');
    if (onlyAnError && Math.max(0, ...likeness) < (options.relatedSimilarity ?? 0)) continue;
    if (topicStart[i]) {
      // A topic start that reports a failure of the answer before it, or that the answer
      // acknowledges, continues the topic: the refinement evidence outweighs the topic signal.
      const sure = acknowledged || diagnosis || found.some((m) => m.cue === 'error' || m.cue === 'failure');
      if (!sure) continue;
      topicStart[i] = false;
      vetoedTopicStarts.push(i);
    }
    const kind: RefinementKind = selfRefine > pushback ? 'self_refine' : 'pushback';
    const request = previousTurn(turns, answered, 'user', topicStart);
    // Pushback targets the answer it is about: the latest, unless an earlier one of the last few is
    // clearly closer to it ("Invalid block tag 'trans'" after a question on something else).
    const closest = likeness.reduce((best, value, k) => (value > (likeness[best] ?? 0) ? k : best), 0);
    const challenged =
      recent[closest] !== undefined && (likeness[closest] ?? 0) - (likeness[0] ?? 0) >= EARLIER_ANSWER_MARGIN ? recent[closest] : answered;
    const target = kind === 'pushback' ? (challenged ?? answered) : request >= 0 ? request : answered;
    const shown = found.filter((m) => m.cue !== 'edit');
    if (ack) shown.push(ack);
    if (diagnosis) shown.push(diagnosis);
    const episode: RefinementEpisode = {
      kind,
      trigger: i,
      answered,
      target,
      confidence: Math.round(confidence * 1000) / 1000,
      evidence: shown,
      acknowledged,
    };
    if (reply >= 0) episode.revision = reply;
    episodes.push(episode);
  }
  return { episodes, chains: chainEpisodes(turns, episodes, options), vetoedTopicStarts };
}

/**
 * Refinement chains: idea -> answer -> challenge -> revision (-> challenge -> revision ...) ->
 * convergence. Episodes belong to one chain while each challenge reacts to the previous revision.
 * The chain converges where the user restates the idea in its refined form (a reframing turn close
 * to the idea: that turn `refines` the idea), else where the user accepts the last revision or
 * moves on; it stays open when the conversation ends on the revision.
 */
function chainEpisodes(
  turns: readonly RefinementTurn[],
  episodes: readonly RefinementEpisode[],
  options: DetectOptions,
): RefinementChainPlan[] {
  const chains: RefinementChainPlan[] = [];
  let plan: RefinementChainPlan | undefined;
  let idea = -1;
  let lastRevision: number | undefined;
  const restates = (turn: number) => {
    const similarity = idea >= 0 ? (options.similarity?.(idea, turn) ?? 0) : 0;
    return similarity >= (options.restatedSimilarity ?? 0.5) ? similarity : undefined;
  };
  const close = () => {
    if (!plan) return;
    if (plan.converged === 'open') {
      const end = lastRevision ?? plan.steps.at(-1)?.turn ?? -1;
      const next = nextUser(turns, end);
      const nextTurn = turns[next];
      // The user's next turn takes the revision ("thanks, that works"), or asks the first question
      // again in its refined form.
      const accepted = nextTurn ? Boolean(options.isAcceptance?.(nextTurn.text)) : false;
      const similarity = nextTurn && !accepted && !nextTurn.topicStart && options.isQuestion?.(nextTurn.text) ? restates(next) : undefined;
      if (similarity !== undefined) {
        plan.steps.push({ turn: next, role: 'convergence' });
        plan.converged = 'restated';
        plan.convergence = { turn: next, similarity };
      } else if (nextTurn) {
        plan.converged = accepted ? 'accepted' : 'moved-on';
      }
    }
    if (plan.steps.length >= 3) chains.push(plan);
    plan = undefined;
  };
  for (const episode of episodes) {
    const continues = plan && plan.converged === 'open' && lastRevision !== undefined && episode.answered === lastRevision;
    if (plan && continues && episode.evidence.some((m) => m.cue === 'reframing')) {
      const similarity = restates(episode.trigger);
      if (similarity !== undefined) {
        episode.target = idea;
        episode.restates = true;
        plan.episodes.push(episode);
        plan.steps.push({ turn: episode.trigger, role: 'convergence' });
        plan.converged = 'restated';
        plan.convergence = { turn: episode.trigger, similarity };
        close();
        continue;
      }
    }
    if (!continues) {
      close();
      idea = episode.kind === 'self_refine' ? episode.target : previousUser(turns, episode.answered);
      if (idea >= episode.answered) idea = -1;
      plan = { steps: [], converged: 'open', episodes: [] };
      if (idea >= 0) plan.steps.push({ turn: idea, role: 'idea' });
      plan.steps.push({ turn: episode.answered, role: 'answer' });
    }
    if (!plan) continue;
    plan.episodes.push(episode);
    plan.steps.push({ turn: episode.trigger, role: 'challenge' });
    if (episode.revision !== undefined) plan.steps.push({ turn: episode.revision, role: 'revision' });
    lastRevision = episode.revision;
  }
  close();
  return chains;
}

const previousUser = (turns: readonly RefinementTurn[], i: number) => {
  for (let k = i - 1; k >= 0; k--) if (turns[k]?.role === 'user') return k;
  return -1;
};
const nextUser = (turns: readonly RefinementTurn[], i: number) => {
  for (let k = i + 1; k < turns.length; k++) if (turns[k]?.role === 'user') return k;
  return -1;
};
