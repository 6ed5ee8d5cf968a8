import { createHash } from 'node:crypto';
import { isObject } from '@trajectory/config/util';
import { type Conversation, ExportSource, type Message, type MessagePart } from '@trajectory/contracts';
import { buildMessage, isoTime, part } from './message.js';
import type { ParseContext, ParsedItem } from './types.js';

const hash = (...values: string[]): string => createHash('sha256').update(values.join('\u0000')).digest('hex').slice(0, 32);

function conversationOf(id: string, source: ExportSource, title: string, messages: Message[], ctx: ParseContext): Conversation {
  const times = messages.flatMap((m) => (m.createdAt ? [m.createdAt.getTime()] : []));
  return {
    id,
    source,
    title,
    // A conversation is as old as its messages say; no time is invented when none has one.
    createdAt: times.length > 0 ? new Date(times.reduce((a, b) => Math.min(a, b))) : undefined,
    updatedAt: times.length > 0 ? new Date(times.reduce((a, b) => Math.max(a, b))) : undefined,
    currentLeafId: messages.at(-1)?.id ?? '',
    messages,
    sourceFile: ctx.file,
  };
}

/** Appends a linear message: it follows the last kept one. Returns whether it was kept. */
function pushLinear(messages: Message[], built: Message | undefined): boolean {
  if (!built) return false;
  built.parentId = messages.at(-1)?.id ?? '';
  messages.push(built);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Times written by people: ISO dates with or without a time, and "June 1, 2024".

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

function utc(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, ms = 0): Date | undefined {
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return undefined;
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms));
  return date.getUTCDate() === day ? date : undefined;
}

const ISO_LIKE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const MONTH_NAME = new RegExp(
  `^(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\\s+)?(?:(${MONTHS.map((m) => `${m.slice(0, 3)}(?:${m.slice(3)})?`).join('|')})\\.?\\s+(\\d{1,2})(?:st|nd|rd|th)?,?\\s+(\\d{4})|(\\d{1,2})(?:st|nd|rd|th)?\\s+(${MONTHS.map((m) => `${m.slice(0, 3)}(?:${m.slice(3)})?`).join('|')})\\.?,?\\s+(\\d{4}))(?:,?\\s+(\\d{1,2}):(\\d{2}))?$`,
  'i',
);

/**
 * A date or time as people write it: `2024-06-01`, `2024-06-01 10:00`, `2024-06-01T10:00:00Z`,
 * `June 1, 2024`, `1 June 2024`. A time without a zone is read as UTC: the zone of the machine
 * reading the file says nothing about the writer's. Undefined for anything else.
 */
export function parseHumanTime(value: string): Date | undefined {
  const text = value.trim();
  const iso = ISO_LIKE.exec(text);
  if (iso) {
    const [, y, mo, d, h, mi, s, frac, zone] = iso;
    const local = utc(
      Number(y),
      Number(mo),
      Number(d),
      Number(h ?? 0),
      Number(mi ?? 0),
      Number(s ?? 0),
      Number((frac ?? '0').slice(0, 3).padEnd(3, '0')),
    );
    if (!local) return undefined;
    if (!zone || zone.toUpperCase() === 'Z') return local;
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offset = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0');
    return new Date(local.getTime() - sign * offset * 60_000);
  }
  const named = MONTH_NAME.exec(text);
  if (named) {
    const [, monthA, dayA, yearA, dayB, monthB, yearB, h, mi] = named;
    const monthName = (monthA ?? monthB ?? '').toLowerCase().slice(0, 3);
    const month = MONTHS.findIndex((m) => m.startsWith(monthName)) + 1;
    return utc(Number(yearA ?? yearB), month, Number(dayA ?? dayB), Number(h ?? 0), Number(mi ?? 0));
  }
  return undefined;
}

