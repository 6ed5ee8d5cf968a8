import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@trajectory/testkit';

/** The read-only real export samples beside the repository (../shared/external). */
const SHARED_CHATGPT = join(REPO_ROOT, '..', 'shared', 'external', 'chatgpt');

export function sharedFixture(name: string): string {
  const path = join(SHARED_CHATGPT, name);
  if (!existsSync(path)) throw new Error(`missing shared fixture ${path}: the tests expect ../shared/external beside the repository`);
  return path;
}
