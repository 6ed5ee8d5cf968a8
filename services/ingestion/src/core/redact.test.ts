import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactSecrets } from './redact.js';

test('API keys, tokens and passwords are replaced, the words around them stay', () => {
  const cases: [string, string][] = [
    ['key sk-proj-Zt8kQ2mVn4Lp7Rx9Wc3Yb6Hd1Fg5Js0a here', 'key [REDACTED:openai_key] here'],
    ['anthropic sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123', 'anthropic [REDACTED:anthropic_key]'],
    ['AKIAIOSFODNN7EXAMPLE is aws', '[REDACTED:aws_access_key] is aws'],
    ['token ghp_abcdefghijklmnopqrstuvwxyz0123456789AB', 'token [REDACTED:github_token]'],
    ['Authorization: Bearer abcdef0123456789abcdef0123', 'Authorization: Bearer [REDACTED:bearer_token]'],
    ['password: hunter2!', 'password: [REDACTED:password]'],
    ['DB_PASSWORD="correct horse"', 'DB_PASSWORD="correct horse"'.replace('"correct horse"', '[REDACTED:password]')],
    ['-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----', '[REDACTED:private_key]'],
  ];
  for (const [input, expected] of cases) {
    assert.equal(redactSecrets(input).text, expected, input);
    assert.ok(redactSecrets(input).redactions >= 1, input);
  }
});

test('ordinary prose is left alone and redaction is idempotent', () => {
  const prose = 'The password policy says twelve characters; ask-me-anything is a format, not a key.';
  assert.deepEqual(redactSecrets(prose), { text: prose, redactions: 0 });
  const once = redactSecrets('use sk-proj-Zt8kQ2mVn4Lp7Rx9Wc3Yb6Hd1Fg5Js0a').text;
  assert.deepEqual(redactSecrets(once), { text: once, redactions: 0 });
});
