// Keeps the services of `npm run up` running, and stops every one of them on Ctrl-C. Node's
// standard library only: devstack runs before `npm ci`.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/** Preloaded into every child: it exits when the supervisor is gone, even killed with SIGKILL. */
const GUARD = new URL('./exit-with-supervisor.mjs', import.meta.url).href;

export const DEFAULT_SUPERVISION = {
  /** The first restart waits this long; each fast crash in a row doubles it, up to maxDelayMs. */
  firstDelayMs: 1000,
  maxDelayMs: 30_000,
  /** A child that ran this long before it died was stable: the next crash starts over. */
  stableMs: 30_000,
  /** This many crashes in a row, each before stableMs, and the child is not restarted again. */
  maxFastCrashes: 5,
  /** SIGTERM, then SIGKILL after this long. */
  stopTimeoutMs: 20_000,
};

/** The wait before restart number `crashes` (1 for the first crash of a run). */
export const restartDelay = (crashes, { firstDelayMs, maxDelayMs }) => Math.min(firstDelayMs * 2 ** (crashes - 1), maxDelayMs);

/** Promise.withResolvers, which Node 20 lacks. */
function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const seconds = (ms) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

const how = (code, signal) => (signal ? `was killed by ${signal}` : `exited with code ${code}`);

/**
 * Runs Node scripts as child processes and restarts one that dies, with a growing delay; after
 * `maxFastCrashes` crashes in a row, each soon after starting, it says so and leaves that child
 * down. `stop()` ends every child, including restarted ones and one about to be restarted. A
 * child also exits by itself when the supervisor's process is gone (see exit-with-supervisor.mjs).
 */
export class Supervisor {
  #options;
  #log;
  #services = new Map();
  #stopping = false;
  #allDown = deferred();

  constructor({ log = console.log, ...options } = {}) {
    this.#options = { ...DEFAULT_SUPERVISION, ...options };
    this.#log = log;
    // Whatever ends this process (an uncaught error, process.exit), it takes its children along.
    process.once('exit', () => {
      for (const child of this.children()) child.kill('SIGKILL');
    });
  }

