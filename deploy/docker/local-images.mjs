#!/usr/bin/env node
// Local stand-ins for the official base images (node, nats, neo4j, the OpenTelemetry Collector),
// for a machine whose Docker engine cannot pull them (no registry reachable, as on the project's
// CI machines). They are made from what this machine already has: a Debian root file system from
// debootstrap, this host's Node.js, Debian's nats-server, the Neo4j 5 Community launcher of
// tooling/local-servers, and a minimal collector compiled from the Go module proxy (deploy/otel-collector). Real
// deployments keep the official images (the compose file's defaults); the compose test passes
// these in with build args and deploy/docker/compose.local-images.yml.
//
// Built with the classic builder (DOCKER_BUILDKIT=0): these recipes need nothing of BuildKit,
// and an engine without the buildx plugin still builds them.
//
// The node base trusts this host's CA bundle (NODE_EXTRA_CA_CERTS, PIP_CERT) so that `npm ci`
// and pip inside a build reach the registries through the machine's TLS proxy. It is a test-only
// image: nothing a user runs is built on it.
//
//   node deploy/docker/local-images.mjs      builds what is missing, prints the image names
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildNeo4jLauncher, LAUNCHER_DIR, LAUNCHER_JAR } from '../../tooling/local-servers/servers.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The collector's Go module: main.go wires the OTLP receiver, batch processor and file exporter. */
const COLLECTOR_DIR = join(ROOT, 'deploy', 'otel-collector');
const COLLECTOR_SOURCES = ['go.mod', 'go.sum', 'main.go'];
/** Its sources' digest: the binary and image are rebuilt when they change. */
const collectorDigest = () => {
  const hash = createHash('sha256');
  for (const file of COLLECTOR_SOURCES) hash.update(file).update(readFileSync(join(COLLECTOR_DIR, file)));
  return hash.digest('hex').slice(0, 12);
};

/** Image names; the tag says what they hold, so a changed recipe gets a new image. */
export const LOCAL_IMAGES = {
  debian: 'trajectory-local/debian:bookworm',
  node: `trajectory-local/node:${process.versions.node}-bookworm`,
  nats: 'trajectory-local/nats:bookworm',
  neo4j: 'trajectory-local/neo4j:5.26-community',
  otelCollector: `trajectory-local/otel-collector:${collectorDigest()}`,
};

