import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { DURATION_BUCKETS_S, extractTraceContext, injectTraceContext, meter, tracer } from '@trajectory/telemetry';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { ServiceError, type ServiceStatus } from './errors.js';

const metadataSetter = { set: (m: grpc.Metadata, k: string, v: string) => m.set(k, v) };
const metadataGetter = {
  get: (m: grpc.Metadata, k: string) => {
    const v = m.get(k)[0];
    return v === undefined ? undefined : String(v);
  },
  keys: (m: grpc.Metadata) => Object.keys(m.getMap()),
};

/** Client interceptor: every outgoing call carries the active trace context in its metadata. */
export const traceClientInterceptor: grpc.Interceptor = (options, nextCall) =>
  new grpc.InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      injectTraceContext(metadata, metadataSetter);
      next(metadata, listener);
    },
  });

/**
 * What a gRPC client needs to be let in, as configuration gives it (grpcClientConfigShape of
 * @trajectory/config, so a service's or the CLI's config object fits): the bearer token every
 * call carries, and the CA file to trust, which turns TLS on.
 */
export interface GrpcClientAuth {
  GRPC_TOKEN?: string | undefined;
  GRPC_TLS_CA?: string | undefined;
}

/**
 * Client interceptor: every outgoing call carries `authorization: Bearer <token>`. Metadata and
 * not CallCredentials, which grpc-js attaches only to TLS channels.
 */
export function bearerTokenInterceptor(token: string): grpc.Interceptor {
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set('authorization', `Bearer ${token}`);
        next(metadata, listener);
      },
    });
}

/** TLS trusting GRPC_TLS_CA when it is set, else plaintext (loopback or a private network). */
function channelCredentials(auth: GrpcClientAuth): grpc.ChannelCredentials {
  return auth.GRPC_TLS_CA
    ? grpc.credentials.createSsl(readConfiguredFile('GRPC_TLS_CA', auth.GRPC_TLS_CA))
    : grpc.credentials.createInsecure();
}

function readConfiguredFile(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`${variable}=${path}: ${(err as Error).message}`);
  }
}

type ClientCtor<C> = new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions) => C;

/**
 * A ts-proto generated client with trace propagation and the credentials of `auth`: its bearer
 * token on every call, TLS when it names a CA.
 */
export function createClient<C>(Ctor: ClientCtor<C>, target: string, auth: GrpcClientAuth, options: grpc.ClientOptions = {}): C {
  const token = auth.GRPC_TOKEN ? [bearerTokenInterceptor(auth.GRPC_TOKEN)] : [];
  return new Ctor(target, channelCredentials(auth), {
    interceptors: [traceClientInterceptor, ...token],
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    ...options,
  });
}

/** Runs `fn` with a fresh client (createClient) and closes it afterwards, whatever `fn` does. */
export async function withClient<C extends grpc.Client, T>(
  Ctor: ClientCtor<C>,
  target: string,
  auth: GrpcClientAuth,
  fn: (client: C) => Promise<T>,
): Promise<T> {
  const client = createClient(Ctor, target, auth);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/** What a service's gRPC server is configured with (grpcServerConfigShape of @trajectory/config). */
export interface GrpcServerAuth {
  GRPC_TOKEN: string;
  GRPC_TLS_CERT?: string | undefined;
  GRPC_TLS_KEY?: string | undefined;
}

/**
 * The one service callers reach without the token: container health checks and load balancers
 * probe it without credentials, and it tells nothing but SERVING or NOT_SERVING.
 */
const OPEN_SERVICE_PREFIX = '/grpc.health.v1.Health/';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Server interceptor: a call whose metadata lacks `authorization: Bearer <token>` is answered
 * UNAUTHENTICATED before it reaches a handler; grpc.health.v1.Health is exempt. The tokens are
 * compared as SHA-256 digests with timingSafeEqual, so neither their content nor their length
 * shows in the timing.
 */
export function bearerTokenServerInterceptor(token: string): grpc.ServerInterceptor {
  const expected = digest(token);
  return (method, call) => {
    if (method.path.startsWith(OPEN_SERVICE_PREFIX)) return new grpc.ServerInterceptingCall(call);
    return new grpc.ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, nextMetadata) {
            const header = metadata.get('authorization')[0];
            const given = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
            if (given !== undefined && timingSafeEqual(digest(given), expected)) {
              nextMetadata(metadata);
              return;
            }
            call.sendStatus({
              code: grpc.status.UNAUTHENTICATED,
              details:
                given === undefined
                  ? 'no bearer token: this service requires metadata `authorization: Bearer <GRPC_TOKEN>` (set GRPC_TOKEN)'
                  : "wrong bearer token (GRPC_TOKEN differs from the service's)",
            });
          },
        });
      },
    });
  };
}

