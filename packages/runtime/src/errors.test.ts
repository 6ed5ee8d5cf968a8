import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ServiceError } from './errors.js';
import { answerStream, answerUnary, grpcStatusOf, unary } from './grpc.js';

test('grpcStatusOf: a ServiceError keeps its status and message; any other failure is INTERNAL or the handler’s fallback', () => {
  const notFound = grpcStatusOf(new ServiceError('NOT_FOUND', 'no dataset ds-1'));
  assert.equal(notFound.code, grpc.status.NOT_FOUND);
  assert.equal(notFound.details, 'no dataset ds-1');
  // The fallback is for failures nobody classified: a ServiceError's own status wins over it.
  assert.equal(grpcStatusOf(new ServiceError('FAILED_PRECONDITION', 'x'), 'UNAVAILABLE').code, grpc.status.FAILED_PRECONDITION);
  assert.deepEqual([grpcStatusOf(new Error('boom')).code, grpcStatusOf(new Error('boom')).details], [grpc.status.INTERNAL, 'boom']);
  assert.equal(grpcStatusOf(new Error('nats down'), 'UNAVAILABLE').code, grpc.status.UNAVAILABLE);
  assert.equal(grpcStatusOf('not an Error').details, 'not an Error');
});

// What a client sees over a real channel, for the unary and the server-streaming helper.
const bytes = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
const method = (name: string, responseStream: boolean) => ({
  path: `/test.Failing/${name}`,
  requestStream: false,
  responseStream,
  requestSerialize: bytes.serialize,
  requestDeserialize: bytes.deserialize,
  responseSerialize: bytes.serialize,
  responseDeserialize: bytes.deserialize,
});
const definition = { get: method('Get', false), watch: method('Watch', true) } satisfies grpc.ServiceDefinition;

/** The failure the request names: `service` a ServiceError, `plain` an Error, `fallback` an Error with UNAVAILABLE as the fallback. */
async function fail(kind: string): Promise<never> {
  if (kind === 'service') throw new ServiceError('INVALID_ARGUMENT', 'a rejection needs a reason');
  throw new Error('the registry is gone');
}
const fallback = (kind: string) => (kind === 'fallback' ? 'UNAVAILABLE' : undefined);

type FailingClient = grpc.Client & {
  get(req: Buffer, md: grpc.Metadata, opts: Partial<grpc.CallOptions>, cb: (err: grpc.ServiceError | null, res: Buffer) => void): void;
  watch(req: Buffer, md: grpc.Metadata, opts: Partial<grpc.CallOptions>): grpc.ClientReadableStream<Buffer>;
};
const FailingClient = grpc.makeGenericClientConstructor(definition, 'Failing') as unknown as new (
  address: string,
  credentials: grpc.ChannelCredentials,
) => FailingClient;

let server: grpc.Server;
let client: FailingClient;

before(async () => {
  server = new grpc.Server();
  server.addService(definition, {
    get: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
      answerUnary(fail(String(call.request)), callback, fallback(String(call.request))),
    watch: (call: grpc.ServerWritableStream<Buffer, Buffer>) =>
      answerStream(
        call,
        (async () => {
          call.write(Buffer.from('first'));
          await fail(String(call.request));
        })(),
        fallback(String(call.request)),
      ),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  client = new FailingClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

after(() => {
  client?.close();
  server?.forceShutdown();
});

const get = (kind: string) => unary<Buffer, Buffer>(client.get, client, Buffer.from(kind), 5_000);

/** The messages of a Watch and the error it ended with. */
function watch(kind: string): Promise<{ messages: string[]; err: grpc.ServiceError }> {
  return new Promise((resolve, reject) => {
    const messages: string[] = [];
    const stream = client.watch(Buffer.from(kind), new grpc.Metadata(), { deadline: Date.now() + 5_000 });
    stream.on('data', (b: Buffer) => messages.push(String(b)));
    stream.on('error', (err: grpc.ServiceError) => resolve({ messages, err }));
    stream.on('end', () => reject(new Error('the stream ended without an error')));
  });
}

const status = (code: grpc.status, details: string) => (err: grpc.ServiceError) => {
  assert.equal(err.code, code, err.message);
  assert.equal(err.details, details);
  return true;
};

test('answerUnary: the client sees a ServiceError’s status and message, other failures as INTERNAL or the fallback', async () => {
  await assert.rejects(get('service'), status(grpc.status.INVALID_ARGUMENT, 'a rejection needs a reason'));
  await assert.rejects(get('plain'), status(grpc.status.INTERNAL, 'the registry is gone'));
  await assert.rejects(get('fallback'), status(grpc.status.UNAVAILABLE, 'the registry is gone'));
});

test('answerStream: the messages written before the failure arrive, then the same statuses', async () => {
  for (const [kind, code, details] of [
    ['service', grpc.status.INVALID_ARGUMENT, 'a rejection needs a reason'],
    ['plain', grpc.status.INTERNAL, 'the registry is gone'],
    ['fallback', grpc.status.UNAVAILABLE, 'the registry is gone'],
  ] as const) {
    const { messages, err } = await watch(kind);
    assert.deepEqual(messages, ['first'], kind);
    status(code, details)(err);
  }
});
