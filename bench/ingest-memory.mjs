#!/usr/bin/env node
// Peak resident memory of ingesting a ChatGPT export zip of 10 MB, 100 MB and 1 GB.
// Each size runs the real ingest core (zip entry -> streaming JSON parser -> normalise ->
// redact -> report) in a fresh process, and reports that process's peak RSS (getrusage).
//
//   node bench/ingest-memory.mjs            # 10 MB, 100 MB, 1 GB
//   node bench/ingest-memory.mjs 10 100     # chosen sizes, in MB
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yazl from 'yazl';

const here = dirname(fileURLToPath(import.meta.url));

if (process.argv[2] === '--child') {
  const { ingestExport, createRedactor, DEFAULT_LIMITS } = await import('@trajectory/ingestion');
  const started = process.hrtime.bigint();
  const result = await ingestExport({
    path: process.argv[3],
    fileName: 'export.zip',
    ingestId: 'bench',
    redactor: createRedactor('secrets'),
    limits: DEFAULT_LIMITS,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const r = result.report;
  console.log(
    JSON.stringify({
      conversations: r.conversations,
      messages: r.messages,
      skipped: r.skipped.length,
      seconds,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    }),
  );
  process.exit(0);
}

/** One synthetic conversation in the real export's shape, about `bytes` long. */
function conversation(i, bytes) {
  const mapping = { root: { id: 'root', message: null, parent: null, children: ['m0'] } };
  const turns = Math.max(2, Math.round(bytes / 600));
  for (let t = 0; t < turns; t++) {
    const id = `m${t}`;
    mapping[id] = {
      id,
      parent: t === 0 ? 'root' : `m${t - 1}`,
      children: t + 1 < turns ? [`m${t + 1}`] : [],
      message: {
        id: `${i}-${id}`,
        author: { role: t % 2 ? 'assistant' : 'user', name: null, metadata: {} },
        create_time: 1700000000 + i * 100 + t,
        content: {
          content_type: 'text',
          parts: [`Turn ${t} of conversation ${i}: ${'lorem ipsum dolor sit amet, consectetur adipiscing elit '.repeat(8)}`],
        },
        metadata: {},
      },
    };
  }
  return JSON.stringify({
    id: `conv-${i}`,
    title: `Conversation ${i}`,
    create_time: 1700000000 + i * 100,
    mapping,
    current_node: `m${turns - 1}`,
  });
}

async function makeExport(dir, megabytes) {
  const json = join(dir, `conversations-${megabytes}.json`);
  const out = createWriteStream(json);
  const target = megabytes * 1024 * 1024;
  let written = 0;
  let i = 0;
  const write = async (s) => {
    written += Buffer.byteLength(s);
    if (!out.write(s)) await once(out, 'drain');
  };
  await write('[');
  while (written < target) await write(`${i > 0 ? ',' : ''}${conversation(i++, 60_000)}`);
  await write(']');
  out.end();
  await once(out, 'finish');
  const zipPath = join(dir, `export-${megabytes}.zip`);
  const zip = new yazl.ZipFile();
  zip.addFile(json, 'conversations.json');
  zip.end();
  const zipOut = createWriteStream(zipPath);
  zip.outputStream.pipe(zipOut);
  await once(zipOut, 'finish');
  rmSync(json);
  return { zipPath, conversations: i, jsonBytes: written };
}

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const dir = mkdtempSync(join(tmpdir(), 'trajectory-bench-'));
const rows = [];
try {
  for (const mb of sizes.length ? sizes : [10, 100, 1000]) {
    const { zipPath, conversations, jsonBytes } = await makeExport(dir, mb);
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', zipPath], { cwd: here, encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`ingest of ${mb} MB failed:\n${child.stderr}`);
    const m = JSON.parse(child.stdout.trim().split('\n').at(-1));
    if (m.conversations !== conversations || m.skipped !== 0)
      throw new Error(`${mb} MB: read ${m.conversations}/${conversations}, skipped ${m.skipped}`);
    rows.push({ mb, jsonBytes, zipBytes: statSync(zipPath).size, ...m });
    rmSync(zipPath);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log('export (JSON in a zip)  conversations  messages   seconds  MB/s   peak RSS');
for (const r of rows) {
  console.log(
    `${`${r.mb} MB`.padEnd(23)} ${String(r.conversations).padStart(13)} ${String(r.messages).padStart(9)} ${r.seconds.toFixed(1).padStart(9)} ${(r.jsonBytes / 1048576 / r.seconds).toFixed(1).padStart(6)} ${r.peakRssMb.toFixed(0).padStart(6)} MB`,
  );
}
