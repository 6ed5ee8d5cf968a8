// The compose NATS has the users and permissions of packages/bus: deploy/nats/nats.conf is what
// its generator writes, the compose file gives it every password and each service its own user,
// and deploy/.env.example asks for every password. No Docker engine needed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { NATS_USER_NAMES, natsPasswordVariable } from '@trajectory/bus';
import { REPO_ROOT } from '@trajectory/testkit';
import { parse } from 'yaml';

const NATS_CONF = join(REPO_ROOT, 'deploy', 'nats', 'nats.conf');
const compose = parse(readFileSync(join(REPO_ROOT, 'deploy', 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, { command?: string[]; environment?: Record<string, string>; volumes?: string[] }>;
};
const SERVICE_USERS = ['ingestion', 'segmentation', 'graph', 'samples', 'training', 'trainer'];

/** ${NAME:?message}: required, no default. */
const required = (name: string) => new RegExp(`^\\$\\{${name}:\\?[^}]+\\}$`);

test('deploy/nats/nats.conf is what node deploy/nats/nats-conf.mjs writes from packages/bus', async () => {
  const { composeNatsConfig } = (await import(pathToFileURL(join(REPO_ROOT, 'deploy', 'nats', 'nats-conf.mjs')).href)) as {
    composeNatsConfig(): string;
  };
  assert.equal(readFileSync(NATS_CONF, 'utf8'), composeNatsConfig(), 'run node deploy/nats/nats-conf.mjs');
  for (const user of NATS_USER_NAMES) {
    assert.match(readFileSync(NATS_CONF, 'utf8'), new RegExp(`user: "${user}"\\n\\s+password: \\$${natsPasswordVariable(user)}\\n`));
  }
});

test('nats-server reads deploy/nats/nats.conf with the passwords from its environment', (t) => {
  const which = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' });
  if (which.status !== 0) {
    t.skip('nats-server is not installed');
    return;
  }
  // As compose hands them over: in double quotes, so that any password reads as a string.
  const env = Object.fromEntries(NATS_USER_NAMES.map((u) => [natsPasswordVariable(u), '"-1e5-not-a-number"']));
  const check = spawnSync(which.stdout.trim(), ['-c', NATS_CONF, '-t'], { encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(check.status, 0, `${check.stdout}${check.stderr}`);
  const missing = spawnSync(which.stdout.trim(), ['-c', NATS_CONF, '-t'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  assert.notEqual(missing.status, 0, 'a password missing from the environment stops nats-server');
});

test('compose runs NATS with that file and every password, required, quoted for nats-server', () => {
  const nats = compose.services.nats;
  assert.deepEqual(nats?.command, ['-c', '/etc/nats/nats.conf']);
  assert.ok(nats?.volumes?.includes('./nats/nats.conf:/etc/nats/nats.conf:ro'), `${nats?.volumes}`);
  for (const user of NATS_USER_NAMES) {
    const name = natsPasswordVariable(user);
    const value = nats?.environment?.[name] ?? '';
    assert.ok(value.startsWith('"') && value.endsWith('"'), `nats: ${name} in double quotes (${value})`);
    assert.match(value.slice(1, -1), required(name), `nats: ${name}`);
  }
});

test('each service and the trainer log in to NATS as their own user, with a password that has no default', () => {
  for (const user of SERVICE_USERS) {
    const env = compose.services[user]?.environment ?? {};
    assert.equal(env.NATS_USER, user, `${user}: NATS_USER`);
    assert.match(env.NATS_PASSWORD ?? '', required(natsPasswordVariable(user)), `${user}: NATS_PASSWORD`);
  }
});

test('deploy/.env.example asks for every NATS password, and gives none', () => {
  const example = readFileSync(join(REPO_ROOT, 'deploy', '.env.example'), 'utf8');
  for (const user of NATS_USER_NAMES) assert.match(example, new RegExp(`^${natsPasswordVariable(user)}=$`, 'm'));
  assert.match(example, /openssl rand -base64 32/);
});
