#!/usr/bin/env node
// Peak resident memory of ingestion's offline path (ingestExport, the service's core, with a
// publish that drops each event) must not grow with the number of conversations, nor with the
// size of one value in a conversation. Each case runs in a fresh process, which reports its peak
// RSS (VmHWM) and time:
//
//   - 20,000 vs 200,000 tiny conversations;
//   - one conversation holding a 10 MB vs a 400 MB string, between two small ones (under
//     maxConversationBytes, 64 MiB, it is read; over it, it is skipped as it streams past);
//   - each as conversations.json and inside a zip, with the default heap and with
//     --max-old-space-size=64.
//
// It prints the ratio of each pair (200k/20k, 400MB/10MB) and "flat: met" when it is <= 1.3.
// It fails when a case does not read every conversation it should, or skips without naming
// the element and its byte. Inputs are generated here (seeded, streamed to a temporary folder,
// removed afterwards).
//
//   node bench/ingest-memory.mjs            # the full scale above (about 1.5 GB of temporary disk)
//   node bench/ingest-memory.mjs --smoke    # 2,000 vs 4,000 conversations, a 1 MB vs a 4 MB value (limit 2 MiB), in seconds
//   options: --seed 1, --family conversations|value (one family only),
//            --counts 20000,200000 and --values-mb 10,400 (the sizes; a third shows where RSS levels off),
//            --max-conversation-mb N (maxConversationBytes; default 64 MiB, 2 MiB with --smoke)
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yazl from 'yazl';

const SELF = fileURLToPath(import.meta.url);
const BENCH = fileURLToPath(new URL('./', import.meta.url));
const MB = 1024 * 1024;
const FLAT = 1.3;

if (process.argv[2] === '--child') {
  const [path, limitsJson] = process.argv.slice(3);
  const { createRedactor, DEFAULT_LIMITS, ingestExport } = await import('@trajectory/ingestion');
  const started = performance.now();
  const { report } = await ingestExport({
    path,
    fileName: basename(path),
    ingestId: 'bench',
    redactor: createRedactor('secrets'),
    limits: { ...DEFAULT_LIMITS, ...JSON.parse(limitsJson) },
    publish: async () => ({ duplicate: false }),
  });
  const seconds = (performance.now() - started) / 1000;
  // VmHWM: the most resident memory the process ever had, read by the kernel.
  const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  const peakRssMb = hwm ? Number(hwm) / 1024 : process.resourceUsage().maxRSS / 1024;
  console.log(
    JSON.stringify({
      conversations: report.conversations,
      skipped: report.skipped,
      skippedTotal: report.skippedTotal ?? report.skipped.length,
      seconds,
      peakRssMb,
    }),
  );
  process.exit(0);
}

const { flag, option } = await import('./lib/cli-args.mjs');
const { mulberry32 } = await import('@trajectory/config/util');
const { formatTable } = await import('@trajectory/samples');
const { DEFAULT_LIMITS } = await import('@trajectory/ingestion');

const smoke = flag('smoke');
const seed = Number(option('seed', 1));
const family = option('family', undefined);
const limitMb = Number(option('max-conversation-mb', smoke ? 2 : 0));
const DEFAULT_SCALE = smoke ? { counts: [2000, 4000], values: [1, 4] } : { counts: [20_000, 200_000], values: [10, 400] };
const numbers = (name, fallback) => option(name, fallback.join(',')).split(',').map(Number);
// More than two sizes show where peak RSS levels off (each is compared with the one before it).
const SCALE = { counts: numbers('counts', DEFAULT_SCALE.counts), values: numbers('values-mb', DEFAULT_SCALE.values) };
const LIMITS = limitMb > 0 ? { maxConversationBytes: limitMb * MB } : {};
const HEAPS = [
  { label: 'default heap', args: [] },
  { label: 'heap cap 64 MB', args: ['--max-old-space-size=64'] },
];

