export type { Dependency, DependencyOptions } from './dependencies.js';
export {
  answerUnary,
  bearerTokenInterceptor,
  bearerTokenServerInterceptor,
  checkHealth,
  createClient,
  createGrpcServer,
  type GrpcClientAuth,
  type GrpcServerAuth,
  traceClientInterceptor,
  tracedImplementation,
  unary,
  waitUntilServing,
  withClient,
} from './grpc.js';
export { main, type RunningService, runService, type ServiceContext, type ServiceDefinitionOptions } from './service.js';
