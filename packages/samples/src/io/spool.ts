// The build's spool: every conversation record, as a JSON line on disk, from the moment it is made
// until the dataset's files are written. What the build keeps in memory of a record is its head
// (records.ts RecordHead) and where its line lies; de-duplication, the eval split, the gates and
// the writers read a record back when they need its texts. A seed-sized history has 3.5 × 10⁵
// records, about 1 GB of JSON: held as objects they were most of the samples service's peak
// memory. Reads are synchronous `pread`s of one line, so the pure functions that take a `load`
// stay synchronous; the spool's file is in the page cache after it is written.
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { DatasetRecord, RecordHead } from '../records.js';

/** The head of a spooled record: where its line is, and what is kept of it. */
export interface SpooledHead extends RecordHead {
  /** Byte offset and length of its JSON in the spool. */
  at: number;
  bytes: number;
}

/** The head of a record: every field the build decides on without its texts. */
function headOf(record: DatasetRecord, at: number, bytes: number): SpooledHead {
  return {
    id: record.id,
    type: record.type,
    weight: record.weight,
    source: record.source,
    split: record.split,
    ...(record.tags ? { tags: record.tags } : {}),
    ...(record.type === 'trajectory' ? { relation: record.relation } : {}),
    at,
    bytes,
  };
}

export class RecordSpool {
  private fd: number | undefined;
  private size = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'wx+');
  }

  private get open(): number {
    if (this.fd === undefined) throw new Error(`the spool ${this.path} is closed`);
    return this.fd;
  }

  /** Appends records (one conversation's) and returns their heads, in order. */
  add(records: readonly DatasetRecord[]): SpooledHead[] {
    const heads: SpooledHead[] = [];
    const lines: Buffer[] = [];
    let at = this.size;
    for (const record of records) {
      const line = Buffer.from(JSON.stringify(record), 'utf8');
      heads.push(headOf(record, at, line.length));
      lines.push(line);
      at += line.length;
    }
    const data = Buffer.concat(lines);
    for (let done = 0; done < data.length; ) done += writeSync(this.open, data, done, data.length - done, this.size + done);
    this.size += data.length;
    return heads;
  }

  /** A spooled record as it now stands: its line, with the head's weight and split (normalised and drawn since). */
  read(head: SpooledHead): DatasetRecord {
    const data = Buffer.allocUnsafe(head.bytes);
    for (let done = 0; done < head.bytes; ) {
      const n = readSync(this.open, data, done, head.bytes - done, head.at + done);
      if (n === 0) throw new Error(`the spool ${this.path} ends before ${head.at + head.bytes}`);
      done += n;
    }
    const record = JSON.parse(data.toString('utf8')) as DatasetRecord;
    record.weight = head.weight;
    record.split = head.split;
    return record;
  }

  /** Closes and removes the spool's file. */
  async remove(): Promise<void> {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    await rm(this.path, { force: true });
  }
}
