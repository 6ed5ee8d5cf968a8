// The facts file: YAML or JSON (YAML 1.2 reads both), a list of `{ subject, relation, value }` or
// an object with such a list under `facts`. Entries are checked against the schema one at a time,
// each before the next and together with the repeat check, so that the error is the first problem
// in the file and names the file and the entry.
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { type Fact, factKey } from './fact-grammar.js';
import { collapse } from './fact-text.js';

const FACTS_FILE = z.union([z.array(z.unknown()), z.object({ facts: z.array(z.unknown()) }).transform((file) => file.facts)], {
  error: 'expected a list of facts ({ subject, relation, value }) or an object with a "facts" list',
});

/** A field of a fact: text, or a number or yes/no that YAML read as one ("age: 7"), whitespace collapsed. */
const factField = (key: keyof Fact) => {
  const error = `"${key}" must be a non-empty string`;
  // Any number: z.number() refuses NaN and ±Infinity, which YAML's .nan and .inf give.
  const number = z.custom<number>((value) => typeof value === 'number');
  return z
    .union([z.string(), number, z.boolean()], { error })
    .transform((value) => collapse(String(value)))
    .refine((value) => value !== '', { error });
};

const FACT = z.strictObject(
  { subject: factField('subject'), relation: factField('relation'), value: factField('value') },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown key "${issue.keys[0]}" (expected subject, relation, value)`
        : 'expected an object with subject, relation and value',
  },
);

/** The one problem an error reports: an unknown key (most likely a misspelt one) before the field it leaves missing. */
const firstProblem = (error: z.ZodError): string =>
  (error.issues.find((issue) => issue.code === 'unrecognized_keys') ?? error.issues[0])?.message ?? error.message;

/** Parses a facts file (see the file comment). Errors name the file and the entry index. */
export function parseFacts(text: string, fileName: string): Fact[] {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) throw new Error(`${fileName}: not valid YAML or JSON: ${syntax.message}`);
  const list = FACTS_FILE.safeParse(doc.toJS());
  if (!list.success) throw new Error(`${fileName}: ${firstProblem(list.error)}`);
  const facts: Fact[] = [];
  const seen = new Map<string, number>();
  for (const [index, entry] of list.data.entries()) {
    const at = `${fileName}: facts[${index}]`;
    const parsed = FACT.safeParse(entry);
    if (!parsed.success) throw new Error(`${at}: ${firstProblem(parsed.error)}`);
    const fact = parsed.data;
    const key = factKey(fact.subject, fact.relation);
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      throw new Error(`${at}: repeats the subject and relation of facts[${earlier}] ("${fact.subject}", "${fact.relation}")`);
    }
    seen.set(key, index);
    facts.push(fact);
  }
  return facts;
}
