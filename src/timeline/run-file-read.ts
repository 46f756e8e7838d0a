// Reading a run file back (the format is described in run-file.ts): records are parsed from a buffer refilled in
// RUN_READ_CHUNK reads (less when one merge reads many runs: runReadFor); a record longer than the buffer gets a
// buffer of its own size.

import { Buffer } from 'node:buffer';
import { open } from 'node:fs/promises';
import type { TimelineEvent } from '../events/event.js';
import {
  Flag,
  Kind,
  MAX_RUN_RECORD_BYTES,
  reviveBigints,
  RUN_BATCH,
  RUN_READ_CHUNK,
  RunFileError,
  type RunReadShare,
} from './run-file-format.js';

/** Decodes the records of one run file; `at` walks the current buffer. */
class RunDecoder {
  private strings: string[] = [''];
  private attrs: Array<Record<string, unknown>> = [];
  buf: Buffer = Buffer.alloc(0);
  at = 0;

  constructor(private readonly path: string) {}

  private fail(reason: string): never {
    throw new RunFileError(this.path, reason);
  }

  private text(): string {
    const buf = this.buf;
    const enc = buf[this.at];
    const n = buf.readUInt32LE(this.at + 1);
    const s = this.at + 5;
    this.at = s + n;
    return enc === 0 ? buf.toString('utf8', s, s + n) : buf.toString('utf16le', s, s + n);
  }

  private u32(): number {
    const v = this.buf.readUInt32LE(this.at);
    this.at += 4;
    return v;
  }

  private str(): string {
    const s = this.strings[this.u32()];
    if (s === undefined) this.fail('names a string it never defined');
    return s;
  }

  private json(bigint: boolean): Record<string, unknown> {
    const v = JSON.parse(this.text()) as Record<string, unknown>;
    return bigint ? (reviveBigints(v) as Record<string, unknown>) : v;
  }

  /** The record from `at` to `end`; an event, or undefined for a definition. */
  record(end: number): TimelineEvent | undefined {
    const buf = this.buf;
    const kind = buf[this.at++];
    if (kind === Kind.string) {
      this.strings.push(this.text());
      return undefined;
    }
    if (kind === Kind.attrs) {
      const bigint = buf[this.at++] === 1;
      this.attrs.push(Object.freeze(this.json(bigint)));
      return undefined;
    }
    if (kind === Kind.reset) {
      this.strings = [''];
      this.attrs = [];
      return undefined;
    }
    if (kind !== Kind.event) this.fail(`unknown record kind ${kind}`);
    const flags = buf.readUInt16LE(this.at);
    this.at += 2;
    let time: bigint;
    if (flags & Flag.timeText) time = BigInt(this.text());
    else {
      time = buf.readBigInt64LE(this.at);
      this.at += 8;
    }
    const timestamp_desc = this.str();
    const source = this.str();
    const host = this.str();
    const container_id = flags & Flag.containerId ? this.str() : undefined;
    const container_name = flags & Flag.containerName ? this.str() : undefined;
    const path = this.str();
    let inode: bigint | undefined;
    if (flags & Flag.inode) {
      inode = buf.readBigUInt64LE(this.at);
      this.at += 8;
    } else if (flags & Flag.inodeText) inode = BigInt(this.text());
    let line: number | undefined;
    let offset: number | undefined;
    if (flags & Flag.line) {
      line = buf.readDoubleLE(this.at);
      this.at += 8;
    }
    if (flags & Flag.offset) {
      offset = buf.readDoubleLE(this.at);
      this.at += 8;
    }
    const message = this.text();
    const raw_time = this.text();
    const ev: TimelineEvent = { time, timestamp_desc, source, host, message, path, raw_time };
    if (container_id !== undefined) ev.container_id = container_id;
    if (container_name !== undefined) ev.container_name = container_name;
    if (inode !== undefined) ev.inode = inode;
    if (line !== undefined) ev.line = line;
    if (offset !== undefined) ev.offset = offset;
    if (flags & Flag.attrsId) {
      const id = this.u32();
      const a = this.attrs[id - 1];
      if (a === undefined) this.fail('names attrs it never defined');
      ev.attrs = a;
    } else if (flags & Flag.attrsInline) {
      const bigint = buf[this.at++] === 1;
      ev.attrs = this.json(bigint);
    }
    if (this.at !== end) this.fail('a record does not end where its length says');
    return ev;
  }
}

/** Streams a run file back as batches of events (runReadFor gives the sizes when one merge reads many runs). */
export async function* readRun(
  path: string,
  share: RunReadShare = { batchEvents: RUN_BATCH, readBytes: RUN_READ_CHUNK },
): AsyncGenerator<TimelineEvent[], void, undefined> {
  const { batchEvents, readBytes } = share;
  if (!Number.isInteger(batchEvents) || batchEvents < 1) throw new RangeError(`batchEvents ${batchEvents}, expected an integer >= 1`);
  if (!Number.isInteger(readBytes) || readBytes < 4) throw new RangeError(`readBytes ${readBytes}, expected an integer >= 4`);
  const fh = await open(path, 'r');
  try {
    const dec = new RunDecoder(path);
    let buf = Buffer.allocUnsafe(readBytes);
    let start = 0;
    let end = 0;
    let batch: TimelineEvent[] = [];
    for (;;) {
      // Parse every whole record in buf[start, end).
      dec.buf = buf;
      while (end - start >= 4) {
        const len = buf.readUInt32LE(start);
        if (len < 1 || len > MAX_RUN_RECORD_BYTES) throw new RunFileError(path, `record length ${len}`);
        if (end - start - 4 < len) break;
        dec.at = start + 4;
        const ev = dec.record(start + 4 + len);
        start += 4 + len;
        if (ev !== undefined && batch.push(ev) >= batchEvents) {
          yield batch;
          batch = [];
        }
      }
      // Keep the partial record, in a larger buffer when it does not fit.
      const need = end - start >= 4 ? 4 + buf.readUInt32LE(start) : readBytes;
      if (start > 0 || need > buf.length) {
        const next = need > buf.length ? Buffer.allocUnsafe(Math.max(need, readBytes)) : buf;
        buf.copy(next, 0, start, end);
        end -= start;
        start = 0;
        buf = next;
      }
      const { bytesRead } = await fh.read(buf, end, buf.length - end, null);
      if (bytesRead === 0) break;
      end += bytesRead;
    }
    if (end > start) throw new RunFileError(path, `${end - start} bytes of a cut record at its end`);
    if (batch.length > 0) yield batch;
  } finally {
    await fh.close();
  }
}
