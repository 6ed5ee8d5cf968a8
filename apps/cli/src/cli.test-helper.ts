import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '@trajectory/testkit';

/** The CLI as a person runs it (`npx trajectory`), for tests that run it as a process. */
export const CLI_BIN = join(REPO_ROOT, 'apps', 'cli', 'bin', 'trajectory.mjs');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `trajectory ...args` with `env`; `onLine` sees stdout line by line as it comes. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, onLine?: (line: string) => void): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { env });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      partial += d;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine?.(line);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
