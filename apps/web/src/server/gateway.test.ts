import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import {
  ChainOrder,
  type DatasetManifest,
  type ListRefinementChainsRequest,
  type RecordVerdictRequest,
  SpotCheckStatus,
  SpotCheckVerdict,
} from '@trajectory/contracts';
import * as web from '@trajectory/contracts/messages';
import { formatDatasetReport } from '@trajectory/samples';
import type { Backends } from './backends.js';
import { loadWebConfig, loopbackHosts } from './config.js';
import { gatewayHandler } from './gateway.js';

const TOKEN = 'a-gateway-token-of-32-characters';

const manifest: DatasetManifest = {
  datasetId: 'ds1',
  version: 2,
  builtAt: new Date('2026-01-02T03:04:05Z'),
  referenceDate: new Date('2026-01-01T00:00:00Z'),
  path: '/data/ds1/records.jsonl',
  recordCount: 12,
  gatesPassed: true,
  gates: [{ name: 'schema', passed: true, reason: '' }],
  report: undefined,
  objects: [],
  relationWeights: { refines: 2 },
  decayDays: 730,
  contextSize: 3,
  targetRoles: ['assistant'],
  evalShare: 0.1,
  exports: [],
  evalMaxRecords: 300,
  maxTokens: 2048,
  lengthMeasure: 'characters / 3',
  weightNormalisation: 'mean',
  weightScale: 1.2,
  spotCheck: undefined,
};

const calls: { verdicts: RecordVerdictRequest[]; chains: ListRefinementChainsRequest[] } = { verdicts: [], chains: [] };

const notFound = () =>
  Object.assign(new Error('5 NOT_FOUND: no dataset version nope'), { code: status.NOT_FOUND, details: 'no dataset version nope' });

const backends: Backends = {
  listDatasets: async () => ({
    datasets: [
      {
        datasetId: 'ds1',
        version: 2,
        builtAt: manifest.builtAt,
        recordCount: 12,
        gatesPassed: true,
        path: manifest.path,
        spotCheck: SpotCheckStatus.fromPartial({ datasetId: 'ds1', drawn: 12, threshold: 0.9, seed: 1 }),
      },
    ],
  }),
  getDataset: async (id) => {
    if (id !== 'ds1') throw notFound();
    return manifest;
  },
  drawSpotCheck: async (request) => ({
    datasetId: request.datasetId,
    version: 2,
    seed: request.seed ?? 1,
    size: request.size || 100,
    records: [],
    drawnAt: undefined,
    status: undefined,
  }),
  recordVerdict: async (request) => {
    calls.verdicts.push(request);
    return SpotCheckStatus.fromPartial({ datasetId: request.datasetId, drawn: 12, judged: 1, accepted: 1, acceptRate: 1, threshold: 0.9 });
  },
  getSpotCheck: async (id) => SpotCheckStatus.fromPartial({ datasetId: id }),
  listRefinementChains: async (request) => {
    calls.chains.push(request);
    return [
      {
        chain: { id: 'ch1', conversationId: 'c1', nodeIds: ['n1', 'n2'], tags: ['bread'], steps: ['idea', 'convergence'] },
        nodes: [],
        conversationTitle: 'Bread',
      },
    ];
  },
  getConversationGraph: async (id) => ({ conversationId: id, title: 'Bread', nodes: [], edges: [], chains: [] }),
};

let pageDir: string;
const servers: Server[] = [];

before(() => {
  pageDir = mkdtempSync(join(tmpdir(), 'web-page-'));
  writeFileSync(join(pageDir, 'index.html'), '<!doctype html><title>page</title>');
  mkdirSync(join(pageDir, 'assets'));
  writeFileSync(join(pageDir, 'assets', 'index-abc.js'), 'console.log(1)');
  writeFileSync(join(tmpdir(), 'web-page-secret.txt'), 'secret');
});

after(() => {
  for (const s of servers) s.close();
  rmSync(pageDir, { recursive: true, force: true });
  rmSync(join(tmpdir(), 'web-page-secret.txt'), { force: true });
});

/** A gateway on an ephemeral loopback port; `request` sends with its Host header unless told otherwise. */
async function gateway(options: { token?: string; hostCheck?: boolean } = {}) {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  const port = (server.address() as AddressInfo).port;
  server.on(
    'request',
    gatewayHandler({
      backends,
      pageDir,
      token: options.token,
      allowedHosts: options.hostCheck === false ? undefined : loopbackHosts('127.0.0.1', port),
    }),
  );
  const base = `http://127.0.0.1:${port}`;
  return (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, init);
}

