import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The read-only real export samples beside the repository (../shared/external). */
export const SHARED_CHATGPT = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  '..',
  '..',
  'shared',
  'external',
  'chatgpt',
);

export function sharedFixture(name: string): string {
  const path = join(SHARED_CHATGPT, name);
  if (!existsSync(path)) throw new Error(`missing shared fixture ${path}: the tests expect ../shared/external beside the repository`);
  return path;
}
