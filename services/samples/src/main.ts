import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type * as grpc from '@grpc/grpc-js';
import { openDatasetRegistry, publishEvent, SUBJECTS } from '@trajectory/bus';
import { DEFAULT_PORTS, grpcTarget, z } from '@trajectory/config';
import {
  type BuildDatasetRequest,
  type BuildDatasetResponse,
  type ConversationGraph,
  DatasetBuilt,
  type DatasetManifest,
  type DatasetSummary,
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
import { defaultRelationWeights } from '@trajectory/relations';
import { answerUnary, createClient, main, runService, ServiceError, type ServiceStatus } from '@trajectory/runtime';
import {
  buildDataset,
  type DatasetRecord,
  type DatasetSettings,
  DECAY_DAYS,
  DEFAULT_CONTEXT_SIZE,
  DEFAULT_EVAL_SHARE,
  DEFAULT_MAX_TOKENS,
  DEFAULT_SYSTEM_PROMPT,
  DEFAULT_TARGET_ROLES,
  type DrawCandidate,
  drawAnswers,
  EVAL_MAX_RECORDS,
  factRecords,
  loadTokenCounter,
  type MemoryRecord,
  MIN_REAL_SHARE,
  newSpotCheck,
  parseFacts,
  recordVerdict,
  SPOT_CHECK_SEED,
  SPOT_CHECK_SIZE,
  SPOT_CHECK_THRESHOLD,
  SpotCheckError,
  spotCheckContext,
  spotCheckStatus,
  validateRecords,
  WARN_REAL_SHARE,
  WEIGHT_NORMALISATIONS,
  type WeightNormalisation,
} from '@trajectory/samples';

const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** `refines=2,iteration_final=3`: weights over the relation table's defaults; unknown relations are refused. */
const relationWeights = z
  .string()
  .default('')
  .transform((s, ctx) => {
    const weights: Record<string, number> = {};
    const known = defaultRelationWeights();
    for (const pair of list(s)) {
      const [name = '', value = ''] = pair.split('=').map((x) => x.trim());
      const weight = Number(value);
      if (!(name in known) || !Number.isFinite(weight) || weight < 0) {
        ctx.addIssue({
          code: 'custom',
          message: `"${pair}": expected relation=weight with a relation of the table (${Object.keys(known).join(', ')})`,
        });
      } else weights[name] = weight;
    }
    return weights;
  });

/**
 * The records of a dataset file, one parsed line at a time (a version may hold 10⁵ records: they
 * are never all kept).
 */
async function* readRecords(path: string): AsyncGenerator<DatasetRecord> {
  try {
    const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
    for await (const line of lines) if (line.trim()) yield JSON.parse(line) as DatasetRecord;
  } catch (err) {
    throw missingFile(err);
  }
}

/** A file that is not there (a dataset's records, a path to validate) is NOT_FOUND to the client. */
const missingFile = (err: unknown) =>
  err instanceof Error && (err as NodeJS.ErrnoException).code === 'ENOENT'
    ? new ServiceError('NOT_FOUND', err.message, { cause: err })
    : err;

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
      SAMPLES_TARGET_ROLES: z
        .string()
        .default(DEFAULT_TARGET_ROLES.join(','))
        .transform(list)
        .pipe(z.array(z.enum(['user', 'assistant'])).min(1)),
      SAMPLES_RELATION_WEIGHTS: relationWeights,
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

      async function memoryRecords(factsPath: string | undefined, factsText: string, systemPrompt: string): Promise<MemoryRecord[]> {
        if (!factsText && !factsPath) return [];
        const facts = parseFacts(factsText || (await readFile(factsPath as string, 'utf8')), factsPath || 'facts');
        return factRecords(facts, { systemPrompt });
      }

      async function build(request: BuildDatasetRequest): Promise<BuildDatasetResponse> {
        const settings: DatasetSettings = {
          referenceDate: request.asOf ?? new Date(),
          contextSize: request.contextSize || config.SAMPLES_CONTEXT_SIZE,
          targetRoles: request.targetRoles.length > 0 ? request.targetRoles : config.SAMPLES_TARGET_ROLES,
          relationWeights: { ...defaultRelationWeights(), ...config.SAMPLES_RELATION_WEIGHTS, ...request.relationWeights },
          decayDays: request.decayDays || config.SAMPLES_DECAY_DAYS,
          evalShare: request.evalShare || config.SAMPLES_EVAL_SHARE,
          evalMaxRecords: config.SAMPLES_EVAL_MAX_RECORDS,
          maxTokens: config.SAMPLES_MAX_TOKENS,
          tokenCounter,
          weightNormalisation: config.SAMPLES_WEIGHT_NORMALISATION,
          minRealShare: request.minRealShare ?? config.SAMPLES_MIN_REAL_SHARE,
          warnRealShare: request.warnRealShare ?? config.SAMPLES_WARN_REAL_SHARE,
          systemPrompt: config.SAMPLES_SYSTEM_PROMPT,
        };
        const memory = await memoryRecords(request.factsPath || config.SAMPLES_FACTS_FILE, request.factsText, settings.systemPrompt);
        const dataset = await buildDataset(
          conversationGraphs(),
          resolve(request.outputDir || config.SAMPLES_DATASET_DIR),
          settings,
          memory,
        );

        // The version's files go to the object store, so a trainer anywhere on the bus can fetch them.
        // Streamed in chunks: a seed-sized history's records.jsonl alone is about 1 GB.
        const objects: string[] = [];
        for (const file of (await readdir(dataset.dir)).sort()) {
          const name = `${dataset.datasetId}/${file}`;
          await registry.objects.put({ name }, Readable.toWeb(createReadStream(join(dataset.dir, file))) as ReadableStream<Uint8Array>);
          objects.push(name);
        }
        const existing = await registry.get(dataset.datasetId);
        const manifest: DatasetManifest = {
          datasetId: dataset.datasetId,
          version: existing?.version ?? (await registry.nextVersion()),
          builtAt: existing?.builtAt ?? new Date(),
          referenceDate: settings.referenceDate,
          path: dataset.recordsPath,
          recordCount: dataset.records.length,
          gatesPassed: dataset.gates.passed,
          gates: dataset.gates.gates.map((g) => ({ name: g.name, passed: g.passed, reason: g.reason ?? '' })),
          report: dataset.report,
          objects,
          relationWeights: settings.relationWeights ?? {},
          decayDays: settings.decayDays ?? DECAY_DAYS,
          contextSize: settings.contextSize,
          targetRoles: [...settings.targetRoles],
          evalShare: settings.evalShare,
          exports: dataset.exports.files.map((f) => f.name),
          ...dataset.manifestSettings,
          // The same id is the same records: a rebuild keeps the person's verdicts.
          ...(existing?.spotCheck ? { spotCheck: existing.spotCheck } : {}),
        };
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
        const lines = createInterface({ input: createReadStream(request.path), crlfDelay: Number.POSITIVE_INFINITY });
        const result = await validateRecords(lines).catch((err: unknown) => {
          throw missingFile(err);
        });
        return {
          valid: result.valid,
          errors: result.errors.map((e) => ({ line: e.line, message: `${basename(request.path)}: ${e.message}` })),
        };
      }

      async function get(request: GetDatasetRequest): Promise<DatasetManifest> {
        const manifest = await registry.get(request.datasetId);
        if (!manifest) throw notFound(request.datasetId);
        return manifest;
      }

      const threshold = config.SAMPLES_SPOT_CHECK_THRESHOLD;

      async function listDatasets(): Promise<ListDatasetsResponse> {
        const datasets = (await registry.list()).map(
          (m): DatasetSummary => ({
            datasetId: m.datasetId,
            version: m.version,
            builtAt: m.builtAt,
            recordCount: m.recordCount,
            gatesPassed: m.gatesPassed,
            spotCheck: spotCheckStatus(m.datasetId, m.spotCheck, threshold),
            path: m.path,
          }),
        );
        return { datasets };
      }

      // The draw is stored in the manifest (the dataset registry), where the training service
      // reads it: the same draw, with its verdicts, until another seed or size is asked for.
      async function drawSpotCheck(request: DrawSpotCheckRequest): Promise<SpotCheckDraw> {
        const stored = await get(request);
        let manifest = stored;
        if (!drawAnswers(stored.spotCheck, request)) {
          const candidates: DrawCandidate[] = [];
          for await (const r of readRecords(stored.path)) candidates.push({ id: r.id, type: r.type });
          const size = request.size || stored.spotCheck?.size || SPOT_CHECK_SIZE;
          const seed = request.seed ?? stored.spotCheck?.seed ?? SPOT_CHECK_SEED;
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
        const spotCheck = manifest.spotCheck;
        const items = spotCheck?.items ?? [];
        const wanted = new Map(items.map((item) => [item.recordId, item]));
        const found = new Map<string, DatasetRecord>();
        for await (const r of readRecords(manifest.path)) if (wanted.has(r.id)) found.set(r.id, r);
        return {
          datasetId: manifest.datasetId,
          version: manifest.version,
          seed: spotCheck?.seed ?? 0,
          size: spotCheck?.size ?? 0,
          drawnAt: spotCheck?.drawnAt,
          records: items.map((item) => {
            const record = found.get(item.recordId);
            return {
              recordId: item.recordId,
              recordType: item.recordType,
              recordJson: record ? JSON.stringify(record) : '',
              context: record ? spotCheckContext(record, manifest) : undefined,
              verdict: item.verdict,
              reason: item.reason,
              judgedAt: item.judgedAt,
            };
          }),
          status: spotCheckStatus(manifest.datasetId, spotCheck, threshold),
        };
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
