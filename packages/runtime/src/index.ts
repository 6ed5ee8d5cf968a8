export type { Dependency, DependencyOptions } from './dependencies.js';
export {
  answerUnary,
  checkHealth,
  createClient,
  traceClientInterceptor,
  tracedImplementation,
  unary,
  waitUntilServing,
  withClient,
} from './grpc.js';
export { main, type RunningService, runService, type ServiceContext, type ServiceDefinitionOptions } from './service.js';
