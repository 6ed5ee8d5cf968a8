/** A sentence (or a code block) of a message, with where it lies in the message's text. */
export interface TextUnit {
  text: string;
  start: number;
  end: number;
  /** First unit of a paragraph, list item or the message: where a new thought usually starts. */
  paragraphStart: boolean;
  /** A fenced code block: it belongs to the thought around it and never starts a node. */
  code: boolean;
}

const FENCE = /```[\s\S]*?(?:```|$)/g;
// A blank line, or a line break before a list item or heading, starts a paragraph.
const PARAGRAPH = /\n[ \t]*\n\s*|\n(?=[ \t]*(?:[-*•]|\d+[.)]|#{1,6})\s)/g;
const sentenceSegmenter = new Intl.Segmenter('en', { granularity: 'sentence' });

/**
 * Splits a message into sentences with ICU's sentence rules (Intl.Segmenter: Unicode UAX #29,
 * which serves German as well as English), keeping code blocks whole.
 */
export function splitIntoUnits(text: string): TextUnit[] {
  const units: TextUnit[] = [];
  const prose = (from: number, to: number) => {
    let paragraphStart = true;
    let cursor = from;
    const breaks = [...text.slice(from, to).matchAll(PARAGRAPH)].map((m) => [from + m.index, from + m.index + m[0].length] as const);
    for (const [paragraphEnd, next] of [...breaks, [to, to] as const]) {
      for (const { segment, index } of sentenceSegmenter.segment(text.slice(cursor, paragraphEnd))) {
        const trimmed = segment.trim();
        if (!trimmed) continue;
        const start = cursor + index + segment.indexOf(trimmed);
        units.push({ text: trimmed, start, end: start + trimmed.length, paragraphStart, code: false });
        paragraphStart = false;
      }
      cursor = next;
      paragraphStart = true;
    }
  };
  let cursor = 0;
  for (const fence of text.matchAll(FENCE)) {
    prose(cursor, fence.index);
    units.push({ text: fence[0], start: fence.index, end: fence.index + fence[0].length, paragraphStart: true, code: true });
    cursor = fence.index + fence[0].length;
  }
  prose(cursor, text.length);
  return units;
}
