#!/usr/bin/env node
// The samples stage alone: a dataset built by the samples service's buildDataset from the graphs
// of a generated history (bench/lib/synthetic-export.mjs, segmented offline as the service does),
// without servers, so its peak RSS and wall time can be compared before and after a change in
// minutes instead of the end-to-end run's quarter of an hour. The graphs are segmented once and
// kept as JSONL (one conversation graph a line) in --graphs; the build runs in a child process
// that streams them, one at a time as the graph service's StreamConversationGraphs does, so the
// child's peak RSS is the build's own.
//
//   node bench/samples-memory.mjs                       # the seed-sized history (1,122 conversations)
//   node bench/samples-memory.mjs --conversations 200
//   options: --seed 1  --mean-exchanges 55  --graphs FILE.jsonl (default: in the temp dir, by size and seed)
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { option } from './lib/cli-args.mjs';

const fmt = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const MB = 1024 * 1024;
/** A fixed reference date: the same graphs always give the same dataset id. */
const REFERENCE_DATE = new Date('2027-01-01T00:00:00.000Z');

/** Segments a generated history as the service does and writes its graphs as JSONL. */
async function writeGraphs(path, { conversations, seed, meanExchanges }) {
  const { loadEmbedder } = await import('@trajectory/embeddings');
  const { createRedactor, DEFAULT_LIMITS, ingestExport } = await import('@trajectory/ingestion');
  const { segmentConversation } = await import('@trajectory/segmentation');
  const { historyConversations, writeExportZip } = await import('./lib/synthetic-export.mjs');
  const work = mkdtempSync(join(tmpdir(), 'bench-samples-'));
  const embedder = await loadEmbedder();
  const lines = [];
  try {
    const zip = join(work, 'history.zip');
    await writeExportZip(zip, historyConversations(conversations, { seed, meanExchanges }));
    await ingestExport({
      path: zip,
      fileName: 'export.zip',
      ingestId: 'bench-samples',
      redactor: createRedactor('secrets'),
      limits: DEFAULT_LIMITS,
      publish: async ({ conversation }) => {
        const s = await segmentConversation(conversation, { embedder });
        lines.push(
          JSON.stringify({ conversationId: conversation.id, title: conversation.title, nodes: s.nodes, edges: s.edges, chains: s.chains }),
        );
        return { duplicate: false };
      },
    });
  } finally {
    await embedder?.close();
    rmSync(work, { recursive: true, force: true });
  }
  await mkdir(dirname(path), { recursive: true });
  await writeFile(`${path}.tmp`, `${lines.join('\n')}\n`);
  await rename(`${path}.tmp`, path);
  return lines.length;
}

/** The child: builds the dataset from the graphs file and prints one JSON line of what it measured. */
async function build(graphsPath, rootDir) {
  const { offlineDataset } = await import('./lib/offline-dataset.mjs');
  const revive = (key, value) => (key === 'createdAt' && typeof value === 'string' ? new Date(value) : value);
  async function* graphs() {
    const lines = createInterface({ input: createReadStream(graphsPath), crlfDelay: Number.POSITIVE_INFINITY });
    for await (const line of lines) if (line.trim()) yield JSON.parse(line, revive);
  }
  const t0 = performance.now();
  const cpu = process.cpuUsage();
  const dataset = await offlineDataset(graphs(), rootDir, { referenceDate: REFERENCE_DATE });
  const used = process.cpuUsage(cpu);
  console.log(
    JSON.stringify({
      datasetId: dataset.datasetId,
      records: dataset.report.records,
      conversations: dataset.report.conversations,
      gatesPassed: dataset.gates.passed,
      wallSeconds: (performance.now() - t0) / 1000,
      cpuSeconds: (used.user + used.system) / 1e6,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    }),
  );
}

const here = fileURLToPath(import.meta.url);
if (process.argv[2] === '--build') {
  await build(process.argv[3], process.argv[4]);
} else {
  const conversations = Number(option('conversations', 1122));
  const seed = Number(option('seed', 1));
  const meanExchanges = Number(option('mean-exchanges', 55));
  if (!(Number.isInteger(conversations) && conversations > 0)) throw new Error('--conversations must be a positive integer');
  const graphsPath = resolve(
    option('graphs', join(tmpdir(), 'trajectory-bench', `graphs-${conversations}-s${seed}-e${meanExchanges}.jsonl`)),
  );
  if (existsSync(graphsPath)) console.log(`graphs: ${graphsPath} (kept from an earlier run)`);
  else {
    const t0 = performance.now();
    const n = await writeGraphs(graphsPath, { conversations, seed, meanExchanges });
    console.log(`graphs: ${fmt(n)} conversations segmented in ${fmt((performance.now() - t0) / 1000, 1)} s into ${graphsPath}`);
  }
  const out = mkdtempSync(join(tmpdir(), 'bench-samples-out-'));
  try {
    const child = spawnSync(process.execPath, [here, '--build', graphsPath, out], { encoding: 'utf8', maxBuffer: 64 * MB });
    if (child.status !== 0)
      throw new Error(`the build exited with ${child.status ?? child.signal}:\n${`${child.stdout}\n${child.stderr}`.slice(-3000)}`);
    const m = JSON.parse(child.stdout.trim().split('\n').at(-1));
    const { formatTable } = await import('@trajectory/samples');
    console.log(
      formatTable(
        ['conversations', 'records', 'wall s', 'records/s', 'CPU s', 'peak RSS', 'gates', 'dataset id'],
        [
          [
            fmt(m.conversations),
            fmt(m.records),
            fmt(m.wallSeconds, 1),
            fmt(m.records / m.wallSeconds),
            fmt(m.cpuSeconds, 1),
            `${fmt(m.peakRssBytes / MB)} MB`,
            m.gatesPassed ? 'passed' : 'failed',
            m.datasetId,
          ],
        ],
      ),
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
