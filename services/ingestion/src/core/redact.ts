/** Secret shapes we replace before anything leaves ingestion. Order matters: specific first. */
const SECRET_PATTERNS: { kind: string; pattern: RegExp; keepGroup?: number }[] = [
  { kind: 'private_key', pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g },
  { kind: 'anthropic_key', pattern: /\bsk-ant-[A-Za-z0-9_-]{20,}/g },
  { kind: 'openai_key', pattern: /\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{20,}/g },
  { kind: 'aws_access_key', pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
  { kind: 'github_token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b/g },
  { kind: 'slack_token', pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}/g },
  { kind: 'google_api_key', pattern: /\bAIza[0-9A-Za-z_-]{35}\b/g },
  { kind: 'jwt', pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g },
  { kind: 'bearer_token', pattern: /(\bBearer\s+)[A-Za-z0-9._~+/-]{20,}=*/g, keepGroup: 1 },
  {
    kind: 'password',
    // `password: hunter2`, `DB_PASSWORD="x y"`, `pwd=...`: the label stays, the value goes.
    pattern:
      /((?<![A-Za-z])(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?token)\b["']?\s*[:=]\s*)("[^"\n]{3,}"|'[^'\n]{3,}'|[^\s"',;]{3,})/gi,
    keepGroup: 1,
  },
];

export interface RedactionResult {
  text: string;
  redactions: number;
}

/** Replaces secrets (API keys, tokens, passwords, private keys) with `[REDACTED:kind]`. */
export function redactSecrets(text: string): RedactionResult {
  let redactions = 0;
  let out = text;
  for (const { kind, pattern, keepGroup } of SECRET_PATTERNS) {
    out = out.replace(pattern, (...match: string[]) => {
      const whole = match[0] ?? '';
      if (whole.includes('[REDACTED:')) return whole;
      redactions += 1;
      const kept = keepGroup ? (match[keepGroup] ?? '') : '';
      return `${kept}[REDACTED:${kind}]`;
    });
  }
  return { text: out, redactions };
}
