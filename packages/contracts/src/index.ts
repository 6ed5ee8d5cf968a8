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

/**
 * The name of an enum value without its proto prefix, lower-cased:
 * enumSuffix(ExportSource, ExportSource.EXPORT_SOURCE_CHATGPT, 'EXPORT_SOURCE_') === 'chatgpt'.
 */
export function enumSuffix(enumObject: Record<number, string>, value: number, prefix: string): string {
  const name = enumObject[value];
  if (name === undefined || !name.startsWith(prefix)) throw new Error(`${value} is not a ${prefix}* value`);
  return name.slice(prefix.length).toLowerCase();
}
