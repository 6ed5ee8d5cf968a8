#!/usr/bin/env node
// Starts and stops the real servers the pipeline needs, without Docker:
//   NATS  — Debian's nats-server with JetStream, on loopback
//   Neo4j — Neo4j 5.26 Community, embedded in a small JVM launcher (neo4j-launcher/): Bolt, and HTTP
//           with Neo4j Browser at /browser/, on loopback; auth on (user neo4j, a password generated
//           on first start into a 0600 file), LOAD CSV reads no host file and fetches no URL
// As a command:  servers.mjs start|stop|status [--data DIR]   (DIR defaults to ./.trajectory/servers)
//           NATS has auth on: one user per service (and the trainer, the CLI, an observer) with the
//           permissions packages/bus derives from the topology, passwords generated on first start
//           into a 0600 file
// As a module:   startNats(), startNeo4j(), startLocalServers(), stopLocalServers(), natsConfig()
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const LAUNCHER_DIR = join(here, 'neo4j-launcher');
export const LAUNCHER_JAR = join(LAUNCHER_DIR, 'target', 'neo4j-launcher.jar');

/** A free TCP port on loopback, picked by the kernel. */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

function portAnswers(port) {
  return new Promise((res) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      res(true);
    });
    socket.once('error', () => res(false));
  });
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(what, check, { timeoutMs, child, logFile }) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    if (child && child.exitCode !== null) {
      throw new Error(`${what} exited with code ${child.exitCode} before it was ready${tail(logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not answer within ${timeoutMs} ms${tail(logFile)}`);
}

function tail(logFile) {
  if (!logFile || !existsSync(logFile)) return '';
  const lines = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-15);
  return `; last lines of ${logFile}:\n${lines.join('\n')}`;
}

function findNatsServer() {
  for (const candidate of [process.env.NATS_SERVER_BIN, '/usr/sbin/nats-server', '/usr/bin/nats-server']) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  const which = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  throw new Error("nats-server not found: install Debian's nats-server (apt-get install nats-server) or set NATS_SERVER_BIN");
}

/**
 * @typedef {{ publish: { allow: string[] } | { deny: string[] }, subscribe: { allow: string[] } }} NatsPermissions
 * @typedef {{ user: string, password: string | { env: string }, permissions: NatsPermissions }} NatsUserEntry
 */

/**
 * A nats-server configuration file (syntax that Debian's 2.9 and the official 2.10 image both
 * read): JetStream, and with `users` auth on, each user with its permissions. A password is the
 * literal, or `{ env: NAME }` for a reference the server resolves from its environment
 * (`password: $NAME`, as deploy/nats/nats.conf has them).
 * @param {{ listen: string, serverName: string, storeDir: string, maxPayload?: number, monitor?: string, users?: NatsUserEntry[], header?: string }} options
 */
export function natsConfig({ listen, serverName, storeDir, maxPayload, monitor, users, header }) {
  const q = JSON.stringify;
  const lines = [
    ...(header ? header.split('\n').map((l) => `# ${l}`.trimEnd()) : []),
    `listen: ${listen}`,
    `server_name: ${serverName}`,
    `jetstream { store_dir: ${q(storeDir)} }`,
  ];
  if (maxPayload) lines.push(`max_payload: ${maxPayload}`);
  if (monitor) lines.push(`http: ${monitor}`);
  if (users?.length) {
    lines.push('authorization {', '  users = [');
    for (const { user, password, permissions } of users) {
      // Subjects are quoted: unquoted, $JS.API.> would be read as a variable reference.
      const perms = JSON.stringify(permissions, null, 2).replace(/\n/g, '\n      ');
      lines.push('    {', `      user: ${q(user)}`);
      lines.push(`      password: ${typeof password === 'string' ? q(password) : `$${password.env}`}`);
      lines.push(`      permissions: ${perms}`, '    }');
    }
    lines.push('  ]', '}');
  }
  return `${lines.join('\n')}\n`;
}

/** The configuration startNats writes for a NATS under dir (its data in dir/jetstream). */
function localNatsConfig({ dir, port, maxPayload, users }) {
  return natsConfig({
    listen: `127.0.0.1:${port}`,
    serverName: 'trajectory-local',
    storeDir: join(dir, 'jetstream'),
    ...(maxPayload ? { maxPayload } : {}),
    ...(users ? { users } : {}),
  });
}

