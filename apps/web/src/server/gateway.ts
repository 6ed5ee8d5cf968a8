import { createHash, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { status as grpcStatus } from '@grpc/grpc-js';
import {
  ChainOrder,
  ConversationGraph,
  DatasetManifest,
  DrawSpotCheckRequest,
  ListDatasetsResponse,
  RecordVerdictRequest,
  RefinementChainView,
  SpotCheckDraw,
  SpotCheckStatus,
} from '@trajectory/contracts';
import { formatDatasetReport } from '@trajectory/samples';
import type { Logger } from '@trajectory/telemetry';
import type { Backends } from './backends.js';

/*
 * The HTTP side of the page: its built files, and a JSON API whose answers are the services'
 * messages in proto3 JSON (the generated toJSON), which the page reads back with the same
 * generated fromJSON (@trajectory/contracts/messages). The gateway is the only holder of the
 * services' gRPC token.
 */

export interface GatewayOptions {
  backends: Backends;
  /** The built page (dist/page): index.html and its assets. */
  pageDir: string;
  /** When set, every /api call must carry `authorization: Bearer <token>` (a gateway off loopback). */
  token?: string | undefined;
  /**
   * The Host headers accepted (HOST:PORT), when the gateway listens on loopback: a page of another
   * site that rebinds its DNS name to 127.0.0.1 still sends its own name, and is refused.
   */
  allowedHosts?: ReadonlySet<string> | undefined;
  logger?: Logger | undefined;
}

/** An HTTP error with the status it answers. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The HTTP status of a failed gRPC call: the service's answer where it has an HTTP meaning. */
export function httpStatusOf(err: unknown): number {
  if (err instanceof HttpError) return err.status;
  switch ((err as { code?: unknown }).code) {
    case grpcStatus.NOT_FOUND:
      return 404;
    case grpcStatus.INVALID_ARGUMENT:
    case grpcStatus.OUT_OF_RANGE:
      return 400;
    case grpcStatus.FAILED_PRECONDITION:
    case grpcStatus.ALREADY_EXISTS:
      return 409;
    case grpcStatus.UNAVAILABLE:
    case grpcStatus.DEADLINE_EXCEEDED:
      return 503;
    default:
      return 502;
  }
}

/** The message of a failed call, without grpc-js's "5 NOT_FOUND: " prefix. */
const messageOf = (err: unknown) => {
  const e = err as { details?: unknown; message?: unknown };
  return typeof e.details === 'string' && e.details ? e.details : String(e.message ?? err);
};

/** `?order=` of the chains list: longest, recent, or oldest (the default). */
export function chainOrderOf(value: string | null): ChainOrder {
  switch (value ?? '') {
    case 'longest':
      return ChainOrder.CHAIN_ORDER_LONGEST;
    case 'recent':
      return ChainOrder.CHAIN_ORDER_RECENT;
    case '':
    case 'oldest':
      return ChainOrder.CHAIN_ORDER_UNSPECIFIED;
    default:
      throw new HttpError(400, `order=${value}: expected longest, recent or oldest`);
  }
}

const MAX_BODY_BYTES = 64 * 1024;

async function readJson(req: IncomingMessage): Promise<unknown> {
  // A JSON content type is what keeps another site's page from posting here: a cross-origin
  // request with it needs a CORS preflight, which this server never grants.
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) throw new HttpError(415, 'expected content-type: application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw new HttpError(400, 'the request body is not JSON');
  }
}

type Answer = { json: unknown } | { text: string };

interface Route {
  method: 'GET' | 'POST';
  path: RegExp;
  handle(match: string[], url: URL, req: IncomingMessage): Promise<Answer>;
}

