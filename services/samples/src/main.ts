import { basename, resolve } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { openDatasetRegistry, publishEvent, SUBJECTS } from '@trajectory/bus';
import { DEFAULT_PORTS, grpcTarget, listSetting, z } from '@trajectory/config';
import {
  type BuildDatasetRequest,
  type BuildDatasetResponse,
  type ConversationGraph,
  DatasetBuilt,
  type DatasetManifest,
  type DrawSpotCheckRequest,
  type GetDatasetRequest,
  type GetSpotCheckRequest,
  GraphServiceClient,
  type ListDatasetsResponse,
  type RecordVerdictRequest,
  SamplesServiceService,
  type SpotCheckDraw,
  type SpotCheckStatus,
  SpotCheckVerdict,
  type ValidateDatasetRequest,
  type ValidateDatasetResponse,
} from '@trajectory/contracts';
import { answerUnary, createClient, main, runService, ServiceError, type ServiceStatus } from '@trajectory/runtime';
import {
  buildDataset,
  buildPlan,
  DECAY_DAYS,
  DEFAULT_CONTEXT_SIZE,
  DEFAULT_EVAL_SHARE,
  DEFAULT_MAX_TOKENS,
  DEFAULT_SYSTEM_PROMPT,
  DEFAULT_TARGET_ROLES,
  datasetManifest,
  datasetSummary,
  drawAnswers,
  drawSettings,
  EVAL_MAX_RECORDS,
  loadTokenCounter,
  MIN_REAL_SHARE,
  newSpotCheck,
  recordVerdict,
  relationWeightsSetting,
  SPOT_CHECK_THRESHOLD,
  SpotCheckError,
  spotCheckDraw,
  spotCheckStatus,
  validationResponse,
  WARN_REAL_SHARE,
  WEIGHT_NORMALISATIONS,
  type WeightNormalisation,
} from '@trajectory/samples';
import { drawCandidates, findRecords, memoryRecords, validateDatasetFile } from './adapters/dataset-files.js';
import { uploadVersion } from './adapters/version-objects.js';

const notFound = (datasetId: string) => new ServiceError('NOT_FOUND', `no dataset ${datasetId}`);

/** A unary handler of `work`; `otherwise` is the status of its failures that are no ServiceError (INTERNAL). */
const unary =
  <Req, Res>(work: (request: Req) => Promise<Res>, otherwise?: ServiceStatus) =>
  (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) =>
    answerUnary(work(call.request), callback, otherwise);

