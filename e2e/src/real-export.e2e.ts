import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { listTrainingJobs, loadTargets } from '@trajectory/cli';
import { query, REPO_ROOT, startEmptyServers, startPipelineIn, type TestServers } from '@trajectory/testkit';
import type { Driver } from 'neo4j-driver';

// The largest real export in the repository (fixtures/chatgpt-export: a real ChatGPT export of 192
// conversations, June 2023) through `trajectory run` as a person runs it, against all five
// services: it must end in a dataset whose gates pass, waiting for a person's spot-check before
// training (exit 0, saying where the page is). The smaller real
// exports are checked offline by bench/test/real-exports.test.mjs.
const REAL_EXPORT = join(REPO_ROOT, 'fixtures', 'chatgpt-export', 'pkuppens_2023-06_export.conversations.json');
const CLI = join(REPO_ROOT, 'apps', 'cli', 'bin', 'trajectory.mjs');

let servers: TestServers;
let driver: Driver;
let workDir: string;
let pipeline: Awaited<ReturnType<typeof startPipelineIn>>;

before(async () => {
  ({ servers, driver } = await startEmptyServers());
  workDir = mkdtempSync(join(tmpdir(), 'trajectory-real-export-'));
  pipeline = await startPipelineIn(servers, workDir);
});

after(async () => {
  await pipeline?.stop();
  await driver?.close();
  await servers?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test('trajectory run on a real export of 192 conversations: the graph holds it, the dataset passes its gates, training waits for the spot-check', async () => {
  const child = spawn(process.execPath, [CLI, 'run', REAL_EXPORT], {
    env: { ...process.env, ...pipeline.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, `trajectory run exited ${code}:\n${output.slice(-4000)}`);
  assert.match(output, /^conversations: 192 \(chatgpt 192\); new 192/m);
  assert.match(output, /^gates: passed$/m, output.slice(-3000));
  for (const gate of ['schema', 'uniqueness', 'near-duplicates', 'eval-split', 'real-share']) {
    assert.match(output, new RegExp(`^ {2}ok {3}${gate}`, 'm'), `gate ${gate} passed`);
  }

  const [stored] = await query(driver, 'MATCH (c:Conversation) RETURN count(c) AS n');
  assert.equal(Number(stored?.n), 192);
  const [chains] = await query(driver, 'MATCH (c:RefinementChain) RETURN count(c) AS n');
  assert.ok(Number(chains?.n) > 0, 'refinement chains were found');

  // No person has spot-checked the version yet: training refuses it, and the run (exit 0) says
  // what the gate waits for and where the page is; the draw is made for the page.
  assert.match(
    output,
    /^training waits for the spot-check: spot-check 0\/100 judged: open http:\/\/127\.0\.0\.1:\d+\/spot-check\?dataset=\w+$/m,
  );
  assert.equal((await listTrainingJobs(loadTargets(pipeline.env))).length, 0);
});
