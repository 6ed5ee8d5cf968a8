import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadTargets } from './targets.js';

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
