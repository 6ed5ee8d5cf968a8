import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ConfigError,
  commaList,
  commonConfigShape,
  grpcClientConfigShape,
  grpcServerConfigShape,
  listenAddress,
  listSetting,
  loadConfig,
  spotCheckUrl,
  webPageUrl,
  z,
} from './index.js';

test('defaults apply when the environment is empty', () => {
  const config = loadConfig('svc', { ...commonConfigShape, GRPC_LISTEN: listenAddress(50051) }, {});
  assert.equal(config.NATS_URL, 'nats://127.0.0.1:4222');
  assert.equal(config.GRPC_LISTEN, '127.0.0.1:50051');
  assert.equal(config.LOG_LEVEL, 'info');
});

test('every invalid variable is named in one error, secrets are masked', () => {
  const shape = {
    ...commonConfigShape,
    GRPC_LISTEN: listenAddress(50051),
    API_TOKEN: z.string().min(40),
    BATCH: z.coerce.number().int().positive(),
  };
  assert.throws(
    () => loadConfig('ingestion', shape, { LOG_LEVEL: 'loud', GRPC_LISTEN: 'nope', API_TOKEN: 'short', BATCH: '-3' }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /Invalid configuration for ingestion/);
      assert.match(err.message, /LOG_LEVEL="loud"/);
      assert.match(err.message, /GRPC_LISTEN="nope": expected HOST:PORT/);
      assert.match(err.message, /API_TOKEN="\*\*\*"/);
      assert.doesNotMatch(err.message, /short/);
      assert.match(err.message, /BATCH="-3"/);
      assert.equal(err.problems.length, 4);
      return true;
    },
  );
});

test('empty variables count as unset', () => {
  const config = loadConfig('svc', commonConfigShape, { NATS_URL: '' });
  assert.equal(config.NATS_URL, 'nats://127.0.0.1:4222');
});

test('a service needs GRPC_TOKEN, and the error says how to set one', () => {
  assert.throws(
    () => loadConfig('graph', grpcServerConfigShape, {}),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /GRPC_TOKEN: not set: .*openssl rand -base64 32/);
      return true;
    },
  );
  assert.throws(() => loadConfig('graph', grpcServerConfigShape, { GRPC_TOKEN: 'short' }), /GRPC_TOKEN="\*\*\*": too short/);
  const token = 'a-token-of-enough-length';
  assert.equal(loadConfig('graph', grpcServerConfigShape, { GRPC_TOKEN: token }).GRPC_TOKEN, token);
  // A client may have none (offline commands); the services then answer UNAUTHENTICATED.
  assert.equal(loadConfig('cli', grpcClientConfigShape, {}).GRPC_TOKEN, undefined);
});

test('the web page is on loopback at TRAJECTORY_WEB_PORT, else 5173', () => {
  assert.equal(webPageUrl('/', {}), 'http://127.0.0.1:5173/');
  assert.equal(webPageUrl('report', { TRAJECTORY_WEB_PORT: '8080' }), 'http://127.0.0.1:8080/report');
  assert.equal(spotCheckUrl('ab12', { TRAJECTORY_WEB_PORT: '' }), 'http://127.0.0.1:5173/spot-check?dataset=ab12');
});

test('a comma-separated setting: items trimmed, empty ones left out, the defaults where unset', () => {
  assert.deepEqual(commaList(' user, assistant ,,'), ['user', 'assistant']);
  assert.deepEqual(commaList(''), []);
  assert.deepEqual(listSetting(['user', 'assistant']).parse(undefined), ['user', 'assistant']);
  assert.deepEqual(listSetting(['user']).parse('assistant, user'), ['assistant', 'user']);
});
