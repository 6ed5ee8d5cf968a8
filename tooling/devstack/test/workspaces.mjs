// The workspaces of the repository and the layer of the tree each belongs to, read from the root
// package.json; shared by the checks over the tree's shape.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Which layer a workspace folder (relative to the root) belongs to. */
export function layerOf(folder) {
  const top = folder.split('/')[0];
  if (top === 'packages') return 'library';
  if (top === 'tooling') return 'tooling';
  if (top === 'services' || top === 'apps') return 'deployable';
  if (top === 'e2e' || top === 'bench') return 'check';
  return 'unknown';
}

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
