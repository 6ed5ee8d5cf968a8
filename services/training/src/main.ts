import { ensureWorkQueue, openDatasetRegistry, WORK_QUEUES } from '@trajectory/bus';
import { DEFAULT_PORTS, z } from '@trajectory/config';
import { TrainingServiceService } from '@trajectory/contracts';
import { main, runService } from '@trajectory/runtime';
import { AdapterRegistry } from './adapters/adapter-registry.js';
import { trainingService } from './adapters/grpc-service.js';
import { JobRegistry } from './adapters/job-registry.js';
import { startRegistryConsumer } from './adapters/registry-consumer.js';

main(() =>
  runService({
    name: 'training',
    defaultPort: DEFAULT_PORTS.training,
    configShape: {
      TRAINING_BASE_MODEL: z.string().default('Qwen/Qwen2.5-7B-Instruct'),
    },
    async start({ config, bus, logger, addGrpcService, onShutdown }) {
      // Jobs and adapters live in JetStream (KV buckets and an object store): durable, shared by
      // every replica, and readable by the Python trainers. A restart loses nothing.
      const [jobs, adapters, datasets] = await Promise.all([
        JobRegistry.open(bus.nc),
        AdapterRegistry.open(bus.nc),
        openDatasetRegistry(bus),
      ]);
      // The trainers bind to this durable; declaring it here means a job queued before any
      // trainer ever started still waits for one.
      await ensureWorkQueue(bus.jsm, WORK_QUEUES.trainer);
      const worker = await startRegistryConsumer({ bus, jobs, adapters, datasets, logger });
      onShutdown(() => worker.stop());
      addGrpcService(
        TrainingServiceService,
        trainingService({ bus, jobs, adapters, datasets, logger, defaultBaseModel: config.TRAINING_BASE_MODEL }),
      );
    },
  }),
);
