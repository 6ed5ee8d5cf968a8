// How a suite that needs the servers to itself begins: emptied, with the client it works through.
import { type Bus, connectBus } from '@trajectory/bus';
import type { Driver } from 'neo4j-driver';
import { resetBus } from './bus.js';
import type { TestNatsUser } from './nats.js';
import { clearGraph, testDriver } from './neo4j.js';
import { startTestServers, type TestServerOptions, type TestServers } from './servers.js';

export interface TestBus {
  servers: TestServers;
  /** A client connected as the user startTestBus was given. */
  bus: Bus;
}

/**
 * The test servers with an empty bus (resetBus) and a client on it that connects as `user` under
 * `clientName`: the set-up of a suite that publishes and consumes on NATS itself. The suite closes
 * the client, then stops the servers.
 */
export async function startTestBus(user: TestNatsUser, clientName: string, options: TestServerOptions = {}): Promise<TestBus> {
  const servers = await startTestServers(options);
  try {
    await resetBus(servers.nats);
    const bus = await connectBus(servers.nats.busOptions(user, clientName));
    return { servers, bus };
  } catch (err) {
    await servers.stop();
    throw err;
  }
}

/**
 * The test servers with an empty graph (clearGraph) and an empty bus (resetBus), and a driver on
 * their Neo4j: the set-up of a suite that runs the services against them. The suite closes the
 * driver, then stops the servers.
 */
export async function startEmptyServers(): Promise<{ servers: TestServers; driver: Driver }> {
  const servers = await startTestServers();
  const driver = testDriver(servers.neo4jUri, servers.neo4jAuth);
  try {
    await clearGraph(driver);
    await resetBus(servers.nats);
    return { servers, driver };
  } catch (err) {
    await driver.close();
    await servers.stop();
    throw err;
  }
}
