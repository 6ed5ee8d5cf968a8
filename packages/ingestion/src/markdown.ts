import { type Conversation, ExportSource, type Message } from '@trajectory/contracts';
import { parseHumanTime } from './dates.js';
import { conversationOf, hash, pushLinear } from './linear-conversation.js';
import { fencedLines, headingOf, splitLines, trimBlankLines } from './markdown-lines.js';
import { buildMessage, part } from './message.js';
import type { ParseContext } from './types.js';

/* Markdown chat transcripts: speaker headings (`## User`) or speaker lines (`**User:**`, `User:`). */

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
