import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadTargets, natsLogin } from './targets.js';

test('the CLI takes the gRPC token from GRPC_TOKEN, else from the local services’ token file, else has none', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'trajectory-cli-token-'));
  try {
    const fromEnv = 'token-from-the-environment';
    const fromFile = 'token-from-the-local-file';
    assert.equal(loadTargets({ TRAJECTORY_DATA_DIR: dataDir }).GRPC_TOKEN, undefined);
    mkdirSync(join(dataDir, 'servers'));
    writeFileSync(join(dataDir, 'servers', 'grpc-token'), `${fromFile}\n`, { mode: 0o600 });
    assert.equal(loadTargets({ TRAJECTORY_DATA_DIR: dataDir }).GRPC_TOKEN, fromFile);
    assert.equal(loadTargets({ TRAJECTORY_DATA_DIR: dataDir, GRPC_TOKEN: fromEnv }).GRPC_TOKEN, fromEnv);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('the CLI logs in to NATS with NATS_USER/NATS_PASSWORD, else as `cli` on the local NATS it points at, else not at all', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'trajectory-cli-nats-'));
  try {
    const servers = join(dataDir, 'servers');
    const local = { TRAJECTORY_DATA_DIR: dataDir, NATS_URL: 'nats://localhost:4222' };
    assert.equal(natsLogin(loadTargets(local), local), undefined);
    mkdirSync(servers);
    const credentialsFile = join(servers, 'nats-credentials.json');
    writeFileSync(credentialsFile, JSON.stringify({ cli: 'the-cli-password-from-the-file', ingestion: 'not-this-one' }), { mode: 0o600 });
    writeFileSync(join(servers, 'servers.json'), JSON.stringify({ nats: { url: 'nats://127.0.0.1:4222', credentialsFile } }));
    assert.deepEqual(natsLogin(loadTargets(local), local), { user: 'cli', password: 'the-cli-password-from-the-file' });
    const elsewhere = { ...local, NATS_URL: 'nats://nats.example:4222' };
    assert.equal(natsLogin(loadTargets(elsewhere), elsewhere), undefined, 'another NATS gets no local password');
    const given = { ...elsewhere, NATS_USER: 'observer', NATS_PASSWORD: 'given' };
    assert.deepEqual(natsLogin(loadTargets(given), given), { user: 'observer', password: 'given' });
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
