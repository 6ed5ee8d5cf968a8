/**
 * A corpus of real-shaped secrets and personal data for the redaction tests, and of text that
 * must come through untouched. The secrets are fake: drawn from a seeded generator in each
 * provider's format (prefix, alphabet, length), so the source holds no string that a secret
 * scanner or a push protection would take for a live credential.
 */
import { mulberry32 } from '@trajectory/config/util';

const random = mulberry32(20240611);

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
const B62 = LOWER + UPPER + DIGITS;
const B64URL = `${B62}_-`;
const B64 = `${B62}+/`;
const HEX = '0123456789abcdef';
const BASE32 = `${UPPER}234567`;

/** `n` characters of `alphabet`; with `classes`, the first characters are one of each class. */
function draw(alphabet: string, n: number, classes: string[] = []): string {
  let out = '';
  for (const c of classes) out += c[Math.floor(random() * c.length)];
  while (out.length < n) out += alphabet[Math.floor(random() * alphabet.length)];
  // Shuffle so the forced characters are not always first.
  const chars = [...out];
  for (let i = chars.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [chars[i], chars[j]] = [chars[j] as string, chars[i] as string];
  }
  return chars.join('');
}
const mixed = (alphabet: string, n: number): string => draw(alphabet, n, [LOWER, UPPER, DIGITS]);
const b64url = (value: string): string => Buffer.from(value).toString('base64url');
const b64 = (value: string): string => Buffer.from(value).toString('base64');

/** Base64 body lines of a PEM block. */
function pemBody(bytes: number, newline = '\n'): string {
  const body = `MII${draw(B64, Math.ceil((bytes * 4) / 3))}`;
  return body.match(/.{1,64}/g)?.join(newline) ?? body;
}

export interface Part {
  kind: string;
  value: string;
  pii?: boolean;
}

export interface CorpusCase {
  name: string;
  input: string;
  expected: string;
  counts: Record<string, number>;
}

const secret = (kind: string, value: string): Part => ({ kind, value });
const pii = (kind: string, value: string): Part => ({ kind, value, pii: true });

/** A case from text and parts: the input has the values, the expected text the placeholders. */
function sample(name: string, ...parts: (string | Part)[]): CorpusCase {
  let input = '';
  let expected = '';
  const counts: Record<string, number> = {};
  for (const part of parts) {
    if (typeof part === 'string') {
      input += part;
      expected += part;
    } else {
      input += part.value;
      expected += `[${part.pii ? 'PII' : 'SECRET'}:${part.kind}]`;
      counts[part.kind] = (counts[part.kind] ?? 0) + 1;
    }
  }
  return { name, input, expected, counts };
}

// --- provider tokens -------------------------------------------------------------------------

