import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ATTR_CONVERSATION_ID } from '@trajectory/telemetry';

/** One span as the collector's file exporter wrote it (OTLP JSON), with its service. */
export interface TraceSpan {
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  /** '' for a root. */
  parentSpanId: string;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, string | number | boolean>;
  /** Status code ERROR. */
  error: boolean;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: OtlpKeyValue[];
  status?: { code?: number };
}
interface OtlpTraceRequest {
  resourceSpans?: { resource?: { attributes?: OtlpKeyValue[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}

/** OTLP's status code for a failed span. */
const STATUS_ERROR = 2;

function attributeValue(value: OtlpValue | undefined): string | number | boolean | undefined {
  if (!value) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  return JSON.stringify(value);
}

function attributeMap(list: OtlpKeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) {
    const v = attributeValue(value);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/**
 * The spans of one line of the file exporter's output: one OTLP/JSON ExportTraceServiceRequest
 * (a line of metrics, or anything else, has none).
 */
export function spansOfLine(line: string): TraceSpan[] {
  const request = JSON.parse(line) as OtlpTraceRequest;
  const spans: TraceSpan[] = [];
  for (const resourceSpans of request.resourceSpans ?? []) {
    const service = String(attributeMap(resourceSpans.resource?.attributes)['service.name'] ?? 'unknown');
    for (const scope of resourceSpans.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        spans.push({
          service,
          name: span.name,
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId ?? '',
          startNs: BigInt(span.startTimeUnixNano),
          endNs: BigInt(span.endTimeUnixNano),
          attributes: attributeMap(span.attributes),
          error: span.status?.code === STATUS_ERROR,
        });
      }
    }
  }
  return spans;
}

const key = (traceId: string, spanId: string) => `${traceId}/${spanId}`;

/**
 * The spans of one conversation: those whose ATTR_CONVERSATION_ID names it, their ancestors (the
 * upload that carried it, which carries every conversation of the export), and what ran inside
 * them, except under a span that names another conversation. Each span once.
 */
export function conversationSpans(spans: TraceSpan[], conversationId: string): TraceSpan[] {
  const byId = new Map<string, TraceSpan>();
  const children = new Map<string, TraceSpan[]>();
  for (const span of spans) {
    const id = key(span.traceId, span.spanId);
    if (byId.has(id)) continue;
    byId.set(id, span);
    if (span.parentSpanId) {
      const parent = key(span.traceId, span.parentSpanId);
      children.set(parent, [...(children.get(parent) ?? []), span]);
    }
  }
  const selected = new Map<string, TraceSpan>();
  const expanded = new Set<string>();
  const names = (span: TraceSpan) => span.attributes[ATTR_CONVERSATION_ID];
  const addSubtree = (span: TraceSpan) => {
    const id = key(span.traceId, span.spanId);
    if (expanded.has(id)) return;
    expanded.add(id);
    selected.set(id, span);
    for (const child of children.get(id) ?? []) {
      const other = names(child);
      if (other === undefined || other === conversationId) addSubtree(child);
    }
  };
  for (const span of byId.values()) {
    if (names(span) !== conversationId) continue;
    addSubtree(span);
    for (let p = span.parentSpanId; p; ) {
      const parent = byId.get(key(span.traceId, p));
      if (!parent) break;
      selected.set(key(parent.traceId, parent.spanId), parent);
      p = parent.parentSpanId;
    }
  }
  return [...selected.values()];
}

interface TreeNode {
  span: TraceSpan;
  children: TreeNode[];
}

const byStart = (a: TreeNode, b: TreeNode) => (a.span.startNs < b.span.startNs ? -1 : a.span.startNs > b.span.startNs ? 1 : 0);

function formatNs(ns: bigint): string {
  const ms = Number(ns) / 1e6;
  if (ms === 0) return '0 ms';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1_000) return `${ms.toFixed(0)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(2)} s`;
  return `${Math.floor(ms / 60_000)} min ${((ms % 60_000) / 1_000).toFixed(0)} s`;
}

/**
 * The spans as one indented tree per trace, earliest first: each line the start offset from the
 * trace's first span, the duration, the service and the span name. A span whose parent is not
 * among them (not selected, or never exported: the CLI's own side of a call) is a root.
 */
export function formatTrace(spans: TraceSpan[]): string {
  const nodes = new Map<string, TreeNode>();
  for (const span of spans) nodes.set(key(span.traceId, span.spanId), { span, children: [] });
  const roots: TreeNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.span.parentSpanId ? nodes.get(key(node.span.traceId, node.span.parentSpanId)) : undefined;
    if (parent) parent.children.push(node);
    else roots.push(node);
  }
  const traces = new Map<string, TreeNode[]>();
  for (const root of roots.sort(byStart)) traces.set(root.span.traceId, [...(traces.get(root.span.traceId) ?? []), root]);

  const blocks: string[] = [];
  for (const [traceId, traceRoots] of traces) {
    const start = traceRoots[0]?.span.startNs ?? 0n;
    const count = spans.filter((s) => s.traceId === traceId).length;
    const at = new Date(Number(start / 1_000_000n)).toISOString();
    const lines = [`trace ${traceId} · ${at} · ${count} span${count === 1 ? '' : 's'}`];
    const rows: [string, string, string][] = [];
    const walk = (node: TreeNode, depth: number) => {
      const { span } = node;
      rows.push([
        `+${formatNs(span.startNs - start)}`,
        formatNs(span.endNs - span.startNs),
        `${'  '.repeat(depth)}${span.service}  ${span.name}${span.error ? '  ERROR' : ''}`,
      ]);
      for (const child of node.children.sort(byStart)) walk(child, depth + 1);
    };
    for (const root of traceRoots) walk(root, 0);
    const offsetWidth = Math.max(...rows.map((r) => r[0].length));
    const durationWidth = Math.max(...rows.map((r) => r[1].length));
    for (const [offset, duration, label] of rows)
      lines.push(`  ${offset.padStart(offsetWidth)}  ${duration.padStart(durationWidth)}  ${label}`);
    blocks.push(lines.join('\n'));
  }
  return blocks.join('\n\n');
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/**
 * Where the compose stack's collector writes: TRAJECTORY_TRACES_DIR taken from deploy/ as
 * docker compose takes it (deploy/docker-compose.yml), default deploy/traces.
 */
export function defaultTracesDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(REPO_ROOT, 'deploy', env.TRAJECTORY_TRACES_DIR || 'traces');
}

/**
 * Every span in the collector's trace files of `dir` (traces.jsonl and its rotated
 * traces-<time>.jsonl). A line that does not parse (the one being written) is counted, not fatal.
 */
export async function readTraceDir(dir: string): Promise<{ spans: TraceSpan[]; files: number; badLines: number }> {
  const entries = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
    throw new Error(`no folder ${dir}: the compose stack's collector creates it (TRAJECTORY_TRACES_DIR); or pass --dir`);
  });
  const names = entries.filter((name) => /^traces.*\.jsonl?$/.test(name)).sort();
  const spans: TraceSpan[] = [];
  let badLines = 0;
  for (const name of names) {
    const lines = createInterface({ input: createReadStream(join(dir, name), 'utf8'), crlfDelay: Number.POSITIVE_INFINITY });
    for await (const line of lines) {
      if (!line.trim()) continue;
      try {
        spans.push(...spansOfLine(line));
      } catch {
        badLines++;
      }
    }
  }
  return { spans, files: names.length, badLines };
}

/** `trajectory trace CONVERSATION_ID [--dir DIR]`: the conversation's spans as a tree. */
export async function traceConversation(conversationId: string, dir: string): Promise<string> {
  const { spans, files, badLines } = await readTraceDir(dir);
  if (files === 0) throw new Error(`no traces*.jsonl in ${dir}: is this the folder the collector writes (TRAJECTORY_TRACES_DIR)?`);
  const selected = conversationSpans(spans, conversationId);
  if (selected.length === 0) {
    throw new Error(
      `no span names conversation ${conversationId} (${ATTR_CONVERSATION_ID}) among ${spans.length} spans in ${files} file(s) of ${dir}` +
        `${badLines > 0 ? ` (${badLines} unreadable lines)` : ''}; the collector writes a second or two after the services export`,
    );
  }
  return formatTrace(selected);
}
