// Checks dataset records against the JSON Schemas in packages/samples/schemas (draft 2020-12, Ajv 8).
// The schemas come in as data (src/gen/schemas.ts, generated from the files at build time), so
// checking needs no file; io/validate-file.ts reads a JSONL file.
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { RECORD_SCHEMAS } from './gen/schemas.js';
import { RECORD_TYPES, type RecordType } from './records.js';

export interface RecordCheck {
  valid: boolean;
  /** Messages that name the field, e.g. `/output must NOT have fewer than 1 characters`. */
  errors: string[];
}

export interface LineError {
  /** 1-based line number in the file. */
  line: number;
  message: string;
}

export interface ValidationResult {
  /** Records that passed. */
  valid: number;
  /** Non-blank lines that failed (malformed JSON included). */
  invalid: number;
  /** `line N: message`, one entry per problem, capped at `maxErrors`. */
  errors: LineError[];
  /** True when errors were left off because of `maxErrors`. */
  truncated: boolean;
}

export interface ValidateOptions {
  /** Stop collecting messages after this many (counting goes on). Default 1000. */
  maxErrors?: number;
}

// ajv-formats is CommonJS; under NodeNext its default import is the module object, whose `default` is the plugin.
type FormatsPlugin = (ajv: Ajv2020) => Ajv2020;
const addFormats: FormatsPlugin =
  (addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? (addFormatsModule as unknown as FormatsPlugin);

/** The six record schemas, keyed by type. */
export function recordSchemas(): Record<RecordType, Record<string, unknown>> {
  const out = {} as Record<RecordType, Record<string, unknown>>;
  for (const type of RECORD_TYPES) {
    const schema = RECORD_SCHEMAS[type];
    if (!schema) throw new Error(`no ${type} record schema among the generated ones (src/gen/schemas.ts)`);
    out[type] = schema;
  }
  return out;
}

const isRecordType = (value: unknown): value is RecordType =>
  typeof value === 'string' && (RECORD_TYPES as readonly string[]).includes(value);

let compiled: Map<RecordType, ValidateFunction> | undefined;

function validators(): Map<RecordType, ValidateFunction> {
  if (compiled) return compiled;
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, verbose: true });
  addFormats(ajv);
  const schemas = recordSchemas();
  const map = new Map<RecordType, ValidateFunction>();
  for (const type of RECORD_TYPES) map.set(type, ajv.compile(schemas[type]));
  compiled = map;
  return map;
}

function formatError(e: ErrorObject): string | undefined {
  const at = e.instancePath || '/';
  const child = (name: unknown) => `${e.instancePath}/${String(name)}`;
  switch (e.keyword) {
    case 'if':
      return undefined; // always comes with the error of the branch that failed
    case 'required':
      return `${child(e.params.missingProperty)} is required`;
    case 'unevaluatedProperties':
      return `${child(e.params.unevaluatedProperty)} is not allowed`;
    case 'additionalProperties':
      return `${child(e.params.additionalProperty)} is not allowed`;
    case 'enum':
      return `${at} must be one of ${(e.params.allowedValues as unknown[]).map(String).join(', ')}`;
    case 'const':
      return `${at} must be ${JSON.stringify(e.params.allowedValue)}`;
    case 'pattern': {
      const description = (e.parentSchema as { description?: unknown } | undefined)?.description;
      return typeof description === 'string' ? `${at} must be ${description}` : `${at} ${e.message}`;
    }
    default:
      return `${at} ${e.message ?? e.keyword}`;
  }
}

/**
 * Of each `anyOf` that failed (a record's source: graph lineage or a fact), the errors of the branch
 * closest to passing (fewest errors; the first on a tie), without the `anyOf` error itself: a
 * record missing its nodeIds is told that, not also everything a fact source would need.
 */
function closestBranches(errors: ErrorObject[]): ErrorObject[] {
  let kept = errors;
  for (const failed of errors.filter((e) => e.keyword === 'anyOf')) {
    const prefix = `${failed.schemaPath}/`;
    const counts = new Map<number, number>();
    for (const e of kept) {
      if (e.schemaPath.startsWith(prefix)) {
        const branch = Number.parseInt(e.schemaPath.slice(prefix.length), 10);
        counts.set(branch, (counts.get(branch) ?? 0) + 1);
      }
    }
    const best = [...counts].sort(([a, n], [b, m]) => n - m || a - b)[0]?.[0];
    if (best === undefined) continue;
    kept = kept.filter((e) => e !== failed && (!e.schemaPath.startsWith(prefix) || e.schemaPath.startsWith(`${prefix}${best}/`)));
  }
  return kept;
}

/** Checks one record against the schema of its `type`, plus the rules JSON Schema cannot say. */
export function validateRecord(record: unknown): RecordCheck {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    return { valid: false, errors: ['record must be a JSON object'] };
  }
  const type = (record as { type?: unknown }).type;
  if (type === undefined) return { valid: false, errors: ['/type is required'] };
  if (!isRecordType(type)) {
    return { valid: false, errors: [`/type must be one of ${RECORD_TYPES.join(', ')} (got ${JSON.stringify(type)})`] };
  }
  const validate = validators().get(type) as ValidateFunction;
  const errors: string[] = [];
  if (!validate(record)) {
    for (const e of closestBranches(validate.errors ?? [])) {
      const message = formatError(e);
      if (message !== undefined && !errors.includes(message)) errors.push(message);
    }
  }
  if (type === 'preference') {
    const { chosen, rejected } = record as { chosen?: unknown; rejected?: unknown };
    if (typeof chosen === 'string' && chosen.length > 0 && chosen === rejected) errors.push('/rejected must differ from /chosen');
  }
  return { valid: errors.length === 0, errors };
}

/** Checks JSONL lines (one record a line; blank lines are skipped but counted for line numbers). */
export async function validateRecords(
  lines: AsyncIterable<string> | Iterable<string>,
  options: ValidateOptions = {},
): Promise<ValidationResult> {
  const maxErrors = options.maxErrors ?? 1000;
  const result: ValidationResult = { valid: 0, invalid: 0, errors: [], truncated: false };
  const report = (line: number, messages: string[]) => {
    result.invalid += 1;
    for (const message of messages) {
      if (result.errors.length >= maxErrors) {
        result.truncated = true;
        return;
      }
      result.errors.push({ line, message: `line ${line}: ${message}` });
    }
  };
  let n = 0;
  for await (const raw of lines) {
    n += 1;
    const text = raw.trim();
    if (text === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch (err) {
      report(n, [`malformed JSON: ${(err as Error).message}`]);
      continue;
    }
    const check = validateRecord(record);
    if (check.valid) result.valid += 1;
    else report(n, check.errors);
  }
  return result;
}
