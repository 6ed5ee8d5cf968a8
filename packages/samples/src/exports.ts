// Exports of a dataset's records into the files trainers load:
//   TRL / Hugging Face SFT    sft.jsonl, sft.eval.jsonl            {messages, weight, id, type}
//   TRL DPO                   dpo.jsonl, dpo.eval.jsonl            {prompt, chosen, rejected}, TRL's
//                             conversational preference format: prompt a list of messages (the
//                             system prompt first, as in sft.jsonl), chosen/rejected one assistant
//                             message each, so an SFT-then-DPO run keeps one chat format
//   LLaMA-Factory             sharegpt[.eval].jsonl, alpaca[.eval].jsonl, sharegpt_dpo[.eval].jsonl
//                             (sharegpt ranking: chosen/rejected one gpt message each),
//                             alpaca_dpo[.eval].jsonl, and dataset_info.json registering them (set
//                             `dataset_dir` to the export folder and `dataset: trajectory_sft_sharegpt`, ...)
//   the manifest              exports.json (what exportDataset, io/exports.ts, returns)
//
// Splits: `train` records go into the train files, `eval` records into the `.eval` files,
// `heldout` records into none (the recall eval reads them from the dataset itself).
//
// Weights: only the TRL SFT files carry each record's weight, as a float `weight` column (a
// trainer must read it: TRL's SFTTrainer by itself ignores extra columns). TRL's DPO string
// format and LLaMA-Factory's formats have no per-sample weight column, so those files lose the
// weights; the manifest says so per file (`weighted: false`, `weightsApplied: false`, `note`).
//
// Conversations (SFT files): a system message first when there is a system prompt, then user
// and assistant messages alternating, starting with user and ending with assistant (TRL's
// assistant-only loss and LLaMA-Factory's sharegpt reader both need that). Consecutive
// messages of one role are merged with a blank line; an assistant message before the first
// user message is moved into the system prompt as context; a record left without a user
// message followed by an assistant message is not exported (counted in `skipped.unusable`).
//
// Length (the length policy): every row is measured as the base model would see it, in tokens
// of a tokenizer (`tokenCounter`; characters / CHARS_PER_TOKEN without one) with
// MESSAGE_OVERHEAD_TOKENS per message for the chat template, against `maxTokens` (the trainer's
// max_seq_length, 2048 by default). A longer conversation loses its oldest messages, one node
// (message) at a time, down to the last user → assistant exchange (`lengths.shortened`); one
// that still does not fit, and a DPO row whose prompt and longer answer do not, is left out and
// counted (`skipped.tooLong`, `dpo.dropped`), never left for a trainer to cut silently.
//
// Trajectory records whose predicted turn is the user's (`next.role === 'user'`): by default
// (`userTargets: 'swap'`) the conversation is exported with the roles swapped, so the predicted
// user turn sits in the assistant slot that the loss trains, under a system note that says so
// (USER_TARGET_SYSTEM); `userTargets: 'skip'` leaves them out of the SFT files instead
// (counted in `skipped.userTargets`).
import { createHash } from 'node:crypto';
import type { DatasetRecord, PreferenceRecord, TrajectoryRecord } from './records.js';

export type Role = 'system' | 'user' | 'assistant';
export interface Message {
  role: Role;
  content: string;
}
/** A conversation ready for SFT: an optional system prompt, then user/assistant alternating, ending with assistant. */
export interface Conversation {
  system: string;
  /** Alternating, starting with user, ending with assistant (so of even length ≥ 2). */
  turns: Message[];
}

/** Measures text as a base model's tokenizer does (or estimates it from characters). */
export interface TokenCounter {
  /** What measures: a tokenizer's name or path, or `characters / 3`. */
  name: string;
  unit: 'tokens' | 'characters';
  count(text: string): number;
}

/** Characters per token of the estimate without a tokenizer: 95 % of the real export's long texts have more (Qwen2.5's tokenizer: 4.2 on average). */
export const CHARS_PER_TOKEN = 3;
export const characterCounter: TokenCounter = {
  name: `characters / ${CHARS_PER_TOKEN}`,
  unit: 'characters',
  count: (text) => Math.ceil(text.length / CHARS_PER_TOKEN),
};
/** The trainer's default max_seq_length (trainer-gpu args.py). */
export const DEFAULT_MAX_TOKENS = 2048;
/** What a chat template adds per message (Qwen's `<|im_start|>role\n … <|im_end|>\n`: 5 tokens). */
export const MESSAGE_OVERHEAD_TOKENS = 5;
/** Fewer DPO training pairs than this are too few to train on: the report says so. */
export const DPO_MIN_PAIRS = 100;

