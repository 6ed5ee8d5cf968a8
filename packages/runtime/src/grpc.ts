import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { extractTraceContext, injectTraceContext, tracer } from '@trajectory/telemetry';
import { protoPath as healthProtoPath } from 'grpc-health-check';

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

type ClientCtor<C> = new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions) => C;

/** A ts-proto generated client with trace propagation, over plaintext (loopback or a private network). */
export function createClient<C>(Ctor: ClientCtor<C>, target: string, options: grpc.ClientOptions = {}): C {
  return new Ctor(target, grpc.credentials.createInsecure(), {
    interceptors: [traceClientInterceptor],
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    ...options,
  });
}

/** Runs `fn` with a fresh client and closes it afterwards, whatever `fn` does. */
export async function withClient<C extends grpc.Client, T>(Ctor: ClientCtor<C>, target: string, fn: (client: C) => Promise<T>): Promise<T> {
  const client = createClient(Ctor, target);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
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
 * Answers a unary call with a promise's outcome; `statusOf` picks the gRPC status of a failure
 * (default INTERNAL), whose message becomes the status details.
 */
export function answerUnary<T>(
  work: Promise<T>,
  callback: grpc.sendUnaryData<T>,
  statusOf: (err: Error) => grpc.status = () => grpc.status.INTERNAL,
): void {
  work.then(
    (res) => callback(null, res),
    (err: unknown) => {
      const error = err instanceof Error ? err : new Error(String(err));
      callback({ code: statusOf(error), details: error.message });
    },
  );
}

/**
 * Wraps each handler of a service implementation so it runs inside a SERVER span whose parent
 * is the caller's trace context, taken from the call's metadata.
 */
export function tracedImplementation<T extends grpc.UntypedServiceImplementation>(serviceName: string, impl: T): T {
  const wrapped: grpc.UntypedServiceImplementation = {};
  for (const [method, handler] of Object.entries(impl)) {
    wrapped[method] = ((
      call: { metadata: grpc.Metadata; on(event: string, fn: () => void): void },
      callback?: (...args: unknown[]) => void,
    ) => {
      const parent = extractTraceContext(call.metadata, metadataGetter);
      const span = tracer().startSpan(`${serviceName}/${method}`, { kind: SpanKind.SERVER }, parent);
      const active = trace.setSpan(parent, span);
      let ended = false;
      const end = (err?: unknown) => {
        if (ended) return;
        ended = true;
        if (err) span.setStatus({ code: SpanStatusCode.ERROR, message: String((err as Error).message ?? err) });
        span.end();
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
      call.on('error', () => end(new Error('stream error')));
      call.on('cancelled', () => end(new Error('cancelled')));
      return context.with(active, () => (handler as (c: unknown) => unknown)(call));
    }) as grpc.UntypedHandleCall;
  }
  return wrapped as T;
}

let healthClientCtor: grpc.ServiceClientConstructor | undefined;

/** Asks a server's grpc.health.v1 service for its status ('' = the whole server). */
export function checkHealth(target: string, deadlineMs = 2_000): Promise<string> {
  if (!healthClientCtor) {
    const definition = protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String });
    const pkg = grpc.loadPackageDefinition(definition) as unknown as {
      grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
    };
    healthClientCtor = pkg.grpc.health.v1.Health;
  }
  const client = new healthClientCtor(target, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
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
export async function waitUntilServing(target: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if ((await checkHealth(target)) === 'SERVING') return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`gRPC server at ${target} was not SERVING within ${timeoutMs} ms: ${(last as Error)?.message ?? 'NOT_SERVING'}`);
}
