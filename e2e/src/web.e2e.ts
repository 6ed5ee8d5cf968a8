// The web page in a real browser against the real services: the five services (started by the
// test harness), the bundled sample export ingested and built into a dataset, the page's gateway
// (dist/server/main.js) on a loopback port, and Debian's chromium driven by playwright-core. The
// person's path: spot-check a version from the keyboard (a, r + reason + Enter, j, k) until the
// gate passes, which the training service then sees; read the rejection in the report; open the
// longest refinement chain and its conversation's graph. A screenshot of each page goes to
// TRAJECTORY_TEST_OUTPUT/web (default .trajectory/test-output/web/, gitignored).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { buildDataset, loadTargets, submitJob, type Targets, uploadExport, waitForStored } from '@trajectory/cli';
import { webPageUrl } from '@trajectory/config';
import { ChainOrder, DatasetManifest, GraphServiceClient, type RefinementChainView, TrainingJobState } from '@trajectory/contracts';
import { freePort } from '@trajectory/local-servers';
import { unary, withClient } from '@trajectory/runtime';
import { formatDatasetReport } from '@trajectory/samples';
import { freeServicePorts, REPO_ROOT, startEmptyServers, startPipelineIn, type TestServers, until } from '@trajectory/testkit';
import type { Driver } from 'neo4j-driver';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SAMPLE = join(REPO_ROOT, 'examples', 'sample-export', 'conversations.json');
const FACTS = join(REPO_ROOT, 'examples', 'facts.yaml');
const GATEWAY = join(REPO_ROOT, 'apps', 'web', 'dist', 'server', 'main.js');
const SCREENSHOTS = resolve(
  REPO_ROOT,
  process.env.TRAJECTORY_TEST_OUTPUT ?? join(process.env.TRAJECTORY_DATA_DIR ?? '.trajectory', 'test-output'),
  'web',
);
const REASON = 'the target is a greeting, not a thought';

let servers: TestServers;
let driver: Driver;
let workDir: string;
let pipeline: Awaited<ReturnType<typeof startPipelineIn>>;
let targets: Targets;
let gateway: ChildProcess;
let pageUrl: string;
let browser: Browser;
let page: Page;
let datasetId: string;
const pageErrors: string[] = [];