export interface ExportOptions {
  /** System prompt for records that have none of their own (qa, knowledge, trajectory, chat with an empty instruction). */
  systemPrompt?: string;
  /** Trajectory records that predict a user turn: exported with roles swapped (default) or left out of SFT. */
  userTargets?: 'swap' | 'skip';
  /** The longest row, measured by `tokenCounter` (default DEFAULT_MAX_TOKENS). */
  maxTokens?: number;
  /** How rows are measured (default: characterCounter). */
  tokenCounter?: TokenCounter;
}

export type ExportFormat =
  | 'trl-sft-messages'
  | 'trl-dpo-conversational'
  | 'llamafactory-sharegpt'
  | 'llamafactory-alpaca'
  | 'llamafactory-sharegpt-ranking'
  | 'llamafactory-alpaca-ranking'
  | 'llamafactory-dataset-info';

export interface ExportedFile {
  /** File name inside the export folder. */
  name: string;
  format: ExportFormat;
  split: 'train' | 'eval' | null;
  /** Rows (JSONL lines), or entries for dataset_info.json. */
  records: number;
  /** Whether each row carries its record's weight (a float `weight` column). */
  weighted: boolean;
  /** Present (false) where the format has no place for per-sample weights and they were dropped. */
  weightsApplied?: false;
  note?: string;
}

/** p50, p95 and the longest of a set of row lengths. */
export interface LengthStats {
  p50: number;
  p95: number;
  max: number;
}

/** The length policy's outcome for the SFT rows (train and eval). */
export interface ExportLengths {
  /** What measured: `tokens (<tokenizer>)` or `characters / 3`. */
  measure: string;
  unit: 'tokens' | 'characters';
  maxTokens: number;
  /** SFT conversations built (before the policy), and how many of them were longer than maxTokens. */
  rows: number;
  overLimit: number;
  /** Rows that fit once their oldest messages were left out. */
  shortened: number;
  /** Records left out: too long even with no context. */
  dropped: number;
  before: LengthStats;
  after: LengthStats;
}

/** The preference pairs in the DPO files, and whether there are enough to train on. */
export interface DpoSummary {
  train: number;
  eval: number;
  /** Pairs left out by the length policy. */
  dropped: number;
  minPairs: number;
  enough: boolean;
  note: string;
}

export interface ExportManifest {
  files: ExportedFile[];
  /** Records not written to any file, by reason. */
  skipped: { heldout: number; userTargets: number; unusable: number; tooLong: number };
  userTargets: 'swap' | 'skip';
  lengths: ExportLengths;
  dpo: DpoSummary;
}

/** The system note of a role-swapped trajectory record (a predicted user turn in the assistant slot). */
export const USER_TARGET_SYSTEM =
  "Continue this conversation as the user. Your messages are the user's; the other side's are the assistant's. Write the user's next message.";

/** The user prompt of a knowledge record. */
export const knowledgePrompt = (topic: string): string => `What did I conclude about ${topic}?`;

const TURN_PREFIX = /^(User|Assistant):[ \t]?/;

/**
 * The turns of a chat record's `input`: a line starting with `User:` or `Assistant:` opens a
 * turn, the lines after it (up to the next such line) continue it. Text before the first prefix
 * counts as the user's. (A content line that itself starts with `User:` opens a new turn: the
 * format cannot tell them apart.)
 */
export function parseTurns(input: string): Message[] {
  const turns: Message[] = [];
  let current: { role: Role; lines: string[] } | undefined;
  const close = () => {
    if (current) turns.push({ role: current.role, content: current.lines.join('\n').trim() });
  };
  for (const line of input.split(/\r?\n/)) {
    const prefix = TURN_PREFIX.exec(line);
    if (prefix) {
      close();
      current = { role: prefix[1] === 'User' ? 'user' : 'assistant', lines: [line.slice(prefix[0].length)] };
    } else if (current) {
      current.lines.push(line);
    } else if (line.trim() !== '') {
      current = { role: 'user', lines: [line] };
    }
  }
  close();
  return turns;
}

