/**
 * Redaction of secrets and personal data in message text, before anything leaves ingestion.
 *
 * Secrets become `[SECRET:<kind>]`, personal data `[PII:email]` / `[PII:phone]`; each
 * replacement is counted per kind. Three modes: `off`, `secrets`, `secrets+pii`.
 *
 * How it works: every detector finds spans in the *original* text; a span is taken only if
 * it overlaps no span taken before it (detectors run most specific first) and no placeholder
 * already in the text, so redacting twice changes nothing. All patterns are linear-time:
 * each starts at a literal or a boundary, and no quantified group can split the same input
 * two ways.
 *
 * Why a table of our own and not secretlint (`@secretlint/core` + rule preset, MIT): its
 * only public entry, `lintSource`, is async while `Redactor` is synchronous and called for
 * every message; it cost ~130 µs per 500-character message (~7.8k messages/s) against
 * ~65k/s here; the preset has no rule for Stripe, Twilio, Google API keys, JWTs,
 * bearer tokens or `password=` text, and only matches full-length OpenAI/Anthropic/Hugging
 * Face keys; its profiler keeps a PerformanceObserver that stops the process from exiting;
 * and v13 needs Node 22. The provider patterns below follow gitleaks' rules
 * (`config/gitleaks.toml`, rule id in each `source`) and secretlint's where noted.
 * Phone numbers are validated with libphonenumber-js (MIT, Google's metadata).
 */
import { type CountryCode, findPhoneNumbersInText, isValidPhoneNumber } from 'libphonenumber-js/max';
import type { RedactionCounts, Redactor } from './types.js';

export type RedactionMode = 'off' | 'secrets' | 'secrets+pii';

const MODE_ALIASES: Record<string, RedactionMode> = {
  off: 'off',
  false: 'off',
  none: 'off',
  secrets: 'secrets',
  true: 'secrets',
  'secrets+pii': 'secrets+pii',
  all: 'secrets+pii',
  pii: 'secrets+pii',
};

/** Reads a mode from configuration: unset means `secrets`; anything unknown throws. */
export function redactionModeFromEnv(value: string | undefined): RedactionMode {
  if (value === undefined) return 'secrets';
  const mode = MODE_ALIASES[value.trim().toLowerCase()];
  if (mode === undefined) {
    throw new Error(
      `unknown redaction mode ${JSON.stringify(value)}: use off (or false, none), secrets (or true), or secrets+pii (or all, pii)`,
    );
  }
  return mode;
}

export interface RedactorOptions {
  /**
   * Regions whose national formats (`(415) 555-0132`, `020 7946 0958`) count as phone
   * numbers. International numbers (`+44 20 7946 0958`) are found whatever this is.
   */
  phoneRegions?: readonly CountryCode[];
}

/** Regions tried for numbers written without a country code. */
export const DEFAULT_PHONE_REGIONS: readonly CountryCode[] = ['US', 'CA', 'GB', 'IE', 'DE', 'AT', 'CH', 'FR', 'BE', 'NL', 'IT', 'AU', 'NZ'];

/** Builds the redactor for a mode. */
export function createRedactor(mode: RedactionMode, options: RedactorOptions = {}): Redactor {
  if (mode === 'off') return (text) => ({ text, counts: {} });
  const detectors: Detector[] = [...TOKEN_RULES.map(tokenDetector), detectAssignments, detectProsePasswords];
  if (mode === 'secrets+pii') {
    detectors.push(detectEmails, phoneDetector(options.phoneRegions ?? DEFAULT_PHONE_REGIONS));
  }
  return (text) => redact(text, detectors);
}

// ---------------------------------------------------------------------------------------
// Spans

interface Span {
  start: number;
  end: number;
  /** `null` for a placeholder already in the text: kept as it is, not counted. */
  kind: string | null;
  pii?: boolean;
}

/**
 * Non-overlapping spans, sorted by start. A detector finds its spans left to right, so they
 * are gathered apart and merged in once it is done: linear, where inserting each one into
 * the sorted list would be quadratic for a text with many findings of several kinds.
 */
class Claims {
  private taken: Span[] = [];
  private pending: Span[] = [];

  /** Takes the span unless it is empty or overlaps one taken before. */
  claim(span: Span): boolean {
    if (span.end <= span.start) return false;
    const last = this.pending[this.pending.length - 1];
    if (last !== undefined && span.start < last.end) {
      if (span.start >= last.start) return false;
      this.merge(); // out of order: rare, and still correct
    }
    if (this.overlapsTaken(span)) return false;
    this.pending.push(span);
    return true;
  }