const openaiProject = `sk-proj-${mixed(B64URL, 74)}T3BlbkFJ${mixed(B64URL, 74)}`;
const openaiLegacy = `sk-${mixed(B62, 20)}T3BlbkFJ${mixed(B62, 20)}`;
const openaiService = `sk-svcacct-${mixed(B64URL, 58)}T3BlbkFJ${mixed(B64URL, 58)}`;
const anthropic = `sk-ant-api03-${mixed(B64URL, 93)}AA`;
const anthropicAdmin = `sk-ant-admin01-${mixed(B64URL, 93)}AA`;
const awsAccess = `AKIA${draw(BASE32, 16)}`;
const awsSession = `ASIA${draw(BASE32, 16)}`;
const awsSecret = mixed(B64, 40);
const awsSecret2 = mixed(B64, 40);
const githubClassic = `ghp_${mixed(B62, 36)}`;
const githubOauth = `gho_${mixed(B62, 36)}`;
const githubServer = `ghs_${mixed(B62, 36)}`;
const githubFineGrained = `github_pat_11${draw(UPPER + DIGITS, 20)}_${mixed(B62, 59)}`;
const gitlabPat = `glpat-${mixed(B64URL, 20)}`;
const gitlabRunner = `glrt-${mixed(B62, 20)}`;
const slackBot = `xoxb-${draw(DIGITS, 12)}-${draw(DIGITS, 13)}-${mixed(B62, 24)}`;
const slackUser = `xoxp-${draw(DIGITS, 12)}-${draw(DIGITS, 12)}-${draw(DIGITS, 13)}-${draw(HEX, 32)}`;
const slackApp = `xapp-1-A${draw(UPPER + DIGITS, 10)}-${draw(DIGITS, 13)}-${draw(HEX, 64)}`;
const slackWebhook = `https://hooks.slack.com/services/T${draw(UPPER + DIGITS, 8)}/B${draw(UPPER + DIGITS, 10)}/${mixed(B62, 24)}`;
const stripeLive = `sk_live_${mixed(B62, 99)}`;
const stripeRestricted = `rk_test_${mixed(B62, 24)}`;
const stripeWebhook = `whsec_${mixed(B62, 32)}`;
const stripePublishable = `pk_live_${mixed(B62, 24)}`;
const googleKey = `AIza${mixed(B64URL, 35)}`;
const privateKeyId = draw(HEX, 40);
const huggingface = `hf_${draw(LOWER + UPPER, 34, [LOWER, UPPER])}`;
const huggingfaceOrg = `api_org_${draw(LOWER + UPPER, 34, [LOWER, UPPER])}`;
const npmToken = `npm_${mixed(B62, 36)}`;
const npmLegacy = `${draw(HEX, 8)}-${draw(HEX, 4)}-${draw(HEX, 4)}-${draw(HEX, 4)}-${draw(HEX, 12)}`;
const twilioKey = `SK${draw(HEX, 32)}`;
const twilioAuth = draw(HEX, 32);
const sendgrid = `SG.${mixed(B64URL, 22)}.${mixed(B64URL, 43)}`;
const jwt = [
  b64url('{"alg":"HS256","typ":"JWT"}'),
  b64url(JSON.stringify({ sub: draw(DIGITS, 10), name: 'Jane Doe', iat: 1716000000 + Math.floor(random() * 1e6) })),
  mixed(B64URL, 43),
].join('.');
const bearer = mixed(B62, 40);
const basicHeader = b64(`admin:${mixed(B62, 16)}`);
const urlPassword = mixed(B62, 18);
const dbPassword = `${mixed(B62, 12)}!`;
const djangoKey = `django-insecure-${draw(`${LOWER + DIGITS}!@#^&*(-_=+)`, 50, [LOWER, DIGITS])}`;
const apiKeyHex = draw(HEX, 32, ['abcdef', DIGITS]);
const accessToken = mixed(B62, 40);
const clientSecret = mixed(B64URL, 32);

const rsaPem = `-----BEGIN RSA PRIVATE KEY-----\n${pemBody(600)}\n-----END RSA PRIVATE KEY-----`;
const pkcs8Pem = `-----BEGIN PRIVATE KEY-----\n${pemBody(600)}\n-----END PRIVATE KEY-----`;
const ecPem = `-----BEGIN EC PRIVATE KEY-----\n${pemBody(90)}\n-----END EC PRIVATE KEY-----`;
const encryptedPem = `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${pemBody(600)}\n-----END ENCRYPTED PRIVATE KEY-----`;
const opensshPem = `-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA${draw(B64, 40)}\n${pemBody(300)}\n-----END OPENSSH PRIVATE KEY-----`;
const pgpBlock = `-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBG${draw(B64, 58)}\n${pemBody(300)}\n=${draw(B64, 4)}\n-----END PGP PRIVATE KEY BLOCK-----`;
const truncatedPem = `-----BEGIN RSA PRIVATE KEY-----\n${pemBody(150)}`;
const gcpPem = `-----BEGIN PRIVATE KEY-----\\n${pemBody(600, '\\n')}\\n-----END PRIVATE KEY-----\\n`;