/**
 * Normalises messages into a Conversation (see the file comment), or null when no user message
 * is followed by an assistant message.
 */
export function toConversation(system: string, messages: readonly Message[]): Conversation | null {
  const systems = system.trim() === '' ? [] : [system.trim()];
  const turns: Message[] = [];
  for (const message of messages) {
    const content = message.content.trim();
    if (content === '') continue;
    if (message.role === 'system') {
      systems.push(content);
      continue;
    }
    const last = turns.at(-1);
    if (last?.role === message.role) last.content = `${last.content}\n\n${content}`;
    else turns.push({ role: message.role, content });
  }
  if (turns[0]?.role === 'assistant') {
    const first = turns.shift() as Message;
    systems.push(`Your previous message in this conversation:\n\n${first.content}`);
  }
  if (turns.at(-1)?.role === 'user') turns.pop();
  if (turns.length < 2) return null;
  return { system: systems.join('\n\n'), turns };
}

/** A record's SFT messages before they are normalised into a Conversation (toConversation). */
export interface SftMessages {
  system: string;
  messages: Message[];
}

function trajectoryRole(role: string, swap: boolean): Role {
  if (role === 'system') return 'system';
  if (role === 'assistant') return swap ? 'user' : 'assistant';
  if (role === 'user') return swap ? 'assistant' : 'user';
  // Tool output and other speakers are input to the model: the user's side, swapped or not.
  return 'user';
}

function trajectoryMessages(record: TrajectoryRecord, options: ExportOptions): SftMessages | null {
  const swap = record.next.role === 'user';
  const messages = [...record.context, record.next].map((t) => ({ role: trajectoryRole(t.role, swap), content: t.text }));
  // The target must land in the assistant slot: with a system or tool target there is no such slot.
  if (trajectoryRole(record.next.role, swap) !== 'assistant') return null;
  return { system: swap ? USER_TARGET_SYSTEM : (options.systemPrompt ?? ''), messages };
}

/**
 * The SFT messages of a record (one per node of a trajectory's context, one per turn of a
 * chat's), or null where it has none: preference records (they go to DPO) and user-target
 * trajectories under `userTargets: 'skip'`.
 */
export function sftMessages(record: DatasetRecord, options: ExportOptions = {}): SftMessages | null {
  const system = options.systemPrompt ?? '';
  const pair = (user: string, assistant: string): Message[] => [
    { role: 'user', content: user },
    { role: 'assistant', content: assistant },
  ];
  switch (record.type) {
    case 'chat':
      return {
        system: record.instruction.trim() !== '' ? record.instruction : system,
        messages: [...parseTurns(record.input), { role: 'assistant', content: record.output }],
      };
    case 'qa':
      return { system, messages: pair(record.question, record.answer) };
    case 'knowledge':
      return { system, messages: pair(knowledgePrompt(record.topic), record.content) };
    case 'memory':
      return { system: record.system, messages: pair(record.question, record.answer) };
    case 'trajectory':
      if (record.next.role === 'user' && options.userTargets === 'skip') return null;
      return trajectoryMessages(record, options);
    case 'preference':
      return null;
  }
}

/**
 * The SFT conversation of a record, or null where it has none: preference records (they go to
 * DPO), user-target trajectories under `userTargets: 'skip'`, and records that do not make a
 * user → assistant exchange.
 */
export function sftConversation(record: DatasetRecord, options: ExportOptions = {}): Conversation | null {
  const parts = sftMessages(record, options);
  return parts ? toConversation(parts.system, parts.messages) : null;
}

/** A conversation's length as the base model sees it: each message's tokens and the template's overhead. */
export function conversationTokens(conversation: Conversation, counter: TokenCounter): number {
  return toMessages(conversation).reduce((sum, m) => sum + counter.count(m.content) + MESSAGE_OVERHEAD_TOKENS, 0);
}

export interface FittedConversation {
  /** The conversation that fits, or null when none does (or the record makes no exchange). */
  conversation: Conversation | null;
  /** Length of the whole conversation, and of the one that fits. */
  fullTokens: number;
  tokens: number;
  /** Messages left out from the start. */
  droppedMessages: number;
}

