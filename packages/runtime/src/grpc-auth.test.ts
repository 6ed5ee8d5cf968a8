import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ConfigError } from '@trajectory/config';
import { HealthImplementation } from 'grpc-health-check';
import { checkHealth, createClient, createGrpcServer, type GrpcServerAuth, unary } from './grpc.js';
import { runService } from './service.js';

// A service of raw bytes, a unary and a client-streaming method (the shapes the services use),
// so the server is the one runService builds without needing generated contracts.
const bytes = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
const echoDefinition = {
  echo: {
    path: '/test.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: bytes.serialize,
    requestDeserialize: bytes.deserialize,
    responseSerialize: bytes.serialize,
    responseDeserialize: bytes.deserialize,
  },
  upload: {
    path: '/test.Echo/Upload',
    requestStream: true,
    responseStream: false,
    requestSerialize: bytes.serialize,
    requestDeserialize: bytes.deserialize,
    responseSerialize: bytes.serialize,
    responseDeserialize: bytes.deserialize,
  },
} satisfies grpc.ServiceDefinition;

type EchoClient = grpc.Client & {
  echo(req: Buffer, md: grpc.Metadata, opts: Partial<grpc.CallOptions>, cb: (err: grpc.ServiceError | null, res: Buffer) => void): void;
  upload(
    md: grpc.Metadata,
    opts: Partial<grpc.CallOptions>,
    cb: (err: grpc.ServiceError | null, res: Buffer) => void,
  ): grpc.ClientWritableStream<Buffer>;
};
const EchoClient = grpc.makeGenericClientConstructor(echoDefinition, 'Echo') as unknown as new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ClientOptions,
) => EchoClient;

const echoImpl: grpc.UntypedServiceImplementation = {
  echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, call.request),
  upload: (call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
    const parts: Buffer[] = [];
    call.on('data', (b: Buffer) => parts.push(b));
    call.on('end', () => cb(null, Buffer.concat(parts)));
  },
};

/** A server as runService builds it (createGrpcServer), with health and the echo service, on a free loopback port. */
async function startServer(auth: GrpcServerAuth) {
  const { server, credentials } = createGrpcServer(auth);
  new HealthImplementation({ '': 'SERVING' }).addToServer(server);
  server.addService(echoDefinition, echoImpl);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { server, port };
}

const echo = (client: EchoClient, text: string) => unary<Buffer, Buffer>(client.echo, client, Buffer.from(text), 5_000).then(String);

function upload(client: EchoClient, parts: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const stream = client.upload(new grpc.Metadata(), { deadline: Date.now() + 5_000 }, (err, res) =>
      err ? reject(err) : resolve(String(res)),
    );
    for (const part of parts) stream.write(Buffer.from(part));
    stream.end();
  });
}

const code = (expected: grpc.status) => (err: unknown) => {
  assert.equal((err as grpc.ServiceError).code, expected, String(err));
  return true;
};

const token = randomBytes(32).toString('base64');

