// The one import point for generated contracts; everything here comes from proto/ via ts-proto.
export * from './gen/trajectory/v1/events.js';
export * from './gen/trajectory/v1/graph.js';
export * from './gen/trajectory/v1/ingestion.js';
export * from './gen/trajectory/v1/model.js';
export * from './gen/trajectory/v1/samples.js';
export * from './gen/trajectory/v1/training.js';

/** What every generated message offers for proto3 JSON, the wire form of events. */
export interface JsonCodec<T> {
  fromJSON(object: unknown): T;
  toJSON(message: T): unknown;
}