/** Every kind of secret, in the places people paste them. */
export const SECRET_CASES: CorpusCase[] = [
  sample('openai project key in an export', 'export OPENAI_API_KEY=', secret('openai_key', openaiProject), '\n'),
  sample('openai legacy key in prose', 'my key is ', secret('openai_key', openaiLegacy), ', is that safe?'),
  sample('openai service account key in code', "client = OpenAI(api_key='", secret('openai_key', openaiService), "')"),
  sample('anthropic key', 'ANTHROPIC_API_KEY="', secret('anthropic_key', anthropic), '"'),
  sample('anthropic admin key', 'admin key: ', secret('anthropic_key', anthropicAdmin)),
  sample('aws access key ids', 'AccessKeyId ', secret('aws_access_key', awsAccess), ' and ', secret('aws_access_key', awsSession)),
  sample(
    'aws credentials file',
    '[default]\naws_access_key_id = ',
    secret('aws_access_key', awsAccess),
    '\naws_secret_access_key = ',
    secret('aws_secret_key', awsSecret),
    '\n',
  ),
  sample('aws sts json', '{"SecretAccessKey": "', secret('aws_secret_key', awsSecret2), '", "Expiration": "2024-06-11T10:00:00Z"}'),
  sample('aws env', 'AWS_SECRET_ACCESS_KEY=', secret('aws_secret_key', awsSecret), ' aws s3 ls'),
  sample(
    'github tokens',
    'git clone https://',
    secret('github_token', githubClassic),
    '@github.com/acme/app.git; gh uses ',
    secret('github_token', githubOauth),
    ' and ',
    secret('github_token', githubServer),
  ),
  sample('github fine-grained token', 'GITHUB_TOKEN: ', secret('github_token', githubFineGrained)),
  sample('gitlab tokens', 'token ', secret('gitlab_token', gitlabPat), ', runner ', secret('gitlab_token', gitlabRunner), '.'),
  sample(
    'slack tokens',
    'SLACK_BOT_TOKEN=',
    secret('slack_token', slackBot),
    '\nuser: ',
    secret('slack_token', slackUser),
    '\napp ',
    secret('slack_token', slackApp),
  ),
  sample('slack webhook', 'curl -X POST ', secret('slack_webhook', slackWebhook), ' -d \'{"text":"hi"}\''),
  sample(
    'stripe keys',
    'stripe.api_key = "',
    secret('stripe_key', stripeLive),
    '" # also ',
    secret('stripe_key', stripeRestricted),
    ' and ',
    secret('stripe_key', stripeWebhook),
  ),
  sample('google api key', 'https://maps.googleapis.com/maps/api/js?key=', secret('google_api_key', googleKey), '&callback=init'),
  sample(
    'gcp service account json',
    '{\n  "type": "service_account",\n  "project_id": "demo-project-4821",\n  "private_key_id": "',
    secret('gcp_service_account_key', privateKeyId),
    '",\n  "private_key": "',
    secret('gcp_service_account_key', gcpPem),
    '",\n  "client_id": "109876543210987654321"\n}',
  ),
  sample('huggingface tokens', 'HF_TOKEN=', secret('huggingface_token', huggingface), ' or ', secret('huggingface_token', huggingfaceOrg)),
  sample('npm token', 'NPM_TOKEN=', secret('npm_token', npmToken)),
  sample('npmrc auth token', '//registry.npmjs.org/:_authToken=', secret('npm_token', npmToken), '\n'),
  sample('npmrc legacy auth token', '//registry.npmjs.org/:_authToken=', secret('npm_token', npmLegacy), '\n'),
  sample('twilio', 'TWILIO_API_KEY=', secret('twilio', twilioKey), '\nTWILIO_AUTH_TOKEN=', secret('twilio', twilioAuth), '\n'),
  sample('sendgrid', "sg = SendGridAPIClient('", secret('sendgrid', sendgrid), "')"),
  sample('jwt in a header', 'curl -H "Authorization: Bearer ', secret('jwt', jwt), '" https://api.example.com/v1/me'),
  sample('jwt in json', '{"id_token":"', secret('jwt', jwt), '"}'),
  sample('bearer token', 'Authorization: Bearer ', secret('bearer_token', bearer)),
  sample('basic auth header', '-H "Authorization: Basic ', secret('basic_auth', basicHeader), '"'),
  sample('credentials in an https url', 'https://', secret('basic_auth_url', `deploy:${urlPassword}`), '@git.example.com/org/repo.git'),
  sample(
    'credentials in a database url',
    'DATABASE_URL=postgres://',
    secret('basic_auth_url', `app:${urlPassword}`),
    '@db.internal:5432/app',
  ),
  sample(
    'credentials in a mongodb url',
    'mongodb+srv://',
    secret('basic_auth_url', `admin:${urlPassword}`),
    '@cluster0.abcde.mongodb.net/test',
  ),
  sample(
    'credentials in a go mysql dsn',
    'sql.Open("mysql", "',
    secret('basic_auth_url', `root:${urlPassword}`),
    '@tcp(127.0.0.1:3306)/app")',
  ),
  sample('curl user and password', 'curl -u ', secret('basic_auth', `admin:${urlPassword}`), ' https://api.example.com/v1'),
  sample('credentials in a redis url', 'redis://', secret('basic_auth_url', `:${urlPassword}`), '@cache:6379/0'),
  sample('rsa private key', 'here is my key:\n', secret('private_key', rsaPem), '\nwhat is wrong?'),
  sample('pkcs8 private key', secret('private_key', pkcs8Pem)),
  sample('ec private key', 'key.pem:\n', secret('private_key', ecPem)),
  sample('encrypted private key', secret('private_key', encryptedPem), '\n'),
  sample('openssh private key', '~/.ssh/id_ed25519:\n', secret('private_key', opensshPem), '\n'),
  sample('pgp private key block', secret('private_key', pgpBlock)),
  sample('truncated private key', secret('private_key', truncatedPem), '\n(cut off)'),
  sample('two private keys', secret('private_key', ecPem), '\nand\n', secret('private_key', rsaPem)),
  sample('password assignment, quoted', 'password = "', secret('password', 'hunter2!x'), '"'),
  sample('password in yaml', 'db:\n  user: app\n  password: ', secret('password', 'hunter2'), '\n'),
  sample('password in env', 'PASSWORD=', secret('password', 's3cr3t-Value')),
  sample('db password, quoted with spaces', 'DB_PASSWORD="', secret('password', 'correct horse battery'), '"'),
  sample('password in json', '{"username": "admin", "password": "', secret('password', dbPassword), '"}'),
  sample('password in escaped json', '{\\"password\\": \\"', secret('password', dbPassword), '\\"}'),
  sample('passwd with colon', 'passwd: ', secret('password', 'Tr0ub4dor&3')),
  sample('pwd in a query string', 'https://example.com/login?user=ann&pwd=', secret('password', 'p4ssw0rd'), '&next=/'),
  sample('password flag', 'mysql -u root --password ', secret('password', 'xyz'), ' mydb'),
  sample('password flag with equals', 'pg_dump --password=', secret('password', dbPassword), ' app'),
  sample('password in a python dict', "config['password'] = '", secret('password', 'letmein99'), "'"),
  sample('password in an ini file', '[client]\nuser=root\npassword=', secret('password', 'r00tpass'), '\n'),
  sample('compose env password', 'environment:\n  POSTGRES_USER: app\n  POSTGRES_PASSWORD: ', secret('password', 'example'), '\n'),
  sample('docker env password', 'docker run -e MYSQL_ROOT_PASSWORD=', secret('password', 'changeme'), ' mysql:8'),
  sample('sql create user', "CREATE USER app WITH PASSWORD '", secret('password', dbPassword), "';"),
  sample('sql identified by', "CREATE USER 'app'@'%' IDENTIFIED BY '", secret('password', 'Sup3r$ecret'), "';"),
  sample('numeric password', 'the wifi password: ', secret('password', '84726153')),
  sample('django secret key', "SECRET_KEY = '", secret('generic_secret', djangoKey), "'"),
  sample('api_key in yaml', 'api_key: ', secret('generic_secret', apiKeyHex)),
  sample('access_token in a url', 'https://graph.example.com/me?access_token=', secret('generic_secret', accessToken), '&fields=id'),
  sample('client secret in json', '{"client_id": "web-app", "client_secret": "', secret('generic_secret', clientSecret), '"}'),
  sample('secret env', 'WEBHOOK_SECRET=', secret('generic_secret', clientSecret)),
  sample(
    'several kinds together',
    'OPENAI_API_KEY=',
    secret('openai_key', openaiLegacy),
    '\nGITHUB_TOKEN=',
    secret('github_token', githubClassic),
    '\nDB_PASSWORD=',
    secret('password', dbPassword),
    '\n',
  ),
];

