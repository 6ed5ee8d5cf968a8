import type { status } from '@grpc/grpc-js';

/** A gRPC status by its name (`NOT_FOUND`, `FAILED_PRECONDITION`, ...), OK aside. */
export type ServiceStatus = Exclude<keyof typeof status, 'OK'>;

/**
 * A failure a service answers its client with: the status the call ends with and the message
 * that becomes its details. Every service throws this one class and grpcStatusOf (grpc.ts) maps
 * it for them; whatever else a handler throws is a failure of the service (INTERNAL unless the
 * handler says otherwise). This module loads nothing of grpc-js (the import above is a type).
 */
export class ServiceError extends Error {
  override name = 'ServiceError';

  constructor(
    readonly status: ServiceStatus,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
