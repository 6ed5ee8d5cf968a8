// The gateway's JSON API (apps/web/src/server/gateway.ts). Its answers are the services' messages
// in proto3 JSON, read here with the same generated codecs the gateway wrote them with.
import {
  ConversationGraph,
  DatasetManifest,
  type DatasetSummary,
  DrawSpotCheckRequest,
  ListDatasetsResponse,
  RecordVerdictRequest,
  RefinementChainView,
  SpotCheckDraw,
  SpotCheckStatus,
  type SpotCheckVerdict,
} from '@trajectory/contracts/messages';

/** Where the page keeps the gateway's token (TRAJECTORY_WEB_TOKEN) for this tab, when it needs one. */
export const TOKEN_KEY = 'trajectory-web-token';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function call(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.set('authorization', `Bearer ${token}`);
  const res = await fetch(path, { ...init, headers });
  if (!res.ok) {
    const body = (await res.json().catch(() => undefined)) as { error?: string } | undefined;
    throw new ApiError(res.status, body?.error ?? `${res.status} ${res.statusText}`);
  }
  return res;
}

interface Codec<T> {
  fromJSON(object: unknown): T;
}

const get = async <T>(path: string, codec: Codec<T>): Promise<T> => codec.fromJSON(await (await call(path)).json());

const post = async <T>(path: string, body: unknown, codec: Codec<T>): Promise<T> =>
  codec.fromJSON(
    await (await call(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json(),
  );

const dataset = (id: string) => `/api/datasets/${encodeURIComponent(id)}`;

export const api = {
  datasets: async (): Promise<DatasetSummary[]> => (await get('/api/datasets', ListDatasetsResponse)).datasets,
  dataset: (id: string) => get(dataset(id), DatasetManifest),
  /** The report's tables as `npm start` prints them. */
  report: async (id: string) => (await call(`${dataset(id)}/report`)).text(),
  spotCheck: (id: string) => get(`${dataset(id)}/spot-check`, SpotCheckStatus),
  /** The stored draw, or a first one (seed 1, 100 records). */
  draw: (id: string, request: Partial<DrawSpotCheckRequest> = {}) =>
    post(
      `${dataset(id)}/spot-check/draw`,
      DrawSpotCheckRequest.toJSON(DrawSpotCheckRequest.fromPartial({ ...request, datasetId: id })),
      SpotCheckDraw,
    ),
  verdict: (id: string, recordId: string, verdict: SpotCheckVerdict, reason = '') =>
    post(`${dataset(id)}/spot-check/verdicts`, RecordVerdictRequest.toJSON({ datasetId: id, recordId, verdict, reason }), SpotCheckStatus),
  chains: async (order: 'longest' | 'recent' | 'oldest', tag: string, limit: number): Promise<RefinementChainView[]> => {
    const query = new URLSearchParams({ order, tag, limit: String(limit) });
    const list = (await (await call(`/api/chains?${query}`)).json()) as unknown[];
    return list.map((c) => RefinementChainView.fromJSON(c));
  },
  conversation: (id: string) => get(`/api/conversations/${encodeURIComponent(id)}`, ConversationGraph),
};