/** E-mail addresses and phone numbers, redacted in `secrets+pii` mode only. */
export const PII_CASES: CorpusCase[] = [
  sample(
    'email in prose',
    'write to ',
    pii('email', 'alice.smith+work@mail.example.co.uk'),
    ' or ',
    pii('email', 'bob_o-neil@example.org'),
    '.',
  ),
  sample('email in angle brackets', 'From: Jane Doe <', pii('email', 'jane.doe@company.io'), '>'),
  sample('mailto', '<a href="mailto:', pii('email', 'support@shop.example'), '">'),
  sample('international phone, uk', 'Call me at ', pii('phone', '+44 20 7946 0958'), ' tomorrow.'),
  sample('international phone, us', 'US office: ', pii('phone', '+1 (415) 555-0132'), ', fax ', pii('phone', '+1-212-555-0147')),
  sample('international phone, compact', 'tel:', pii('phone', '+4930901820')),
  sample('international phone, nl and fr', 'mobile ', pii('phone', '+31 6 12345678'), ', Paris ', pii('phone', '+33 1 23 45 67 89')),
  sample(
    'us national formats',
    'call ',
    pii('phone', '(415) 555-0132'),
    ' or ',
    pii('phone', '212-555-0147'),
    ' or ',
    pii('phone', '212.555.0147'),
  ),
  sample('us toll free', 'Hotline: ', pii('phone', '1-800-555-0199')),
  sample('uk national format', 'ring ', pii('phone', '020 7946 0958'), ' after six'),
  sample('german national format', 'Büro: ', pii('phone', '030 901820')),
  sample('dutch mobile', 'bel ', pii('phone', '06-12345678')),
  sample('french national format', 'au ', pii('phone', '01 23 45 67 89')),
  sample('email and secret', 'user ', pii('email', 'ops@acme.dev'), ' token ', secret('github_token', githubClassic)),
];

