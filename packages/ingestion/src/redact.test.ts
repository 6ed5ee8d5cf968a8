import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createRedactor, type RedactionMode, redactionModeFromEnv, TOKEN_RULES } from './redact.js';
import { NOT_PHONES, NOT_SECRETS, PII_CASES, SECRET_CASES } from './redact-corpus.test-data.js';

const secrets = createRedactor('secrets');
const all = createRedactor('secrets+pii');
const off = createRedactor('off');

const KINDS = [
  'openai_key',
  'anthropic_key',
  'aws_access_key',
  'aws_secret_key',
  'github_token',
  'gitlab_token',
  'slack_token',
  'slack_webhook',
  'stripe_key',
  'google_api_key',
  'gcp_service_account_key',
  'huggingface_token',
  'npm_token',
  'twilio',
  'sendgrid',
  'jwt',
  'bearer_token',
  'basic_auth',
  'basic_auth_url',
  'private_key',
  'password',
  'generic_secret',
];

describe('secrets corpus', () => {
  for (const c of SECRET_CASES) {
    test(c.name, () => {
      for (const redact of [secrets, all]) {
        const r = redact(c.input);
        assert.equal(r.text, c.expected);
        assert.deepEqual(r.counts, c.counts);
      }
    });
  }

  test('covers every kind', () => {
    const seen = new Set(SECRET_CASES.flatMap((c) => Object.keys(c.counts)));
    assert.deepEqual([...seen].sort(), [...KINDS].sort());
  });

  test('every pattern names the rule it follows', () => {
    for (const rule of TOKEN_RULES) {
      assert.ok(rule.source.length > 0, rule.kind);
      assert.ok(rule.pattern.global, rule.kind);
      if (rule.group !== undefined) assert.ok(rule.pattern.hasIndices, rule.kind);
    }
  });
});

describe('personal data corpus', () => {
  for (const c of PII_CASES) {
    test(c.name, () => {
      const r = all(c.input);
      assert.equal(r.text, c.expected);
      assert.deepEqual(r.counts, c.counts);
    });
  }

  test('secrets mode leaves e-mail addresses and phone numbers alone', () => {
    for (const c of PII_CASES) {
      const r = secrets(c.input);
      const secretCounts = Object.fromEntries(Object.entries(c.counts).filter(([kind]) => kind !== 'email' && kind !== 'phone'));
      assert.deepEqual(r.counts, secretCounts, c.name);
      assert.ok(!r.text.includes('[PII:'), c.name);
    }
  });

  test('numbers that are no phone numbers stay', () => {
    for (const text of NOT_PHONES) assert.deepEqual(all(text), { text, counts: {} });
  });
});

describe('no false positives', () => {
  for (const text of NOT_SECRETS) {
    test(JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text), () => {
      assert.deepEqual(secrets(text), { text, counts: {} });
      assert.deepEqual(all(text), { text, counts: {} });
    });
  }

  test('ordinary prose stays', () => {
    const prose =
      'Yesterday I asked about sorting a list in Python. You suggested sorted(items, key=len), which worked. ' +
      'Could you also explain the secret to good naming, why tokens matter in LLMs, and how to reset my password safely?';
    assert.deepEqual(all(prose), { text: prose, counts: {} });
  });
});

describe('modes', () => {
  test('off changes nothing', () => {
    for (const c of [...SECRET_CASES, ...PII_CASES]) assert.deepEqual(off(c.input), { text: c.input, counts: {} });
  });

  test('redactionModeFromEnv', () => {
    const cases: [string | undefined, RedactionMode][] = [
      [undefined, 'secrets'],
      ['off', 'off'],
      ['false', 'off'],
      ['none', 'off'],
      ['secrets', 'secrets'],
      ['true', 'secrets'],
      ['secrets+pii', 'secrets+pii'],
      ['all', 'secrets+pii'],
      ['pii', 'secrets+pii'],
      [' Secrets+PII ', 'secrets+pii'],
    ];
    for (const [value, mode] of cases) assert.equal(redactionModeFromEnv(value), mode, String(value));
    assert.throws(() => redactionModeFromEnv('maybe'), /off.*secrets.*secrets\+pii/);
    assert.throws(() => redactionModeFromEnv(''), /unknown redaction mode/);
  });

  test('phone regions can be narrowed', () => {
    const usOnly = createRedactor('secrets+pii', { phoneRegions: ['US'] });
    assert.equal(usOnly('ring 020 7946 0958 or (415) 555-0132').text, 'ring 020 7946 0958 or [PII:phone]');
    assert.equal(usOnly('ring +44 20 7946 0958').text, 'ring [PII:phone]');
  });
});

describe('idempotence', () => {
  test('redacting twice changes nothing and counts nothing', () => {
    for (const c of [...SECRET_CASES, ...PII_CASES]) {
      const once = all(c.input).text;
      assert.deepEqual(all(once), { text: once, counts: {} }, c.name);
      assert.deepEqual(secrets(once), { text: once, counts: {} }, c.name);
    }
  });

  test('placeholders are never redacted into', () => {
    const text =
      'password: [SECRET:password] api_key=[SECRET:generic_secret] Bearer [SECRET:jwt] [PII:email] https://[SECRET:basic_auth_url]@host';
    assert.deepEqual(all(text), { text, counts: {} });
  });
});

