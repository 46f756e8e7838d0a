// An output file filled through byte buffers and written in the background. The encoder writes straight into
// `buf` at `pos` (no intermediate strings); a full buffer is handed to an asynchronous positional write (libuv's
// thread pool, so the kernel's copy into the page cache runs on the other core while encoding goes on) and
// encoding continues in a fresh buffer from a small pool. Memory stays bounded: the caller awaits `drain()` when
// more than MAX_IN_FLIGHT_BYTES are queued. Writes carry their file offset, so their completion order does not
// matter. The first write error is kept and thrown by the next `drain()`, `truncate()` or `close()`.

import { closeSync, ftruncateSync, openSync, write } from 'node:fs';

/** Size of each pooled buffer. */
export const BYTE_WRITER_BUFFER_BYTES = 1024 * 1024;
/** Bytes queued for writing before `drain()` makes the caller wait. */
export const MAX_IN_FLIGHT_BYTES = 8 * 1024 * 1024;

function writeAt(fd: number, buf: Buffer, length: number, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = 0;
    const step = (): void => {
      write(fd, buf, done, length - done, position + done, (err, n) => {
        if (err) return reject(err);
        done += n;
        if (done >= length) resolve();
        else if (n === 0) reject(new Error('write(2) wrote 0 bytes'));
        else step();
      });
    };
    step();
  });
}

export class ByteFileWriter {
  /** The buffer being filled; the encoder writes bytes at `pos` after `ensure(n)`. */
  buf: Buffer;
  pos = 0;
  private fd: number | undefined;
  /** File offset of buf[0]. */
  private filePos = 0;
  private readonly pool: Buffer[] = [];
  private readonly pending = new Set<Promise<void>>();
  private pendingBytes = 0;
  private error: unknown = undefined;

  constructor(
    readonly path: string,
    private readonly bufferBytes: number = BYTE_WRITER_BUFFER_BYTES,
  ) {
    this.fd = openSync(path, 'w');
    this.buf = Buffer.allocUnsafe(bufferBytes);
  }

  /** Makes room for n contiguous bytes at `pos` (queues the current buffer when it is too full). */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.submit();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n); // one oversized row; not pooled
  }

  /** ASCII text (every code unit < 0x80), after `ensure`. */
  ascii(s: string): void {
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** Bytes queued and not yet written. */
  get inFlightBytes(): number {
    return this.pendingBytes;
  }

  private submit(): void {
    if (this.pos === 0) return;
    if (this.fd === undefined) throw new Error(`write to closed file ${this.path}`);
    const buf = this.buf;
    const length = this.pos;
    const at = this.filePos;
    this.filePos += length;
    this.pendingBytes += length;
    const p: Promise<void> = writeAt(this.fd, buf, length, at).then(
      () => {
        // Every standard buffer is reused: the pool never exceeds what drain() lets be in flight, and no buffer
        // is left for the garbage collector (external memory it frees late).
        if (buf.length === this.bufferBytes) this.pool.push(buf);
      },
      (err: unknown) => {
        this.error ??= err;
      },
    );
    const tracked = p.finally(() => {
      this.pendingBytes -= length;
      this.pending.delete(tracked);
    });
    this.pending.add(tracked);
    this.buf = this.pool.pop() ?? Buffer.allocUnsafe(this.bufferBytes);
    this.pos = 0;
  }

  private throwIfFailed(): void {
    if (this.error !== undefined) throw this.error;
  }

  /** Waits until at most `limit` bytes are queued. */
  async drain(limit: number = MAX_IN_FLIGHT_BYTES): Promise<void> {
    while (this.pendingBytes > limit && this.pending.size > 0) await Promise.race(this.pending);
    this.throwIfFailed();
  }

  /** Queues the current buffer and waits for every write. */
  async flush(): Promise<void> {
    this.submit();
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    this.throwIfFailed();
  }

  /** Drops everything written and buffered: the file is empty again. */
  async truncate(): Promise<void> {
    if (this.fd === undefined) throw new Error(`truncate of closed file ${this.path}`);
    this.pos = 0;
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    this.throwIfFailed();
    ftruncateSync(this.fd, 0);
    this.filePos = 0;
  }

  /** Writes what is buffered and closes; idempotent. */
  async close(): Promise<void> {
    if (this.fd === undefined) return;
    try {
      await this.flush();
    } finally {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }

  get closed(): boolean {
    return this.fd === undefined;
  }
}