const WORDS = (
  'the a of to and in that is for it with as on was be by this are or at from but not have you they which one all were ' +
  'export memory stream parser conversation message graph node limit byte offset value error skipped read written chunk'
).split(' ');

/** A writer that waits for the disk when its buffer is full, so generating holds little memory. */
function writer(path) {
  const out = createWriteStream(path);
  let bytes = 0;
  return {
    get bytes() {
      return bytes;
    },
    async write(text) {
      bytes += Buffer.byteLength(text);
      if (!out.write(text)) await once(out, 'drain');
    },
    async close() {
      out.end();
      await once(out, 'finish');
    },
  };
}

/** `n` words drawn by `random`. */
const words = (random, n) => Array.from({ length: n }, () => WORDS[Math.floor(random() * WORDS.length)]).join(' ');

/** A small ChatGPT conversation: one question (`question`, or a few words), one answer. */
function tinyConversation(i, random, question) {
  const id = `c${i}`;
  const message = (key, parent, children, role, t, text = words(random, 6 + Math.floor(random() * 10))) => ({
    id: key,
    parent,
    children,
    message: {
      id: `${id}-${key}`,
      author: { role },
      create_time: 1_700_000_000 + i * 100 + t,
      content: { content_type: 'text', parts: [text] },
    },
  });
  return JSON.stringify({
    id,
    title: `Conversation ${i}`,
    create_time: 1_700_000_000 + i * 100,
    current_node: 'm1',
    mapping: {
      r: { id: 'r', message: null, parent: null, children: ['m0'] },
      m0: message('m0', 'r', ['m1'], 'user', 1, question),
      m1: message('m1', 'm0', [], 'assistant', 2),
    },
  });
}

async function tinyExport(path, count, random) {
  const out = writer(path);
  await out.write('[');
  for (let i = 0; i < count; i++) await out.write(`${i > 0 ? ',' : ''}${tinyConversation(i, random)}`);
  await out.write(']');
  await out.close();
  return { bytes: out.bytes, conversations: count, overLimit: undefined };
}

/**
 * Three conversations, the middle one holding a string of `megabytes` MB, written a block at a
 * time. Words, not one repeated byte: the zip of it stays under the compression-ratio limit.
 */
async function valueExport(path, megabytes, random) {
  const blocks = Array.from({ length: 8 }, () => {
    const text = words(random, 200_000);
    return text.slice(0, MB).padEnd(MB, ' ');
  });
  const out = writer(path);
  await out.write(`[${tinyConversation(0, random)},`);
  const offset = out.bytes;
  const [open, close] = tinyConversation(1, random, 'VALUE').split('VALUE');
  await out.write(open);
  for (let i = 0; i < megabytes; i++) await out.write(blocks[Math.floor(random() * blocks.length)]);
  await out.write(`${close},${tinyConversation(2, random)}]`);
  await out.close();
  return { bytes: out.bytes, conversations: 3, overLimit: { index: 1, offset, bytes: out.bytes - offset } };
}

async function zipOf(jsonPath, zipPath) {
  const zip = new yazl.ZipFile();
  zip.addFile(jsonPath, 'conversations.json');
  zip.end();
  const out = createWriteStream(zipPath);
  zip.outputStream.pipe(out);
  await once(out, 'finish');
}

/** Runs one case in a fresh process; undefined figures and a reason when it fails. */
function ingest(path, heap, limits) {
  const child = spawnSync(process.execPath, [...heap.args, SELF, '--child', path, JSON.stringify(limits)], {
    cwd: BENCH,
    encoding: 'utf8',
    maxBuffer: 64 * MB,
  });
  if (child.status !== 0) {
    const why = /heap out of memory|Allocation failed[^\n]*/.exec(child.stderr)?.[0] ?? child.stderr.trim().split('\n').at(-1);
    return { failure: `exited ${child.status ?? child.signal}: ${why}` };
  }
  return JSON.parse(child.stdout.trim().split('\n').at(-1));
}