const DEBIAN_MIRROR = 'http://deb.debian.org/debian';
const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.error) throw new Error(`${cmd} ${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) {
    const out = `${result.stdout ?? ''}${result.stderr ?? ''}`.trimEnd().split('\n').slice(-20).join('\n');
    throw new Error(`${cmd} ${args.slice(0, 3).join(' ')} ... exited with ${result.status}:\n${out}`);
  }
  return result.stdout ?? '';
}

export function imageExists(name) {
  return spawnSync('docker', ['image', 'inspect', name], { stdio: 'ignore' }).status === 0;
}

/** `docker build` of an inline Dockerfile in a context folder that `fill` prepares. */
function buildImage(name, dockerfile, fill, log) {
  const context = mkdtempSync(join(tmpdir(), 'trajectory-image-'));
  try {
    fill?.(context);
    writeFileSync(join(context, 'Dockerfile'), dockerfile);
    log(`building ${name}`);
    const started = Date.now();
    run('docker', ['build', '-q', '-t', name, context], { env: { ...process.env, DOCKER_BUILDKIT: '0' } });
    log(`built ${name} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

function buildDebian(log) {
  if (imageExists(LOCAL_IMAGES.debian)) return;
  if (process.getuid?.() !== 0) throw new Error('debootstrap needs root to make the Debian base image');
  if (spawnSync('sh', ['-c', 'command -v debootstrap'], { stdio: 'ignore' }).status !== 0) {
    throw new Error('debootstrap not found (apt-get install debootstrap)');
  }
  const root = mkdtempSync(join(tmpdir(), 'trajectory-rootfs-'));
  try {
    log(`debootstrap bookworm (${DEBIAN_MIRROR})`);
    run('debootstrap', ['--variant=minbase', 'bookworm', root, DEBIAN_MIRROR]);
    run('sh', ['-c', `tar -C '${root}' -c . | docker import - ${LOCAL_IMAGES.debian}`]);
    log(`imported ${LOCAL_IMAGES.debian}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Like node:20-bookworm-slim: node and npm on PATH, a `node` user with uid 1000. */
function buildNode(log) {
  if (imageExists(LOCAL_IMAGES.node)) return;
  const nodeBin = process.execPath;
  const npmDir = resolve(dirname(nodeBin), '..', 'lib', 'node_modules', 'npm');
  if (!existsSync(join(npmDir, 'bin', 'npm-cli.js'))) throw new Error(`npm not found beside ${nodeBin} (looked in ${npmDir})`);
  buildImage(
    LOCAL_IMAGES.node,
    `FROM ${LOCAL_IMAGES.debian}
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY host-ca.crt /etc/trajectory-test/host-ca.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
ENV NODE_EXTRA_CA_CERTS=/etc/trajectory-test/host-ca.crt PIP_CERT=/etc/trajectory-test/host-ca.crt
CMD ["node"]
`,
    (ctx) => {
      copyFileSync(nodeBin, join(ctx, 'node'));
      cpSync(npmDir, join(ctx, 'npm'), { recursive: true });
      copyFileSync(HOST_CA_BUNDLE, join(ctx, 'host-ca.crt'));
    },
    log,
  );
}

/** Debian's nats-server; wget for the compose health check, as the official alpine image has. */
function buildNats(log) {
  if (imageExists(LOCAL_IMAGES.nats)) return;
  buildImage(
    LOCAL_IMAGES.nats,
    `FROM ${LOCAL_IMAGES.debian}
RUN apt-get update && apt-get install -y --no-install-recommends nats-server wget && rm -rf /var/lib/apt/lists/*
EXPOSE 4222 8222
ENTRYPOINT ["nats-server"]
`,
    undefined,
    log,
  );
}

/**
 * Neo4j 5.26 Community in the launcher of tooling/local-servers, listening on all interfaces of the
 * container. Like the official image it takes NEO4J_AUTH=neo4j/PASSWORD and keeps its store in
 * /data.
 */
function buildNeo4j(log) {
  if (imageExists(LOCAL_IMAGES.neo4j)) return;
  if (!existsSync(LAUNCHER_JAR)) buildNeo4jLauncher();
  buildImage(
    LOCAL_IMAGES.neo4j,
    `FROM ${LOCAL_IMAGES.debian}
RUN apt-get update && apt-get install -y --no-install-recommends openjdk-17-jre-headless && rm -rf /var/lib/apt/lists/*
COPY launcher /opt/neo4j-launcher
COPY entrypoint.sh /usr/local/bin/neo4j-entrypoint
RUN chmod 755 /usr/local/bin/neo4j-entrypoint && mkdir -p /data
EXPOSE 7474 7687
ENTRYPOINT ["/usr/local/bin/neo4j-entrypoint"]
`,
    (ctx) => {
      mkdirSync(join(ctx, 'launcher'));
      copyFileSync(LAUNCHER_JAR, join(ctx, 'launcher', 'neo4j-launcher.jar'));
      cpSync(join(LAUNCHER_DIR, 'target', 'lib'), join(ctx, 'launcher', 'lib'), { recursive: true });
      copyFileSync(join(LAUNCHER_DIR, 'jvm.options'), join(ctx, 'launcher', 'jvm.options'));
      writeFileSync(
        join(ctx, 'entrypoint.sh'),
        `#!/bin/sh
set -eu
case "\${NEO4J_AUTH:-}" in
  neo4j/?*) ;;
  *) echo "set NEO4J_AUTH=neo4j/PASSWORD" >&2; exit 2 ;;
esac
umask 077
printf '%s\\n' "\${NEO4J_AUTH#neo4j/}" > /tmp/neo4j-password
exec java $(grep -v '^#' /opt/neo4j-launcher/jvm.options | tr '\\n' ' ') -jar /opt/neo4j-launcher/neo4j-launcher.jar \\
  --data /data --password-file /tmp/neo4j-password --listen-host 0.0.0.0 --bolt-port 7687 --http-port 7474 \\
  --pagecache "\${NEO4J_server_memory_pagecache_size:-256m}"
`,
      );
    },
    log,
  );
}

/**
 * The collector compiled on this host (static, no cgo) and packed like the official contrib image:
 * the binary as the entrypoint, reading the config.yaml that compose mounts. The binary and Go's
 * build cache stay under .trajectory/, so a new image (a new engine, say) takes seconds, not a
 * compile of the whole collector.
 */
function buildOtelCollector(log) {
  if (imageExists(LOCAL_IMAGES.otelCollector)) return;
  const digest = LOCAL_IMAGES.otelCollector.split(':').at(-1);
  const binary = join(ROOT, '.trajectory', 'tools', `otelcol-trajectory-${digest}`);
  if (!existsSync(binary)) {
    if (spawnSync('sh', ['-c', 'command -v go'], { stdio: 'ignore' }).status !== 0) {
      throw new Error('no Go toolchain to build the OpenTelemetry Collector with (deploy/otel-collector)');
    }
    log('compiling the OpenTelemetry Collector (deploy/otel-collector: otlp receiver, batch, file exporter)');
    const started = Date.now();
    mkdirSync(dirname(binary), { recursive: true });
    run('go', ['build', '-trimpath', '-ldflags', '-s -w', '-o', `${binary}.tmp`, '.'], {
      cwd: COLLECTOR_DIR,
      env: { ...process.env, CGO_ENABLED: '0', GOCACHE: join(ROOT, '.trajectory', 'cache', 'go-build') },
    });
    renameSync(`${binary}.tmp`, binary);
    log(`compiled the OpenTelemetry Collector in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  buildImage(
    LOCAL_IMAGES.otelCollector,
    `FROM ${LOCAL_IMAGES.debian}
COPY otelcol-trajectory /otelcol-trajectory
EXPOSE 4317 4318
ENTRYPOINT ["/otelcol-trajectory"]
CMD ["--config=/etc/otelcol-contrib/config.yaml"]
`,
    (ctx) => copyFileSync(binary, join(ctx, 'otelcol-trajectory')),
    log,
  );
}

/** Builds the local images that are missing; returns their names. */
export function buildLocalImages({ log = (line) => console.log(line) } = {}) {
  buildDebian(log);
  buildNode(log);
  buildNats(log);
  buildNeo4j(log);
  buildOtelCollector(log);
  return { ...LOCAL_IMAGES };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    console.log(JSON.stringify(buildLocalImages(), null, 2));
  } catch (err) {
    console.error(err.message);
    process.exit(1);
  }
}
