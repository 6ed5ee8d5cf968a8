import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { ConversationSegmented, IngestReport, IngestState, type TrainingJob, TrainingJobState } from '@trajectory/contracts';
import { emptyReport, formatReport } from '@trajectory/ingestion';
import { checkHealth } from '@trajectory/runtime';
import { formatDatasetReport, validateFile } from '@trajectory/samples';
import neo4j from 'neo4j-driver';
import { inspectExportOffline } from './offline.js';
import { buildDataset, graphStats, listTrainingJobs, type UploadProgress, uploadExport, waitForStored } from './pipeline.js';
import { runReadOnlyQuery } from './query.js';
import { formatSegmentation, segmentExport } from './segment.js';
import { loadTargets, natsLogin, neo4jAuth, type Targets } from './targets.js';
import { defaultTracesDir, traceConversation } from './trace.js';
import {
  cancelJob,
  fetchAdapter,
  formatAdapter,
  formatJob,
  getJob,
  isJobEnded,
  listAdapters,
  spotCheckWaiting,
  submitJob,
  submitOrAwaitSpotCheck,
  watchJob,
} from './training.js';

const USAGE = `usage: trajectory <command> [options]

  ingest FILE [--wait]   upload an export (ChatGPT/Claude zip or JSON, JSONL, Markdown, notes);
                         --wait until the graph has it
  inspect FILE [--json]  read an export offline (no server) and print the ingest report
  segment FILE [--json] [--lexical]
                         segment an export offline (no server): nodes, relations with
                         confidence, refinement chains, topic boundaries
  run FILE               the whole job: ingest, wait, build a dataset, queue a training job once
                         the dataset's spot-check passed, else say where to judge it (it does
                         not wait for training: follow it with \`job JOB_ID --watch\`)
  dataset [--out DIR] [--facts FILE]
                         build a dataset version from the graph (and a facts file): records,
                         quality gates, report, exports for TRL and LLaMA-Factory
  validate FILE          check a dataset file against the record schemas (offline)
  train DATASET_ID [--base-model M] [--watch] [--override-spot-check]
                         queue a training job for a dataset version whose gates and spot-check
                         passed (--override-spot-check: without the spot-check, recorded on
                         the job); --watch prints its progress until it ends
  job JOB_ID [--watch]   a training job's state and progress; --watch follows it to the end
  cancel JOB_ID          cancel a queued or running training job
  adapters [DATASET_ID]  the published adapters (of one dataset)
  fetch-adapter ADAPTER_ID --out DIR
                         download an adapter's files (PEFT format), checked against their sha256
  status                 health of every service, graph counts, training jobs with progress
  events [SUBJECT]       print pipeline events as they happen (default trajectory.>)
  query CYPHER           run a read query against Neo4j and print the rows as JSON (anything
                         else is refused: writes, schema and admin commands, LOAD CSV)
  trace CONVERSATION_ID [--dir DIR]
                         a conversation's spans from upload to graph write, as a tree, from the
                         OTLP JSON files the compose stack's collector writes (default: deploy/
                         traces, or TRAJECTORY_TRACES_DIR as docker compose reads it)

Exit codes: 0 done (with skips, if at least one conversation was read); 1 an error; 2 not one
conversation could be read from the file (inspect, ingest, run); 3 a dataset failed its gates.

Targets come from the environment: NATS_URL, NEO4J_URI, INGESTION_GRPC_TARGET, GRAPH_GRPC_TARGET,
SAMPLES_GRPC_TARGET, TRAINING_GRPC_TARGET (defaults: the local ports of npm start). Neo4j's
credentials: NEO4J_USER and NEO4J_PASSWORD, else those of the local Neo4j of npm start. The
services' bearer token: GRPC_TOKEN, else that of npm start's services; GRPC_TLS_CA (a CA file)
when they use TLS. NATS (for events): NATS_USER and NATS_PASSWORD, else the cli user of npm
start's NATS.`;

/** Exit code of inspect, ingest and run when not one conversation could be read from the file. */
const EXIT_NOTHING_READ = 2;

class NothingReadError extends Error {
  readonly exitCode = EXIT_NOTHING_READ;
}

/** Throws NothingReadError, naming the file and its first problem, when the report has no conversation. */
function requireConversations(file: string, report: IngestReport): void {
  if (report.conversations > 0) return;
  const first = report.skipped[0];
  const others = report.skippedTotal - 1;
  const why = first
    ? `${first.fileName} ${first.place}: ${first.message}${others > 0 ? ` (and ${others.toLocaleString('en')} more skipped)` : ''}`
    : 'it holds no conversation this reader knows';
  throw new NothingReadError(`nothing could be read from ${file}: ${why}`);
}