/** Code and prose that mention secrets without holding one: unchanged in every mode. */
export const NOT_SECRETS: string[] = [
  'password = os.environ["DB_PASSWORD"]',
  "password = XML.find('wachtwoord').text",
  'if password == confirm:\n    login(user, password)',
  'const ok = user.getPassword() !== null;',
  'interface User { name: string; password: string }',
  'class Login { password?: string; token!: string }',
  'def connect(host, user, password=None):',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a placeholder in the text, not in code
  'password=${PASSWORD}',
  'password = input("Password: ")',
  'password = getpass.getpass()',
  'const password = await bcrypt.hash(pw, 10);',
  'user.password = hashed',
  'password_hash = generate_password_hash(password)',
  'PASSWORD_MIN_LENGTH = 12',
  '<input type="password" name="password" placeholder="Password">',
  'password: "{{ vault_db_password }}"',
  '"password": null,',
  "password: ''",
  'password = ********',
  'Password: must be at least twelve characters long.',
  '{ username: user, password: pwd }',
  'pwd=/home/alice/project',
  'Run pwd to see where you are.',
  'api_key = os.getenv("OPENAI_API_KEY")',
  'headers = {"Authorization": f"Bearer {api_key}"}',
  'client = OpenAI(api_key=api_key)',
  'api_key: YOUR_API_KEY',
  'api_key = "your-api-key-here"',
  'token = tokenizer.encode(text)',
  'max_tokens=4096, temperature=0.2',
  'token_type: "Bearer"',
  "fetch(url, { credentials: 'same-origin' })",
  'secret_name = "prod/db/creds"',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a placeholder in the text, not in code
  'client_secret: ${{ secrets.CLIENT_SECRET }}',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a placeholder in the text, not in code
  '//registry.npmjs.org/:_authToken=${NPM_TOKEN}',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a placeholder in the text, not in code
  'DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app',
  'https://example.com:8443/path?x=1',
  'ssh://git@github.com/acme/app.git',
  `publishable key ${stripePublishable} is fine in the browser`,
  '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----',
  '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----',
  'commit 3f786850e387550fdab836ed7e6dc881de23001b',
  'The bearer of bad news is not the token economy.',
  'My secret is that I like pineapple on pizza.',
  'The password policy says twelve characters; ask-me-anything is a format, not a key.',
  'risk-assessment-and-mitigation-strategies-for-2024',
  'sk-learn is not a key, nor is sk-this-is-not-a-real-key-at-all',
  'Use the --password flag, or --password-file for a file.',
  'echo "$PASSWORD" | docker login --username ci --password-stdin',
  'secretKey: process.env.JWT_SECRET!',
  'const { data } = await axios.post("/login", { email, password });',
  'if (!password || password.length < 8) return res.status(400);',
  "$password = $_POST['password'];",
  'password := os.Getenv("PASSWORD")',
  'let token = localStorage.getItem("token");',
  'export GITHUB_TOKEN=$(gh auth token)',
  'OPENAI_API_KEY=sk-...',
  'docker run -u 1000:1000 node:20 and git push -u origin main',
];

/** Things with digits that are no phone numbers: unchanged in `secrets+pii` mode. */
export const NOT_PHONES: string[] = [
  'in 2024 and 1999, between 1990-2020',
  'node v20.19.0, typescript 5.9.3, version 1.2.3.4',
  'at 2024-01-15T10:30:00Z and 2024-01-15 10:30:45.123',
  'at 12:30:45 on 15.01.2024 or 01/15/2024 or 01-02-2023 10:30',
  'unix time 1699999999 or 1718000000000 ms',
  'hosts 192.168.1.254, 10.0.0.1, 172.16.254.100 and 2001:db8::8a2e:370:7334',
  'uuid 550e8400-e29b-41d4-a716-446655440000',
  'order id 123456789012345678 and ticket #4815162342',
  'it costs $1,299.99 or 1.234.567,89 EUR',
  'pi is 3.14159265358979 and e is 2.718281828',
  'isbn 978-3-16-148410-0',
  'card 4111 1111 1111 1111',
  'sum +12.50 and +100 points',
  'matrix 100 200 300 400',
  'ports 8080-8090 and range 0-65535',
  'coordinates 52.3676, 4.9041',
  'icon@2x.png and react@18.2.0 and @types/node',
  'git@github.com:acme/app.git',
];