before(async () => {
  ({ servers, driver } = await startEmptyServers());
  workDir = mkdtempSync(join(tmpdir(), 'trajectory-web-'));
  const ports = await freeServicePorts();
  pipeline = await startPipelineIn(servers, workDir, { ports });
  targets = loadTargets(pipeline.env);
  const upload = await uploadExport(targets, SAMPLE);
  await waitForStored(targets, upload, { timeoutMs: 120_000 });
  const dataset = await buildDataset(targets, {
    asOf: new Date('2026-01-01T00:00:00Z'),
    factsText: readFileSync(FACTS, 'utf8'),
    factsPath: FACTS,
  });
  datasetId = dataset.datasetId;

  // The gateway as `npm run up` runs it: the services' environment, on a loopback port.
  const webPort = await freePort();
  const env = { ...process.env, ...pipeline.env, TRAJECTORY_WEB_PORT: String(webPort) };
  pageUrl = webPageUrl('/', env);
  const log = createWriteStream(join(workDir, 'logs', 'web.log'));
  gateway = spawn(process.execPath, [GATEWAY], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  gateway.stdout?.pipe(log);
  gateway.stderr?.pipe(log);
  await until('the gateway to serve the page', async () => (await fetch(pageUrl).catch(() => undefined))?.ok || undefined, 30_000);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Chromium's sandbox cannot start as root (CI runs as root).
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  if (gateway && gateway.exitCode === null) {
    gateway.kill('SIGTERM');
    await once(gateway, 'exit');
  }
  await pipeline?.stop();
  await driver?.close();
  await servers?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** Waits until the locator's text matches, and returns it; the failure names the last text seen. */
async function textOf(locator: Locator, pattern: RegExp, timeoutMs = 15_000): Promise<string> {
  let last = '';
  try {
    return await until(
      `${pattern}`,
      async () => {
        last = ((await locator.textContent({ timeout: timeoutMs }).catch(() => '')) ?? '').trim();
        return pattern.test(last) ? last : undefined;
      },
      timeoutMs,
    );
  } catch {
    assert.fail(`expected text matching ${pattern}, saw "${last}"`);
  }
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A link of the page's navigation bar. */
const nav = (name: string) => page.getByRole('navigation').getByRole('link', { name, exact: true });

const screenshot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

test('spot-check from the keyboard until the gate passes, the report, a chain and its conversation', async (t) => {
  let drawn = 0;

  await t.test('the spot-check page picks the newest version and shows its first drawn record with context', async () => {
    await page.goto(`${pageUrl}spot-check`);
    await page.waitForURL(new RegExp(`/spot-check\\?dataset=${datasetId}$`));
    const position = await textOf(page.getByTestId('position'), /^Record 1 of \d+$/);
    drawn = Number(position.split(' of ')[1]);
    assert.ok(drawn >= 10, `${drawn} records drawn`);
    await textOf(page.getByTestId('gate'), /^spot-check waiting$/);
    await textOf(page.getByTestId('judged'), new RegExp(`^0 of ${drawn} judged$`));
  });

  await t.test('a accepts and moves on; r asks for a reason and Enter rejects; k and j step back and forth', async () => {
    await page.keyboard.press('a');
    await textOf(page.getByTestId('position'), new RegExp(`^Record 2 of ${drawn}$`));
    await textOf(page.getByTestId('judged'), new RegExp(`^1 of ${drawn} judged$`));
    await page.keyboard.press('r');
    const reason = page.getByLabel('reason');
    await reason.waitFor();
    // The r that opened the field is not in it: the reason is what is typed after.
    assert.equal(await reason.inputValue(), '');
    await page.keyboard.type(REASON);
    await page.keyboard.press('Enter');
    await textOf(page.getByTestId('position'), new RegExp(`^Record 3 of ${drawn}$`));
    await textOf(page.getByTestId('judged'), new RegExp(`^2 of ${drawn} judged$`));
    await page.keyboard.press('k');
    await textOf(page.getByTestId('position'), new RegExp(`^Record 2 of ${drawn}$`));
    await textOf(page.getByTestId('verdict'), new RegExp(`^rejected: ${escapeRegExp(REASON)}$`));
    await page.keyboard.press('k');
    await textOf(page.getByTestId('verdict'), /^accepted$/);
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    await textOf(page.getByTestId('position'), new RegExp(`^Record 3 of ${drawn}$`));
    // Not every record is judged yet: the gate waits, and training refuses the version.
    await textOf(page.getByTestId('gate'), /^spot-check waiting$/);
    await assert.rejects(submitJob(targets, datasetId), /spot-check/);
  });

  await t.test('every record judged with one rejection: the accept rate and the gate say where it stands', async () => {
    for (let i = 3; i <= drawn; i++) {
      await page.keyboard.press('a');
      if (i < drawn) await textOf(page.getByTestId('position'), new RegExp(`^Record ${i + 1} of ${drawn}$`));
    }
    await textOf(page.getByTestId('judged'), new RegExp(`^${drawn} of ${drawn} judged$`), 60_000);
    const rate = (drawn - 1) / drawn;
    await textOf(
      page.getByTestId('accept-rate'),
      new RegExp(`^accept rate ${(100 * rate).toFixed(1).replace('.', '\\.')}% \\(needs 90%\\)$`),
    );
    await textOf(page.getByTestId('gate'), rate >= 0.9 ? /^spot-check passed$/ : /^spot-check waiting$/);
  });

  await t.test('the report: the tables npm start prints, the charts, and the rejected record with its reason', async () => {
    await nav('Report').click();
    await page.waitForURL(new RegExp(`/report\\?dataset=${datasetId}$`));
    const text = await textOf(page.getByTestId('report-text'), /gates: passed/);
    const manifest = DatasetManifest.fromJSON(await (await fetch(`${pageUrl}api/datasets/${datasetId}`)).json());
    assert.equal(text, formatDatasetReport(manifest).trim());
    await textOf(page.locator('table.rejections'), new RegExp(escapeRegExp(REASON)));
    for (const chart of ['Relation counts', 'Samples over time', 'Weight distribution']) {
      const figure = page.locator('figure.chart', { hasText: chart });
      assert.ok((await figure.locator('rect.bar').count()) > 0, `${chart}: bars`);
    }
    await screenshot('report');
  });

  await t.test('taking the rejection back passes the gate, and training takes the version', async () => {
    await nav('Spot-check').click();
    await textOf(page.getByTestId('judged'), new RegExp(`^${drawn} of ${drawn} judged$`));
    // Every record is judged, so the page opens at the first; the rejected one is the second.
    await textOf(page.getByTestId('position'), new RegExp(`^Record 1 of ${drawn}$`));
    await page.keyboard.press('j');
    await textOf(page.getByTestId('verdict'), new RegExp(`^rejected: ${escapeRegExp(REASON)}$`));
    await page.keyboard.press('a');
    await textOf(page.getByTestId('gate'), /^spot-check passed$/);
    await textOf(page.getByTestId('accept-rate'), /^accept rate 100\.0% \(needs 90%\)$/);
    await page.keyboard.press('k');
    await textOf(page.getByTestId('verdict'), /^accepted$/);
    await screenshot('spot-check');
    const job = await submitJob(targets, datasetId);
    assert.equal(job.state, TrainingJobState.TRAINING_JOB_STATE_QUEUED);
    assert.equal(job.spotCheckOverridden, false);
  });

  let longest: RefinementChainView | undefined;

  await t.test('the chains page lists the longest first; a chain opens as a timeline from the idea to iteration_final', async () => {
    const [first] = await withClient(GraphServiceClient, targets.GRAPH_GRPC_TARGET, targets, (client) => {
      const out: RefinementChainView[] = [];
      const stream = client.listRefinementChains({ minLength: 0, maxLength: 0, tag: '', limit: 1, order: ChainOrder.CHAIN_ORDER_LONGEST });
      return new Promise<RefinementChainView[]>((res, rej) => {
        stream.on('data', (c: RefinementChainView) => out.push(c));
        stream.on('error', rej);
        stream.on('end', () => res(out));
      });
    });
    longest = first;
    assert.ok(longest?.chain, 'the sample export has a refinement chain');
    await nav('Chains').click();
    const summary = page.locator('.chain-summary').first();
    await textOf(summary, new RegExp(`^${longest.chain.nodeIds.length} steps`));
    await summary.click();
    const timeline = page.getByTestId('timeline');
    const steps = timeline.locator('li.step');
    assert.equal(await steps.count(), longest.chain.nodeIds.length);
    await textOf(steps.first(), new RegExp(`^${longest.chain.steps[0]}`, 'i'));
    await textOf(steps.last(), /iteration_final/);
    assert.match(
      (await steps.first().textContent()) ?? '',
      new RegExp(`from messages? ${escapeRegExp(longest.nodes[0]?.messageIds[0] ?? '?')}`),
    );
    await screenshot('chains');
  });

  await t.test('its conversation opens as a node graph: every node, every edge with its relation', async () => {
    const chain = longest?.chain;
    assert.ok(chain);
    await page.getByRole('link', { name: 'Open the conversation' }).click();
    await page.waitForURL(/\/conversation\?id=/);
    const graph = await withClient(GraphServiceClient, targets.GRAPH_GRPC_TARGET, targets, (client) =>
      unary(client.getConversationGraph, client, { conversationId: chain.conversationId }),
    );
    const svg = page.getByRole('img', { name: /^node graph of / });
    await svg.waitFor();
    assert.equal(await svg.locator('g.node').count(), graph.nodes.length);
    assert.equal(await svg.locator('g.edge').count(), graph.edges.length);
    assert.deepEqual((await svg.locator('.edge-label').allTextContents()).sort(), graph.edges.map((e) => e.relation).sort());
    assert.equal(await svg.locator('g.node.in-chain').count(), new Set(graph.chains.flatMap((c) => c.nodeIds)).size);
    // A node opens whole beside the graph.
    const first = graph.nodes.find((n) => n.id === chain.nodeIds[0]);
    assert.ok(first);
    await svg.locator('g.node.in-chain').first().click();
    assert.equal(await page.locator('.detail .node-full').textContent(), first.text);
    await screenshot('conversation');
  });

  await t.test('nothing failed in the page', () => {
    assert.deepEqual(pageErrors, []);
  });
});
