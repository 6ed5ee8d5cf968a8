import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { ConnectionOptions, NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { ensureStreams } from './topology.js';

export interface BusOptions {
  url: string;
  name: string;
  user?: string | undefined;
  password?: string | undefined;
  token?: string | undefined;
}

export interface Bus {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** Largest message the server accepts, in bytes. */
  maxPayload: number;
  /** Drains subscriptions and pending publishes, then closes. */
  close(): Promise<void>;
}

/** Connects to NATS, declares the streams, and hands back the clients every service uses. */
export async function connectBus(options: BusOptions): Promise<Bus> {
  const connectOptions: ConnectionOptions = {
    servers: options.url.split(','),
    name: options.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
  };
  if (options.user) connectOptions.user = options.user;
  if (options.password) connectOptions.pass = options.password;
  if (options.token) connectOptions.token = options.token;
  let nc: NatsConnection;
  try {
    nc = await connect(connectOptions);
  } catch (err) {
    throw new Error(`cannot connect to NATS at ${options.url}: ${(err as Error).message}`, { cause: err });
  }
  const jsm = await jetstreamManager(nc);
  await ensureStreams(jsm);
  return {
    nc,
    js: jetstream(nc),
    jsm,
    maxPayload: nc.info?.max_payload ?? 1024 * 1024,
    async close() {
      if (!nc.isClosed()) await nc.drain().catch(() => nc.close());
    },
  };
}