/** What a case must have read: every conversation but one over the limit, skipped by its index and byte. */
function check(result, input, limits) {
  const { maxConversationBytes } = { ...DEFAULT_LIMITS, ...limits };
  const over = input.overLimit && input.overLimit.bytes > maxConversationBytes;
  const expected = input.conversations - (over ? 1 : 0);
  if (result.conversations !== expected) return `read ${result.conversations} of the ${expected} conversations it should`;
  if (over) {
    const { index, offset } = input.overLimit;
    const named = result.skipped.some((s) => s.place === `[${index}] at byte ${offset}` && /over the limit/.test(s.message));
    if (!named) return `the conversation over the limit is not reported as [${index}] at byte ${offset}: ${JSON.stringify(result.skipped)}`;
  }
  return undefined;
}

const dir = mkdtempSync(join(tmpdir(), 'trajectory-ingest-memory-'));
const rows = [];
const failures = [];
const figures = new Map();
try {
  const families = [
    ...(family === 'value' ? [] : SCALE.counts).map((count) => ({
      name: 'conversations',
      label: `${count.toLocaleString('en')} tiny conversations`,
      make: (path, random) => tinyExport(path, count, random),
    })),
    ...(family === 'conversations' ? [] : SCALE.values).map((megabytes) => ({
      name: 'value',
      label: `a ${megabytes} MB value`,
      make: (path, random) => valueExport(path, megabytes, random),
    })),
  ];
  for (const { name, label, make } of families) {
    const json = join(dir, 'conversations.json');
    const input = await make(json, mulberry32(seed));
    const zip = join(dir, 'export.zip');
    await zipOf(json, zip);
    for (const [container, path] of [
      ['JSON', json],
      ['zip', zip],
    ]) {
      for (const heap of HEAPS) {
        const result = ingest(path, heap, LIMITS);
        const problem = result.failure ?? check(result, input, LIMITS);
        if (problem) failures.push(`${label}, ${container}, ${heap.label}: ${problem}`);
        figures.set(`${label}|${container}|${heap.label}`, problem ? undefined : result.peakRssMb);
        rows.push([
          label,
          container,
          heap.label,
          `${(statSync(path).size / MB).toFixed(1)} MB`,
          result.failure ? '-' : `${result.conversations}`,
          result.failure ? '-' : `${result.skippedTotal}`,
          result.failure ? '-' : result.seconds.toFixed(1),
          result.failure ? 'failed' : `${result.peakRssMb.toFixed(0)} MB`,
        ]);
      }
    }
    rmSync(json);
    rmSync(zip);
    figures.set(`${name}|labels`, [...(figures.get(`${name}|labels`) ?? []), label]);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(formatTable(['input', 'file', 'heap', 'size', 'conversations read', 'skipped', 'seconds', 'peak RSS'], rows));
console.log('');
for (const name of ['conversations', 'value']) {
  const labels = figures.get(`${name}|labels`);
  if (!labels) continue;
  for (let i = 1; i < labels.length; i++) {
    const [small, large] = [labels[i - 1], labels[i]];
    for (const container of ['JSON', 'zip']) {
      for (const heap of HEAPS) {
        const a = figures.get(`${small}|${container}|${heap.label}`);
        const b = figures.get(`${large}|${container}|${heap.label}`);
        const ratio = a && b ? b / a : undefined;
        const verdict = ratio !== undefined && ratio <= FLAT ? 'met' : 'not met';
        const shown = ratio === undefined ? 'n/a (a case failed)' : `${ratio.toFixed(2)}`;
        console.log(`${large} / ${small}, ${container}, ${heap.label}: peak RSS ratio ${shown}; flat (<= ${FLAT}): ${verdict}`);
      }
    }
  }
}
if (failures.length > 0) {
  console.error(`\n${failures.length} case(s) failed:\n${failures.map((f) => `  ${f}`).join('\n')}`);
  process.exit(1);
}
