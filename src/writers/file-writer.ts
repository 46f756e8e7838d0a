// A small synchronous buffered file writer: strings are gathered in memory up to FLUSH_BYTES and written with
// positional fs.writeSync calls. Synchronous writes keep the hot loop free of awaits and backpressure bookkeeping;
// memory stays bounded by the buffer. `truncate()` lets a sink start over (the timeline's fallback rerun).

import { closeSync, ftruncateSync, fsyncSync, openSync, writeSync } from 'node:fs';

/** Bytes gathered before each write(2). */
export const FLUSH_BYTES = 4 * 1024 * 1024;

export class BufferedFileWriter {
  private fd: number | undefined;
  private readonly buf: Buffer;
  private used = 0;
  private position = 0;
  /** Bytes written to the file so far (buffered bytes included). */
  get bytesWritten(): number {
    return this.position + this.used;
  }

  constructor(
    readonly path: string,
    bufferBytes: number = FLUSH_BYTES,
  ) {
    this.fd = openSync(path, 'w');
    this.buf = Buffer.allocUnsafe(bufferBytes);
  }

  write(text: string): void {
    if (this.fd === undefined) throw new Error(`write to closed file ${this.path}`);
    // A UTF-16 code unit becomes at most 3 UTF-8 bytes.
    const worst = text.length * 3;
    if (this.used + worst > this.buf.length) {
      this.flush();
      if (worst > this.buf.length) {
        this.writeAll(Buffer.from(text, 'utf8'));
        return;
      }
    }
    this.used += this.buf.write(text, this.used, 'utf8');
  }

  flush(): void {
    if (this.used === 0 || this.fd === undefined) return;
    this.writeAll(this.buf.subarray(0, this.used));
    this.used = 0;
  }

  private writeAll(bytes: Uint8Array): void {
    let off = 0;
    while (off < bytes.length) {
      const n = writeSync(this.fd as number, bytes, off, bytes.length - off, this.position);
      off += n;
      this.position += n;
    }
  }

  /** Drops buffered and written bytes: the file is empty again. */
  truncate(): void {
    if (this.fd === undefined) throw new Error(`truncate of closed file ${this.path}`);
    this.used = 0;
    ftruncateSync(this.fd, 0);
    this.position = 0;
  }

  /** Flushes and closes; idempotent. `sync` also fsyncs first. */
  close(sync = false): void {
    if (this.fd === undefined) return;
    try {
      this.flush();
      if (sync) fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }

  get closed(): boolean {
    return this.fd === undefined;
  }
}
