import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { restartDelay } from '../bin/supervise.mjs';

const DRIVER = new URL('./supervisor-driver.mjs', import.meta.url).pathname;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Pids of the processes whose command line holds `mark`: every child a test started, reported or not. */
function processesMarked(mark) {
  if (!existsSync('/proc')) return [];
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        // A process that has exited but is not yet reaped (a zombie) has no command line.
        return argv.includes(mark) && !argv.includes('supervisor-driver.mjs');
      } catch {
        return false;
      }
    })
    .map(Number);
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2]?.startsWith('Z');
  } catch {
    return false;
  }
}

/** Waits until `check` holds, polling; fails with `what` after `ms`. */
async function until(what, check, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** The supervisor in its own process, with children in `modes`; its stdout lines as they come. */
function startDriver(t, modes, settings) {
  const mark = `supervise-test-${randomUUID()}`;
  const driver = spawn(process.execPath, [DRIVER, mark, ...modes], {
    env: { ...process.env, SUPERVISION: JSON.stringify(settings) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = [];
  let stderr = '';
  driver.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  createInterface({ input: driver.stdout }).on('line', (line) => lines.push(line));
  const exited = new Promise((resolve) => driver.once('exit', (code, signal) => resolve({ code, signal })));
  // A failed test leaves nothing running either.
  t.after(() => {
    for (const pid of [driver.pid, ...processesMarked(mark)]) if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
  });
  const line = async (pattern, ms) => {
    try {
      await until(`a line matching ${pattern}`, () => lines.some((l) => pattern.test(l)), ms);
    } catch (err) {
      throw new Error(`${err.message}; the supervisor printed ${JSON.stringify(lines)}`);
    }
  };
  const pids = () => lines.flatMap((l) => [...l.matchAll(/pid (\d+)/g)].map((m) => Number(m[1])));
  return { driver, mark, lines, exited, line, pids, stderr: () => stderr };
}

const FAST = { firstDelayMs: 100, maxDelayMs: 1000, stableMs: 30_000, maxFastCrashes: 3, stopTimeoutMs: 1000 };

test('a child that dies is restarted; SIGTERM to the supervisor stops every child, the restarted one too, and it exits', async (t) => {
  const run = startDriver(t, ['serve', 'serve'], FAST);
  await run.line(/^all started$/);
  const [first, second] = run.pids();
  assert.ok(first && second && alive(first) && alive(second));

  process.kill(first, 'SIGKILL');
  await run.line(/^child-0 \(pid \d+\) was killed by SIGKILL after [\d.]+ s: restarting it in 0\.1 s \(crash 1 of at most 3 in a row\)$/);
  await run.line(/^child-0 is serving again \(pid \d+\)$/);
  const restarted = run.pids().at(-1);
  assert.ok(restarted && restarted !== first && alive(restarted));
  assert.deepEqual(processesMarked(run.mark).sort(), [second, restarted].sort());

  run.driver.kill('SIGTERM');
  assert.deepEqual(await run.exited, { code: 0, signal: null });
  assert.ok(run.lines.includes('SIGTERM: stopping the services'));
  assert.equal(run.lines.at(-1), 'stopped: SIGTERM');
  await until('no child left', () => processesMarked(run.mark).every((pid) => !alive(pid)), 5000);
  assert.ok(![first, second, restarted].some(alive));
});

test('SIGINT (Ctrl-C) while a restart is pending: nothing is started after it, a child deaf to SIGTERM is killed', async (t) => {
  const run = startDriver(t, ['serve', 'stubborn'], { ...FAST, firstDelayMs: 5000, maxDelayMs: 5000 });
  await run.line(/^all started$/);
  const [first, stubborn] = run.pids();
  process.kill(first, 'SIGKILL');
  await run.line(/restarting it in 5\.0 s/);

  const stoppedAt = Date.now();
  run.driver.kill('SIGINT');
  assert.deepEqual(await run.exited, { code: 0, signal: null });
  // The stubborn child held on until the SIGKILL after stopTimeoutMs; the pending restart never ran.
  assert.ok(Date.now() - stoppedAt < 4000, 'the supervisor did not wait for the pending restart');
  assert.ok(!run.lines.some((l) => /serving again/.test(l)));
  await until('no child left', () => processesMarked(run.mark).every((pid) => !alive(pid)), 5000);
  assert.ok(!alive(stubborn));
});

test('a child that keeps crashing is restarted with a growing delay, then given up, with a line each time', async (t) => {
  const run = startDriver(t, ['crash'], FAST);
  assert.deepEqual(await run.exited, { code: 0, signal: null });
  const crashes = run.lines.filter((l) => /^child-0 \(pid \d+\) exited with code 3/.test(l));
  assert.equal(crashes.length, 3);
  assert.match(crashes[0] ?? '', /restarting it in 0\.1 s \(crash 1 of at most 3 in a row\)$/);
  assert.match(crashes[1] ?? '', /restarting it in 0\.2 s \(crash 2 of at most 3 in a row\)$/);
  assert.match(crashes[2] ?? '', /3 crashes in a row, each within 30 s of starting; not restarting it again$/);
  assert.equal(run.lines.filter((l) => /^child-0 is serving again/.test(l)).length, 2);
  // With nothing left to run the supervisor ends by itself (`up` then exits 1, naming the logs).
  assert.equal(run.lines.at(-1), 'stopped: down');
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map((n) => restartDelay(n, { firstDelayMs: 1000, maxDelayMs: 30_000 })),
    [1000, 2000, 4000, 8000, 16_000, 30_000],
  );
});

test('a child that dies before it is ever ready fails the start after its retries; the others are stopped', async (t) => {
  const run = startDriver(t, ['serve', 'broken'], FAST);
  assert.deepEqual(await run.exited, { code: 1, signal: null });
  assert.equal(run.lines.filter((l) => /^child-1 \(pid \d+\) exited with code 3/.test(l)).length, 3);
  assert.match(run.stderr(), /child-1 keeps crashing/);
  assert.ok(!run.lines.includes('all started'));
  await until('no child left', () => processesMarked(run.mark).every((pid) => !alive(pid)), 5000);
});

test('a supervisor killed outright (SIGKILL, no handler runs) leaves no child behind', async (t) => {
  const run = startDriver(t, ['serve', 'serve'], FAST);
  await run.line(/^all started$/);
  const children = run.pids();
  assert.equal(children.length, 2);
  run.driver.kill('SIGKILL');
  await run.exited;
  await until('the children to exit by themselves', () => !children.some(alive), 5000);
  assert.deepEqual(
    processesMarked(run.mark).filter((pid) => alive(pid)),
    [],
  );
});