function routes(b: Backends): Route[] {
  const id = (match: string[]) => decodeURIComponent(match[1] ?? '');
  return [
    { method: 'GET', path: /^\/api\/datasets$/, handle: async () => ({ json: ListDatasetsResponse.toJSON(await b.listDatasets()) }) },
    {
      method: 'GET',
      path: /^\/api\/datasets\/([^/]+)$/,
      handle: async (m) => ({ json: DatasetManifest.toJSON(await b.getDataset(id(m))) }),
    },
    // The report's tables exactly as `npm start` and `trajectory dataset` print them.
    {
      method: 'GET',
      path: /^\/api\/datasets\/([^/]+)\/report$/,
      handle: async (m) => ({ text: formatDatasetReport(await b.getDataset(id(m))) }),
    },
    {
      method: 'GET',
      path: /^\/api\/datasets\/([^/]+)\/spot-check$/,
      handle: async (m) => ({ json: SpotCheckStatus.toJSON(await b.getSpotCheck(id(m))) }),
    },
    {
      method: 'POST',
      path: /^\/api\/datasets\/([^/]+)\/spot-check\/draw$/,
      handle: async (m, _url, req) => {
        const request = DrawSpotCheckRequest.fromJSON(await readJson(req));
        return { json: SpotCheckDraw.toJSON(await b.drawSpotCheck({ ...request, datasetId: id(m) })) };
      },
    },
    {
      method: 'POST',
      path: /^\/api\/datasets\/([^/]+)\/spot-check\/verdicts$/,
      handle: async (m, _url, req) => {
        const request = RecordVerdictRequest.fromJSON(await readJson(req));
        return { json: SpotCheckStatus.toJSON(await b.recordVerdict({ ...request, datasetId: id(m) })) };
      },
    },
    {
      method: 'GET',
      path: /^\/api\/chains$/,
      handle: async (_m, url) => {
        const limit = Number(url.searchParams.get('limit') ?? 0);
        if (!Number.isInteger(limit) || limit < 0) throw new HttpError(400, 'limit: expected a whole number');
        const chains = await b.listRefinementChains({
          minLength: 0,
          maxLength: 0,
          tag: url.searchParams.get('tag') ?? '',
          limit,
          order: chainOrderOf(url.searchParams.get('order')),
        });
        return { json: chains.map((c) => RefinementChainView.toJSON(c)) };
      },
    },
    {
      method: 'GET',
      path: /^\/api\/conversations\/([^/]+)$/,
      handle: async (m) => ({ json: ConversationGraph.toJSON(await b.getConversationGraph(id(m))) }),
    },
  ];
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.map': 'application/json',
  '.ico': 'image/x-icon',
  '.png': 'image/png',
};

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // No framing: keys pressed in a framed page would judge records.
  'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
};

const digest = (value: string) => createHash('sha256').update(value).digest();

/** The gateway's request handler: API routes under /api, else the built page (index.html for the page's own routes). */
export function gatewayHandler(options: GatewayOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const table = routes(options.backends);
  const expected = options.token ? digest(options.token) : undefined;

  const send = (res: ServerResponse, status: number, body: string, type: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'cache-control': 'no-store', ...headers });
    res.end(body);
  };
  const sendError = (res: ServerResponse, status: number, message: string) =>
    send(res, status, JSON.stringify({ error: message }), 'application/json; charset=utf-8');

  async function api(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (expected) {
      const given = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
      if (given === undefined || !timingSafeEqual(digest(given), expected)) {
        sendError(res, 401, 'this gateway requires its token (TRAJECTORY_WEB_TOKEN) as `authorization: Bearer <token>`');
        return;
      }
    }
    const matching = table.filter((r) => r.path.test(url.pathname));
    const route = matching.find((r) => r.method === req.method);
    if (!route) {
      sendError(res, matching.length > 0 ? 405 : 404, `${req.method} ${url.pathname}: no such API call`);
      return;
    }
    try {
      const answer = await route.handle(route.path.exec(url.pathname) ?? [], url, req);
      if ('text' in answer) send(res, 200, answer.text, 'text/plain; charset=utf-8');
      else send(res, 200, JSON.stringify(answer.json), 'application/json; charset=utf-8');
    } catch (err) {
      const status = httpStatusOf(err);
      if (status >= 500) options.logger?.warn({ err: messageOf(err), path: url.pathname }, 'API call failed');
      sendError(res, status, messageOf(err));
    }
  }

  async function page(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendError(res, 405, `${req.method}: the page is read with GET`);
      return;
    }
    // The page's own routes (/spot-check, /chains, ...) have no file: they get index.html.
    let relative = '/index.html';
    try {
      if (extname(url.pathname)) relative = decodeURIComponent(url.pathname);
    } catch {
      sendError(res, 400, 'bad path');
      return;
    }
    const file = normalize(join(options.pageDir, relative));
    if (!file.startsWith(options.pageDir + sep)) {
      sendError(res, 404, 'not found');
      return;
    }
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) {
      sendError(res, 404, relative === '/index.html' ? `the page is not built: no ${file} (npm run build)` : `${relative}: not found`);
      return;
    }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': info.size,
      // Vite names assets by content hash: they never change; index.html names the current ones.
      'cache-control': relative.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  }

  return (req, res) => {
    const host = req.headers.host ?? '';
    if (options.allowedHosts && !options.allowedHosts.has(host.toLowerCase())) {
      sendError(res, 421, `Host ${JSON.stringify(host)} is not this gateway's address`);
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://gateway');
    } catch {
      sendError(res, 400, 'bad request URL');
      return;
    }
    const work = url.pathname === '/api' || url.pathname.startsWith('/api/') ? api(req, res, url) : page(req, res, url);
    work.catch((err: unknown) => {
      options.logger?.error({ err: messageOf(err), path: url.pathname }, 'request failed');
      if (!res.headersSent) sendError(res, 500, 'internal error');
      else res.destroy();
    });
  };
}
