import type { EmbedderProfile } from './index.js';

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
