import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { TEST_ADMIN, type TestNats } from './nats.js';

/**
 * Deletes every stream of the shared test NATS (events, dead letters, KV and object buckets),
 * so a test starts from an empty bus; services recreate the topology on start. As the harness's
 * admin: no deployment user may delete streams.
 */
export async function resetBus(nats: TestNats): Promise<void> {
  const nc = await connect(nats.connectOptions(TEST_ADMIN));
  try {
    const jsm = await jetstreamManager(nc);
    for await (const name of jsm.streams.names()) await jsm.streams.delete(name);
  } finally {
    await nc.close();
  }
}