test('the page: index.html for its own routes, hashed assets cached for good, nothing outside its folder', async () => {
  const get = await gateway();
  for (const path of ['/', '/spot-check?dataset=ds1', '/chains']) {
    const res = await get(path);
    assert.equal(res.status, 200, path);
    assert.equal(await res.text(), '<!doctype html><title>page</title>');
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  }
  const asset = await get('/assets/index-abc.js');
  assert.equal(asset.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
  assert.equal((await get('/assets/missing.js')).status, 404);
  assert.equal((await get('/%2e%2e/web-page-secret.txt')).status, 404);
  assert.equal((await get('/assets/%E0%A4%A.js')).status, 400);
  assert.equal((await get('/', { method: 'POST' })).status, 405);
});

test('answers are the services’ messages in proto3 JSON, which the page’s codecs read back whole', async () => {
  const get = await gateway();
  const res = await get('/api/datasets/ds1');
  assert.equal(res.status, 200);
  const json = (await res.json()) as { builtAt: string };
  assert.equal(json.builtAt, '2026-01-02T03:04:05.000Z');
  assert.deepEqual(web.DatasetManifest.fromJSON(json), manifest);
  const list = web.ListDatasetsResponse.fromJSON(await (await get('/api/datasets')).json());
  assert.equal(list.datasets[0]?.spotCheck?.threshold, 0.9);
  // The report's tables exactly as the CLI prints them.
  assert.equal(await (await get('/api/datasets/ds1/report')).text(), formatDatasetReport(manifest));
  const chains = (await (await get('/api/chains?order=longest&tag=bread&limit=5')).json()) as unknown[];
  assert.equal(web.RefinementChainView.fromJSON(chains[0]).chain?.steps[1], 'convergence');
  assert.deepEqual(calls.chains.at(-1), { minLength: 0, maxLength: 0, tag: 'bread', limit: 5, order: ChainOrder.CHAIN_ORDER_LONGEST });
  await get('/api/chains');
  assert.equal(calls.chains.at(-1)?.order, ChainOrder.CHAIN_ORDER_UNSPECIFIED);
  assert.equal((await get('/api/chains?order=sideways')).status, 400);
  assert.equal(web.ConversationGraph.fromJSON(await (await get('/api/conversations/c%2F1')).json()).conversationId, 'c/1');
});

test('a verdict is posted as JSON for the dataset of its path', async () => {
  const post = await gateway();
  const body = web.RecordVerdictRequest.toJSON({
    datasetId: 'other',
    recordId: 'r7',
    verdict: web.SpotCheckVerdict.SPOT_CHECK_VERDICT_REJECTED,
    reason: 'a greeting',
  });
  const res = await post('/api/datasets/ds1/spot-check/verdicts', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200);
  assert.equal(web.SpotCheckStatus.fromJSON(await res.json()).accepted, 1);
  assert.deepEqual(calls.verdicts.at(-1), {
    datasetId: 'ds1',
    recordId: 'r7',
    verdict: SpotCheckVerdict.SPOT_CHECK_VERDICT_REJECTED,
    reason: 'a greeting',
  });
  // Another site's form can post text/plain without asking; a JSON body needs a preflight this gateway never grants.
  const form = await post('/api/datasets/ds1/spot-check/verdicts', {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: JSON.stringify(body),
  });
  assert.equal(form.status, 415);
  assert.equal(calls.verdicts.length, 1);
  assert.equal((await post('/api/datasets/ds1/spot-check/verdicts')).status, 405);
  const draw = await post('/api/datasets/ds1/spot-check/draw', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"seed": "7"}',
  });
  assert.deepEqual(
    { ...web.SpotCheckDraw.fromJSON(await draw.json()) },
    { datasetId: 'ds1', version: 2, seed: 7, size: 100, records: [], drawnAt: undefined, status: undefined },
  );
});

test('a service’s gRPC status becomes the HTTP status, with its message', async () => {
  const get = await gateway();
  const res = await get('/api/datasets/nope');
  assert.equal(res.status, 404);
  assert.deepEqual(await res.json(), { error: 'no dataset version nope' });
  assert.equal((await get('/api/nothing-here')).status, 404);
});

test('on loopback only this machine’s names for it are served (DNS rebinding)', async () => {
  const get = await gateway();
  const port = Number(new URL((await get('/')).url).port);
  // fetch sets Host itself; a rebound name is what a browser would send.
  const statusWithHost = (path: string, host: string) =>
    new Promise<number | undefined>((resolve, reject) =>
      request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      })
        .on('error', reject)
        .end(),
    );
  assert.equal(await statusWithHost('/api/datasets', 'attacker.example'), 421);
  assert.equal(await statusWithHost('/', `attacker.example:${port}`), 421);
  assert.equal(await statusWithHost('/api/datasets', `localhost:${port}`), 200);
  assert.equal((await get('/api/datasets')).status, 200);
});

test('with a token every API call needs it; the page itself loads, so it can ask for the token', async () => {
  const get = await gateway({ token: TOKEN, hostCheck: false });
  assert.equal((await get('/api/datasets')).status, 401);
  assert.equal((await get('/api/datasets', { headers: { authorization: 'Bearer wrong-token-of-some-length' } })).status, 401);
  assert.equal((await get('/api/datasets', { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
  assert.equal((await get('/spot-check')).status, 200);
});

test('off loopback the gateway refuses to start without its own token', () => {
  const env = { GRPC_TOKEN: 'a-services-token-of-some-length' };
  assert.equal(loadWebConfig(env).TRAJECTORY_WEB_HOST, '127.0.0.1');
  assert.equal(loadWebConfig(env).TRAJECTORY_WEB_PORT, 5173);
  assert.throws(() => loadWebConfig({ ...env, TRAJECTORY_WEB_HOST: '0.0.0.0' }), /TRAJECTORY_WEB_TOKEN/);
  assert.equal(loadWebConfig({ ...env, TRAJECTORY_WEB_HOST: '0.0.0.0', TRAJECTORY_WEB_TOKEN: TOKEN }).TRAJECTORY_WEB_TOKEN, TOKEN);
  assert.throws(() => loadWebConfig({}), /GRPC_TOKEN/);
});
