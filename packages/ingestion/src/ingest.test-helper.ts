import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConversationIngested } from '@trajectory/contracts';
import { ingestExport } from './io/ingest.js';
import type { Ledger, LedgerEntry } from './record.js';
import { createRedactor } from './redact.js';
import { DEFAULT_LIMITS, type IngestLimits } from './types.js';

/** A ledger over a Map: the KV bucket's contract without a server, for unit tests of the core. */
export function mapLedger(): Ledger & { entries: Map<string, LedgerEntry> } {
  const entries = new Map<string, LedgerEntry>();
  return {
    entries,
    get: async (id) => entries.get(id),
    put: async (id, entry) => {
      entries.set(id, entry);
    },
  };
}

/** Runs the whole ingest core over a file and collects what it would publish. */
export async function ingestFile(path: string, options: { fileName?: string; ledger?: Ledger; limits?: Partial<IngestLimits> } = {}) {
  const events: ConversationIngested[] = [];
  const msgIds: string[] = [];
  const result = await ingestExport({
    path,
    fileName: options.fileName ?? path.split('/').at(-1) ?? path,
    ingestId: 'test',
    redactor: createRedactor('secrets'),
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    ledger: options.ledger ?? mapLedger(),
    publish: async (event, msgId) => {
      events.push(event);
      msgIds.push(msgId);
      return { duplicate: false };
    },
  });
  const report = result.report;
  if (!report) throw new Error('no report');
  return { result, report, events, msgIds, conversations: events.map((e) => e.conversation).filter((c) => c !== undefined) };
}

export function tmpFile(content: string | Buffer, name = 'conversations.json'): string {
  const path = join(mkdtempSync(join(tmpdir(), 'ingest-test-')), name);
  writeFileSync(path, content);
  return path;
}

/** The smallest ChatGPT conversation: one user message `text`, with message id `<id>-m`. */
export const oneMessageConversation = (id: string, text: string, contentType = 'text') => ({
  id,
  title: id,
  create_time: 1700000000,
  current_node: 'm',
  mapping: {
    r: { id: 'r', message: null, parent: null, children: ['m'] },
    m: {
      id: 'm',
      parent: 'r',
      children: [],
      message: { id: `${id}-m`, author: { role: 'user' }, create_time: 1700000001, content: { content_type: contentType, parts: [text] } },
    },
  },
});