/**
 * A service's gRPC server: the bearer-token check on every call but health's, and TLS with
 * GRPC_TLS_CERT/GRPC_TLS_KEY when they are set (both or neither), else plaintext.
 */
export function createGrpcServer(auth: GrpcServerAuth): { server: grpc.Server; credentials: grpc.ServerCredentials; tls: boolean } {
  if (Boolean(auth.GRPC_TLS_CERT) !== Boolean(auth.GRPC_TLS_KEY)) {
    throw new Error('GRPC_TLS_CERT and GRPC_TLS_KEY go together: set both (certificate and private key files, PEM) for TLS, or neither');
  }
  const credentials =
    auth.GRPC_TLS_CERT && auth.GRPC_TLS_KEY
      ? grpc.ServerCredentials.createSsl(
          null,
          [
            {
              cert_chain: readConfiguredFile('GRPC_TLS_CERT', auth.GRPC_TLS_CERT),
              private_key: readConfiguredFile('GRPC_TLS_KEY', auth.GRPC_TLS_KEY),
            },
          ],
          false,
        )
      : grpc.ServerCredentials.createInsecure();
  const server = new grpc.Server({
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    interceptors: [bearerTokenServerInterceptor(auth.GRPC_TOKEN)],
  });
  return { server, credentials, tls: Boolean(auth.GRPC_TLS_CERT) };
}