/** Builds a dataset version and prints its report (formatDatasetReport: the report's tables, then the gates). */
async function buildAndReport(targets: Targets, values: { out?: string | undefined; facts?: string | undefined }) {
  const dataset = await buildDataset(targets, {
    ...(values.out ? { outputDir: values.out } : {}),
    // The text travels with the request: the samples service may run where this path is not.
    ...(values.facts ? { factsPath: resolve(values.facts), factsText: await readFile(values.facts, 'utf8') } : {}),
  });
  if (dataset.manifest) console.log(formatDatasetReport(dataset.manifest));
  console.log(`\nrecords: ${dataset.path}\nexports: ${dataset.manifest?.exports.join(', ') ?? ''}`);
  return dataset;
}

function progressBar(p: UploadProgress): string {
  const width = 24;
  const parsing = p.status?.state === IngestState.INGEST_STATE_PARSING;
  const fraction = p.bytesTotal > 0 ? Math.min(1, p.bytesSent / p.bytesTotal) : 1;
  const filled = Math.round(fraction * width);
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
  const conversations = p.status ? ` · ${p.status.conversationsRead} conversations read, ${p.status.conversationsPublished} published` : '';
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${mb(p.bytesSent)}/${mb(p.bytesTotal)}${parsing ? ' · parsing' : ''}${conversations}`;
}

async function ingest(targets: Targets, file: string, wait: boolean) {
  const tty = process.stderr.isTTY;
  const result = await uploadExport(targets, file, tty ? (p) => process.stderr.write(`\r${progressBar(p)}\x1b[K`) : undefined);
  if (tty) process.stderr.write('\n');
  const report = result.report ?? emptyReport();
  console.log(`ingest ${result.ingestId}\n${formatReport(report)}`);
  requireConversations(file, report);
  if (wait) {
    await waitForStored(targets, result, {
      timeoutMs: 5 * 60_000,
      onStored: (c) => console.log(`  stored ${c.conversationId}: ${c.nodeCount} nodes, ${c.edgeCount} edges`),
    });
  }
  return result;
}

async function status(targets: Targets) {
  const services = {
    ingestion: targets.INGESTION_GRPC_TARGET,
    segmentation: targets.SEGMENTATION_GRPC_TARGET,
    graph: targets.GRAPH_GRPC_TARGET,
    samples: targets.SAMPLES_GRPC_TARGET,
    training: targets.TRAINING_GRPC_TARGET,
  };
  for (const [name, target] of Object.entries(services)) {
    const health = await checkHealth(target, 2_000, targets).catch((err: Error) => `DOWN (${err.message.split('\n')[0]})`);
    console.log(`${name.padEnd(13)} ${target.padEnd(20)} ${health}`);
  }
  const stats = await graphStats(targets).catch(() => undefined);
  if (stats)
    console.log(`graph: ${stats.conversations} conversations, ${stats.messages} messages, ${stats.nodes} nodes, ${stats.edges} edges`);
  const jobs = await listTrainingJobs(targets).catch(() => []);
  if (jobs.length > 0) console.log(`training jobs (${jobs.length}):`);
  for (const job of jobs) console.log(`  ${formatJob(job)}`);
}

/** Prints the job, or with `watch` every change until it ends; a failed or cancelled end is exit code 1. */
async function showJob(targets: Targets, jobId: string, watch: boolean): Promise<TrainingJob> {
  let last = '';
  const job = watch
    ? await watchJob(targets, jobId, (j) => {
        const line = formatJob(j);
        if (line !== last) console.log(line);
        last = line;
      })
    : await getJob(targets, jobId);
  if (!watch) console.log(formatJob(job));
  if (isJobEnded(job.state) && job.state !== TrainingJobState.TRAINING_JOB_STATE_SUCCEEDED) process.exitCode = 1;
  return job;
}

async function events(targets: Targets, subject: string) {
  // As the `cli` user, which may subscribe to the pipeline's events and publish nothing.
  const login = natsLogin(targets);
  const nc = await connect({
    servers: targets.NATS_URL.split(','),
    name: 'trajectory-events',
    ...(login ? { user: login.user, pass: login.password } : {}),
    ...(targets.NATS_TOKEN ? { token: targets.NATS_TOKEN } : {}),
  });
  const sub = nc.subscribe(subject);
  console.error(`listening on ${subject} (Ctrl-C to stop)`);
  process.once('SIGINT', () => void nc.drain());
  for await (const msg of sub) {
    console.log(`${new Date().toISOString()} ${msg.subject} ${msg.string()}`);
  }
}

async function query(targets: Targets, cypher: string) {
  const credentials = neo4jAuth(targets);
  const auth = credentials ? neo4j.auth.basic(credentials.user, credentials.password) : undefined;
  const driver = neo4j.driver(targets.NEO4J_URI, auth, { disableLosslessIntegers: true });
  try {
    for (const row of await runReadOnlyQuery(driver, cypher, targets.NEO4J_DATABASE)) console.log(JSON.stringify(row));
  } finally {
    await driver.close();
  }
}

export async function run(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      wait: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      lexical: { type: 'boolean', default: false },
      out: { type: 'string' },
      facts: { type: 'string' },
      watch: { type: 'boolean', default: false },
      'base-model': { type: 'string' },
      'override-spot-check': { type: 'boolean', default: false },
      dir: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...args] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return;
  }
  const targets = loadTargets();
  const need = (n: number) => {
    if (args.length < n) throw new Error(`${command}: missing argument\n\n${USAGE}`);
  };
  switch (command) {
    case 'ingest':
      need(1);
      await ingest(targets, args[0] as string, values.wait);
      return;
    case 'inspect': {
      need(1);
      const report = await inspectExportOffline(args[0] as string);
      console.log(values.json ? JSON.stringify(IngestReport.toJSON(report), null, 2) : formatReport(report));
      requireConversations(args[0] as string, report);
      return;
    }
    case 'segment': {
      need(1);
      const { results, warnings } = await segmentExport(args[0] as string, { lexicalOnly: values.lexical });
      for (const w of warnings) console.error(`warning: ${w}`);
      if (values.json) {
        const json = results.map(({ conversation, segmentation: { topicBoundaries, segmenter, nodes, edges, chains } }) => ({
          conversationId: conversation.id,
          title: conversation.title,
          ...(ConversationSegmented.toJSON(ConversationSegmented.fromPartial({ segmenter, nodes, edges, chains })) as object),
          topicBoundaries,
        }));
        console.log(JSON.stringify(json, null, 2));
      } else {
        console.log(results.map(formatSegmentation).join('\n\n'));
      }
      return;
    }
    case 'run': {
      need(1);
      await ingest(targets, args[0] as string, true);
      const dataset = await buildAndReport(targets, values);
      if (!dataset.manifest?.gatesPassed)
        throw new Error(`dataset ${dataset.datasetId} failed its quality gates: not submitted for training`);
      // A person looks at a draw of the records before training (the spot-check): until then the
      // training service refuses the version, and the run ends by saying where to look.
      const submitted = await submitOrAwaitSpotCheck(targets, dataset.datasetId);
      if ('job' in submitted) {
        console.log(formatJob(submitted.job));
        console.log(`follow it with: trajectory job ${submitted.job.jobId} --watch`);
      } else console.log(spotCheckWaiting(dataset.datasetId, submitted.waiting));
      const stats = await graphStats(targets);
      console.log(`graph: ${stats.conversations} conversations, ${stats.messages} messages, ${stats.nodes} nodes, ${stats.edges} edges`);
      return;
    }
    case 'dataset': {
      const dataset = await buildAndReport(targets, values);
      if (!dataset.manifest?.gatesPassed) process.exitCode = 3;
      return;
    }
    case 'validate': {
      need(1);
      const result = await validateFile(args[0] as string);
      for (const e of result.errors) console.log(`${args[0]}:${e.line}: ${e.message}`);
      console.log(`${result.valid} valid records, ${result.errors.length} errors`);
      if (result.errors.length > 0) process.exitCode = 1;
      return;
    }
    case 'train': {
      need(1);
      const job = await submitJob(targets, args[0] as string, {
        ...(values['base-model'] ? { baseModel: values['base-model'] } : {}),
        overrideSpotCheck: values['override-spot-check'],
        // An optional second argument is the dataset file (the manifest's path otherwise).
        ...(args[1] ? { datasetPath: args[1] } : {}),
      });
      if (values.watch) await showJob(targets, job.jobId, true);
      else console.log(formatJob(job));
      return;
    }
    case 'job':
      need(1);
      await showJob(targets, args[0] as string, values.watch);
      return;
    case 'cancel':
      need(1);
      console.log(formatJob(await cancelJob(targets, args[0] as string)));
      return;
    case 'adapters': {
      const adapters = await listAdapters(targets, args[0] ?? '');
      for (const adapter of adapters) console.log(formatAdapter(adapter));
      if (adapters.length === 0) console.log('no adapters yet');
      return;
    }
    case 'fetch-adapter': {
      need(1);
      if (!values.out) throw new Error(`fetch-adapter: --out DIR is required\n\n${USAGE}`);
      const { adapter, files } = await fetchAdapter(targets, args[0] as string, values.out);
      console.log(formatAdapter(adapter));
      for (const file of files) console.log(`  ${resolve(values.out, file)}`);
      return;
    }
    case 'status':
      await status(targets);
      return;
    case 'events':
      await events(targets, args[0] ?? 'trajectory.>');
      return;
    case 'query':
      need(1);
      await query(targets, args.join(' '));
      return;
    case 'trace':
      need(1);
      console.log(await traceConversation(args[0] as string, values.dir ? resolve(values.dir) : defaultTracesDir()));
      return;
    default:
      throw new Error(`unknown command ${command}\n\n${USAGE}`);
  }
}

run(process.argv.slice(2)).catch((err: Error) => {
  console.error(`trajectory: ${err.message}`);
  process.exit(err instanceof NothingReadError ? err.exitCode : 1);
});
