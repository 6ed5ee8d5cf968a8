#!/usr/bin/env node
// Generates src/gen from proto/ with protoc + ts-proto: the Node contracts (messages and grpc-js
// services) in src/gen/trajectory, and the messages alone for browsers in src/gen/web (proto3
// JSON only: no grpc-js, no binary codec, so a page's bundle stays small and Node-free). With
// --check it generates into a temporary folder and fails when src/gen differs, so hand edits and
// stale output are caught.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pkgRoot = join(here, '..');
const protoRoot = join(pkgRoot, '..', '..', 'proto');
const genDir = join(pkgRoot, 'src', 'gen');
const require = createRequire(import.meta.url);
const plugin = join(dirname(require.resolve('ts-proto/package.json')), 'protoc-gen-ts_proto');

const OPTIONS = [
  'outputServices=grpc-js',
  'esModuleInterop=true',
  'env=node',
  'useOptionals=messages',
  'forceLong=number',
  'importSuffix=.js',
  'useDate=true',
  'exportCommonSymbols=false',
];

/** The same messages for a browser (the `@trajectory/contracts/messages` entry point): JSON only. */
const WEB_OPTIONS = [
  'outputServices=none',
  'outputEncodeMethods=false',
  'env=browser',
  ...OPTIONS.filter((o) => !o.startsWith('outputServices=') && !o.startsWith('env=')),
];

function listFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? listFiles(full) : [full];
  });
}

function generate(outDir) {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const protos = listFiles(protoRoot).filter((f) => f.endsWith('.proto'));
  // protoc alone has no well-known types: they come from Debian's libprotobuf-dev (or PROTOC_INCLUDE).
  const wellKnown = [process.env.PROTOC_INCLUDE, '/usr/include', '/usr/local/include'].find(
    (d) => d && existsSync(join(d, 'google', 'protobuf', 'timestamp.proto')),
  );
  if (!wellKnown) {
    throw new Error(
      "google/protobuf/timestamp.proto not found: install Debian's libprotobuf-dev (npm start/npm test do it for you) or set PROTOC_INCLUDE",
    );
  }
  const includes = [`-I${wellKnown}`];
  const webDir = join(outDir, 'web');
  mkdirSync(webDir, { recursive: true });
  try {
    for (const [dir, options] of [
      [outDir, OPTIONS],
      [webDir, WEB_OPTIONS],
    ]) {
      execFileSync(
        'protoc',
        [
          `--plugin=protoc-gen-ts_proto=${plugin}`,
          `--ts_proto_out=${dir}`,
          `--ts_proto_opt=${options.join(',')}`,
          `-I${protoRoot}`,
          ...includes,
          ...protos,
        ],
        { stdio: ['ignore', 'inherit', 'inherit'] },
      );
    }
  } catch (err) {
    if (err.code === 'ENOENT') {
      console.error("protoc was not found: install Debian's protobuf-compiler (npm start/npm test do it for you).");
    }
    throw err;
  }
}

if (process.argv.includes('--check')) {
  const tmp = mkdtempSync(join(tmpdir(), 'contracts-check-'));
  try {
    generate(tmp);
    const fresh = listFiles(tmp)
      .map((f) => relative(tmp, f))
      .sort();
    const current = listFiles(genDir)
      .map((f) => relative(genDir, f))
      .sort();
    const problems = [];
    for (const f of new Set([...fresh, ...current])) {
      if (!fresh.includes(f)) problems.push(`${f}: not generated from proto/ (stray file)`);
      else if (!current.includes(f)) problems.push(`${f}: missing (run npm run generate -w @trajectory/contracts)`);
      else if (!readFileSync(join(tmp, f)).equals(readFileSync(join(genDir, f)))) {
        problems.push(`${f}: differs from what proto/ generates (stale or edited by hand)`);
      }
    }
    if (problems.length > 0) {
      console.error(`packages/contracts/src/gen is stale:\n  ${problems.join('\n  ')}`);
      process.exit(1);
    }
    console.log(`contracts up to date (${fresh.length} generated files)`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
} else {
  generate(genDir);
}
