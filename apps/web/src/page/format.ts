/** A time as `2024-05-01 12:05 UTC`, or a dash when the source had none. */
export const when = (date: Date | undefined) => (date ? `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC` : '–');

export const percent = (share: number, digits = 1) => `${(100 * share).toFixed(digits)}%`;

/** The first `max` characters of `text`, on one line. */
export function excerpt(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
