/* The structure of Markdown that transcripts and notes both read: lines, fenced code blocks, headings. */

/** The lines of a text, without a byte order mark, whatever its line ends. */
export function splitLines(text: string): string[] {
  return text
    .replace(/^\uFEFF/, '')
    .replace(/\r\n?/g, '\n')
    .split('\n');
}

const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;

/** Marks the lines inside fenced code blocks (the fence lines included). */
export function fencedLines(lines: string[]): boolean[] {
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
export function headingOf(line: string): { level: number; text: string } | undefined {
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
export const isHeading = (line: string | undefined): boolean => line !== undefined && headingOf(line) !== undefined;

/** Drops the blank lines at both ends; the rest is kept verbatim. */
export function trimBlankLines(lines: string[]): string {
  let start = 0;
  let end = lines.length;
  while (start < end && (lines[start] ?? '').trim() === '') start++;
  while (end > start && (lines[end - 1] ?? '').trim() === '') end--;
  return lines
    .slice(start, end)
    .map((l) => l.trimEnd())
    .join('\n');
}
