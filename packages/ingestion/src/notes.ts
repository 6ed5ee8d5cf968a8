import { type Conversation, ExportSource, type Message } from '@trajectory/contracts';
import { leadingDate, parseHumanTime } from './dates.js';
import { conversationOf, hash, pushLinear } from './linear-conversation.js';
import { fencedLines, headingOf, isHeading, splitLines, trimBlankLines } from './markdown-lines.js';
import { buildMessage, isoTime, part } from './message.js';
import type { ParseContext } from './types.js';

/* Notes: one author, one message a section. */

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
