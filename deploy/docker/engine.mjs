// A Docker engine and Compose v2 for the compose test (e2e/src/compose.e2e.ts) and `npm test`.
//
// What a run needs is an engine that answers and a `docker compose` v2. Where neither is there,
// `npm test` run as root on Debian (CI) sets them up: Debian's docker.io (dockerd started in the
// background; it keeps running for later runs), debootstrap for the local base images, and Compose
// v2 built from the Go module proxy (Debian's docker-compose is v1, which cannot read the compose
// file) into .trajectory/tools/. Anywhere else the compose test is skipped with the reason.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const COMPOSE_VERSION = 'v2.40.3';
/** Compose v2 built here when `docker compose` is not installed (ensureCompose). */
export const LOCAL_COMPOSE_BIN = join(ROOT, '.trajectory', 'tools', `docker-compose-${COMPOSE_VERSION}`);

const quiet = (cmd, args, timeout = 20_000) => spawnSync(cmd, args, { encoding: 'utf8', timeout });
const onPath = (cmd) => quiet('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** Whether a Docker engine answers; the reason when not. */
export function engineStatus() {
  if (!onPath('docker')) return { ok: false, reason: 'no docker client on PATH' };
  const info = quiet('docker', ['info', '--format', '{{.ServerVersion}}']);
  if (info.status === 0) return { ok: true, version: info.stdout.trim() };
  return { ok: false, reason: `no Docker engine answers (docker info: ${(info.stderr || info.stdout).trim().split('\n')[0]})` };
}

/** The command that runs Compose v2 (`docker compose`, or the one built here), or undefined. */
export function composeCommand() {
  if (onPath('docker') && /v2\.|version 2\.|v[3-9]\./.test(quiet('docker', ['compose', 'version']).stdout ?? ''))
    return ['docker', 'compose'];
  if (existsSync(LOCAL_COMPOSE_BIN)) return [LOCAL_COMPOSE_BIN];
  return undefined;
}

function apt(packages, log) {
  log(`apt-get install ${packages.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env }).status !== 0) return false;
  return spawnSync('apt-get', ['install', '-y', '-qq', ...packages], { stdio: 'ignore', env }).status === 0;
}

async function startDockerd(log) {
  const logFile = join(ROOT, '.trajectory', 'logs', 'dockerd.log');
  mkdirSync(dirname(logFile), { recursive: true });
  log(`starting dockerd (log: ${logFile})`);
  const out = openSync(logFile, 'a');
  spawn('dockerd', [], { stdio: ['ignore', out, out], detached: true }).unref();
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (engineStatus().ok) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

/** Compose v2 from the Go module proxy, built as its own module (its go.mod has replace lines). */
function buildCompose(log) {
  if (!onPath('go')) return 'no Go toolchain to build Compose v2 with';
  log(`building Docker Compose ${COMPOSE_VERSION} from the Go module proxy (a few minutes, once)`);
  const download = quiet('go', ['mod', 'download', '-json', `github.com/docker/compose/v2@${COMPOSE_VERSION}`], 600_000);
  if (download.status !== 0) return `go mod download failed: ${download.stderr.trim().split('\n').at(-1)}`;
  const work = mkdtempSync(join(tmpdir(), 'trajectory-compose-'));
  try {
    cpSync(JSON.parse(download.stdout).Dir, work, { recursive: true });
    spawnSync('chmod', ['-R', 'u+w', work]);
    mkdirSync(dirname(LOCAL_COMPOSE_BIN), { recursive: true });
    const ldflags = `-s -w -X github.com/docker/compose/v2/internal.Version=${COMPOSE_VERSION}`;
    const build = spawnSync('go', ['build', '-trimpath', '-ldflags', ldflags, '-o', LOCAL_COMPOSE_BIN, './cmd'], {
      cwd: work,
      encoding: 'utf8',
      env: { ...process.env, CGO_ENABLED: '0' },
    });
    if (build.status !== 0) return `go build of Compose failed: ${build.stderr.trim().split('\n').slice(-3).join(' ')}`;
    return undefined;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Makes a Docker engine and Compose v2 available where this process may install them (root on
 * Debian); returns undefined when ready, else why not. Never throws: the compose test then
 * skips with this reason.
 */
export async function ensureDockerEngine({ log = (line) => console.log(line) } = {}) {
  const root = process.getuid?.() === 0;
  const canApt = root && onPath('apt-get');
  if (!onPath('dockerd') && !engineStatus().ok) {
    if (!canApt) return 'no Docker engine, and not root on Debian to install one';
    if (!apt(['docker.io'], log)) return 'apt-get install docker.io failed';
  }
  if (!onPath('debootstrap') && canApt) apt(['debootstrap'], log);
  if (!engineStatus().ok) {
    if (!root) return engineStatus().reason;
    if (!(await startDockerd(log))) return `dockerd did not answer within 60 s (see .trajectory/logs/dockerd.log)`;
  }
  if (!composeCommand()) {
    const why = buildCompose(log);
    if (why) return why;
  }
  return undefined;
}