describe('performance', () => {
  const within = (ms: number, text: string): void => {
    const start = performance.now();
    all(text);
    const took = performance.now() - start;
    assert.ok(took < ms, `${took.toFixed(0)} ms for ${text.length} characters of ${JSON.stringify(text.slice(0, 20))}`);
  };

  test('a 1 MB message of mixed content', () => {
    const chunk = `${SECRET_CASES.map((c) => c.input).join('\n')}\n${PII_CASES.map((c) => c.input).join('\n')}\n${NOT_SECRETS.join('\n')}\n`;
    within(3000, chunk.repeat(Math.ceil(1_000_000 / chunk.length)).slice(0, 1_000_000));
  });

  test('adversarial 1 MB inputs stay linear', () => {
    const mb = 1_000_000;
    const inputs = [
      'a'.repeat(mb),
      `${'a'.repeat(mb)}@`,
      'a@'.repeat(mb / 2),
      'a.'.repeat(mb / 2),
      `x@${'a.'.repeat(mb / 2)}`,
      'sk-'.repeat(mb / 3),
      `sk-${'a'.repeat(mb)}`,
      'password='.repeat(mb / 9),
      'password'.repeat(mb / 8),
      'password: '.repeat(mb / 10),
      `password = "${'a'.repeat(mb)}`,
      '-----BEGIN PRIVATE KEY-----\n'.repeat(mb / 28),
      `-----BEGIN PRIVATE KEY-----\n${'A'.repeat(mb)}`,
      `-----BEGIN PRIVATE KEY-----${'\nAAAAAAAAAAAAAAAAAAAA'.repeat(mb / 21)}`,
      '+1 '.repeat(mb / 3),
      '+1 (415) 555-0132 '.repeat(mb / 18),
      '0'.repeat(mb),
      '0 '.repeat(mb / 2),
      '020 7946 0958 '.repeat(mb / 14),
      '1-'.repeat(mb / 2),
      '://'.repeat(mb / 3),
      `https://${'a'.repeat(mb)}`,
      `https://a:${'b'.repeat(mb)}`,
      'Bearer '.repeat(mb / 7),
      `eyJ${'a'.repeat(mb)}`,
      'eyJaaaaaaaaaaaa.'.repeat(mb / 16),
      'xoxb-'.repeat(mb / 5),
      '[SECRET:'.repeat(mb / 8),
      'aws_secret_access_key='.repeat(mb / 22),
      'password=password='.repeat(mb / 18),
      'password="'.repeat(mb / 10),
      '(999) 999-9999 '.repeat(mb / 15),
      '+9 999 999 999 '.repeat(mb / 15),
      // Many findings of several kinds, interleaved.
      'a@b.co +1 (415) 555-0132 '.repeat(mb / 25),
      'password: x1y2z3 a@b.co '.repeat(mb / 24),
    ];
    for (const text of inputs) within(3000, text);
  });

  test('throughput on realistic messages', () => {
    const words = `
      the of and to in is that for it as with was on be at by this had not are but from or have an they
      which one you were her all she there would their we him been has when who will more no if out so
      said what up its about into than them can only other new some could time these two may then do first
      any my now such like our over man me even most made after also did many before must through back
      years where much your way well down should because each just those people how too little state good
      very make world still own see men work long get here between both life being under never day same
      another know while last might us great old year off come since against go came right used take three
      function const return import export class await async interface type password token secret key api
    `
      .split(/\s+/)
      .filter(Boolean);
    let seed = 7;
    const next = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const messages: string[] = [];
    for (let i = 0; i < 10_000; i += 1) {
      let m = '';
      while (m.length < 500) m += `${words[Math.floor(next() * words.length)]}${next() < 0.08 ? '. ' : next() < 0.05 ? ' = 42;\n' : ' '}`;
      if (i % 50 === 0) m += ` ${(SECRET_CASES[i % SECRET_CASES.length] as { input: string }).input}`;
      if (i % 70 === 0) m += ` ${(PII_CASES[i % PII_CASES.length] as { input: string }).input}`;
      messages.push(m);
    }
    for (const [name, redact] of [
      ['secrets', secrets],
      ['secrets+pii', all],
    ] as const) {
      for (const m of messages.slice(0, 1000)) redact(m); // warm up
      const start = performance.now();
      for (const m of messages) redact(m);
      const seconds = (performance.now() - start) / 1000;
      const rate = Math.round(messages.length / seconds);
      // Printed for the record; the bound is loose so a slow CI machine still passes.
      console.log(`# ${name}: ${rate} messages/s (10k messages of ~500 characters)`);
      assert.ok(rate > 5_000, `${name}: ${rate} messages/s`);
    }
  });
});

describe('passwords in prose', () => {
  const redactor = createRedactor('secrets');
  test('"my password is ..." in several languages is redacted; placeholders and words about a password are not', () => {
    for (const [text, secret] of [
      ['my password is hunter2, please keep it safe', 'hunter2'],
      ['The admin password was "Tr0ub4dor&3".', 'Tr0ub4dor&3'],
      ['mijn wachtwoord is Zomer2024! en dat weet niemand', 'Zomer2024!'],
      ['Mein Passwort lautet Sonnenblume77.', 'Sonnenblume77'],
      ['mon mot de passe est Soleil!2025', 'Soleil!2025'],
      ['mi contraseña es gatito123', 'gatito123'],
    ] as const) {
      const out = redactor(text);
      assert.ok(!out.text.includes(secret), `${text} -> ${out.text}`);
      assert.equal(out.counts.password, 1, text);
    }
    for (const text of [
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the placeholder a compose file holds, literally
      'my password is ${DB_PASSWORD} in the compose file',
      'the password is required',
      'your password is too short: use 12 characters',
      'my password is <password>',
      'the password is ****',
    ]) {
      assert.equal(redactor(text).text, text, text);
    }
  });
});
