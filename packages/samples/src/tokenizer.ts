// Counting tokens with a base model's own tokenizer (the length policy of exports.ts measures
// rows with it): @huggingface/tokenizers over the parsed tokenizer.json. Finding and reading the
// file is io/tokenizer.ts's.
import { Tokenizer } from '@huggingface/tokenizers';
import type { TokenCounter } from './exports.js';

/** Counts tokens with a parsed tokenizer.json and tokenizer_config.json (`{}` without one), under `name`. */
export function tokenizerJsonCounter(tokenizerJson: object, tokenizerConfig: object, name: string): TokenCounter {
  const tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
  return { name, unit: 'tokens', count: (text) => tokenizer.encode(text, { add_special_tokens: false }).ids.length };
}
