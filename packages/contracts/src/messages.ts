// The generated messages without gRPC, for browsers (`@trajectory/contracts/messages`): the same
// interfaces and proto3 JSON codecs (toJSON / fromJSON / fromPartial) as the main entry point,
// generated from the same proto/ without grpc-js or the binary codec, which a page cannot use.
export * from './gen/web/trajectory/v1/events.js';
export * from './gen/web/trajectory/v1/graph.js';
export * from './gen/web/trajectory/v1/ingestion.js';
export * from './gen/web/trajectory/v1/model.js';
export * from './gen/web/trajectory/v1/samples.js';
export * from './gen/web/trajectory/v1/training.js';