/**
 * The length policy for one record: the whole conversation when it fits in `maxTokens`, else
 * the longest tail of its messages that does (the oldest context goes first, a node at a time),
 * never less than the last user → assistant exchange.
 */
export function fitConversation(parts: SftMessages, counter: TokenCounter, maxTokens: number): FittedConversation {
  const whole = toConversation(parts.system, parts.messages);
  if (!whole) return { conversation: null, fullTokens: 0, tokens: 0, droppedMessages: 0 };
  const fullTokens = conversationTokens(whole, counter);
  for (let dropped = 0; dropped < parts.messages.length; dropped += 1) {
    const conversation = dropped === 0 ? whole : toConversation(parts.system, parts.messages.slice(dropped));
    if (!conversation) break;
    const tokens = dropped === 0 ? fullTokens : conversationTokens(conversation, counter);
    if (tokens <= maxTokens) return { conversation, fullTokens, tokens, droppedMessages: dropped };
  }
  return { conversation: null, fullTokens, tokens: fullTokens, droppedMessages: 0 };
}

/**
 * A tokenizer that remembers: the same turn is measured once however many records hold it. Turns
 * are remembered by a hash of their text, not the text: the build reads each record back from its
 * spool, so a text kept as a key would be a copy of every distinct turn of the history. Counting
 * characters needs no memory.
 */
function memoised(counter: TokenCounter): TokenCounter {
  if (counter.unit === 'characters') return counter;
  const seen = new Map<string, number>();
  return {
    ...counter,
    count: (text) => {
      const key = createHash('sha256').update(text).digest('base64');
      let n = seen.get(key);
      if (n === undefined) {
        n = counter.count(text);
        seen.set(key, n);
      }
      return n;
    },
  };
}

/** TRL's `messages` list: the system message (when there is a system prompt) and the turns. */
export function toMessages(conversation: Conversation): Message[] {
  return conversation.system === '' ? conversation.turns : [{ role: 'system', content: conversation.system }, ...conversation.turns];
}

export interface SharegptRow {
  conversations: { from: 'human' | 'gpt'; value: string }[];
  system: string;
}
export function toSharegpt(conversation: Conversation): SharegptRow {
  return {
    conversations: conversation.turns.map((t) => ({ from: t.role === 'user' ? 'human' : 'gpt', value: t.content })),
    system: conversation.system,
  };
}

export interface AlpacaRow {
  instruction: string;
  input: string;
  output: string;
  system: string;
  /** Earlier [user, assistant] pairs; LLaMA-Factory trains on their responses too unless `mask_history`. */
  history: [string, string][];
}
export function toAlpaca(conversation: Conversation): AlpacaRow {
  const { turns } = conversation;
  const history: [string, string][] = [];
  for (let i = 0; i + 3 < turns.length; i += 2) history.push([(turns[i] as Message).content, (turns[i + 1] as Message).content]);
  return {
    instruction: (turns.at(-2) as Message).content,
    input: '',
    output: (turns.at(-1) as Message).content,
    system: conversation.system,
    history,
  };
}

/** TRL's conversational preference row: the prompt's messages (system first), chosen and rejected as one assistant message each. */
export interface DpoRow {
  prompt: Message[];
  chosen: Message[];
  rejected: Message[];
}
const dpoPrompt = (record: PreferenceRecord, options: ExportOptions): Message[] => {
  const system = (options.systemPrompt ?? '').trim();
  return [...(system ? [{ role: 'system' as const, content: system }] : []), { role: 'user', content: record.prompt }];
};
export const toDpo = (record: PreferenceRecord, options: ExportOptions = {}): DpoRow => ({
  prompt: dpoPrompt(record, options),
  chosen: [{ role: 'assistant', content: record.chosen }],
  rejected: [{ role: 'assistant', content: record.rejected }],
});

/** Tokens of a DPO row as a trainer builds it: the prompt with the longer of the two answers. */
export function dpoTokens(row: DpoRow, counter: TokenCounter): number {
  const size = (messages: Message[]) => messages.reduce((sum, m) => sum + counter.count(m.content) + MESSAGE_OVERHEAD_TOKENS, 0);
  return size(row.prompt) + Math.max(size(row.chosen), size(row.rejected));
}

