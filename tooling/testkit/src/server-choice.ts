import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The images startTestServers runs when it chooses containers. */
export const TEST_CONTAINER_IMAGES = ['nats:2.10-alpine', 'neo4j:5.26-community'] as const;

export type ServerKind = 'environment' | 'containers' | 'local';

export interface ServerChoiceInputs {
  /** NATS_URL, NEO4J_URI (and NATS_CREDENTIALS_FILE) given: `npm test`'s shared pair. */
  environmentServers: boolean;
  /** TRAJECTORY_TEST_SERVERS. */
  setting: string | undefined;
  /** Whether a container runtime answers, and if so whether it can provide the images. */
  probeContainers: () => Promise<{ ok: true } | { ok: false; reason: string; engineAnswers: boolean }>;
}

export interface ServerChoice {
  kind: ServerKind;
  /** One line for the log when the choice is not the obvious one. */
  note?: string;
}

/**
 * Which servers a test gets: those of the environment; else what TRAJECTORY_TEST_SERVERS says
 * (local | containers); else containers only when the runtime answers *and* can provide the
 * images (an engine without a registry or an image cache cannot), else the local servers.
 */
export async function chooseTestServers(inputs: ServerChoiceInputs): Promise<ServerChoice> {
  if (inputs.environmentServers) return { kind: 'environment' };
  if (inputs.setting === 'local' || inputs.setting === 'containers') return { kind: inputs.setting };
  if (inputs.setting) throw new Error(`TRAJECTORY_TEST_SERVERS must be local or containers (got '${inputs.setting}')`);
  const probe = await inputs.probeContainers();
  if (probe.ok) return { kind: 'containers' };
  return probe.engineAnswers
    ? {
        kind: 'local',
        note: `test servers: local (a container runtime answers but ${probe.reason}; TRAJECTORY_TEST_SERVERS=containers forces it)`,
      }
    : { kind: 'local' };
}

/** The socket probe order testcontainers uses, cheapest first: DOCKER_HOST, then known sockets. */
function runtimeSocketExists(): boolean {
  const sockets = ['/var/run/docker.sock', join(homedir(), '.docker', 'run', 'docker.sock'), join(homedir(), '.testcontainers.properties')];
  return Boolean(process.env.DOCKER_HOST) || sockets.some((s) => existsSync(s));
}

const PULL_TIMEOUT_MS = 60_000;

/**
 * Whether containers can start here: a runtime answers (as testcontainers detects it) and has
 * each image or can pull it within a minute.
 */
export async function probeContainerServers(
  images: readonly string[] = TEST_CONTAINER_IMAGES,
): Promise<Awaited<ReturnType<ServerChoiceInputs['probeContainers']>>> {
  if (!runtimeSocketExists()) return { ok: false, reason: 'no container runtime socket', engineAnswers: false };
  const { getContainerRuntimeClient, ImageName } = await import('testcontainers');
  let client: Awaited<ReturnType<typeof getContainerRuntimeClient>>;
  try {
    client = await getContainerRuntimeClient();
  } catch (err) {
    return { ok: false, reason: `no container runtime answers (${(err as Error).message})`, engineAnswers: false };
  }
  for (const image of images) {
    const name = ImageName.fromString(image);
    if (await client.image.exists(name)) continue;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.image.pull(name),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer in ${PULL_TIMEOUT_MS / 1000} s`)), PULL_TIMEOUT_MS);
        }),
      ]);
    } catch (err) {
      return { ok: false, reason: `it cannot provide ${image} (${(err as Error).message.split('\n')[0]})`, engineAnswers: true };
    } finally {
      clearTimeout(timer);
    }
  }
  return { ok: true };
}
