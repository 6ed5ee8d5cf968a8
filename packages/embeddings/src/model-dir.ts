import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/model-dir.js -> packages/embeddings -> the repository root (in the Docker image: /app).
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/**
 * Where scripts/fetch-model.mjs puts the model, and so where loadSentenceEmbedder looks:
 * $TRAJECTORY_EMBEDDING_MODEL_DIR, else ${TRAJECTORY_DATA_DIR:-<repo>/.trajectory}/models/all-MiniLM-L6-v2
 * (the same data folder devstack uses). Keep in step with defaultModelDir() in the fetch script.
 */
export function defaultModelDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TRAJECTORY_EMBEDDING_MODEL_DIR) return resolve(env.TRAJECTORY_EMBEDDING_MODEL_DIR);
  return join(resolve(REPO_ROOT, env.TRAJECTORY_DATA_DIR ?? '.trajectory'), 'models', 'all-MiniLM-L6-v2');
}

/**
 * Where scripts/derive-static.mjs puts the static encoder it derives from that model, and so where
 * loadStaticEmbedder looks: $TRAJECTORY_STATIC_EMBEDDING_MODEL_DIR, else the folder
 * all-MiniLM-L6-v2-static beside defaultModelDir(). Keep in step with defaultStaticDir() there.
 */
export function defaultStaticModelDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TRAJECTORY_STATIC_EMBEDDING_MODEL_DIR) return resolve(env.TRAJECTORY_STATIC_EMBEDDING_MODEL_DIR);
  return join(dirname(defaultModelDir(env)), 'all-MiniLM-L6-v2-static');
}