/** A date at the start of a line, alone or followed by a separator and words: `2024-06-01: kickoff`. */
function leadingDate(line: string): Date | undefined {
  // A date is short: only the start of a (possibly huge) line is looked at.
  const text = line.trimStart().slice(0, 80).trimEnd();
  const whole = parseHumanTime(text);
  if (whole) return whole;
  const sep = /^(.+?)\s*(?:\s[-–—|]\s|:\s|\s[-–—]$)/.exec(text);
  return sep?.[1] ? parseHumanTime(sep[1]) : undefined;
}

// ---------------------------------------------------------------------------------------------
// JSONL: one message per line.

/** Epoch seconds or milliseconds, told apart by size: 1e11 seconds is the year 5138, 1e11 ms is 1973. */
function epochTime(value: number): Date | undefined {
  if (!Number.isFinite(value) || value <= 0) return undefined;
  const date = new Date(value >= 1e11 ? value : value * 1000);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function jsonlTime(value: unknown): Date | undefined {
  if (typeof value === 'number') return epochTime(value);
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return epochTime(Number(value));
  return parseHumanTime(value) ?? isoTime(value);
}

const ROLE_ALIASES: Record<string, string> = {
  user: 'user',
  human: 'user',
  assistant: 'assistant',
  ai: 'assistant',
  bot: 'assistant',
  model: 'assistant',
  system: 'system',
  tool: 'tool',
  function: 'tool',
};

function normaliseRole(value: string): string {
  return ROLE_ALIASES[value.trim().toLowerCase()] ?? value.trim();
}

/** Part types a line may name as they are; others are kept as `unknown:<type>`. */
const KNOWN_PART_TYPES = new Set([
  'text',
  'code',
  'image',
  'file',
  'thoughts',
  'reasoning_recap',
  'execution_output',
  'tool_use',
  'tool_result',
  'quote',
  'browsing',
  'error',
]);
const PART_ALIASES: Record<string, string> = { input_text: 'text', output_text: 'text', thinking: 'thoughts', reasoning: 'thoughts' };

function jsonlParts(content: unknown, ctx: ParseContext, where: string): MessagePart[] | undefined {
  if (typeof content === 'string') return [part('text', content)];
  if (!Array.isArray(content)) return undefined;
  const parts: MessagePart[] = [];
  for (const [index, item] of content.entries()) {
    if (typeof item === 'string') {
      parts.push(part('text', item));
      continue;
    }
    if (!isObject(item)) {
      const shape = item === null ? 'null' : Array.isArray(item) ? 'a list' : `a ${typeof item}`;
      ctx.warn(where, `content item [${index}] is ${shape}, not text or a typed part: left out`);
      continue;
    }
    const text = typeof item.text === 'string' ? item.text : typeof item.content === 'string' ? item.content : '';
    const rawType = typeof item.type === 'string' && item.type !== '' ? item.type : 'text';
    const type = PART_ALIASES[rawType] ?? rawType;
    if (KNOWN_PART_TYPES.has(type)) {
      parts.push(part(type, text));
    } else {
      ctx.warn(where, `unknown content type ${JSON.stringify(rawType)}: kept as unknown:${rawType}`);
      parts.push(part(`unknown:${rawType}`, text));
    }
  }
  return parts;
}

function idOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/**
 * Reads a JSONL transcript, one message a line: `{role, content, timestamp?, conversation_id? |
 * conversation?, id?, title?, name?}`. Consecutive lines with the same conversation id form one
 * conversation (lines without one belong to a conversation named after the file); each is
 * yielded as soon as the id changes, so only one conversation is held at a time. A bad line is
 * reported with its line number and the rest goes on.
 */
export async function* parseJsonlConversations(
  lines: AsyncIterable<string>,
  ctx: ParseContext,
  baseName: string,
): AsyncGenerator<ParsedItem> {
  const defaultId = hash('jsonl', baseName);
  const seen = new Map<string, number>();
  let current:
    | { key: string | undefined; id: string; title: string | undefined; first: number; last: number; messages: Message[] }
    | undefined;

  const flush = (): ParsedItem | undefined => {
    const done = current;
    current = undefined;
    if (!done || done.messages.length === 0) return undefined;
    const place = done.first === done.last ? `line ${done.first}` : `lines ${done.first}-${done.last}`;
    // The first `title` of its lines names a conversation; lines without a conversation id are named after the file.
    const title = done.title ?? (done.key === undefined ? baseName : '');
    return { ok: true, place, conversation: conversationOf(done.id, ExportSource.EXPORT_SOURCE_TRANSCRIPT, title, done.messages, ctx) };
  };

  let lineNo = 0;
  for await (const rawLine of lines) {
    lineNo++;
    const line = (lineNo === 1 ? rawLine.replace(/^\uFEFF/, '') : rawLine).trim();
    if (line === '') continue;
    const place = `line ${lineNo}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      yield { ok: false, place, message: `malformed JSON: ${(err as Error).message}` };
      continue;
    }
    if (!isObject(value)) {
      yield { ok: false, place, message: 'a line must be a JSON object (a message)' };
      continue;
    }
    if (typeof value.role !== 'string' || value.role.trim() === '') {
      yield { ok: false, place, message: 'the message has no role' };
      continue;
    }
    const parts = jsonlParts(value.content, ctx, place);
    if (!parts || parts.every((p) => p.text.trim() === '')) {
      yield { ok: false, place, message: 'the message has no content' };
      continue;
    }

    const key = idOf(value.conversation_id) ?? idOf(value.conversation);
    if (!current || current.key !== key) {
      const item = flush();
      if (item) yield item;
      const baseId = key ?? defaultId;
      const times = (seen.get(baseId) ?? 0) + 1;
      seen.set(baseId, times);
      // A conversation id that comes back after another one is a second conversation: its id is made unique.
      const id = times === 1 ? baseId : `${baseId}:${times}`;
      if (times > 1) ctx.warn(place, `conversation ${baseId} appears again after other lines: read as conversation ${id}`);
      current = { key, id, title: undefined, first: lineNo, last: lineNo, messages: [] };
    }
    if (current.title === undefined && typeof value.title === 'string' && value.title.trim() !== '') current.title = value.title.trim();
    current.last = lineNo;

    const timeValue = value.timestamp ?? value.created_at ?? value.time;
    const createdAt = jsonlTime(timeValue);
    if (timeValue !== undefined && timeValue !== null && timeValue !== '' && !createdAt) {
      ctx.warn(place, `timestamp ${JSON.stringify(timeValue)} is not a time this reader knows`);
    }
    const messageId = idOf(value.id) ?? `line-${lineNo}`;
    pushLinear(
      current.messages,
      buildMessage(
        {
          id: messageId,
          parentId: '',
          role: normaliseRole(value.role),
          authorName: typeof value.name === 'string' ? value.name : undefined,
          parts,
          createdAt,
          contentType: 'text',
          onCurrentBranch: true,
        },
        ctx,
        place,
      ),
    );
  }
  const item = flush();
  if (item) yield item;
}

// ---------------------------------------------------------------------------------------------
// Markdown: fences, headings, speakers.

const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;

/** Marks the lines inside fenced code blocks (the fence lines included). */
function fencedLines(lines: string[]): boolean[] {
  const inside: boolean[] = [];
  let open: string | undefined;
  for (const line of lines) {
    const m = FENCE.exec(line);
    if (open === undefined) {
      // A backtick fence's info string may not contain a backtick.
      if (m?.[1] && !(m[1].startsWith('`') && (m[2] ?? '').includes('`'))) open = m[1];
      inside.push(open !== undefined);
    } else {
      inside.push(true);
      if (m?.[1] && m[1][0] === open[0] && m[1].length >= open.length && (m[2] ?? '').trim() === '') open = undefined;
    }
  }
  return inside;
}

/**
 * An ATX heading (`## Text ##`): its level and text. Written as a scan rather than one regular
 * expression so a hostile line (long runs of spaces or #) costs linear time.
 */
function headingOf(line: string): { level: number; text: string } | undefined {
  let i = 0;
  while (i < 3 && line[i] === ' ') i++;
  let level = 0;
  while (line[i + level] === '#') level++;
  if (level < 1 || level > 6) return undefined;
  const after = line[i + level];
  if (after !== undefined && after !== ' ' && after !== '\t') return undefined;
  let text = line.slice(i + level).trim();
  let end = text.length;
  while (end > 0 && text[end - 1] === '#') end--;
  if (end === 0) text = '';
  else if (end < text.length && (text[end - 1] === ' ' || text[end - 1] === '\t')) text = text.slice(0, end).trimEnd();
  return { level, text };
}
const isHeading = (line: string | undefined): boolean => line !== undefined && headingOf(line) !== undefined;

const SPEAKERS: Record<string, { role: string; authorName?: string }> = {
  user: { role: 'user' },
  human: { role: 'user' },
  me: { role: 'user' },
  you: { role: 'user' },
  assistant: { role: 'assistant' },
  ai: { role: 'assistant' },
  chatgpt: { role: 'assistant', authorName: 'ChatGPT' },
  claude: { role: 'assistant', authorName: 'Claude' },
  gemini: { role: 'assistant', authorName: 'Gemini' },
  system: { role: 'system' },
  tool: { role: 'tool' },
};
const SPEAKER_NAMES = Object.keys(SPEAKERS).join('|');

interface Speaker {
  role: string;
  authorName?: string | undefined;
  createdAt: Date | undefined;
  /** The text after the speaker on the same line (the inline style). */
  rest: string;
  /** Whether the line is the plain `User:` style, which needs more evidence than a heading. */
  plain: boolean;
}

function speakerOf(name: string): { role: string; authorName?: string } | undefined {
  return SPEAKERS[name.toLowerCase()];
}

/** A time after the speaker: `(2024-06-01 10:00)`, `— 2024-06-01T10:00:00Z`, `, June 1, 2024`. */
function trailingTime(rest: string): { ok: boolean; time: Date | undefined } {
  const text = rest.trim().replace(/:$/, '').trim();
  if (text === '') return { ok: true, time: undefined };
  const m = /^(?:\((.+)\)|\[(.+)\]|[-–—|,@·]\s*(.+))$/.exec(text);
  const inner = m ? (m[1] ?? m[2] ?? m[3] ?? '').trim() : '';
  const time = inner ? parseHumanTime(inner) : undefined;
  return { ok: time !== undefined, time };
}

const HEADING_SPEAKER = new RegExp(`^(?:\\*\\*|__)?(${SPEAKER_NAMES})(?:\\*\\*|__)?(.*)$`, 'i');
const BOLD_SPEAKER = new RegExp(
  `^ {0,3}(?:\\*\\*|__)(${SPEAKER_NAMES})(\\s*(?:\\([^)]*\\)|\\[[^\\]]*\\]))?\\s*(?::(?:\\*\\*|__)|(?:\\*\\*|__):)(.*)$`,
  'i',
);
const PLAIN_SPEAKER = new RegExp(`^(${SPEAKER_NAMES})(\\s*(?:\\([^)]*\\)|\\[[^\\]]*\\]))?\\s*:(?:\\s+(.*)|$)`, 'i');

function headingSpeaker(line: string): Speaker | undefined {
  const h = headingOf(line);
  if (!h || h.level > 4) return undefined;
  const m = HEADING_SPEAKER.exec(h.text);
  const who = m?.[1] ? speakerOf(m[1]) : undefined;
  if (!m || !who) return undefined;
  const { ok, time } = trailingTime(m[2] ?? '');
  // `## User interface` is a heading about something, not a speaker.
  return ok ? { ...who, createdAt: time, rest: '', plain: false } : undefined;
}

function inlineSpeaker(line: string): Speaker | undefined {
  const bold = BOLD_SPEAKER.exec(line);
  const plain = bold ? undefined : PLAIN_SPEAKER.exec(line);
  const m = bold ?? plain;
  const who = m?.[1] ? speakerOf(m[1]) : undefined;
  if (!m || !who) return undefined;
  const { ok, time } = trailingTime(m[2] ?? '');
  return ok ? { ...who, createdAt: time, rest: (m[3] ?? '').trim(), plain: !bold } : undefined;
}

interface Turn {
  speaker: Speaker;
  line: number;
  body: string[];
}

interface TranscriptScan {
  title: string | undefined;
  turns: Turn[];
  preamble: string[];
}

function splitLines(text: string): string[] {
  return text
    .replace(/^\uFEFF/, '')
    .replace(/\r\n?/g, '\n')
    .split('\n');
}

/**
 * Finds the speaker turns of a transcript. One style is used per document: speaker headings
 * where there is any, else the `**User:**` / `User:` line style, so an answer that quotes
 * "User: ..." inside a heading-style transcript is not split.
 */
function scanTranscript(text: string): TranscriptScan | undefined {
  const lines = splitLines(text);
  const fenced = fencedLines(lines);
  const headingTurns: Turn[] = [];
  const inlineTurns: Turn[] = [];
  for (const [i, line] of lines.entries()) {
    if (fenced[i]) continue;
    const h = headingSpeaker(line);
    if (h) headingTurns.push({ speaker: h, line: i, body: [] });
    const s = h ? undefined : inlineSpeaker(line);
    if (s) inlineTurns.push({ speaker: s, line: i, body: [] });
  }
  let turns = headingTurns;
  if (turns.length === 0) {
    // Bold speaker lines, where there are any, outrank plain ones (an answer may quote "User: ...").
    turns = inlineTurns.some((t) => !t.speaker.plain) ? inlineTurns.filter((t) => !t.speaker.plain) : inlineTurns;
    // Plain `Me: call the bank` lines are common in notes: without bold or headings, a transcript
    // needs two such lines, one from each side of the conversation.
    if (turns.every((t) => t.speaker.plain)) {
      const roles = new Set(turns.map((t) => t.speaker.role));
      if (turns.length < 2 || !roles.has('user') || !roles.has('assistant')) turns = [];
    }
  }
  if (turns.length === 0) return undefined;

  let title: string | undefined;
  const preamble: string[] = [];
  const firstTurn = turns[0]?.line ?? 0;
  for (let i = 0; i < firstTurn; i++) {
    const line = lines[i] ?? '';
    const h = fenced[i] ? undefined : headingOf(line);
    if (title === undefined && h?.level === 1 && h.text !== '' && preamble.every((l) => l.trim() === '')) title = h.text;
    else preamble.push(line);
  }
  for (const [k, turn] of turns.entries()) {
    const end = turns[k + 1]?.line ?? lines.length;
    turn.body = lines.slice(turn.line + 1, end);
    if (turn.speaker.rest !== '') turn.body.unshift(turn.speaker.rest);
  }
  return { title, turns, preamble };
}

/** Whether a Markdown or text file is a chat transcript (has speaker headings) rather than notes. */
export function isMarkdownTranscript(text: string): boolean {
  return scanTranscript(text) !== undefined;
}

/** Drops the blank lines at both ends; the rest is kept verbatim. */
function trimBlankLines(lines: string[]): string {
  let start = 0;
  let end = lines.length;
  while (start < end && (lines[start] ?? '').trim() === '') start++;
  while (end > start && (lines[end - 1] ?? '').trim() === '') end--;
  return lines
    .slice(start, end)
    .map((l) => l.trimEnd())
    .join('\n');
}

/**
 * Reads a hand-made chat archive in Markdown: speaker headings (`## User`, `## Assistant`, with
 * an optional time: `## User (2024-06-01 10:00)`) or speaker lines (`**User:**`, `User:`). An
 * optional `# Title` first heading names it. Fenced code blocks are kept verbatim and a heading
 * inside one is text. Undefined when no speaker is found: the file is notes.
 */
export function parseMarkdownTranscript(text: string, ctx: ParseContext, baseName: string): Conversation | undefined {
  const scan = scanTranscript(text);
  if (!scan) return undefined;
  if (scan.preamble.some((l) => l.trim() !== '')) ctx.warn('line 1', 'text before the first speaker belongs to no message: left out');
  const id = hash('transcript', baseName, scan.title ?? '');
  const messages: Message[] = [];
  for (const [index, turn] of scan.turns.entries()) {
    const body = trimBlankLines(turn.body);
    pushLinear(
      messages,
      buildMessage(
        {
          id: `${id}:${index}`,
          parentId: '',
          role: turn.speaker.role,
          authorName: turn.speaker.authorName,
          parts: [part('text', body)],
          createdAt: turn.speaker.createdAt,
          contentType: 'text',
          onCurrentBranch: true,
        },
        ctx,
        `line ${turn.line + 1}`,
      ),
    );
  }
  return conversationOf(id, ExportSource.EXPORT_SOURCE_TRANSCRIPT, scan.title ?? baseName, messages, ctx);
}

// ---------------------------------------------------------------------------------------------
// Notes: one author, one message a section.

/** Largest group of paragraphs made into one message when a notes file has no headings. */
const NOTES_GROUP_CHARS = 2000;

interface FrontMatter {
  date: Date | undefined;
  title: string | undefined;
  /** Lines the front matter took, to be skipped. */
  lines: number;
}

function frontMatter(lines: string[], ctx: ParseContext): FrontMatter {
  const none = { date: undefined, title: undefined, lines: 0 };
  if ((lines[0] ?? '').trim() !== '---') return none;
  const end = lines.findIndex((l, i) => i > 0 && (l.trim() === '---' || l.trim() === '...'));
  if (end < 0) return none;
  let date: Date | undefined;
  let title: string | undefined;
  for (const [i, line] of lines.slice(1, end).entries()) {
    const m = /^(date|created|title)[ \t]*:(.*)$/i.exec(line);
    if (!m?.[1]) continue;
    const value = (m[2] ?? '')
      .trim()
      .replace(/^(['"])(.*)\1$/, '$2')
      .trim();
    const key = m[1].toLowerCase();
    if (key === 'title') title = value || title;
    else if (key === 'date' || (key === 'created' && !date)) {
      const parsed = parseHumanTime(value) ?? isoTime(value);
      if (parsed) date = parsed;
      else if (value !== '') ctx.warn(`line ${i + 2}`, `front matter ${key} ${JSON.stringify(value)} is not a date this reader knows`);
    }
  }
  return { date, title, lines: end + 1 };
}

interface Section {
  line: number;
  lines: string[];
  date: Date | undefined;
}

/** Headings split the notes; a section under a dated heading (deeper level) keeps that date. */
function headingSections(lines: string[], offset: number, fenced: boolean[]): Section[] | undefined {
  const sections: Section[] = [];
  const dated: { level: number; date: Date | undefined }[] = [];
  let current: Section | undefined;
  let sawHeading = false;
  for (const [i, line] of lines.entries()) {
    const h = fenced[i + offset] ? undefined : headingOf(line);
    if (h) {
      sawHeading = true;
      const level = h.level;
      while (dated.length > 0 && (dated.at(-1)?.level ?? 0) >= level) dated.pop();
      const own = leadingDate(h.text);
      const inherited = dated.findLast((d) => d.date)?.date;
      dated.push({ level, date: own });
      current = { line: i + offset, lines: [line], date: own ?? inherited };
      sections.push(current);
    } else if (current) {
      current.lines.push(line);
    } else {
      current = { line: i + offset, lines: [line], date: undefined };
      sections.push(current);
    }
  }
  if (!sawHeading) return undefined;
  // A section whose heading is not a date may be dated by its first line.
  for (const s of sections) {
    if (s.date) continue;
    const body = isHeading(s.lines[0]) ? s.lines.slice(1) : s.lines;
    const first = body.find((l) => l.trim() !== '');
    if (first !== undefined) s.date = leadingDate(first);
  }
  // A heading with nothing under it (a title, a parent heading) opens the section after it, so its
  // words stay with the text they head; the later section's own date comes first.
  const merged: Section[] = [];
  let pending: Section | undefined;
  for (const s of sections) {
    const target: Section = pending ? { line: pending.line, lines: [...pending.lines, ...s.lines], date: s.date ?? pending.date } : s;
    const headingOnly = isHeading(s.lines[0]) && s.lines.slice(1).every((l) => l.trim() === '');
    if (headingOnly) pending = target;
    else {
      merged.push(target);
      pending = undefined;
    }
  }
  if (pending) merged.push(pending);
  return merged;
}

/**
 * Without headings: paragraphs (blank-line separated, a fenced block never split) grouped up to
 * about 2,000 characters. A paragraph that starts with a date starts a new group, and its date
 * holds for the groups after it until the next date (a diary).
 */
function paragraphSections(lines: string[], offset: number, fenced: boolean[]): Section[] {
  const paragraphs: { line: number; lines: string[] }[] = [];
  let para: { line: number; lines: string[] } | undefined;
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '' && !fenced[i + offset]) {
      para = undefined;
      continue;
    }
    if (!para) {
      para = { line: i + offset, lines: [] };
      paragraphs.push(para);
    }
    para.lines.push(line);
  }
  const sections: Section[] = [];
  let current: (Section & { chars: number }) | undefined;
  let date: Date | undefined;
  for (const p of paragraphs) {
    const own = leadingDate(p.lines[0] ?? '');
    if (own) date = own;
    const chars = p.lines.join('\n').length;
    if (!current || own || current.chars + 2 + chars > NOTES_GROUP_CHARS) {
      current = { line: p.line, lines: [...p.lines], date, chars };
      sections.push(current);
    } else {
      current.lines.push('', ...p.lines);
      current.chars += 2 + chars;
    }
  }
  return sections;
}

/**
 * Reads a plain notes file (.txt, or .md without speakers) as a conversation of one author: one
 * message a Markdown section, or, without headings, a group of paragraphs. A date heading or
 * first line dates its section, front matter `date:` the whole file; otherwise there is no time.
 */
export function parseNotes(text: string, ctx: ParseContext, baseName: string): Conversation {
  const all = splitLines(text);
  const front = frontMatter(all, ctx);
  const lines = all.slice(front.lines);
  const fenced = fencedLines(all);
  const sections = headingSections(lines, front.lines, fenced) ?? paragraphSections(lines, front.lines, fenced);
  const firstHeading = lines.map((l, i) => (fenced[i + front.lines] ? undefined : headingOf(l)?.text)).find((h) => h);
  const title = front.title ?? firstHeading ?? baseName;
  const id = hash('notes', baseName);
  const messages: Message[] = [];
  let index = 0;
  for (const section of sections) {
    const body = trimBlankLines(section.lines);
    if (body === '') continue;
    pushLinear(
      messages,
      buildMessage(
        {
          id: `${id}:${index++}`,
          parentId: '',
          role: 'user',
          authorName: 'notes',
          parts: [part('text', body)],
          createdAt: section.date ?? front.date,
          contentType: 'text',
          onCurrentBranch: true,
        },
        ctx,
        `line ${section.line + 1}`,
      ),
    );
  }
  return conversationOf(id, ExportSource.EXPORT_SOURCE_NOTES, title, messages, ctx);
}