/** LLaMA-Factory's sharegpt ranking row: the conversation up to the prompt, chosen/rejected one gpt message each. */
export interface SharegptDpoRow {
  conversations: { from: 'human'; value: string }[];
  chosen: { from: 'gpt'; value: string };
  rejected: { from: 'gpt'; value: string };
  system: string;
}
export const toSharegptDpo = (record: PreferenceRecord, options: ExportOptions = {}): SharegptDpoRow => ({
  conversations: [{ from: 'human', value: record.prompt }],
  chosen: { from: 'gpt', value: record.chosen },
  rejected: { from: 'gpt', value: record.rejected },
  system: options.systemPrompt ?? '',
});

export interface AlpacaDpoRow {
  instruction: string;
  input: string;
  chosen: string;
  rejected: string;
  system: string;
}
export const toAlpacaDpo = (record: PreferenceRecord, options: ExportOptions = {}): AlpacaDpoRow => ({
  instruction: record.prompt,
  input: '',
  chosen: record.chosen,
  rejected: record.rejected,
  system: options.systemPrompt ?? '',
});

/** A JSON number that always reads back as a float (`1.0`, not `1`): Arrow infers int64 from a column of whole numbers. */
export function floatJson(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`weight must be a finite number, got ${value}`);
  const text = JSON.stringify(value);
  return /[.eE]/.test(text) ? text : `${text}.0`;
}

/** One `sft.jsonl` line: `{"messages": [...], "weight": <float>, "id": ..., "type": ...}`. */
export function sftLine(record: DatasetRecord, conversation: Conversation): string {
  if (record.weight < 0) throw new Error(`record ${record.id}: weight must be ≥ 0, got ${record.weight}`);
  return `{"messages":${JSON.stringify(toMessages(conversation))},"weight":${floatJson(record.weight)},"id":${JSON.stringify(record.id)},"type":${JSON.stringify(record.type)}}\n`;
}

const NO_WEIGHTS_LLAMAFACTORY = 'LLaMA-Factory has no per-sample weight column: record weights are not applied';
const NO_WEIGHTS_DPO = "TRL's preference format has no per-sample weight: record weights are not applied";

export interface FileSpec {
  name: string;
  format: ExportFormat;
  split: 'train' | 'eval';
  weighted: boolean;
  note?: string;
}

const FILES = {
  sft: { name: 'sft.jsonl', format: 'trl-sft-messages', weighted: true },
  dpo: { name: 'dpo.jsonl', format: 'trl-dpo-conversational', weighted: false, note: NO_WEIGHTS_DPO },
  sharegpt: { name: 'sharegpt.jsonl', format: 'llamafactory-sharegpt', weighted: false, note: NO_WEIGHTS_LLAMAFACTORY },
  alpaca: { name: 'alpaca.jsonl', format: 'llamafactory-alpaca', weighted: false, note: NO_WEIGHTS_LLAMAFACTORY },
  sharegptDpo: {
    name: 'sharegpt_dpo.jsonl',
    format: 'llamafactory-sharegpt-ranking',
    weighted: false,
    note: NO_WEIGHTS_LLAMAFACTORY,
  },
  alpacaDpo: { name: 'alpaca_dpo.jsonl', format: 'llamafactory-alpaca-ranking', weighted: false, note: NO_WEIGHTS_LLAMAFACTORY },
} as const satisfies Record<string, Omit<FileSpec, 'split'>>;
export type FileKey = keyof typeof FILES;

const evalName = (name: string): string => name.replace(/\.jsonl$/, '.eval.jsonl');

/** LLaMA-Factory's dataset_info.json entry names, train split; the eval split adds `_eval`. */
export const LLAMAFACTORY_DATASETS = {
  sft: 'trajectory_sft_messages',
  sharegpt: 'trajectory_sft_sharegpt',
  alpaca: 'trajectory_sft_alpaca',
  sharegptDpo: 'trajectory_dpo_sharegpt',
  alpacaDpo: 'trajectory_dpo',
} as const;

