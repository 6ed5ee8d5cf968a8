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
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Which layer a workspace folder (relative to the root) belongs to. */
function layerOf(folder) {
  const top = folder.split('/')[0];
  if (top === 'packages') return 'library';
  if (top === 'tooling') return 'tooling';
  if (top === 'services' || top === 'apps') return 'deployable';
  if (top === 'e2e' || top === 'bench') return 'check';
  return 'unknown';
}

/** The layers each layer may depend on, at run time and in its tests. */
const ALLOWED = {
  library: { runtime: ['library'], test: ['library', 'tooling'] },
  tooling: { runtime: ['library', 'tooling'], test: ['library', 'tooling'] },
  deployable: { runtime: ['library'], test: ['library', 'tooling'] },
  check: { runtime: ['library', 'tooling', 'deployable', 'check'], test: ['library', 'tooling', 'deployable', 'check'] },
};

/** Every workspace of the root package.json: folder, name, layer and declared internal dependencies. */
export function workspaces(root = ROOT) {
  const patterns = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces;
  const folders = patterns.flatMap((pattern) => {
    if (!pattern.endsWith('/*')) return [pattern];
    const parent = pattern.slice(0, -2);
    return readdirSync(join(root, parent))
      .map((name) => `${parent}/${name}`)
      .filter((folder) => statSync(join(root, folder)).isDirectory());
  });
  return folders
    .filter((folder) => {
      try {
        statSync(join(root, folder, 'package.json'));
        return true;
      } catch {
        return false;
      }
    })
    .map((folder) => {
      const pkg = JSON.parse(readFileSync(join(root, folder, 'package.json'), 'utf8'));
      const internal = (deps) => Object.keys(deps ?? {}).filter((name) => name.startsWith('@trajectory/'));
      return {
        folder,
        name: pkg.name,
        layer: layerOf(folder),
        runtime: internal({ ...pkg.dependencies, ...pkg.peerDependencies, ...pkg.optionalDependencies }),
        test: internal(pkg.devDependencies),
      };
    });
}

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

test('the check itself catches an upward edge', () => {
  // A deployable depending on another deployable is what the layout forbids.
  assert.equal(ALLOWED.deployable.runtime.includes('deployable'), false);
  assert.equal(layerOf('services/graph'), 'deployable');
  assert.equal(layerOf('packages/graph'), 'library');
  assert.equal(isTestFile('src/a.itest.ts'), true);
  assert.equal(isTestFile('src/main.ts'), false);
});
