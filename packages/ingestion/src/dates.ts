/* Times written by people: ISO dates with or without a time, and "June 1, 2024". */

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
export function leadingDate(line: string): Date | undefined {
  // A date is short: only the start of a (possibly huge) line is looked at.
  const text = line.trimStart().slice(0, 80).trimEnd();
  const whole = parseHumanTime(text);
  if (whole) return whole;
  const sep = /^(.+?)\s*(?:\s[-–—|]\s|:\s|\s[-–—]$)/.exec(text);
  return sep?.[1] ? parseHumanTime(sep[1]) : undefined;
}
