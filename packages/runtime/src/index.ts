export { checkHealth, createClient, traceClientInterceptor, tracedImplementation, unary, waitUntilServing } from './grpc.js';
export { main, type RunningService, runService, type ServiceContext, type ServiceDefinitionOptions } from './service.js';
