export { resetBus } from './bus.js';
export { serviceNatsEnv, startTestNats, TEST_ADMIN, TestNats, type TestNatsUser, testNatsUserEntries, testNatsUsers } from './nats.js';
export { clearGraph, query, testDriver } from './neo4j.js';
export { type CollectedSpan, OtlpCollector } from './otlp.js';
export { chooseTestServers, probeContainerServers, TEST_CONTAINER_IMAGES } from './server-choice.js';
export { startTestServers, type TestServerOptions, type TestServers } from './servers.js';
export {
  freeServicePorts,
  harnessGrpcToken,
  type PipelineOptions,
  type PipelineServers,
  pipelineEnv,
  REPO_ROOT,
  SERVICE_NAMES,
  type ServiceAuth,
  type ServiceName,
  type ServiceProcess,
  serviceLaunch,
  startPipeline,
  startPipelineIn,
  startServiceProcess,
  targetVariable,
} from './services.js';
export { startEmptyServers, startTestBus, type TestBus } from './setups.js';
export { until } from './until.js';
