export type { Dependency, DependencyOptions } from './dependencies.js';
export { ServiceError, type ServiceStatus } from './errors.js';
export {
  answerStream,
  answerUnary,
  bearerTokenInterceptor,
  bearerTokenServerInterceptor,
  checkHealth,
  createClient,
  createGrpcServer,
  type GrpcClientAuth,
  type GrpcServerAuth,
  grpcStatusOf,
  traceClientInterceptor,
  tracedImplementation,
  unary,
  waitUntilServing,
  withClient,
} from './grpc.js';
export { main, type RunningService, runService, type ServiceContext, type ServiceDefinitionOptions } from './service.js';