/** LLaMA-Factory's description of each file (data/README.md of hiyouga/LLaMA-Factory). */
function datasetInfoEntry(key: Exclude<FileKey, 'dpo'>, fileName: string): Record<string, unknown> {
  switch (key) {
    case 'sft': // TRL's messages are LLaMA-Factory's "OpenAI format", a case of sharegpt; extra columns are ignored.
      return {
        file_name: fileName,
        formatting: 'sharegpt',
        columns: { messages: 'messages' },
        tags: { role_tag: 'role', content_tag: 'content', user_tag: 'user', assistant_tag: 'assistant', system_tag: 'system' },
      };
    case 'sharegpt':
      return {
        file_name: fileName,
        formatting: 'sharegpt',
        columns: { messages: 'conversations', system: 'system' },
        tags: { role_tag: 'from', content_tag: 'value', user_tag: 'human', assistant_tag: 'gpt' },
      };
    case 'alpaca':
      return {
        file_name: fileName,
        formatting: 'alpaca',
        columns: { prompt: 'instruction', query: 'input', response: 'output', system: 'system', history: 'history' },
      };
    case 'sharegptDpo':
      return {
        file_name: fileName,
        formatting: 'sharegpt',
        ranking: true,
        columns: { messages: 'conversations', chosen: 'chosen', rejected: 'rejected', system: 'system' },
        tags: { role_tag: 'from', content_tag: 'value', user_tag: 'human', assistant_tag: 'gpt' },
      };
    case 'alpacaDpo':
      return {
        file_name: fileName,
        formatting: 'alpaca',
        ranking: true,
        columns: { prompt: 'instruction', query: 'input', chosen: 'chosen', rejected: 'rejected', system: 'system' },
      };
  }
}

/** p50, p95 and max of a list of lengths (0 for none). */
export function lengthStats(values: readonly number[]): LengthStats {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50: at(0.5), p95: at(0.95), max: sorted.at(-1) ?? 0 };
}

/** An export file being filled: its spec (name, format, split) and the key of its rows. */
export interface ExportTarget {
  key: FileKey;
  spec: FileSpec;
}

/** The twelve export files (six formats, train and eval), keyed `<format key>:<split>`. */
export function exportTargets(): Map<string, ExportTarget> {
  const targets = new Map<string, ExportTarget>();
  for (const [key, spec] of Object.entries(FILES) as [FileKey, (typeof FILES)[FileKey]][]) {
    for (const split of ['train', 'eval'] as const) {
      const name = split === 'train' ? spec.name : evalName(spec.name);
      targets.set(`${key}:${split}`, { key, spec: { ...spec, name, split } });
    }
  }
  return targets;
}

/** One line of an export file: the target's key (`<format key>:<split>`) and the JSON line. */
export interface ExportLine {
  target: string;
  line: string;
}

/**
 * The rows of an export, one record at a time: which lines go into which file, and the counts the
 * manifest reports (skipped records, lengths before and after fitting, preference pairs).
 */
export class ExportRows {
  readonly userTargets: 'swap' | 'skip';
  readonly skipped = { heldout: 0, userTargets: 0, unusable: 0, tooLong: 0 };
  private readonly counter: TokenCounter;
  readonly maxTokens: number;
  private readonly before: number[] = [];
  private readonly after: number[] = [];
  private shortened = 0;
  private readonly dpo = { train: 0, eval: 0, dropped: 0 };

  constructor(private readonly options: ExportOptions = {}) {
    this.userTargets = options.userTargets ?? 'swap';
    this.counter = memoised(options.tokenCounter ?? characterCounter);
    this.maxTokens = options.maxTokens ?? DEFAULT_MAX_TOKENS;
  }

