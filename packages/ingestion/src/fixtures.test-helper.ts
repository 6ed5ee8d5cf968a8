import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '@trajectory/testkit';

/** The path of fixtures/<folder>/<name>; a missing file is a bug in the repository and says which file. */
function fixture(folder: string, name: string): string {
  const path = join(REPO_ROOT, 'fixtures', folder, name);
  if (!existsSync(path)) {
    throw new Error(`missing repository file ${relative(REPO_ROOT, path)} (${path}): see fixtures/README.md for the committed fixtures`);
  }
  return path;
}

/** A real ChatGPT export sample committed in the repository (fixtures/chatgpt, see fixtures/README.md). */
export const chatgptFixture = (name: string): string => fixture('chatgpt', name);

/** The hand-built Claude export of fixtures/claude (see its SOURCES.md). */
export const claudeFixture = (name: string): string => fixture('claude', name);

/** A file of the hostile corpus, fixtures/hostile (see its README.md). */
export const hostileFixture = (name: string): string => fixture('hostile', name);
