import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { hubCacheDirs, loadTokenCounter, resolveTokenizerFile } from './tokenizer.js';

/** A tiny WordPiece tokenizer.json, written here: "hello world" is 2 tokens, "helloworld" 2 (hello ##world). */
const TOKENIZER = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: [{ id: 0, content: '[UNK]', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
  normalizer: { type: 'Lowercase' },
  pre_tokenizer: { type: 'Whitespace' },
  post_processor: null,
  decoder: null,
  model: {
    type: 'WordPiece',
    unk_token: '[UNK]',
    continuing_subword_prefix: '##',
    max_input_chars_per_word: 100,
    vocab: { '[UNK]': 0, hello: 1, world: 2, '##world': 3, '.': 4 },
  },
};

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'samples-tokenizer-'));
  // A hub cache as huggingface_hub lays it out: refs/main names the snapshot.
  const repo = join(dir, 'hub', 'models--acme--tiny-chat');
  mkdirSync(join(repo, 'refs'), { recursive: true });
  mkdirSync(join(repo, 'snapshots', 'abc123'), { recursive: true });
  writeFileSync(join(repo, 'refs', 'main'), 'abc123\n');
  writeFileSync(join(repo, 'snapshots', 'abc123', 'tokenizer.json'), JSON.stringify(TOKENIZER));
  mkdirSync(join(dir, 'local'));
  writeFileSync(join(dir, 'local', 'tokenizer.json'), JSON.stringify(TOKENIZER));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('the hub caches in huggingface_hub order', () => {
  assert.deepEqual(hubCacheDirs({ HF_HUB_CACHE: '/a', HF_HOME: '/b', XDG_CACHE_HOME: '/c' }), ['/a', '/b/hub', '/c/huggingface/hub']);
});

test('a model id is found in the hub cache; a folder or a file is taken as it is', () => {
  const env = { HF_HUB_CACHE: join(dir, 'hub') };
  assert.equal(
    resolveTokenizerFile('acme/tiny-chat', env),
    join(dir, 'hub', 'models--acme--tiny-chat', 'snapshots', 'abc123', 'tokenizer.json'),
  );
  assert.equal(resolveTokenizerFile(join(dir, 'local'), env), join(dir, 'local', 'tokenizer.json'));
  assert.equal(resolveTokenizerFile(join(dir, 'local', 'tokenizer.json'), env), join(dir, 'local', 'tokenizer.json'));
  assert.equal(resolveTokenizerFile('acme/absent', env), undefined);
});

test('tokens of the tokenizer where it is installed, characters otherwise (and the name says which)', () => {
  const env = { HF_HUB_CACHE: join(dir, 'hub'), HF_HOME: join(dir, 'none'), XDG_CACHE_HOME: join(dir, 'none') };
  const tokens = loadTokenCounter('acme/tiny-chat', env);
  assert.equal(tokens.unit, 'tokens');
  assert.equal(tokens.name, 'acme/tiny-chat');
  assert.equal(tokens.count('Hello world.'), 3);
  assert.equal(tokens.count('helloworld'), 2);
  const missing = loadTokenCounter('acme/absent', env);
  assert.equal(missing.unit, 'characters');
  assert.match(missing.name, /^characters \/ 3 \(no tokenizer\.json for acme\/absent on this machine\)$/);
  assert.equal(missing.count('abcdef'), 2);
  assert.equal(loadTokenCounter('', env).name, 'characters / 3');
});
