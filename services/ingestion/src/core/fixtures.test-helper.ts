import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '@trajectory/testkit';

/** The real ChatGPT export samples committed in the repository (fixtures/chatgpt, see fixtures/README.md). */
const CHATGPT_FIXTURES = join(REPO_ROOT, 'fixtures', 'chatgpt');

/** The path of fixtures/chatgpt/<name>; a missing file is a bug in the repository and says which file. */
export function chatgptFixture(name: string): string {
  const path = join(CHATGPT_FIXTURES, name);
  if (!existsSync(path)) {
    throw new Error(`missing repository file ${relative(REPO_ROOT, path)} (${path}): see fixtures/README.md for the committed fixtures`);
  }
  return path;
}