  /** All spans, in order. */
  spans(): readonly Span[] {
    this.merge();
    return this.taken;
  }

  /** Ends a detector's turn. */
  merge(): void {
    if (this.pending.length === 0) return;
    const merged: Span[] = [];
    let i = 0;
    let j = 0;
    const { taken, pending } = this;
    while (i < taken.length || j < pending.length) {
      const a = taken[i];
      const b = pending[j];
      if (b === undefined || (a !== undefined && a.start < b.start)) {
        merged.push(a as Span);
        i += 1;
      } else {
        merged.push(b);
        j += 1;
      }
    }
    this.taken = merged;
    this.pending = [];
  }

  private overlapsTaken(span: Span): boolean {
    // The first taken span that ends after this one starts.
    let lo = 0;
    let hi = this.taken.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.taken[mid] as Span).end <= span.start) lo = mid + 1;
      else hi = mid;
    }
    const next = this.taken[lo];
    return next !== undefined && next.start < span.end;
  }
}

type Detector = (text: string, claims: Claims) => void;

const PLACEHOLDER = /\[(?:SECRET|PII):[a-z0-9_]+\]/g;

function redact(text: string, detectors: readonly Detector[]): { text: string; counts: RedactionCounts } {
  const claims = new Claims();
  if (text.includes('[')) {
    for (const m of text.matchAll(PLACEHOLDER)) claims.claim({ start: m.index, end: m.index + m[0].length, kind: null });
  }
  claims.merge();
  for (const detect of detectors) {
    detect(text, claims);
    claims.merge();
  }

  const counts: RedactionCounts = {};
  let out = '';
  let at = 0;
  for (const span of claims.spans()) {
    if (span.kind === null) continue;
    out += `${text.slice(at, span.start)}[${span.pii ? 'PII' : 'SECRET'}:${span.kind}]`;
    at = span.end;
    counts[span.kind] = (counts[span.kind] ?? 0) + 1;
  }
  if (at === 0) return { text, counts };
  return { text: out + text.slice(at), counts };
}

// ---------------------------------------------------------------------------------------
// Secrets that identify themselves: provider prefixes, PEM armour, context-bound values

interface TokenRule {
  kind: string;
  /** The rule this pattern follows. */
  source: string;
  /** Global; with the `d` flag when `group` is set. */
  pattern: RegExp;
  /** The capture group to redact; the whole match when unset. */
  group?: number;
  /** A substring every match contains, to skip the pattern cheaply. */
  hint?: string;
  /** A last check of the text to redact. */
  valid?: (secret: string) => boolean;
}

/** Random-looking: upper and lower case letters and a digit, as generated keys are. */
const mixed = (s: string): boolean => /[a-z]/.test(s) && /[A-Z]/.test(s) && /[0-9]/.test(s);
const hasDigit = (s: string): boolean => /[0-9]/.test(s);

const PEM_LABEL = '[A-Z0-9 _-]{0,40}PRIVATE KEY(?: BLOCK)?';
/** A real newline, or one escaped inside a JSON or code string. */
const PEM_NEWLINE = String.raw`(?:\r?\n|\\r?\\n)`;

