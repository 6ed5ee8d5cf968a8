import { join } from 'node:path';
import type { ConnectionOptions } from '@nats-io/nats-core';
import { type BusOptions, type NatsPermissions, type NatsUserName, natsUsers } from '@trajectory/bus';
import {
  ensureNatsCredentials,
  NATS_CREDENTIALS_FILE,
  type NatsUserEntry,
  type RunningServer,
  readNatsCredentials,
  startNats,
} from '@trajectory/local-servers';

/**
 * The harness's own NATS user, allowed everything: for tests that set up, reset or inspect the
 * streams. Only the harness's servers have it; a deployment never does (natsUsers()).
 */
export const TEST_ADMIN = 'admin';
export type TestNatsUser = NatsUserName | typeof TEST_ADMIN;

const ADMIN_PERMISSIONS: NatsPermissions = { publish: { allow: ['>'] }, subscribe: { allow: ['>'] } };

/** The users of a test NATS: the deployment's, each with its permissions, and the admin. */
export function testNatsUsers(): { user: string; permissions: NatsPermissions }[] {
  return [...natsUsers(), { user: TEST_ADMIN, permissions: ADMIN_PERMISSIONS }];
}

/**
 * The users of a test NATS with their passwords from `file` (JSON: user -> password), generated
 * there when missing: a NATS restarted on the same folder keeps its passwords.
 */
export function testNatsUserEntries(file: string): NatsUserEntry[] {
  const users = testNatsUsers();
  const credentials = ensureNatsCredentials(
    file,
    users.map((u) => u.user),
  );
  return users.map(({ user, permissions }) => ({ user, password: credentials[user] as string, permissions }));
}

/**
 * A NATS the tests reach: its URL and, where auth is on, the file with every user's password
 * (NATS_CREDENTIALS_FILE, as `npm test` exports it). Without one, clients connect anonymously.
 */
export class TestNats {
  constructor(
    readonly url: string,
    readonly credentialsFile?: string,
  ) {}

  /** The login of `user`, or undefined on a NATS without auth. */
  login(user: TestNatsUser): { user: string; password: string } | undefined {
    if (!this.credentialsFile) return undefined;
    const password = readNatsCredentials(this.credentialsFile)[user];
    if (!password) throw new Error(`no NATS password for ${user} in ${this.credentialsFile}`);
    return { user, password };
  }

  /** connectBus options of a client that connects as `user`. */
  busOptions(user: TestNatsUser, name: string): BusOptions {
    const login = this.login(user);
    return { url: this.url, name, ...(login ? { user: login.user, password: login.password } : {}) };
  }

  /** nats.js connect() options of a client that connects as `user`. */
  connectOptions(user: TestNatsUser): ConnectionOptions {
    const login = this.login(user);
    return { servers: this.url.split(','), ...(login ? { user: login.user, pass: login.password } : {}) };
  }

  /**
   * NATS_URL and NATS_CREDENTIALS_FILE: every service started with it (serviceLaunch) connects as
   * its own user.
   */
  serviceEnv(): Record<string, string> {
    return { NATS_URL: this.url, ...(this.credentialsFile ? { NATS_CREDENTIALS_FILE: this.credentialsFile } : {}) };
  }

  /** NATS_URL, NATS_USER and NATS_PASSWORD of a process that connects as `user` (the trainer, the CLI). */
  userEnv(user: TestNatsUser): Record<string, string> {
    const login = this.login(user);
    return { NATS_URL: this.url, ...(login ? { NATS_USER: login.user, NATS_PASSWORD: login.password } : {}) };
  }
}

/**
 * nats-server (tooling/local-servers) with auth on: every deployment user with its permissions and the
 * harness's admin, their passwords in DATA_DIR/nats-credentials.json (kept across restarts on the
 * same folder).
 */
export async function startTestNats(options: {
  dataDir: string;
  port?: number;
  maxPayload?: number;
}): Promise<RunningServer & { url: string; nats: TestNats }> {
  const credentialsFile = join(options.dataDir, NATS_CREDENTIALS_FILE);
  const server = await startNats({ ...options, users: testNatsUserEntries(credentialsFile) });
  return { ...server, nats: new TestNats(server.url, credentialsFile) };
}

/**
 * The environment of service `name` started with `env`: where env (or this process) names a
 * NATS_CREDENTIALS_FILE, the service's own NATS_USER and NATS_PASSWORD from it (the file itself
 * is not passed on).
 */
export function serviceNatsEnv(name: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const file = env.NATS_CREDENTIALS_FILE;
  if (!file) return env;
  const { NATS_CREDENTIALS_FILE: _file, ...rest } = env;
  const password = readNatsCredentials(file)[name];
  if (!password) throw new Error(`no NATS password for ${name} in ${file}`);
  return { ...rest, NATS_USER: name, NATS_PASSWORD: password };
}