describe('gRPC bearer token', () => {
  let server: grpc.Server;
  let target: string;
  const clients: grpc.Client[] = [];
  const client = (auth: { GRPC_TOKEN?: string }) => {
    const c = createClient(EchoClient, target, auth);
    clients.push(c);
    return c;
  };

  before(async () => {
    const started = await startServer({ GRPC_TOKEN: token });
    server = started.server;
    target = `127.0.0.1:${started.port}`;
  });
  after(() => {
    for (const c of clients) c.close();
    server.forceShutdown();
  });

  test('a call without the token is refused with UNAUTHENTICATED, unary and streaming', async () => {
    const anonymous = client({});
    await assert.rejects(echo(anonymous, 'hi'), (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.UNAUTHENTICATED);
      assert.match(err.details, /no bearer token.*GRPC_TOKEN/);
      return true;
    });
    await assert.rejects(upload(anonymous, ['a', 'b']), code(grpc.status.UNAUTHENTICATED));
  });

  test('a wrong token is refused, also one that differs only in its last character or its length', async () => {
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    for (const wrong of [randomBytes(32).toString('base64'), `${token.slice(0, -1)}${last}`, token.slice(0, -1), `${token}x`]) {
      await assert.rejects(echo(client({ GRPC_TOKEN: wrong }), 'hi'), (err: grpc.ServiceError) => {
        assert.equal(err.code, grpc.status.UNAUTHENTICATED);
        assert.match(err.details, /wrong bearer token/);
        return true;
      });
    }
  });

  test('a raw authorization header without the Bearer scheme is refused', async () => {
    const raw = client({});
    const md = new grpc.Metadata();
    md.set('authorization', token);
    const call = new Promise<Buffer>((resolve, reject) =>
      raw.echo(Buffer.from('hi'), md, { deadline: Date.now() + 5_000 }, (err, res) => (err ? reject(err) : resolve(res))),
    );
    await assert.rejects(call, code(grpc.status.UNAUTHENTICATED));
  });

  test('the right token gets through, unary and streaming', async () => {
    const authorized = client({ GRPC_TOKEN: token });
    assert.equal(await echo(authorized, 'hello'), 'hello');
    assert.equal(await upload(authorized, ['hel', 'lo']), 'hello');
  });

  test('health answers without a token (container health checks and load balancers probe it)', async () => {
    assert.equal(await checkHealth(target), 'SERVING');
  });
});

describe('gRPC over TLS', () => {
  let dir: string;
  let server: grpc.Server;
  let target: string;
  const clients: grpc.Client[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trajectory-grpc-tls-'));
    // A self-signed certificate for the loopback names the test dials.
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const started = await startServer({ GRPC_TOKEN: token, GRPC_TLS_CERT: join(dir, 'cert.pem'), GRPC_TLS_KEY: join(dir, 'key.pem') });
    server = started.server;
    // By name: Node warns when TLS is dialled by IP address (RFC 6066 has no IP server names).
    target = `localhost:${started.port}`;
  });
  after(() => {
    for (const c of clients) c.close();
    server?.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a client trusting GRPC_TLS_CA reaches the service, and health answers it', async () => {
    const tls = createClient(EchoClient, target, { GRPC_TOKEN: token, GRPC_TLS_CA: join(dir, 'cert.pem') });
    clients.push(tls);
    assert.equal(await echo(tls, 'over tls'), 'over tls');
    assert.equal(await checkHealth(target, 5_000, { GRPC_TLS_CA: join(dir, 'cert.pem') }), 'SERVING');
  });

  test('a plaintext client with the right token does not get through', async () => {
    const plain = createClient(EchoClient, target, { GRPC_TOKEN: token });
    clients.push(plain);
    await assert.rejects(echo(plain, 'hi'), code(grpc.status.UNAVAILABLE));
  });

  test('a client over TLS without the token is still refused', async () => {
    const anonymous = createClient(EchoClient, target, { GRPC_TLS_CA: join(dir, 'cert.pem') });
    clients.push(anonymous);
    await assert.rejects(echo(anonymous, 'hi'), code(grpc.status.UNAUTHENTICATED));
  });

  test('a certificate without its key is a configuration error', () => {
    assert.throws(
      () => createGrpcServer({ GRPC_TOKEN: token, GRPC_TLS_CERT: join(dir, 'cert.pem') }),
      /GRPC_TLS_CERT and GRPC_TLS_KEY go together/,
    );
  });
});

test('a service started without GRPC_TOKEN refuses to start and says how to set one', async () => {
  const saved = process.env.GRPC_TOKEN;
  delete process.env.GRPC_TOKEN;
  try {
    await assert.rejects(
      runService({
        name: 'tokenless',
        defaultPort: 0,
        configShape: {},
        start: async () => assert.fail('started without a token'),
      }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError, String(err));
        assert.match(err.message, /GRPC_TOKEN: not set: .*openssl rand -base64 32/);
        return true;
      },
    );
  } finally {
    if (saved !== undefined) process.env.GRPC_TOKEN = saved;
  }
});
