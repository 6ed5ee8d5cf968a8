// The tree's architecture, checked: dependencies between the workspaces point one way.
//
//   packages/*          libraries: depend on libraries only (their tests may use tooling)
//   tooling/*           development tools (devstack, testkit, local servers): libraries and tooling
//   services/*, apps/*  deployables: libraries at run time, tooling in their tests; never another deployable
//   e2e, bench          checks over the whole system: anything
//
// Both what each package.json declares and what its sources import are read: an import of a
// workspace that its package.json does not declare, or a relative path into another workspace's
// folder (`../services/graph/dist/...`), hides an edge from npm and turbo, and fails here too.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { test } from 'node:test';
import { layerOf, ROOT, workspaces } from './workspaces.mjs';

/** The layers each layer may depend on, at run time and in its tests. */
const ALLOWED = {
  library: { runtime: ['library'], test: ['library', 'tooling'] },
  tooling: { runtime: ['library', 'tooling'], test: ['library', 'tooling'] },
  deployable: { runtime: ['library'], test: ['library', 'tooling'] },
  check: { runtime: ['library', 'tooling', 'deployable', 'check'], test: ['library', 'tooling', 'deployable', 'check'] },
};

const SOURCE = /\.(?:ts|tsx|mts|mjs|js)$/;
const SKIP = new Set(['node_modules', 'dist', '.turbo', 'target']);
/** Source files of a workspace (not its build output or dependencies). */
function sources(dir) {
  const found = [];
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name) || name.startsWith('.')) continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) found.push(...sources(full));
    else if (SOURCE.test(name) && !name.endsWith('.d.ts')) found.push(full);
  }
  return found;
}
/** Files of development, not of the package's run time: node:test files, their helpers and data, test/ and scripts/ folders. */
const isTestFile = (path) =>
  /\.(?:test|itest|e2e)\.|\.test-helper\.|\.test-data\./.test(path) ||
  path.split(sep).some((part) => part === 'test' || part === 'scripts');
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g;

test('every workspace is in a layer of the tree', () => {
  const unknown = workspaces().filter((w) => w.layer === 'unknown');
  assert.deepEqual(
    unknown.map((w) => w.folder),
    [],
    'a workspace outside packages/, tooling/, services/, apps/, e2e and bench',
  );
});

test('declared dependencies point one way: libraries <- tooling <- deployables <- checks, never deployable to deployable', () => {
  const all = workspaces();
  const byName = new Map(all.map((w) => [w.name, w]));
  const wrong = [];
  for (const w of all) {
    for (const kind of ['runtime', 'test']) {
      for (const name of w[kind]) {
        const target = byName.get(name);
        if (!target) wrong.push(`${w.folder} depends on ${name}, which is no workspace`);
        else if (!ALLOWED[w.layer][kind].includes(target.layer)) {
          wrong.push(
            `${w.folder} (${w.layer}) depends on ${name} (${target.folder}, ${target.layer}) ${kind === 'test' ? 'in its tests' : 'at run time'}`,
          );
        }
      }
    }
  }
  assert.deepEqual(wrong, []);
});

test('sources import only the workspaces their package.json declares, never another workspace by path', () => {
  const all = workspaces();
  const byName = new Map(all.map((w) => [w.name, w]));
  const wrong = [];
  for (const w of all) {
    const dir = join(ROOT, w.folder);
    for (const file of sources(dir)) {
      const text = readFileSync(file, 'utf8');
      const where = relative(ROOT, file);
      const testFile = isTestFile(relative(dir, file));
      for (const [, specifier] of text.matchAll(IMPORT)) {
        if (specifier.startsWith('.')) {
          const target = relative(ROOT, join(dirname(file), specifier));
          if (!target.startsWith('..') && !`${target}/`.startsWith(`${w.folder}/`)) {
            const owner = all.find((o) => `${target}/`.startsWith(`${o.folder}/`));
            if (owner) wrong.push(`${where} imports ${specifier}: a path into ${owner.folder}; import ${owner.name}`);
          }
          continue;
        }
        const name = specifier.match(/^@trajectory\/[^/]+/)?.[0];
        if (!name || name === w.name) continue;
        const declared = testFile ? [...w.runtime, ...w.test] : w.runtime;
        if (!declared.includes(name)) {
          wrong.push(`${where} imports ${name}, which ${w.folder}/package.json does not declare${testFile ? '' : ' in dependencies'}`);
        } else if (!ALLOWED[w.layer][testFile ? 'test' : 'runtime'].includes(byName.get(name)?.layer)) {
          wrong.push(`${where} (${w.layer}) imports ${name} (${byName.get(name)?.layer})`);
        }
      }
    }
  }
  assert.deepEqual(wrong, []);
});