/**
 * Starts nats-server with JetStream on loopback; with `users` (name, password, permissions) it
 * refuses every client that is not one of them and holds each to its permissions.
 * @param {{ dataDir: string, port?: number, maxPayload?: number, detached?: boolean, users?: NatsUserEntry[] }} options
 */
export async function startNats({ dataDir, port, maxPayload, detached = false, users }) {
  const bin = findNatsServer();
  port ??= await freePort();
  const dir = resolve(dataDir);
  mkdirSync(join(dir, 'jetstream'), { recursive: true });
  const configFile = join(dir, 'nats.conf');
  // It holds passwords: readable by its owner only.
  writeFileSync(configFile, localNatsConfig({ dir, port, maxPayload, users }), { mode: 0o600 });
  chmodSync(configFile, 0o600);
  const logFile = join(dir, 'nats.log');
  const out = openSync(logFile, 'a');
  const child = spawn(bin, ['-c', configFile], { stdio: ['ignore', out, out], detached });
  await waitFor('nats-server', () => portAnswers(port), { timeoutMs: 15_000, child, logFile });
  if (detached) child.unref();
  return { url: `nats://127.0.0.1:${port}`, port, pid: child.pid, child, logFile, configFile, stop: () => stopChild(child) };
}

function javaCommand() {
  const home = process.env.JAVA_HOME;
  return home ? join(home, 'bin', 'java') : 'java';
}

