import type { Logger } from '@trajectory/telemetry';

/** Something a service cannot do its work without (NATS, Neo4j), as its health sees it. */
export interface Dependency {
  readonly name: string;
  readonly available: boolean;
  /**
   * Reports a failure that says it is gone (a refused connection): health turns NOT_SERVING at
   * once instead of at the next probe, which then tells when it is back.
   */
  lost(err: Error): void;
  /** Reports it back, for a dependency whose events (not a probe) tell its state. */
  restored(): void;
  /** Resolves once it is available: at once when it is. */
  whenAvailable(): Promise<void>;
}

export interface DependencyOptions {
  /** How often the probe runs. */
  intervalMs?: number;
  /** A probe that has not answered in this long failed. */
  timeoutMs?: number;
}

const DEFAULT_INTERVAL_MS = 1_000;
const DEFAULT_TIMEOUT_MS = 2_000;

class WatchedDependency implements Dependency {
  available = true;
  private waiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    readonly name: string,
    private readonly logger: Logger,
    private readonly changed: () => void,
    private readonly probe?: () => Promise<unknown>,
    private readonly options: DependencyOptions = {},
  ) {}

  start(): void {
    if (this.probe) this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  lost(err: Error): void {
    this.set(false, err);
  }

  restored(): void {
    this.set(true);
  }

  whenAvailable(): Promise<void> {
    return this.available ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.check(), this.options.intervalMs ?? DEFAULT_INTERVAL_MS);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    const timeoutMs = this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    let timeout: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.probe?.(),
        new Promise((_, reject) => {
          timeout = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      this.set(true);
    } catch (err) {
      this.set(false, err as Error);
    } finally {
      clearTimeout(timeout);
      this.schedule();
    }
  }

  private set(available: boolean, err?: Error): void {
    if (available === this.available || this.stopped) return;
    this.available = available;
    if (available) {
      this.logger.info({ dependency: this.name }, `${this.name} available again`);
      for (const resolve of this.waiters.splice(0)) resolve();
    } else {
      this.logger.warn({ dependency: this.name, err: err?.message }, `${this.name} unavailable`);
    }
    this.changed();
  }
}

/** A service's dependencies: it is SERVING only while every one of them is available. */
export class Dependencies {
  private readonly watched: WatchedDependency[] = [];

  constructor(
    private readonly logger: Logger,
    private readonly changed: (dependency: Dependency) => void,
  ) {}

  watch(name: string, probe?: () => Promise<unknown>, options?: DependencyOptions): Dependency {
    const dependency: WatchedDependency = new WatchedDependency(name, this.logger, () => this.changed(dependency), probe, options);
    this.watched.push(dependency);
    dependency.start();
    return dependency;
  }

  get allAvailable(): boolean {
    return this.watched.every((d) => d.available);
  }

  stop(): void {
    for (const d of this.watched) d.stop();
  }
}