  /**
   * Starts `script` (a Node script) under `name`; resolves once `ready(child)` has resolved for
   * one of its runs (at once without `ready`), rejects when it is given up or stopped first.
   * stdout and stderr go to `logFile` (appended) when given.
   */
  add({ name, script, args = [], env = process.env, cwd, logFile, ready }) {
    if (this.#services.has(name)) throw new Error(`${name} is already supervised`);
    const service = {
      name,
      script,
      args,
      env,
      cwd,
      logFile,
      ready,
      child: undefined,
      startedAt: 0,
      crashes: 0,
      timer: undefined,
      givenUp: false,
    };
    service.firstReady = deferred();
    // Only a caller that awaits it hears of a failure; `stop()` must not leave it unhandled.
    service.firstReady.promise.catch(() => {});
    this.#services.set(name, service);
    this.#spawn(service);
    return service.firstReady.promise;
  }

  /**
   * Adds `specs` one at a time, each once the one before is ready, and calls `started(spec,
   * child)` for each; when one is given up before it was ever ready, stops all and throws.
   */
  async addInOrder(specs, started = () => {}) {
    try {
      for (const spec of specs) started(spec, await this.add(spec));
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Resolves when every child has been given up: nothing is left to supervise. */
  get allDown() {
    return this.#allDown.promise;
  }

  /** The children running now. */
  children() {
    return [...this.#services.values()].flatMap((s) => (s.child ? [s.child] : []));
  }

  /** SIGTERM to every child (SIGKILL to one still there after stopTimeoutMs); resolves once all have exited. */
  async stop({ signal = 'SIGTERM' } = {}) {
    this.#stopping = true;
    for (const service of this.#services.values()) {
      clearTimeout(service.timer);
      service.firstReady.reject(new Error(`${service.name}: stopped before it was ready`));
    }
    await Promise.all(
      this.children().map((child) => {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        if (child.exitCode !== null || child.signalCode !== null) return undefined;
        const force = setTimeout(() => child.kill('SIGKILL'), this.#options.stopTimeoutMs);
        child.kill(signal);
        return exited.finally(() => clearTimeout(force));
      }),
    );
  }

  #spawn(service) {
    let output = 'inherit';
    if (service.logFile) {
      mkdirSync(dirname(service.logFile), { recursive: true });
      output = openSync(service.logFile, 'a');
    }
    const child = spawn(process.execPath, ['--import', GUARD, service.script, ...service.args], {
      cwd: service.cwd,
      env: service.env,
      stdio: ['ignore', output, output, 'ipc'],
    });
    if (typeof output === 'number') closeSync(output);
    service.child = child;
    service.startedAt = Date.now();
    let ended = false;
    const end = (code, signal) => {
      if (ended) return;
      ended = true;
      this.#exited(service, child, code, signal);
    };
    child.once('exit', end);
    child.once('error', (err) => {
      this.#log(`${service.name}: ${err.message}`);
      end(null, null);
    });
    if (!service.ready) {
      service.firstReady.resolve(child);
      return;
    }
    service.ready(child).then(
      () => {
        if (service.child !== child || this.#stopping) return;
        if (service.crashes > 0) this.#log(`${service.name} is serving again (pid ${child.pid})`);
        service.firstReady.resolve(child);
      },
      (err) => {
        if (service.child !== child || this.#stopping) return;
        // Running but not serving: a crash like any other.
        this.#log(`${service.name} did not become ready (${err.message}): killing it`);
        child.kill('SIGKILL');
      },
    );
  }

  #exited(service, child, code, signal) {
    if (service.child === child) service.child = undefined;
    if (this.#stopping) return;
    const options = this.#options;
    const ran = Date.now() - service.startedAt;
    service.crashes = ran >= options.stableMs ? 1 : service.crashes + 1;
    const where = service.logFile ? `; log: ${service.logFile}` : '';
    if (service.crashes >= options.maxFastCrashes) {
      this.#log(
        `${service.name} (pid ${child.pid}) ${how(code, signal)} after ${seconds(ran)}: ${service.crashes} crashes in a row, each within ${seconds(options.stableMs)} of starting; not restarting it again${where}`,
      );
      service.givenUp = true;
      service.firstReady.reject(new Error(`${service.name} keeps crashing${where}`));
      if ([...this.#services.values()].every((s) => s.givenUp)) this.#allDown.resolve();
      return;
    }
    const delay = restartDelay(service.crashes, options);
    this.#log(
      `${service.name} (pid ${child.pid}) ${how(code, signal)} after ${seconds(ran)}: restarting it in ${seconds(delay)} (crash ${service.crashes} of at most ${options.maxFastCrashes} in a row)${where}`,
    );
    service.timer = setTimeout(() => {
      if (!this.#stopping) this.#spawn(service);
    }, delay);
  }
}

/**
 * Waits for SIGINT or SIGTERM (Ctrl-C), then stops every child; resolves with the signal once
 * they have exited, or with 'down' when every child has been given up. A second Ctrl-C while
 * stopping kills what is left with SIGKILL.
 */
export function runUntilStopped(supervisor, { log = console.log } = {}) {
  return new Promise((resolve) => {
    // Between a crash and its restart no child may be running: this keeps the process alive.
    const alive = setInterval(() => {}, 60_000);
    let stopping = false;
    const finish = (reason) => {
      clearInterval(alive);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(reason);
    };
    const onSignal = (signal) => {
      if (stopping) {
        log(`${signal} again: killing what is left`);
        for (const child of supervisor.children()) child.kill('SIGKILL');
        return;
      }
      stopping = true;
      log(`${signal}: stopping the services`);
      supervisor.stop().then(() => finish(signal));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    supervisor.allDown.then(() => {
      if (!stopping) finish('down');
    });
  });
}