main(() =>
  runService({
    name: 'samples',
    defaultPort: DEFAULT_PORTS.samples,
    configShape: {
      GRAPH_GRPC_TARGET: grpcTarget(DEFAULT_PORTS.graph),
      SAMPLES_DATASET_DIR: z.string().default('.trajectory/datasets'),
      SAMPLES_CONTEXT_SIZE: z.coerce.number().int().min(1).max(32).default(DEFAULT_CONTEXT_SIZE),
      SAMPLES_TARGET_ROLES: listSetting(DEFAULT_TARGET_ROLES).pipe(z.array(z.enum(['user', 'assistant'])).min(1)),
      SAMPLES_RELATION_WEIGHTS: relationWeightsSetting,
      SAMPLES_DECAY_DAYS: z.coerce.number().positive().default(DECAY_DAYS),
      SAMPLES_EVAL_SHARE: z.coerce.number().min(0).max(0.5).default(DEFAULT_EVAL_SHARE),
      SAMPLES_EVAL_MAX_RECORDS: z.coerce.number().int().min(1).default(EVAL_MAX_RECORDS),
      // The longest export row in tokens (the trainer's max_seq_length), measured with the
      // tokenizer of SAMPLES_TOKENIZER (a tokenizer.json, its folder, or a model id in the Hugging
      // Face cache; never downloaded); empty or not on this machine: estimated from characters.
      SAMPLES_MAX_TOKENS: z.coerce.number().int().min(64).default(DEFAULT_MAX_TOKENS),
      SAMPLES_TOKENIZER: z.string().default('Qwen/Qwen2.5-7B-Instruct'),
      SAMPLES_WEIGHT_NORMALISATION: z.enum(WEIGHT_NORMALISATIONS as [WeightNormalisation, ...WeightNormalisation[]]).default('mean'),
      SAMPLES_FACTS_FILE: z.string().optional(),
      // The real-share gate: below the first share of real (conversation) records among those a
      // trainer sees the dataset fails, below the second it warns (and memory records are capped to it).
      SAMPLES_MIN_REAL_SHARE: z.coerce.number().min(0).max(1).default(MIN_REAL_SHARE),
      SAMPLES_WARN_REAL_SHARE: z.coerce.number().min(0).max(1).default(WARN_REAL_SHARE),
      SAMPLES_SYSTEM_PROMPT: z.string().default(DEFAULT_SYSTEM_PROMPT),
      // The spot-check passes when every drawn record is judged and at least this share is accepted.
      SAMPLES_SPOT_CHECK_THRESHOLD: z.coerce.number().min(0).max(1).default(SPOT_CHECK_THRESHOLD),
    },
    async start({ config, bus, logger, addGrpcService, onShutdown }) {
      const graph = createClient(GraphServiceClient, config.GRAPH_GRPC_TARGET, config);
      onShutdown(() => graph.close());
      const registry = await openDatasetRegistry(bus);
      const tokenCounter = loadTokenCounter(config.SAMPLES_TOKENIZER);
      logger.info({ tokenizer: tokenCounter.name, maxTokens: config.SAMPLES_MAX_TOKENS }, 'export rows measured');

      async function* conversationGraphs(): AsyncGenerator<ConversationGraph> {
        const stream = graph.streamConversationGraphs({ conversationIds: [] });
        for await (const item of stream as AsyncIterable<ConversationGraph>) yield item;
      }

      const defaults = {
        contextSize: config.SAMPLES_CONTEXT_SIZE,
        targetRoles: config.SAMPLES_TARGET_ROLES,
        relationWeights: config.SAMPLES_RELATION_WEIGHTS,
        decayDays: config.SAMPLES_DECAY_DAYS,
        evalShare: config.SAMPLES_EVAL_SHARE,
        evalMaxRecords: config.SAMPLES_EVAL_MAX_RECORDS,
        maxTokens: config.SAMPLES_MAX_TOKENS,
        tokenCounter,
        weightNormalisation: config.SAMPLES_WEIGHT_NORMALISATION,
        minRealShare: config.SAMPLES_MIN_REAL_SHARE,
        warnRealShare: config.SAMPLES_WARN_REAL_SHARE,
        systemPrompt: config.SAMPLES_SYSTEM_PROMPT,
        datasetDir: config.SAMPLES_DATASET_DIR,
        factsFile: config.SAMPLES_FACTS_FILE,
      };

      async function build(request: BuildDatasetRequest): Promise<BuildDatasetResponse> {
        const { settings, outputDir, factsPath, factsText } = buildPlan(request, defaults, new Date());
        const memory = await memoryRecords(factsPath, factsText, settings.systemPrompt);
        const dataset = await buildDataset(conversationGraphs(), resolve(outputDir), settings, memory);
        const objects = await uploadVersion(registry.objects, dataset.datasetId, dataset.dir);
        const existing = await registry.get(dataset.datasetId);
        const nextVersion = existing ? undefined : await registry.nextVersion();
        const manifest = datasetManifest(dataset, settings, { objects, existing, nextVersion, now: new Date() });
        await registry.put(manifest);
        await publishEvent(
          bus,
          SUBJECTS.datasetBuilt,
          DatasetBuilt,
          { datasetId: manifest.datasetId, path: manifest.path, recordCount: manifest.recordCount, builtAt: manifest.builtAt, manifest },
          `dataset:${manifest.datasetId}`,
        );
        logger.info(
          { datasetId: manifest.datasetId, version: manifest.version, records: manifest.recordCount, gatesPassed: manifest.gatesPassed },
          'dataset built',
        );
        return { datasetId: manifest.datasetId, path: manifest.path, recordCount: manifest.recordCount, manifest };
      }

      async function validate(request: ValidateDatasetRequest): Promise<ValidateDatasetResponse> {
        return validationResponse(basename(request.path), await validateDatasetFile(request.path));
      }

      async function get(request: GetDatasetRequest): Promise<DatasetManifest> {
        const manifest = await registry.get(request.datasetId);
        if (!manifest) throw notFound(request.datasetId);
        return manifest;
      }

      const threshold = config.SAMPLES_SPOT_CHECK_THRESHOLD;

      async function listDatasets(): Promise<ListDatasetsResponse> {
        return { datasets: (await registry.list()).map((m) => datasetSummary(m, threshold)) };
      }

      // The draw is stored in the manifest (the dataset registry), where the training service
      // reads it: the same draw, with its verdicts, until another seed or size is asked for.
      async function drawSpotCheck(request: DrawSpotCheckRequest): Promise<SpotCheckDraw> {
        const stored = await get(request);
        let manifest = stored;
        if (!drawAnswers(stored.spotCheck, request)) {
          const candidates = await drawCandidates(stored.path);
          const { size, seed } = drawSettings(request, stored.spotCheck);
          const updated = await registry.update(stored.datasetId, (current) =>
            drawAnswers(current.spotCheck, { size, seed })
              ? current
              : {
                  ...current,
                  spotCheck: newSpotCheck(candidates, { size, seed, threshold, now: new Date(), previous: current.spotCheck }),
                },
          );
          if (!updated) throw notFound(stored.datasetId);
          manifest = updated;
          logger.info({ datasetId: manifest.datasetId, seed, size, drawn: manifest.spotCheck?.items.length }, 'spot-check drawn');
        }
        const drawn = new Set((manifest.spotCheck?.items ?? []).map((item) => item.recordId));
        return spotCheckDraw(manifest, await findRecords(manifest.path, drawn), threshold);
      }

      async function judge(request: RecordVerdictRequest): Promise<SpotCheckStatus> {
        const updated = await registry
          .update(request.datasetId, (current) => ({
            ...current,
            spotCheck: recordVerdict(current.spotCheck, request, new Date(), threshold),
          }))
          .catch((err: unknown) => {
            // What the spot-check cannot take (a rejection without a reason, a record not drawn) is the request's fault.
            throw err instanceof SpotCheckError ? new ServiceError('INVALID_ARGUMENT', err.message, { cause: err }) : err;
          });
        if (!updated) throw notFound(request.datasetId);
        const status = spotCheckStatus(updated.datasetId, updated.spotCheck, threshold);
        logger.info(
          {
            datasetId: updated.datasetId,
            recordId: request.recordId,
            verdict: SpotCheckVerdict[request.verdict],
            judged: status.judged,
            passed: status.passed,
          },
          'spot-check verdict',
        );
        return status;
      }

      async function getSpotCheck(request: GetSpotCheckRequest): Promise<SpotCheckStatus> {
        const manifest = await get(request);
        return spotCheckStatus(manifest.datasetId, manifest.spotCheck, threshold);
      }

      addGrpcService(SamplesServiceService, {
        buildDataset: unary(build, 'UNAVAILABLE'),
        validateDataset: unary(validate, 'INVALID_ARGUMENT'),
        getDataset: unary(get),
        listDatasets: unary(listDatasets),
        drawSpotCheck: unary(drawSpotCheck),
        recordVerdict: unary(judge),
        getSpotCheck: unary(getSpotCheck),
      });
    },
  }),
);