  /** The export lines of `record` (none when it is held out, too long or unusable). */
  lines(record: DatasetRecord): ExportLine[] {
    const { options, counter, maxTokens, userTargets } = this;
    if (record.split === 'heldout') {
      this.skipped.heldout += 1;
      return [];
    }
    const split = record.split;
    const at = (key: FileKey, line: string): ExportLine => ({ target: `${key}:${split}`, line });
    if (record.type === 'preference') {
      const row = toDpo(record, options);
      if (dpoTokens(row, counter) > maxTokens) {
        this.dpo.dropped += 1;
        return [];
      }
      this.dpo[split] += 1;
      return [
        at('dpo', `${JSON.stringify(row)}\n`),
        at('sharegptDpo', `${JSON.stringify(toSharegptDpo(record, options))}\n`),
        at('alpacaDpo', `${JSON.stringify(toAlpacaDpo(record, options))}\n`),
      ];
    }
    if (record.type === 'trajectory' && record.next.role === 'user' && userTargets === 'skip') {
      this.skipped.userTargets += 1;
      return [];
    }
    const parts = sftMessages(record, { ...options, userTargets });
    const fitted = parts ? fitConversation(parts, counter, maxTokens) : undefined;
    if (!fitted || fitted.fullTokens === 0) {
      this.skipped.unusable += 1;
      return [];
    }
    this.before.push(fitted.fullTokens);
    const { conversation } = fitted;
    if (!conversation) {
      this.skipped.tooLong += 1;
      return [];
    }
    this.after.push(fitted.tokens);
    if (fitted.droppedMessages > 0) this.shortened += 1;
    return [
      at('sft', sftLine(record, conversation)),
      at('sharegpt', `${JSON.stringify(toSharegpt(conversation))}\n`),
      at('alpaca', `${JSON.stringify(toAlpaca(conversation))}\n`),
    ];
  }

  /** The lengths of the rows seen so far, in the counter's unit. */
  lengths(): ExportLengths {
    const { counter, maxTokens, before } = this;
    return {
      measure: counter.unit === 'tokens' ? `tokens (${counter.name})` : counter.name,
      unit: counter.unit,
      maxTokens,
      rows: before.length,
      overLimit: before.filter((n) => n > maxTokens).length,
      shortened: this.shortened,
      dropped: this.skipped.tooLong,
      before: lengthStats(before),
      after: lengthStats(this.after),
    };
  }

  /** What the preference pairs came to, and whether they are enough for a DPO stage. */
  dpoSummary(): DpoSummary {
    const { dpo } = this;
    const enough = dpo.train >= DPO_MIN_PAIRS;
    const pairs = (n: number) => `${n} pair${n === 1 ? '' : 's'}`;
    return {
      ...dpo,
      minPairs: DPO_MIN_PAIRS,
      enough,
      note:
        dpo.train + dpo.eval + dpo.dropped === 0
          ? 'no preference pairs: no DPO files'
          : `${pairs(dpo.train)} to train on, ${pairs(dpo.eval)} to evaluate${dpo.dropped ? `, ${dpo.dropped} too long` : ''}: ` +
            (enough ? 'enough for a DPO stage' : `too few to train on (fewer than ${DPO_MIN_PAIRS}); train SFT only`),
    };
  }

  /** The manifest of the files written (`files`, from exportFiles). */
  manifest(files: ExportedFile[]): ExportManifest {
    return { files, skipped: this.skipped, userTargets: this.userTargets, lengths: this.lengths(), dpo: this.dpoSummary() };
  }
}

/**
 * The manifest entries of the files that got rows (`writes`: rows per target key, in target
 * order), and LLaMA-Factory's dataset_info.json registering them (empty: none to register).
 * Files with no rows are not written.
 */
export function exportFiles(
  targets: ReadonlyMap<string, ExportTarget>,
  writes: (target: string) => number,
): { files: ExportedFile[]; datasetInfo: Record<string, unknown> } {
  const files: ExportedFile[] = [];
  const datasetInfo: Record<string, unknown> = {};
  for (const [target, { key, spec }] of targets) {
    const records = writes(target);
    if (records === 0) continue;
    files.push({
      name: spec.name,
      format: spec.format,
      split: spec.split,
      records,
      weighted: spec.weighted,
      ...(spec.weighted ? {} : { weightsApplied: false as const, note: spec.note }),
    });
    if (key !== 'dpo') {
      const base = LLAMAFACTORY_DATASETS[key];
      datasetInfo[spec.split === 'train' ? base : `${base}_eval`] = datasetInfoEntry(key, spec.name);
    }
  }
  return { files, datasetInfo };
}

/** The manifest entry of dataset_info.json, with the number of datasets it registers. */
export const datasetInfoFile = (datasetInfo: Record<string, unknown>): ExportedFile => ({
  name: 'dataset_info.json',
  format: 'llamafactory-dataset-info',
  split: null,
  records: Object.keys(datasetInfo).length,
  weighted: false,
  weightsApplied: false,
  note: NO_WEIGHTS_LLAMAFACTORY,
});