/** Awaits a unary call on a ts-proto grpc-js client. */
export function unary<Req, Res>(
  fn: (
    req: Req,
    metadata: grpc.Metadata,
    options: Partial<grpc.CallOptions>,
    cb: (err: grpc.ServiceError | null, res: Res) => void,
  ) => unknown,
  client: unknown,
  request: Req,
  deadlineMs = 60_000,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    fn.call(client, request, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

/**
 * The status a failed call ends with, the one place a failure becomes a gRPC status: a
 * ServiceError's own, anything else `otherwise` (what an unexpected failure of the call means;
 * INTERNAL unless the handler says), with the error's message as the details.
 */
export function grpcStatusOf(err: unknown, otherwise: ServiceStatus = 'INTERNAL'): grpc.StatusObject {
  return {
    code: grpc.status[err instanceof ServiceError ? err.status : otherwise],
    details: err instanceof Error ? err.message : String(err),
    metadata: new grpc.Metadata(),
  };
}

/** Answers a unary call with a promise's outcome, a failure with its grpcStatusOf. */
export function answerUnary<T>(work: Promise<T>, callback: grpc.sendUnaryData<T>, otherwise?: ServiceStatus): void {
  work.then(
    (res) => callback(null, res),
    (err: unknown) => callback(grpcStatusOf(err, otherwise)),
  );
}

/**
 * Answers a server-streaming call with the outcome of `work`, which writes its messages: the call
 * ends when it resolves, or fails with its grpcStatusOf; a client that went away gets neither.
 */
export function answerStream<Req, Res>(call: grpc.ServerWritableStream<Req, Res>, work: Promise<void>, otherwise?: ServiceStatus): void {
  work.then(
    () => {
      if (!call.cancelled) call.end();
    },
    (err: unknown) => {
      if (!call.cancelled) call.emit('error', grpcStatusOf(err, otherwise));
    },
  );
}

/** The gRPC status name of an error (`UNAVAILABLE`, ...), for the calls metric. */
function statusName(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' && grpc.status[code] ? grpc.status[code] : 'UNKNOWN';
}

/**
 * Wraps each handler of a service implementation so it runs inside a SERVER span whose parent
 * is the caller's trace context, taken from the call's metadata, and records the call in
 * rpc.server.call.duration (seconds, per method, `error.type` the status of a failed call): the
 * processed and failed calls and the latency of every service, those without a work queue too.
 */
export function tracedImplementation<T extends grpc.UntypedServiceImplementation>(serviceName: string, impl: T): T {
  const duration = meter().createHistogram('rpc.server.call.duration', {
    unit: 's',
    description: 'gRPC calls served, by method; failed ones with error.type',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
  });
  const wrapped: grpc.UntypedServiceImplementation = {};
  for (const [method, handler] of Object.entries(impl)) {
    const attributes = { 'rpc.system': 'grpc', 'rpc.service': serviceName, 'rpc.method': method };
    wrapped[method] = ((
      call: { metadata: grpc.Metadata; on(event: string, fn: (err?: unknown) => void): void },
      callback?: (...args: unknown[]) => void,
    ) => {
      const parent = extractTraceContext(call.metadata, metadataGetter);
      const span = tracer().startSpan(`${serviceName}/${method}`, { kind: SpanKind.SERVER }, parent);
      const active = trace.setSpan(parent, span);
      const started = performance.now();
      let ended = false;
      const end = (err?: unknown) => {
        if (ended) return;
        ended = true;
        if (err) span.setStatus({ code: SpanStatusCode.ERROR, message: String((err as Error).message ?? err) });
        span.end();
        duration.record((performance.now() - started) / 1000, err ? { ...attributes, 'error.type': statusName(err) } : attributes);
      };
      if (typeof callback === 'function') {
        return context.with(active, () =>
          (handler as (c: unknown, cb: unknown) => unknown)(call, (err: unknown, ...rest: unknown[]) => {
            end(err);
            callback(err, ...rest);
          }),
        );
      }
      call.on('finish', () => end());
      call.on('error', (err: unknown) => end(err ?? new Error('stream error')));
      call.on('cancelled', () => end(Object.assign(new Error('cancelled'), { code: grpc.status.CANCELLED })));
      return context.with(active, () => (handler as (c: unknown) => unknown)(call));
    }) as grpc.UntypedHandleCall;
  }
  return wrapped as T;
}

let healthClientCtor: grpc.ServiceClientConstructor | undefined;

/**
 * Asks a server's grpc.health.v1 service for its status ('' = the whole server). Health needs no
 * token; `auth` gives the CA when the server uses TLS.
 */
export function checkHealth(target: string, deadlineMs = 2_000, auth: GrpcClientAuth = {}): Promise<string> {
  if (!healthClientCtor) {
    const definition = protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String });
    const pkg = grpc.loadPackageDefinition(definition) as unknown as {
      grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
    };
    healthClientCtor = pkg.grpc.health.v1.Health;
  }
  const client = new healthClientCtor(target, channelCredentials(auth)) as unknown as grpc.Client & {
    check(req: { service: string }, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: { status: string }) => void): void;
  };
  return new Promise((resolve, reject) => {
    client.check({ service: '' }, { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, res: { status: string }) => {
      client.close();
      if (err) reject(err);
      else resolve(res.status);
    });
  });
}

/** Polls the health service until SERVING. */
export async function waitUntilServing(target: string, timeoutMs = 30_000, auth: GrpcClientAuth = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if ((await checkHealth(target, 2_000, auth)) === 'SERVING') return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`gRPC server at ${target} was not SERVING within ${timeoutMs} ms: ${(last as Error)?.message ?? 'NOT_SERVING'}`);
}
