import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const ROOT = new URL('../../../', import.meta.url).pathname;
const FIELDS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'];

// Packages released together, in one version: two versions of them in the tree are two copies of
// the same SDK (an OpenTelemetry provider from one copy handed span processors from the other, or
// @testcontainers/neo4j bringing its own testcontainers), so each group must name one range.
const RELEASED_TOGETHER = [
  ['OpenTelemetry SDK (stable)', /^@opentelemetry\/(core|resources|context-async-hooks|sdk-trace-[\w-]+|sdk-metrics)$/],
  ['OpenTelemetry exporters (experimental)', /^@opentelemetry\/(exporter-[\w-]+|otlp-[\w-]+)$/],
  ['nats.js', /^@nats-io\//],
  ['testcontainers', /^(testcontainers|@testcontainers\/.+)$/],
];

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));

/** The folders the root's `workspaces` globs name; `*` may stand for one whole path segment. */
function workspaceDirs(globs) {
  const dirs = [];
  for (const glob of globs) {
    if (glob.startsWith('!') || glob.includes('**')) throw new Error(`workspace glob ${glob}: extend workspaceDirs() for it`);
    let found = [''];
    for (const segment of glob.split('/')) {
      const pattern = new RegExp(`^${segment.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '[^/]*')}$`);
      found = found.flatMap((dir) => {
        const base = join(ROOT, dir);
        if (!segment.includes('*')) return existsSync(join(base, segment)) ? [join(dir, segment)] : [];
        return readdirSync(base, { withFileTypes: true })
          .filter((entry) => entry.isDirectory() && pattern.test(entry.name))
          .map((entry) => join(dir, entry.name));
      });
    }
    dirs.push(...found.filter((dir) => existsSync(join(ROOT, dir, 'package.json'))));
  }
  return [...new Set(dirs)].sort();
}

/** [folder, package.json] of the root and of every workspace. */
function manifests() {
  const root = readJson(join(ROOT, 'package.json'));
  return [['(root)', root], ...workspaceDirs(root.workspaces).map((dir) => [dir, readJson(join(ROOT, dir, 'package.json'))])];
}

/** name -> range -> the workspaces (and fields) that ask for it, for every dependency outside the repository. */
function declaredRanges(manifests) {
  const internal = new Set(manifests.map(([, manifest]) => manifest.name));
  const ranges = new Map();
  for (const [dir, manifest] of manifests) {
    for (const field of FIELDS) {
      for (const [name, range] of Object.entries(manifest[field] ?? {})) {
        if (internal.has(name)) continue;
        if (!ranges.has(name)) ranges.set(name, new Map());
        const byRange = ranges.get(name);
        byRange.set(range, [...(byRange.get(range) ?? []), `${dir} (${field})`]);
      }
    }
  }
  return ranges;
}

const describe = (byRange) => [...byRange].map(([range, where]) => `${range} in ${where.join(', ')}`).join('; ');

/** One line per dependency asked for in more than one range, naming the ranges and who asks for each. */
const drift = (ranges) => [...ranges].filter(([, byRange]) => byRange.size > 1).map(([name, byRange]) => `${name}: ${describe(byRange)}`);

/** One line per group of RELEASED_TOGETHER whose members are asked for in more than one range. */
function groupDrift(ranges) {
  const lines = [];
  for (const [group, pattern] of RELEASED_TOGETHER) {
    const members = [...ranges].filter(([name]) => pattern.test(name));
    const distinct = new Set(members.flatMap(([, byRange]) => [...byRange.keys()]));
    if (distinct.size > 1) lines.push(`${group}: ${members.map(([name, byRange]) => `${name} ${describe(byRange)}`).join('; ')}`);
  }
  return lines;
}

test('the workspaces glob finds the workspaces, this one among them', () => {
  const dirs = workspaceDirs(readJson(join(ROOT, 'package.json')).workspaces);
  const here = relative(ROOT, new URL('..', import.meta.url).pathname);
  assert.ok(dirs.includes(here), `${here} is not among the workspaces found: ${dirs.join(', ')}`);
});

test('every dependency has one version range across the workspaces', () => {
  const lines = drift(declaredRanges(manifests()));
  assert.deepEqual(lines, [], `dependencies asked for in more than one range (align them):\n${lines.join('\n')}`);
});

test('packages released together are asked for in one range', () => {
  const lines = groupDrift(declaredRanges(manifests()));
  assert.deepEqual(lines, [], `packages of one release asked for in different ranges:\n${lines.join('\n')}`);
});

test('package-lock.json installs one copy of each package released together', () => {
  const lock = readJson(join(ROOT, 'package-lock.json'));
  const versions = new Map();
  for (const [path, entry] of Object.entries(lock.packages ?? {})) {
    const at = path.lastIndexOf('node_modules/');
    if (at < 0 || entry.link) continue;
    const name = path.slice(at + 'node_modules/'.length);
    if (!RELEASED_TOGETHER.some(([, pattern]) => pattern.test(name))) continue;
    if (!versions.has(name)) versions.set(name, new Map());
    versions.get(name).set(entry.version, [...(versions.get(name).get(entry.version) ?? []), path]);
  }
  const copies = [...versions]
    .filter(([, byVersion]) => byVersion.size > 1)
    .map(([name, byVersion]) => `${name}: ${[...byVersion].map(([version, paths]) => `${version} at ${paths.join(', ')}`).join('; ')}`);
  assert.deepEqual(
    copies,
    [],
    `more than one copy in package-lock.json (align the ranges, or an override in the root package.json):\n${copies.join('\n')}`,
  );
});

test('a drifting dependency is named with its ranges and workspaces; internal ones are left out', () => {
  const ranges = declaredRanges([
    ['(root)', { name: 'root', devDependencies: { typescript: '5.9.3' } }],
    ['packages/a', { name: '@x/a', dependencies: { '@opentelemetry/sdk-trace-node': '2.12.0', testcontainers: '~11.10.0' } }],
    ['services/b', { name: '@x/b', dependencies: { '@x/a': '0.1.0', '@opentelemetry/sdk-trace-base': '2.12.1' } }],
    ['e2e', { name: '@x/e2e', devDependencies: { '@opentelemetry/sdk-trace-node': '2.12.1', '@x/a': '*', typescript: '5.9.3' } }],
  ]);
  assert.deepEqual(drift(ranges), ['@opentelemetry/sdk-trace-node: 2.12.0 in packages/a (dependencies); 2.12.1 in e2e (devDependencies)']);
  assert.deepEqual(groupDrift(ranges), [
    'OpenTelemetry SDK (stable): @opentelemetry/sdk-trace-node 2.12.0 in packages/a (dependencies); 2.12.1 in e2e (devDependencies); ' +
      '@opentelemetry/sdk-trace-base 2.12.1 in services/b (dependencies)',
  ]);
});