/** Most specific first: a span taken by an earlier rule is not looked at again. */
export const TOKEN_RULES: readonly TokenRule[] = [
  {
    kind: 'gcp_service_account_key',
    source: 'gitleaks gcp-service-account (the "private_key" of a service-account JSON)',
    pattern: /"private_key"\s*:\s*"(-----BEGIN[^"]*)"/dg,
    group: 1,
    hint: '"private_key"',
  },
  {
    kind: 'gcp_service_account_key',
    source: 'gitleaks gcp-service-account ("private_key_id")',
    pattern: /"private_key_id"\s*:\s*"([0-9a-f]{40})"/dg,
    group: 1,
    hint: '"private_key_id"',
  },
  {
    kind: 'private_key',
    source: 'gitleaks private-key; secretlint privatekey (RSA, DSA, EC, OPENSSH, PGP, PKCS#8, encrypted)',
    // The body may not contain another BEGIN, so an unterminated block cannot swallow the
    // next one; an unterminated block (a paste cut short) is taken up to its last base64
    // line (a short last line only when alone on its line and not a lowercase word).
    pattern: new RegExp(
      String.raw`-----BEGIN ?${PEM_LABEL}-----(?:(?:(?!-----BEGIN)[\s\S])*?-----END ?${PEM_LABEL}-----|(?:${PEM_NEWLINE}[ \t]*(?:[A-Za-z0-9+/=]{16,}|(?:Proc-Type|DEK-Info): [A-Za-z0-9,-]+))*(?:${PEM_NEWLINE}[ \t]*(?![a-z]+[ \t]*(?:${PEM_NEWLINE}|$))[A-Za-z0-9+/=]{1,15}(?=[ \t]*(?:${PEM_NEWLINE}|$)))?)`,
      'g',
    ),
    hint: 'PRIVATE KEY',
  },
  {
    kind: 'anthropic_key',
    source: 'gitleaks anthropic-api-key, anthropic-admin-api-key; secretlint anthropic (any length)',
    pattern: /\bsk-ant-[A-Za-z0-9_-]{20,}/g,
    hint: 'sk-ant-',
  },
  {
    kind: 'openai_key',
    source: 'gitleaks openai-api-key; secretlint openai (any length, without the T3BlbkFJ marker)',
    pattern: /\bsk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,}/g,
    hint: 'sk-',
    valid: mixed,
  },
  {
    kind: 'aws_access_key',
    source: 'gitleaks aws-access-token',
    pattern: /\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b/g,
  },
  {
    kind: 'aws_secret_key',
    source: 'secretlint aws (AWSSecretAccessKey): only next to its name',
    pattern: /secret[_.-]?access[_.-]?key["'\\]*\s*(?::=|=>|=|:)\s*["'\\]*([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/dgi,
    group: 1,
  },
  {
    kind: 'github_token',
    source: 'gitleaks github-pat, github-oauth, github-app-token, github-refresh-token, github-fine-grained-pat',
    pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{82,})\b/g,
  },
  {
    kind: 'gitlab_token',
    source:
      'gitleaks gitlab-pat, gitlab-ptt, gitlab-rrt, gitlab-deploy-token, gitlab-runner-authentication-token, gitlab-feed-token and other gl*- tokens',
    pattern:
      /\b(?:(?:glpat|glptt|gldt|glrt|glcbt|glft|glimt|glagent|gloas|glsoat|glffct)-[A-Za-z0-9_-]{20,}(?:\.[A-Za-z0-9_-]+)*|GR1348941[A-Za-z0-9_-]{20,})/g,
  },
  {
    kind: 'slack_webhook',
    source: 'gitleaks slack-webhook-url; secretlint slack (IncomingWebhooks)',
    pattern: /https?:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9_/+-]{20,}/g,
    hint: 'hooks.slack.com',
  },
  {
    kind: 'slack_token',
    source: 'gitleaks slack-bot-token, slack-user-token, slack-app-token, slack-config-*-token, slack-legacy-*',
    pattern: /\b(?:xox[abeoprs]|xapp)(?:\.xox[bp])?-[A-Za-z0-9-]{10,}/g,
    valid: hasDigit,
  },
  {
    kind: 'stripe_key',
    source: 'gitleaks stripe-access-token (secret and restricted keys), plus webhook signing secrets',
    pattern: /\b(?:(?:sk|rk)_(?:test|live|prod)_[A-Za-z0-9]{10,247}|whsec_[A-Za-z0-9+/=]{24,})(?![A-Za-z0-9])/g,
  },
  {
    kind: 'google_api_key',
    source: 'gitleaks gcp-api-key',
    pattern: /\bAIza[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])/g,
    hint: 'AIza',
  },
  {
    kind: 'huggingface_token',
    source: 'gitleaks huggingface-access-token, huggingface-organization-api-token (digits allowed)',
    pattern: /\b(?:hf_|api_org_)[A-Za-z0-9]{30,40}(?![A-Za-z0-9])/g,
    valid: (s) => /[a-z]/.test(s) && /[A-Z]/.test(s),
  },
  {
    kind: 'npm_token',
    source: 'gitleaks npm-access-token',
    pattern: /\bnpm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/g,
    hint: 'npm_',
  },
  {
    kind: 'npm_token',
    source: 'secretlint npm (.npmrc `_authToken=`); a `$NPM_TOKEN` reference is left alone',
    pattern: /_auth(?:Token)?\s*=\s*([^\s"'$][^\s"']*)/dg,
    group: 1,
    hint: '_auth',
  },
  {
    kind: 'twilio',
    source: 'gitleaks twilio-api-key',
    pattern: /\bSK[0-9a-fA-F]{32}\b/g,
    hint: 'SK',
  },
  {
    kind: 'twilio',
    source: 'Twilio auth token (32 hex) next to its name',
    pattern: /twilio[a-z_]{0,20}(?:auth_?token|secret)["']?\s*(?::=|=>|=|:)\s*["']?([0-9a-f]{32})(?![0-9a-z])/dgi,
    group: 1,
  },
  {
    kind: 'sendgrid',
    source: 'gitleaks sendgrid-api-token; secretlint sendgrid',
    pattern: /\bSG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}(?![A-Za-z0-9_-])/g,
    hint: 'SG.',
  },
  {
    kind: 'jwt',
    source: 'gitleaks jwt',
    pattern: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*/g,
    hint: 'eyJ',
  },
  {
    kind: 'basic_auth_url',
    source: 'secretlint basicauth, database-connection-string; gitleaks generic URL credentials: scheme and host stay',
    pattern: /:\/\/([^\s:@/?#[\]"'<>]{0,256}:[^\s@/?#"'<>]{1,256})@(?=[A-Za-z0-9[])/dg,
    group: 1,
    hint: '://',
    valid: (cred) => !isPlaceholder(cred.slice(cred.indexOf(':') + 1)),
  },
  {
    kind: 'basic_auth_url',
    source: 'Go MySQL DSN (`user:pass@tcp(host)/db`), as secretlint database-connection-string',
    pattern: /(?<=["'`\s=]|^)([^\s:@/"'`=]{0,64}:[^\s@/"'`]{1,256})@(?:tcp|unix)\(/dg,
    group: 1,
    hint: '@',
    valid: (cred) => !isPlaceholder(cred.slice(cred.indexOf(':') + 1)),
  },
  {
    kind: 'bearer_token',
    source: 'gitleaks generic Authorization: Bearer',
    pattern: /\b(?:[Bb]earer|BEARER)\s+([A-Za-z0-9._~+/-]{16,}=*)/dg,
    group: 1,
    valid: (s) => hasDigit(s) && /[A-Za-z]/.test(s),
  },
  {
    kind: 'basic_auth',
    source: 'Authorization: Basic header (base64 user:password)',
    pattern: /\bAuthorization["']?\s*[:=]\s*["']?Basic\s+([A-Za-z0-9+/]{8,}={0,2})/dgi,
    group: 1,
  },
  {
    kind: 'basic_auth',
    source: 'curl/wget/httpie `-u user:password`, `--user user:password`',
    pattern: /(?<=\s)(?:-u|--user)[ \t=]+["']?([^\s:"'@]{1,64}:[^\s"']{1,256})/dg,
    group: 1,
    hint: '-u',
    valid: (cred) => {
      const [user = '', password = ''] = cred.split(':', 2);
      // Not `docker run -u 1000:1000`.
      return !/^\d+$/.test(user) && !/^\d+$/.test(password) && !isPlaceholder(password);
    },
  },
  {
    kind: 'password',
    source: "SQL: IDENTIFIED BY '...'",
    pattern: /\bIDENTIFIED\s+BY\s+'([^'\n]{1,200})'/dgi,
    group: 1,
  },
];

function tokenDetector(rule: TokenRule): Detector {
  const { kind, pattern, group, hint, valid } = rule;
  return (text, claims) => {
    if (hint !== undefined && !text.includes(hint)) return;
    for (const m of text.matchAll(pattern)) {
      let start = m.index;
      let end = start + m[0].length;
      if (group !== undefined) {
        const at = m.indices?.[group];
        if (at === undefined) continue;
        [start, end] = at;
      }
      if (valid && !valid(text.slice(start, end))) continue;
      claims.claim({ start, end, kind });
    }
  };
}

// ---------------------------------------------------------------------------------------
// Passwords and generic secrets: `name = value`, `name: value`, `"name": "value"`, `--name value`

/**
 * Words that start a name worth a look. The whole name around them is read by hand
 * (`DB_PASSWORD`, `userPassword`, `client_secret`), which keeps this linear.
 */
const SECRET_NAME_ANCHOR = /pass(?:word|wd|phrase)|pwd|secret|api[_-]?key|apikey|token|credential|access[_-]?key|private[_-]?key/gi;

const NAME_CHAR = /[A-Za-z0-9_.-]/;
const NAME_MAX = 64;
/** Longer values are not read: a password is shorter, and the bound keeps this linear. */
const VALUE_MAX = 1000;

const wordSet = (words: string): Set<string> => new Set(words.split(/\s+/).filter(Boolean));

/** Parts of a name that say it is about a secret, not the secret itself. */
const NOT_A_SECRET_NAME = wordSet(`
  length len min max count size limit policy policies rule rules regex pattern field label prompt placeholder
  hint reset forgot expiry expires expiration expire ttl lifetime age hash hashed digest strength type file path
  url uri endpoint enabled required visible error message msg text title name id arn ref env var header prefix
  suffix version format store manager provider usage used budget validator validation changed updated
`);

/** Values that are a type, a null or a flag, never a password. */
const NOT_A_SECRET_VALUE = wordSet(`
  none null nil undefined true false string str number int integer bool boolean any unknown object bytes byte
  char varchar text optional required void never secretstr hidden masked redacted empty blank is was are and or
  the a an to for of in on with flag option argument parameter
`);

function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** `password`, `generic_secret`, or null for names that are not about a secret value. */
function secretNameKind(name: string): 'password' | 'generic_secret' | null {
  const words = nameWords(name);
  if (words.length === 0 || words.some((w) => NOT_A_SECRET_NAME.has(w))) return null;
  if (words.some((w) => /pass(?:word|wd|phrase)/.test(w) || w === 'pwd')) return 'password';
  for (let i = 0; i < words.length; i += 1) {
    const w = words[i] as string;
    const next = words[i + 1];
    if (w === 'secret' || w === 'apikey' || w === 'token' || w === 'credential') return 'generic_secret';
    if (w.endsWith('secret') || w.endsWith('token') || w.endsWith('apikey')) return 'generic_secret';
    if (next === 'key' && (w === 'api' || w === 'access' || w === 'private' || w === 'secret')) return 'generic_secret';
  }
  return null;
}

/** Placeholders, templates and masks: `${X}`, `$X`, `%s`, `{{x}}`, `<password>`, `****`, `YOUR_KEY`. */
function isPlaceholder(value: string): boolean {
  const v = value.trim();
  if (v === '') return true;
  if (/^(?:\$|%[sdr(]|\{|<|\[|#\{|@|&|`)/.test(v)) return true;
  if (/^[*xX•.…_-]+$/.test(v)) return true;
  if (/\$\{|\{\{|%\(|<[a-z_-]+>/i.test(v)) return true;
  if (/^(?:your|insert|enter|replace|example)[\s_-]/i.test(v) || /[\s_-](?:here|goes[\s_-]here)$/i.test(v)) return true;
  if (/^[A-Z][A-Z_]*_[A-Z_]+$/.test(v)) return true; // YOUR_API_KEY, DB_PASSWORD
  return NOT_A_SECRET_VALUE.has(v.toLowerCase());
}

type Operator = 'assign' | 'colon' | 'space' | 'flag';

interface Assignment {
  name: string;
  op: Operator;
  quoted: boolean;
  start: number;
  end: number;
  /** The character right after a bare value. */
  after: string;
  /** Whether a bare value is followed by more text on its line. */
  moreOnLine: boolean;
}

const isHorizontalSpace = (c: string | undefined): boolean => c === ' ' || c === '\t';

/** The whole name around an anchor word; null when longer than any real name. */
function nameAround(text: string, anchorStart: number, anchorEnd: number): { nameStart: number; nameEnd: number } | null {
  let nameStart = anchorStart;
  while (nameStart > 0 && NAME_CHAR.test(text[nameStart - 1] as string)) {
    nameStart -= 1;
    if (anchorStart - nameStart > NAME_MAX) return null;
  }
  let nameEnd = anchorEnd;
  while (nameEnd < text.length && /[A-Za-z0-9_-]/.test(text[nameEnd] as string)) {
    nameEnd += 1;
    if (nameEnd - anchorEnd > NAME_MAX) return null;
  }
  return { nameStart, nameEnd };
}

const BARE_STOP = /[\s"'`,;)\]}>]/;

/**
 * Where a bare value starting at an index ends. Remembers the last run, so that
 * `password=password=...` reads each character once, not once per name.
 */
class BareRuns {
  private runStart = -1;
  private runEnd = -1;

  constructor(private readonly text: string) {}

  endFrom(start: number): number {
    if (start >= this.runStart && start <= this.runEnd) return this.runEnd;
    let k = start;
    while (k < this.text.length && !BARE_STOP.test(this.text[k] as string)) k += 1;
    this.runStart = start;
    this.runEnd = k;
    return k;
  }
}

/** Reads `name <op> value` for a name, or null when the text is not one. */
function readAssignment(text: string, nameStart: number, nameEnd: number, bare: BareRuns): Assignment | null {
  const rawName = text.slice(nameStart, nameEnd);
  const flag = rawName.startsWith('--');
  const name = rawName.replace(/^[-.]+/, '');
  const queryString = text[nameStart - 1] === '?' || text[nameStart - 1] === '&';

  let i = nameEnd;
  // A quoted or indexed name: "password": / 'password' => / ['password'] = / \"password\":
  if (text[i] === '\\' && (text[i + 1] === '"' || text[i + 1] === "'")) i += 2;
  else if (text[i] === '"' || text[i] === "'") i += 1;
  if (text[i] === ']') i += 1;

  let j = i;
  while (isHorizontalSpace(text[j])) j += 1;
  let op: Operator | null = null;
  const c = text[j];
  const d = text[j + 1];
  if (c === ':' && d === '=') {
    op = 'assign';
    j += 2;
  } else if (c === '=' && d === '>') {
    op = 'assign';
    j += 2;
  } else if (c === '=' && d !== '=' && d !== '~') {
    op = 'assign';
    j += 1;
  } else if (c === ':' && d !== ':') {
    op = 'colon';
    j += 1;
  } else if (j > i && flag) {
    op = 'flag';
  } else if (j > i && c === "'") {
    op = 'space'; // SQL: WITH PASSWORD 'x'
  }
  if (op === null) return null;
  while (isHorizontalSpace(text[j])) j += 1;

  // The value: a quoted literal on this line, or a bare token.
  let q = text[j];
  let escapedQuote = false;
  if (q === '\\' && (text[j + 1] === '"' || text[j + 1] === "'")) {
    escapedQuote = true;
    q = text[j + 1];
    j += 1;
  }
  if (q === '"' || q === "'" || q === '`') {
    const start = j + 1;
    let k = start;
    const limit = Math.min(text.length, start + VALUE_MAX);
    while (k < limit && text[k] !== '\n') {
      if (escapedQuote) {
        if (text[k] === '\\' && text[k + 1] === q) break;
      } else if (text[k] === '\\') {
        k += 1;
      } else if (text[k] === q) {
        break;
      }
      k += 1;
    }
    if (k >= limit || text[k] === '\n') return null;
    return { name, op, quoted: true, start, end: k, after: q, moreOnLine: false };
  }
  if (op === 'space') return null;

  let k = bare.endFrom(j);
  if (k - j > VALUE_MAX) return null;
  if (queryString) {
    const amp = text.slice(j, k).search(/[&#]/);
    if (amp >= 0) k = j + amp;
  }
  let end = k;
  // A sentence's full stop is not part of the value.
  if (end - j > 1 && text[end - 1] === '.') end -= 1;
  if (end === j) return null;
  let m = k;
  while (isHorizontalSpace(text[m])) m += 1;
  const moreOnLine = m < text.length && text[m] !== '\n' && text[m] !== '\r' && text[m] !== '#';
  return { name, op, quoted: false, start: j, end, after: text[k] ?? '', moreOnLine };
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
/** `os.environ[`, `input(`, `XML.find(`, `this.password`, `req.body.pwd`, `Foo::bar`, `process.env.X!`. */
const CODE_REFERENCE =
  /^[A-Za-z_$][\w$]*(?:(?:\.|\?\.|::|->)[A-Za-z_$][\w$]*)*[([]|^[A-Za-z_$][\w$]*(?:(?:\.|\?\.|::|->)[A-Za-z_$][\w$]*)+[!?]?$/;
const PATH_OR_URL = /^(?:\/|~\/|\.\.?\/|[A-Za-z]:\\|[a-z][a-z0-9+.-]*:\/\/)/i;

function charClasses(s: string): number {
  return (/[a-z]/.test(s) ? 1 : 0) + (/[A-Z]/.test(s) ? 1 : 0) + (/[0-9]/.test(s) ? 1 : 0) + (/[^A-Za-z0-9]/.test(s) ? 1 : 0);
}

/** Whether the value of `password = value` (and friends) is a literal password. */
function isPasswordValue(a: Assignment, value: string): boolean {
  if (isPlaceholder(value)) return false;
  if (a.quoted) return value.length >= 3 && !/^\s|\s$/.test(value);
  if (value.length < 3 || PATH_OR_URL.test(value) || CODE_REFERENCE.test(value)) return false;
  if (/^\d+$/.test(value)) return value.length >= 4;
  if (a.op === 'flag') return true;
  if (!IDENTIFIER.test(value)) return true; // s3cr3t-Value, hunter2!x, p@ss
  if (hasDigit(value)) return true; // hunter2, Passw0rd
  // An identifier without digits: a variable, a type or a word, unless the context says literal.
  const envStyle = /^[A-Z][A-Z0-9_]*$/.test(a.name);
  if (a.op === 'assign') return envStyle;
  // name: value: YAML when it ends the line and is no type name or object shorthand.
  return !a.moreOnLine && !/^[A-Z]/.test(value) && !',;)}'.includes(a.after || '\0');
}

/** Whether the value of `api_key = value` (and friends) looks like a generated secret. */
function isGenericSecretValue(a: Assignment, value: string): boolean {
  if (isPlaceholder(value) || /\s/.test(value) || value.length < 8) return false;
  if (PATH_OR_URL.test(value) || (!a.quoted && CODE_REFERENCE.test(value))) return false;
  if (/^\d+$/.test(value)) return false;
  if (!a.quoted && IDENTIFIER.test(value) && !hasDigit(value)) return false;
  if (/^[A-Z][A-Z0-9_]*$/.test(a.name) && a.op === 'assign' && !a.quoted) return true; // SECRET_KEY=...
  return charClasses(value) >= 2;
}

const detectAssignments: Detector = (text, claims) => {
  const anchor = SECRET_NAME_ANCHOR;
  anchor.lastIndex = 0;
  const bare = new BareRuns(text);
  for (let m = anchor.exec(text); m !== null; m = anchor.exec(text)) {
    const name = nameAround(text, m.index, m.index + m[0].length);
    if (name === null) {
      // A run of name characters longer than any name: skip past it.
      let k = m.index + m[0].length;
      while (k < text.length && NAME_CHAR.test(text[k] as string)) k += 1;
      anchor.lastIndex = k;
      continue;
    }
    // Each name is read once (`secret_access_token` holds three anchors).
    anchor.lastIndex = name.nameEnd;
    const a = readAssignment(text, name.nameStart, name.nameEnd, bare);
    if (a === null) continue;
    const kind = secretNameKind(a.name);
    if (kind === null) continue;
    const value = text.slice(a.start, a.end);
    const secret = kind === 'password' ? isPasswordValue(a, value) : isGenericSecretValue(a, value);
    if (secret && claims.claim({ start: a.start, end: a.end, kind })) anchor.lastIndex = a.end;
  }
};

/**
 * A password said in prose: "my password is hunter2", "het wachtwoord is Zomer2024!", "mein
 * Passwort lautet ...", "mon mot de passe est ...", "mi contraseña es ...". The value is the next
 * word (quotes and a closing full stop or comma not included); placeholders (`${DB_PASSWORD}`,
 * `<password>`, `****`) and words that say what kind of value it is ("is required", "is wrong")
 * are left alone.
 */
const PROSE_PASSWORD =
  /(?<![\p{L}\p{N}])(?:(?:my|the|our|your|his|her|their)\s+(?:\p{L}+\s+)?(?:password|passphrase|passcode|pin(?:\s*code)?)\s+(?:is|was|=|:)|(?:mijn|het|ons|jouw|uw)\s+(?:\p{L}+\s+)?(?:wachtwoord|pincode)\s+(?:is|was|=|:)|(?:mein|das|unser|dein|ihr)\s+(?:\p{L}+\s+)?(?:passwort|kennwort|pin)\s+(?:ist|war|lautet|=|:)|(?:mon|le|notre|ton|votre)\s+(?:mot\s+de\s+passe|code\s+pin)\s+(?:est|était|=|:)|(?:mi|la|nuestra|tu|su)\s+(?:contraseña|clave)\s+(?:es|era|=|:))\s*["'“‘«]?/giu;
/** What follows "password is" that is no password. */
const NOT_A_PROSE_PASSWORD = wordSet(`
  required wrong incorrect invalid correct expired empty missing too not set stored saved changed reset hashed
  encrypted same different long short strong weak secure valid verplicht fout onjuist leeg erforderlich falsch
  ungültig leer requis incorrect vide obligatoire incorrecta vacía
`);

const detectProsePasswords: Detector = (text, claims) => {
  PROSE_PASSWORD.lastIndex = 0;
  for (let m = PROSE_PASSWORD.exec(text); m !== null; m = PROSE_PASSWORD.exec(text)) {
    const start = m.index + m[0].length;
    let end = start;
    while (end < text.length && end - start < NAME_MAX && !/[\s"'”’»]/.test(text[end] as string)) end += 1;
    while (end > start && /[.,;:!?)]/.test(text[end - 1] as string)) end -= 1;
    const value = text.slice(start, end);
    if (value.length < 4 || isPlaceholder(value) || NOT_A_PROSE_PASSWORD.has(value.toLowerCase())) continue;
    claims.claim({ start, end, kind: 'password' });
  }
};

// ---------------------------------------------------------------------------------------
// Personal data

/**
 * An address: the local part starts a run (the lookbehind keeps this linear), labels of
 * at most 63 characters, a letters-only top-level domain. SSH remotes (`git@github.com:`)
 * and file names (`icon@2x.png`) are not addresses.
 */
const EMAIL =
  /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-]|\.[A-Za-z0-9])/g;
const FILE_EXTENSIONS = wordSet(`
  png jpg jpeg gif svg webp ico bmp tiff avif pdf js mjs cjs ts tsx jsx css scss json html md txt py rb go rs
  java kt swift zip tgz gz lock yml yaml toml xml csv
`);

const detectEmails: Detector = (text, claims) => {
  if (!text.includes('@')) return;
  for (const m of text.matchAll(EMAIL)) {
    const address = m[0];
    const at = address.indexOf('@');
    const local = address.slice(0, at);
    const tld = address.slice(address.lastIndexOf('.') + 1).toLowerCase();
    if (FILE_EXTENSIONS.has(tld) || local.startsWith('.') || local.endsWith('.')) continue;
    if (local === 'git') continue;
    claims.claim({ start: m.index, end: m.index + address.length, kind: 'email', pii: true });
  }
};

/** `+` and a country code, then digits and separators; libphonenumber-js decides. */
const INTERNATIONAL_PHONE = /(?<![\w+])\+\(?[1-9][\d \t()./-]{5,22}\d(?!\w)/g;
/** `(415) 555-0132`, `415-555-0132`, `415.555.0132`, `1-800-555-0199`: one kind of separator. */
const NANP_PHONE = /(?<![\w.+/:@-])(?:1([ .-]))?(?:\(\d{3}\) ?\d{3}[ .-]|\d{3}([ .-])\d{3}\2)\d{4}(?![\w@]|[.:/-]\d)/g;
/** Trunk-prefix formats: `020 7946 0958`, `030/901820`, `06-12345678`, `(030) 901820`, `01 23 45 67 89`. */
const TRUNK_PHONE =
  /(?<![\w.+/:@-])(?:\(0\d{1,4}\) ?\d{2,8}(?:([ -])\d{2,8}){0,3}|0\d{1,4}([ ./-])\d{2,8}(?:\2\d{2,8}){0,3})(?![\w@]|[.:/-]\d)/g;
const NANP_REGIONS = new Set<CountryCode>(['US', 'CA']);

function digitCount(s: string): number {
  let n = 0;
  for (const c of s) if (c >= '0' && c <= '9') n += 1;
  return n;
}

/**
 * Most libphonenumber-js checks for one text (each takes 15-40 µs). A text with more
 * candidates than this (a pasted table of numbers) has the rest judged by shape alone,
 * which redacts rather than leaks, and keeps a 1 MB text within a second.
 */
const PHONE_CHECK_BUDGET = 2000;

function phoneDetector(regions: readonly CountryCode[]): Detector {
  const nanp = regions.filter((r) => NANP_REGIONS.has(r));
  const trunk = regions.filter((r) => !NANP_REGIONS.has(r));
  return (text, claims) => {
    let budget = PHONE_CHECK_BUDGET;
    const claim = (start: number, end: number): void => {
      claims.claim({ start, end, kind: 'phone', pii: true });
    };
    if (text.includes('+')) {
      for (const m of text.matchAll(INTERNATIONAL_PHONE)) {
        const candidate = m[0];
        if (budget <= 0) {
          const n = digitCount(candidate);
          if (n >= 8 && n <= 15) claim(m.index, m.index + candidate.length);
          continue;
        }
        budget -= 1;
        if (isValidPhoneNumber(candidate)) {
          claim(m.index, m.index + candidate.length);
          continue;
        }
        // More than a number (`+44 20 7946 0958 2024`): let the library find it inside.
        budget -= 1;
        for (const found of findPhoneNumbersInText(candidate)) claim(m.index + found.startsAt, m.index + found.endsAt);
      }
    }
    const national = (pattern: RegExp, tried: readonly CountryCode[], minDigits: number): void => {
      if (tried.length === 0) return;
      for (const m of text.matchAll(pattern)) {
        const n = digitCount(m[0]);
        if (n < minDigits || n > 12) continue;
        if (budget > 0) {
          budget -= tried.length;
          if (!tried.some((region) => isValidPhoneNumber(m[0], region))) continue;
        }
        claim(m.index, m.index + m[0].length);
      }
    };
    claims.merge();
    national(NANP_PHONE, nanp, 10);
    claims.merge();
    national(TRUNK_PHONE, trunk, 9);
  };
}