/** Builds the launcher with Maven when its jar is missing or older than its sources. */
export function buildNeo4jLauncher() {
  const result = spawnSync('bash', [join(LAUNCHER_DIR, 'build.sh')], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error('building tooling/local-servers/neo4j-launcher failed (see Maven output above)');
}

/** The local Neo4j's one user (Neo4j Community has no roles). */
export const NEO4J_USER = 'neo4j';
const NEO4J_MIN_PASSWORD = 8;

/**
 * The secret in `file` (its first line), or a new random one written there first, readable by
 * its owner only: the one way the local servers and services get generated credentials (the
 * Neo4j password, the gRPC token). `what` names it in errors.
 * @param {string} file
 * @param {string} what
 * @param {number} [minLength]
 */
export function ensureSecretFile(file, what, minLength = 16) {
  if (!existsSync(file)) writeSecretFile(file, `${newSecret()}\n`, { exclusive: true });
  chmodSync(file, 0o600);
  return readSecretFile(file, what, minLength);
}

/** A new random secret: 32 bytes, base64url (no character a config file or a shell would mangle). */
const newSecret = () => randomBytes(32).toString('base64url');

/**
 * Writes `content` to `file`, readable by its owner only. `exclusive`: only when the file does not
 * exist yet (another start that wrote it first wins, and its secret is the one used); otherwise the
 * file is replaced in one rename, so a reader never sees it half written.
 */
function writeSecretFile(file, content, { exclusive = false } = {}) {
  mkdirSync(dirname(file), { recursive: true });
  if (exclusive) {
    try {
      writeFileSync(file, content, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    return;
  }
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  renameSync(tmp, file);
}

/** Where the local NATS users' passwords are kept, under the servers' data directory. */
export const NATS_CREDENTIALS_FILE = 'nats-credentials.json';

/**
 * The password of every user in `users` from `file` (JSON: user -> password), each generated
 * there when missing (the file is created, or a user added, readable by its owner only).
 * @param {string} file
 * @param {string[]} users
 * @returns {Record<string, string>}
 */
export function ensureNatsCredentials(file, users) {
  if (!existsSync(file)) writeSecretFile(file, '{}\n', { exclusive: true });
  const credentials = readNatsCredentials(file);
  const missing = users.filter((user) => !credentials[user]);
  if (missing.length > 0) {
    for (const user of missing) credentials[user] = newSecret();
    writeSecretFile(file, `${JSON.stringify(credentials, null, 2)}\n`);
  }
  chmodSync(file, 0o600);
  return credentials;
}

/**
 * The NATS passwords in `file` (JSON: user -> password).
 * @param {string} file
 * @returns {Record<string, string>}
 */
export function readNatsCredentials(file) {
  const credentials = JSON.parse(readFileSync(file, 'utf8'));
  for (const [user, password] of Object.entries(credentials)) {
    if (typeof password !== 'string' || password.length < 16) {
      throw new Error(`the NATS password of ${user} in ${file} is shorter than 16 characters: remove it for a new one`);
    }
  }
  return credentials;
}

/**
 * The secret in `file` (its first line), refused when shorter than minLength.
 * @param {string} file
 * @param {string} what
 * @param {number} [minLength]
 */
export function readSecretFile(file, what, minLength = 16) {
  const secret = readFileSync(file, 'utf8').split('\n')[0].trim();
  if (secret.length < minLength) {
    throw new Error(`the ${what} in ${file} is shorter than ${minLength} characters: delete the file for a new one`);
  }
  return secret;
}

/**
 * The Neo4j password in `file`, generated there when missing (ensureSecretFile); Neo4j 5 wants
 * at least 8 characters, as the launcher checks.
 * @param {string} file
 */
export function ensureNeo4jPassword(file) {
  return ensureSecretFile(file, 'Neo4j password', NEO4J_MIN_PASSWORD);
}

/** Where the local services' gRPC bearer token is kept, under the servers' data directory. */
export const GRPC_TOKEN_FILE = 'grpc-token';

/**
 * The bearer token every gRPC call to the local services carries (GRPC_TOKEN), from
 * DATA_DIR/grpc-token, generated there on first use (mode 0600).
 * @param {{ dataDir: string }} options
 */
export function ensureGrpcToken({ dataDir }) {
  return ensureSecretFile(join(resolve(dataDir), GRPC_TOKEN_FILE), 'gRPC token');
}

/**
 * Starts Neo4j 5 Community embedded, Bolt and HTTP (Neo4j Browser at /browser/) on loopback,
 * data under dataDir, with auth: user neo4j, the password from passwordFile (default
 * DATA_DIR/neo4j-password; generated on first start). Ports not given are free ones picked by the
 * kernel.
 * @param {{ dataDir: string, passwordFile?: string, boltPort?: number, httpPort?: number, detached?: boolean }} options
 */
export async function startNeo4j({ dataDir, passwordFile, boltPort, httpPort, detached = false }) {
  if (!existsSync(LAUNCHER_JAR)) buildNeo4jLauncher();
  boltPort ??= await freePort();
  while (httpPort === undefined || httpPort === boltPort) httpPort = await freePort();
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  passwordFile = resolve(passwordFile ?? join(dir, 'neo4j-password'));
  const password = ensureNeo4jPassword(passwordFile);
  const optionsFile = join(LAUNCHER_DIR, 'jvm.options');
  const jvmOptions = existsSync(optionsFile)
    ? readFileSync(optionsFile, 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#'))
    : [];
  const logFile = join(dir, 'neo4j-launcher.log');
  // The log is appended to across runs: readiness is the ready line written after this start.
  const startOffset = existsSync(logFile) ? statSync(logFile).size : 0;
  const out = openSync(logFile, 'a');
  // The password goes by file, never on the command line (which `ps` shows to every user).
  const args = ['-jar', LAUNCHER_JAR, '--data', dir, '--password-file', passwordFile];
  args.push('--bolt-port', String(boltPort), '--http-port', String(httpPort));
  const child = spawn(javaCommand(), [...jvmOptions, ...args], { stdio: ['ignore', out, out], detached });
  const uri = `bolt://127.0.0.1:${boltPort}`;
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  // The launcher prints it once Bolt accepts connections and HTTP serves discovery and the Browser.
  const readyLine = `NEO4J_READY ${uri} ${httpUrl}\n`;
  await waitFor(
    'neo4j-launcher',
    () => existsSync(logFile) && readFileSync(logFile).subarray(startOffset).toString('utf8').includes(readyLine),
    {
      timeoutMs: 120_000,
      child,
      logFile,
    },
  );
  if (detached) child.unref();
  return {
    uri,
    httpUrl,
    // The Browser page, its connect form preset to this Bolt URL, user neo4j and "Username /
    // Password" (not a "No authentication" remembered from an earlier visit): only the password
    // is left to type.
    browserUrl: `${httpUrl}/browser/?dbms=bolt://${NEO4J_USER}@127.0.0.1:${boltPort}&preselectAuthMethod=NATIVE`,
    auth: { user: NEO4J_USER, password },
    passwordFile,
    port: boltPort,
    httpPort,
    pid: child.pid,
    child,
    logFile,
    stop: () => stopChild(child),
  };
}

function stopChild(child, timeoutMs = 30_000) {
  return new Promise((res) => {
    if (child.exitCode !== null || child.signalCode !== null) return res();
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      res();
    });
    child.kill('SIGTERM');
  });
}

async function stopPid(pid, timeoutMs = 30_000) {
  if (!pidAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (pidAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
}

const STATE_FILE = 'servers.json';

/**
 * The users of `natsUsers` (name and permissions) with their passwords from DIR/nats-credentials.json,
 * generated there for those that have none yet.
 * @param {string} dir
 * @param {{ user: string, permissions: NatsPermissions }[]} natsUsers
 */
function localNatsUsers(dir, natsUsers) {
  const credentials = ensureNatsCredentials(
    join(dir, NATS_CREDENTIALS_FILE),
    natsUsers.map((u) => u.user),
  );
  return natsUsers.map(({ user, permissions }) => ({ user, password: credentials[user], permissions }));
}

/**
 * Starts both servers in the background (they outlive this process) unless already running,
 * and records them in DIR/servers.json. Ports default to NATS 4222, Bolt 7687 and HTTP 7474
 * (Neo4j Browser; TRAJECTORY_HTTP_PORT overrides the default). NATS has auth on with
 * `natsUsers` (natsUsers() of @trajectory/bus: each user's permissions), their passwords generated
 * on first start into DIR/nats-credentials.json (mode 0600); a NATS running with other users or
 * permissions is restarted with these.
 * @param {{ dataDir: string, natsUsers: { user: string, permissions: NatsPermissions }[], natsPort?: number, boltPort?: number, httpPort?: number }} options
 */
export async function startLocalServers({
  dataDir,
  natsUsers,
  natsPort = 4222,
  boltPort = 7687,
  httpPort = Number(process.env.TRAJECTORY_HTTP_PORT ?? 7474),
}) {
  if (!natsUsers?.length) throw new Error('startLocalServers: natsUsers is required (natsUsers() of @trajectory/bus)');
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const users = localNatsUsers(dir, natsUsers);
  const running = readState(dir);
  // A state without httpUrl is a launcher from before Neo4j Browser was served, one without
  // passwordFile a launcher from before auth was on: restart it.
  if (running?.neo4j.httpUrl && running.neo4j.passwordFile && pidAlive(running.nats.pid) && pidAlive(running.neo4j.pid)) {
    const natsDir = join(dir, 'nats');
    const port = Number(new URL(running.nats.url).port);
    const configFile = join(natsDir, 'nats.conf');
    const current = existsSync(configFile) ? readFileSync(configFile, 'utf8') : '';
    if (running.nats.credentialsFile && current === localNatsConfig({ dir: natsDir, port, users })) return running;
    // Users or permissions changed (or NATS ran without auth): only NATS is restarted.
    await stopPid(running.nats.pid);
    const nats = await startNats({ dataDir: natsDir, port, detached: true, users });
    const state = { ...running, nats: natsState(nats, dir) };
    writeFileSync(join(dir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
    return state;
  }
  if (running) await stopLocalServers({ dataDir: dir });
  for (const [name, port, hint] of [
    ['NATS', natsPort, 'set NATS_URL/NEO4J_URI to use servers you already run'],
    ['Neo4j Bolt', boltPort, 'set NATS_URL/NEO4J_URI to use servers you already run'],
    ['Neo4j HTTP (Browser)', httpPort, 'set TRAJECTORY_HTTP_PORT to another port'],
  ]) {
    if (await portAnswers(port)) throw new Error(`port ${port} (${name}) is taken by another process; stop it, or ${hint}`);
  }
  const nats = await startNats({ dataDir: join(dir, 'nats'), port: natsPort, detached: true, users });
  let neo4j;
  try {
    neo4j = await startNeo4j({
      dataDir: join(dir, 'neo4j'),
      passwordFile: join(dir, 'neo4j-password'),
      boltPort,
      httpPort,
      detached: true,
    });
  } catch (err) {
    await stopPid(nats.pid);
    throw err;
  }
  const state = {
    nats: natsState(nats, dir),
    // The password stays in its own 0600 file; clients read it from there (localNeo4jAuth).
    neo4j: {
      uri: neo4j.uri,
      httpUrl: neo4j.httpUrl,
      browserUrl: neo4j.browserUrl,
      user: neo4j.auth.user,
      passwordFile: neo4j.passwordFile,
      pid: neo4j.pid,
      log: neo4j.logFile,
    },
  };
  writeFileSync(join(dir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
  return state;
}

/** What servers.json records of a NATS: the passwords stay in their 0600 file (localNatsAuth reads them). */
function natsState(nats, dir) {
  return { url: nats.url, pid: nats.pid, log: nats.logFile, credentialsFile: join(dir, NATS_CREDENTIALS_FILE) };
}

function readState(dir) {
  const file = join(dir, STATE_FILE);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
}

/**
 * The credentials of the local Neo4j that startLocalServers recorded under dataDir, or undefined
 * when none was started there.
 * @param {{ dataDir: string }} options
 */
export function localNeo4jAuth({ dataDir }) {
  const state = readState(resolve(dataDir));
  if (!state?.neo4j.passwordFile || !existsSync(state.neo4j.passwordFile)) return undefined;
  return {
    uri: state.neo4j.uri,
    user: state.neo4j.user ?? NEO4J_USER,
    password: readSecretFile(state.neo4j.passwordFile, 'Neo4j password', NEO4J_MIN_PASSWORD),
  };
}

/**
 * The login of `user` on the local NATS that startLocalServers recorded under dataDir, or
 * undefined when none was started there (or it has no such user).
 * @param {{ dataDir: string, user: string }} options
 */
export function localNatsAuth({ dataDir, user }) {
  const state = readState(resolve(dataDir));
  if (!state?.nats.credentialsFile || !existsSync(state.nats.credentialsFile)) return undefined;
  const password = readNatsCredentials(state.nats.credentialsFile)[user];
  return password ? { url: state.nats.url, user, password } : undefined;
}

/** @param {{ dataDir: string }} options */
export async function stopLocalServers({ dataDir }) {
  const dir = resolve(dataDir);
  const state = readState(dir);
  if (!state) return false;
  await Promise.all([stopPid(state.neo4j.pid), stopPid(state.nats.pid)]);
  rmSync(join(dir, STATE_FILE), { force: true });
  return true;
}

/** @param {{ dataDir: string }} options */
export function localServersStatus({ dataDir }) {
  const state = readState(resolve(dataDir));
  if (!state) return undefined;
  return {
    nats: { ...state.nats, running: pidAlive(state.nats.pid) },
    neo4j: { ...state.neo4j, running: pidAlive(state.neo4j.pid) },
  };
}

/**
 * The NATS users and their permissions, from the topology (natsUsers() of @trajectory/bus). Loaded
 * only here, for the command: as a module this file needs nothing built, and its callers pass
 * the users in.
 */
async function topologyNatsUsers() {
  try {
    const { natsUsers } = await import('@trajectory/bus');
    return natsUsers();
  } catch (err) {
    throw new Error(`the NATS users come from @trajectory/bus, which is not built (npm run build): ${err.message}`);
  }
}

async function main(argv) {
  const [command, ...rest] = argv;
  const dataIdx = rest.indexOf('--data');
  const dataDir =
    dataIdx >= 0
      ? rest[dataIdx + 1]
      : process.env.TRAJECTORY_DATA_DIR
        ? join(process.env.TRAJECTORY_DATA_DIR, 'servers')
        : '.trajectory/servers';
  switch (command) {
    case 'start': {
      const state = await startLocalServers({ dataDir, natsUsers: await topologyNatsUsers() });
      console.log(
        `NATS  ${state.nats.url} (pid ${state.nats.pid}), users' passwords in ${state.nats.credentialsFile}\nNeo4j ${state.neo4j.uri} (pid ${state.neo4j.pid}), user ${state.neo4j.user}, password in ${state.neo4j.passwordFile}\nNeo4j Browser ${state.neo4j.browserUrl}`,
      );
      return;
    }
    case 'stop':
      console.log((await stopLocalServers({ dataDir })) ? 'stopped' : 'nothing running');
      return;
    case 'status':
      console.log(JSON.stringify(localServersStatus({ dataDir }) ?? { running: false }, null, 2));
      return;
    default:
      console.error('usage: servers.mjs start|stop|status [--data DIR]');
      process.exitCode = 2;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err.message);
    process.exit(1);
  });
}
