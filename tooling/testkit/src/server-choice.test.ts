import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { chooseTestServers, probeContainerServers } from './server-choice.js';

const engineWithoutImages = async () => ({
  ok: false as const,
  reason: 'it cannot provide nats:2.10-alpine (no such host)',
  engineAnswers: true,
});
const noEngine = async () => ({ ok: false as const, reason: 'no container runtime socket', engineAnswers: false });
const imagesAvailable = async () => ({ ok: true as const });
const notProbed = async (): Promise<never> => {
  throw new Error('probed although the choice was already made');
};

test('an engine that answers but cannot provide the images: local servers, with one line saying why', async () => {
  const choice = await chooseTestServers({ environmentServers: false, setting: undefined, probeContainers: engineWithoutImages });
  assert.equal(choice.kind, 'local');
  assert.match(choice.note ?? '', /a container runtime answers but it cannot provide nats:2\.10-alpine/);
  assert.match(choice.note ?? '', /TRAJECTORY_TEST_SERVERS=containers/);
});

test('an engine that can provide the images: containers', async () => {
  assert.deepEqual(await chooseTestServers({ environmentServers: false, setting: undefined, probeContainers: imagesAvailable }), {
    kind: 'containers',
  });
});

test('no engine: local servers, nothing to say', async () => {
  assert.deepEqual(await chooseTestServers({ environmentServers: false, setting: undefined, probeContainers: noEngine }), {
    kind: 'local',
  });
});

test('an explicit setting wins over the probe, and servers of the environment over both', async () => {
  assert.equal(
    (await chooseTestServers({ environmentServers: false, setting: 'containers', probeContainers: notProbed })).kind,
    'containers',
  );
  assert.equal((await chooseTestServers({ environmentServers: false, setting: 'local', probeContainers: notProbed })).kind, 'local');
  assert.equal(
    (await chooseTestServers({ environmentServers: true, setting: 'containers', probeContainers: notProbed })).kind,
    'environment',
  );
  await assert.rejects(
    chooseTestServers({ environmentServers: false, setting: 'docker', probeContainers: notProbed }),
    /must be local or containers/,
  );
});

const engineAnswers = spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 20_000 }).status === 0;

test('the probe against this machine’s engine: an image it lacks and cannot pull is reported, not started', {
  skip: !engineAnswers && 'no Docker engine answers here',
}, async () => {
  const probe = await probeContainerServers(['trajectory-test/never-built:0']);
  assert.equal(probe.ok, false);
  assert.ok(!probe.ok && probe.engineAnswers, 'the engine answered');
  assert.match(!probe.ok ? probe.reason : '', /cannot provide trajectory-test\/never-built:0/);
});
