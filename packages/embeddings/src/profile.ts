import type { EmbedderProfile, ProfiledEmbedder } from './index.js';

const cpuMs = (since: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
};

/** Counters behind ProfiledEmbedder.profile(). */
export class Profiler {
  private p: EmbedderProfile = Profiler.empty();
  static empty(): EmbedderProfile {
    return { calls: 0, texts: 0, tokens: 0, paddedTokens: 0, tokenizeCpuMs: 0, encodeCpuMs: 0 };
  }
  start(): NodeJS.CpuUsage {
    return process.cpuUsage();
  }
  tokenized(since: NodeJS.CpuUsage, texts: number, tokens: number): NodeJS.CpuUsage {
    this.p.calls++;
    this.p.texts += texts;
    this.p.tokens += tokens;
    this.p.tokenizeCpuMs += cpuMs(since);
    return process.cpuUsage();
  }
  encoded(since: NodeJS.CpuUsage, paddedTokens: number): void {
    this.p.paddedTokens += paddedTokens;
    this.p.encodeCpuMs += cpuMs(since);
  }
  get(): EmbedderProfile {
    return { ...this.p };
  }
  reset(): void {
    this.p = Profiler.empty();
  }
}

/** What an embedder is made of: its identity, and the two stages its CPU is counted by. */
export interface EmbedderStages {
  id: string;
  dimensions: number;
  /** One text's token ids. */
  tokenize(text: string): number[];
  /** Every text's vector, in order, and how many token positions that computed on (padding included). */
  encode(encoded: number[][]): Promise<{ vectors: Float32Array[]; paddedTokens: number }>;
  /** Frees what the embedder holds; called by the first close() only. */
  release?(): Promise<void>;
}

/** The embedder of `stages`, profiled (tokenisation and encoding apart); embed() after close() throws. */
export function profiledEmbedder(stages: EmbedderStages): ProfiledEmbedder {
  let closed = false;
  const profiler = new Profiler();
  return {
    id: stages.id,
    dimensions: stages.dimensions,
    async embed(texts: string[]): Promise<Float32Array[]> {
      if (closed) throw new Error('SentenceEmbedder.embed called after close()');
      const started = profiler.start();
      const encoded = texts.map(stages.tokenize);
      const tokenized = profiler.tokenized(
        started,
        texts.length,
        encoded.reduce((sum, ids) => sum + ids.length, 0),
      );
      const { vectors, paddedTokens } = await stages.encode(encoded);
      profiler.encoded(tokenized, paddedTokens);
      return vectors;
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await stages.release?.();
    },
    profile: () => profiler.get(),
    resetProfile: () => profiler.reset(),
  };
}
