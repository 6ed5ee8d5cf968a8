import type { ConversationSegmented } from '@trajectory/contracts';

export interface WriteBatcherOptions {
  /** Conversations written in one transaction at most. */
  maxBatch: number;
  /** How long a lone conversation waits for company before it is written. */
  maxWaitMs: number;
  /**
   * Failures that are no conversation's fault (the database is gone): the whole batch fails with
   * them at once, instead of being retried one conversation at a time against a database that
   * is not there.
   */
  failsEveryone?: (err: unknown) => boolean;
}

/**
 * Groups the conversations that concurrent worker deliveries hand in into one write, and
 * resolves each delivery only once its conversation is committed (so it is acked after, never
 * before). A failing batch is retried one conversation at a time, so a single bad conversation
 * fails only its own delivery.
 */
export function createWriteBatcher(write: (events: ConversationSegmented[]) => Promise<void>, options: WriteBatcherOptions) {
  type Pending = { event: ConversationSegmented; resolve: () => void; reject: (err: unknown) => void };
  let pending: Pending[] = [];
  let timer: NodeJS.Timeout | undefined;

  async function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    try {
      await write(batch.map((p) => p.event));
      for (const p of batch) p.resolve();
    } catch (err) {
      if (batch.length === 1 || options.failsEveryone?.(err)) {
        for (const p of batch) p.reject(err);
        return;
      }
      for (const p of batch) {
        try {
          await write([p.event]);
          p.resolve();
        } catch (single) {
          p.reject(single);
        }
      }
    }
  }

  return {
    add(event: ConversationSegmented): Promise<void> {
      const done = new Promise<void>((resolve, reject) => pending.push({ event, resolve, reject }));
      if (pending.length >= options.maxBatch) void flush();
      else timer ??= setTimeout(() => void flush(), options.maxWaitMs);
      return done;
    },
    flush,
  };
}
