import { createHash } from 'node:crypto';
import { type MsgHdrs, nanos, headers as natsHeaders } from '@nats-io/nats-core';
import { type ObjectStore, Objm } from '@nats-io/obj';
import { ClaimCheck, type JsonCodec } from '@trajectory/contracts';
import { type Context, extractTraceContext, injectTraceContext } from '@trajectory/telemetry';
import type { Bus } from './connection.js';
import { BUCKETS, CLAIM_CHECK_HEADER } from './topology.js';

export { CLAIM_CHECK_HEADER };
export const CLAIM_BUCKET = BUCKETS.claims;
/**
 * Attempts of one publish: each waits up to the client's 5 s request timeout, so a publish rides
 * out about a minute of NATS being away before its caller sees the error.
 */
const PUBLISH_RETRIES = 12;
/** Room left under max_payload for headers and protocol framing. */
const HEADER_ROOM = 8 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

const headerSetter = { set: (h: MsgHdrs, key: string, value: string) => h.set(key, value) };
const headerGetter = {
  get: (h: MsgHdrs | undefined, key: string) => h?.get(key) || undefined,
  keys: (h: MsgHdrs | undefined) => (h ? h.keys() : []),
};

const claimStores = new WeakMap<Bus, Promise<ObjectStore>>();
function claimStore(bus: Bus): Promise<ObjectStore> {
  let store = claimStores.get(bus);
  if (!store) {
    store = new Objm(bus.nc).create(CLAIM_BUCKET, { ttl: nanos(30 * 24 * 60 * 60 * 1000) });
    claimStores.set(bus, store);
  }
  return store;
}

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface PublishResult {
  seq: number;
  duplicate: boolean;
  claimChecked: boolean;
}

/**
 * Publishes an event as proto3 JSON with the active trace context in its headers.
 * `msgId` makes the publish idempotent inside the stream's duplicate window. A payload the
 * server would refuse goes to the object store, and a small claim check travels instead.
 */
export async function publishEvent<T>(bus: Bus, subject: string, codec: JsonCodec<T>, event: T, msgId: string): Promise<PublishResult> {
  let data = encoder.encode(JSON.stringify(codec.toJSON(event)));
  const headers = natsHeaders();
  injectTraceContext(headers, headerSetter);
  let claimChecked = false;
  if (data.byteLength > bus.maxPayload - HEADER_ROOM) {
    const digest = sha256(data);
    const store = await claimStore(bus);
    // Content-addressed, so a retried publish overwrites the same object with the same bytes.
    await store.putBlob({ name: digest }, data);
    const claim: ClaimCheck = { bucket: CLAIM_BUCKET, object: digest, size: data.byteLength, sha256: digest };
    data = encoder.encode(JSON.stringify(ClaimCheck.toJSON(claim)));
    headers.set(CLAIM_CHECK_HEADER, '1');
    claimChecked = true;
  }
  // Through a NATS restart or leader change the library retries unanswered and unrouted
  // publishes with its backoff; the message id makes a retry of one that did land a no-op.
  const ack = await bus.js.publish(subject, data, { msgID: msgId, headers, retries: PUBLISH_RETRIES });
  return { seq: ack.seq, duplicate: ack.duplicate, claimChecked };
}

/** An event that can never be decoded: retrying it is pointless, it goes to the dead letters. */
export class PoisonMessageError extends Error {
  override name = 'PoisonMessageError';
}

/** Resolves a claim check if present, then parses proto3 JSON. */
export async function decodeEvent<T>(bus: Bus, codec: JsonCodec<T>, data: Uint8Array, headers: MsgHdrs | undefined): Promise<T> {
  let payload = data;
  if (headers?.get(CLAIM_CHECK_HEADER) === '1') {
    const claim = ClaimCheck.fromJSON(parseJson(payload));
    const store = await claimStore(bus);
    const blob = await store.getBlob(claim.object);
    if (!blob) throw new PoisonMessageError(`claim check ${claim.bucket}/${claim.object} points at nothing`);
    if (sha256(blob) !== claim.sha256) throw new PoisonMessageError(`claim check ${claim.object}: digest mismatch`);
    payload = blob;
  }
  return codec.fromJSON(parseJson(payload));
}

function parseJson(data: Uint8Array): unknown {
  let text: string;
  try {
    text = decoder.decode(data);
  } catch {
    throw new PoisonMessageError('payload is not UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new PoisonMessageError(`payload is not JSON: ${(err as Error).message}`);
  }
}

export function traceContextOf(headers: MsgHdrs | undefined): Context {
  return extractTraceContext(headers, headerGetter);
}