test('every workspace a package.json declares is imported by its sources', () => {
  // A declared edge nothing uses still orders turbo's builds and an image's contents: the graph
  // drawn by the package.json files must be the one the code has.
  const unused = [];
  for (const w of workspaces()) {
    const imported = new Set();
    for (const file of sources(join(ROOT, w.folder))) {
      for (const [, specifier] of readFileSync(file, 'utf8').matchAll(IMPORT)) {
        const name = specifier.match(/^@trajectory\/[^/]+/)?.[0];
        if (name) imported.add(name);
      }
    }
    for (const name of [...w.runtime, ...w.test]) if (!imported.has(name)) unused.push(`${w.folder} declares ${name}`);
  }
  assert.deepEqual(unused, []);
});

// The libraries that are the services' cores. Each keeps what touches files, sockets or processes
// in its `src/io/`; the rest is functions over data, tested without servers or a file system.
const CORE_LIBRARIES = ['packages/ingestion', 'packages/segmentation', 'packages/graph', 'packages/samples'];
const IO_MODULES =
  /^(?:node:)?(?:fs|fs\/promises|net|http|https|http2|child_process|os|readline|worker_threads|dgram|dns)$|^@nats-io\/|^@grpc\/grpc-js$/;

/** Import and re-export statements, with `type` when the statement imports types only. */
const STATEMENT = /\b(?:import|export)\s+(type\s+)?(?:[^'";]*?\bfrom\s*)?['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]/g;

/** The imports of a core file that do I/O: an I/O module, or a library's own `io/` folder (`import type` does none). */
function ioImports(text) {
  const found = [];
  for (const [, typeOnly, specifier = '', dynamic] of text.matchAll(STATEMENT)) {
    const target = dynamic ?? specifier;
    if (typeOnly && !dynamic) continue;
    if (IO_MODULES.test(target) || (target.startsWith('.') && /(?:^|\/)io\//.test(target))) found.push(target);
  }
  return found;
}

test("the services' core libraries do no I/O outside their src/io/", () => {
  const wrong = [];
  for (const folder of CORE_LIBRARIES) {
    const src = join(ROOT, folder, 'src');
    for (const file of sources(src)) {
      const inside = relative(src, file);
      // The entry point offers both halves; generated code is generated.
      if (isTestFile(inside) || inside === 'index.ts' || ['io', 'gen'].includes(inside.split(sep)[0])) continue;
      for (const specifier of ioImports(readFileSync(file, 'utf8'))) wrong.push(`${relative(ROOT, file)} imports ${specifier}`);
    }
  }
  assert.deepEqual(wrong, [], 'move the I/O into src/io/, or hand the core data instead of a path');
});

test('the check itself catches an upward edge', () => {
  // A deployable depending on another deployable is what the layout forbids.
  assert.equal(ALLOWED.deployable.runtime.includes('deployable'), false);
  assert.equal(layerOf('services/graph'), 'deployable');
  assert.equal(layerOf('packages/graph'), 'library');
  assert.equal(isTestFile('src/a.itest.ts'), true);
  assert.equal(isTestFile('src/main.ts'), false);
  assert.deepEqual(ioImports("import { readFile } from 'node:fs/promises';\nimport { x } from './io/spool.js';"), [
    'node:fs/promises',
    './io/spool.js',
  ]);
  assert.deepEqual(ioImports("import type { Stats } from 'node:fs';\nimport { Readable } from 'node:stream';"), []);
});
