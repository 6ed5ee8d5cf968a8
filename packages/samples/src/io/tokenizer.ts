// The tokenizer the length policy measures with (exports.ts): the base model's own
// tokenizer.json, read with @huggingface/tokenizers from a path or from the Hugging Face hub cache
// where a trainer or `huggingface-cli download` put it. Nothing is downloaded: without the file,
// rows are measured in characters (characterCounter) and the report says so.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { characterCounter, type TokenCounter } from '../exports.js';
import { tokenizerJsonCounter } from '../tokenizer.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The hub caches to look in, in huggingface_hub's order: HF_HUB_CACHE, HF_HOME/hub, ~/.cache/huggingface/hub. */
export function hubCacheDirs(env: Env = process.env): string[] {
  const dirs = [
    env.HF_HUB_CACHE,
    env.HUGGINGFACE_HUB_CACHE,
    env.HF_HOME ? join(env.HF_HOME, 'hub') : undefined,
    join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface', 'hub'),
  ];
  return [...new Set(dirs.filter((d): d is string => Boolean(d)))];
}

const isFile = (path: string) => existsSync(path) && statSync(path).isFile();
const isDir = (path: string) => existsSync(path) && statSync(path).isDirectory();

/**
 * The tokenizer.json of `spec`: the file itself, a folder holding one, or a model id (`org/name`)
 * in a hub cache (the snapshot `refs/main` names, else the newest snapshot that has one).
 */
export function resolveTokenizerFile(spec: string, env: Env = process.env): string | undefined {
  if (isFile(spec)) return spec;
  if (isDir(spec)) return isFile(join(spec, 'tokenizer.json')) ? join(spec, 'tokenizer.json') : undefined;
  if (!/^[\w.-]+\/[\w.-]+$/.test(spec)) return undefined;
  for (const cache of hubCacheDirs(env)) {
    const repo = join(cache, `models--${spec.replace('/', '--')}`);
    const snapshots = join(repo, 'snapshots');
    if (!isDir(snapshots)) continue;
    const ref = join(repo, 'refs', 'main');
    const main = isFile(ref) ? readFileSync(ref, 'utf8').trim() : '';
    const candidates = [
      ...(main ? [main] : []),
      ...readdirSync(snapshots)
        .map((name) => ({ name, time: statSync(join(snapshots, name)).mtimeMs }))
        .sort((a, b) => b.time - a.time || a.name.localeCompare(b.name))
        .map((s) => s.name),
    ];
    for (const snapshot of candidates) {
      const file = join(snapshots, snapshot, 'tokenizer.json');
      if (isFile(file)) return file;
    }
  }
  return undefined;
}

/** Counts tokens of a tokenizer.json (and the tokenizer_config.json beside it, if any). */
export function tokenizerCounter(file: string, name: string): TokenCounter {
  const configFile = join(file, '..', 'tokenizer_config.json');
  const config = isFile(configFile) ? JSON.parse(readFileSync(configFile, 'utf8')) : {};
  return tokenizerJsonCounter(JSON.parse(readFileSync(file, 'utf8')), config, name);
}

/**
 * The counter for `spec` (a path or a model id; empty: none): its tokenizer where it is on this
 * machine, else characters, with a name that says which tokenizer was missing.
 */
export function loadTokenCounter(spec: string | undefined, env: Env = process.env): TokenCounter {
  if (!spec) return characterCounter;
  const file = resolveTokenizerFile(spec, env);
  if (!file) return { ...characterCounter, name: `${characterCounter.name} (no tokenizer.json for ${spec} on this machine)` };
  return tokenizerCounter(file, spec);
}
