// An output file filled through byte buffers and written in the background. The encoder writes straight into
// `buf` at `pos` (no intermediate strings); a full buffer is handed to an asynchronous positional write (libuv's
// thread pool) and encoding continues in a fresh buffer from a small pool. Memory stays bounded: the caller awaits
// `drain()` when more than MAX_IN_FLIGHT_BYTES are queued. Writes carry their file offset, so their completion
// order does not matter. The first write error is kept and thrown by the next `drain()`, `truncate()` or `close()`.
//
// Direct I/O: where the file system allows it, whole aligned blocks are written with O_DIRECT. Copying gigabytes
// into the page cache cost this 2-core machine 1.9 s of kernel CPU per GB (dd: 8.6 GB buffered, 16 s system
// time; O_DIRECT, 1 s), CPU the parser and printer need, and it evicts the analyst's cache for output nobody reads
// back soon. O_DIRECT needs the memory, the file offset and the length aligned: buffers come from WebAssembly
// memory (page-aligned by construction), each write covers whole DIRECT_IO_ALIGNMENT blocks and the partial last
// block is carried into the next buffer. The file's unaligned end goes through an ordinary descriptor. Any refusal
// (a file system without O_DIRECT, EINVAL on a write) falls back to ordinary writes for the rest of the file:
// the bytes are the same either way. The first DIRECT_IO_AFTER_BYTES of each file are written the ordinary way:
// a small output lands in the page cache at memory speed (even on a slow disk), and only a large one, which
// would fill the cache and be throttled to disk speed anyway, pays for the disk as it goes.

import { closeSync, constants, ftruncateSync, openSync, write } from 'node:fs';

/** Size of each pooled buffer. */
export const BYTE_WRITER_BUFFER_BYTES = 1024 * 1024;
/** Bytes queued for writing before `drain()` makes the caller wait. */
export const MAX_IN_FLIGHT_BYTES = 8 * 1024 * 1024;
/** File offsets, lengths and buffer addresses of direct writes are multiples of this (a page: right for disks
 * with 512-byte and 4 KiB sectors alike). */
export const DIRECT_IO_ALIGNMENT = 4096;
/** Bytes at the start of each file written through the page cache before direct I/O takes over. */
export const DIRECT_IO_AFTER_BYTES = 64 * 1024 * 1024;
/** Buffers per WebAssembly memory (one slab); more slabs are made if the pool runs dry. */
const BUFFERS_PER_SLAB = 12;
const WASM_PAGE_BYTES = 65536;

/** The one WebAssembly API used here (the project's type libraries do not declare WebAssembly). */
interface WasmMemoryConstructor {
  new (descriptor: { initial: number; maximum?: number }): { readonly buffer: ArrayBuffer };
}
const WasmMemory = (globalThis as unknown as { WebAssembly?: { Memory: WasmMemoryConstructor } }).WebAssembly?.Memory;

export interface ByteFileWriterOptions {
  /** 'auto' (default): O_DIRECT where the file system takes it; 'off': ordinary writes only. */
  directIo?: 'auto' | 'off';
  /** File offset from which direct I/O is used (default DIRECT_IO_AFTER_BYTES). */
  directIoAfterBytes?: number;
  /** Tests only: pooled buffers start this many bytes past a page boundary, so direct writes are refused. */
  misalignForTest?: number;
}

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

/** Page-aligned buffers of one size, from WebAssembly memories (their base is page-aligned); reused, never freed. */
class AlignedBufferPool {
  private readonly free: Buffer[] = [];
  private readonly aligned = new WeakSet<Buffer>();

  constructor(
    private readonly bufferBytes: number,
    private readonly shift: number = 0,
  ) {}

  /** A pooled buffer, or undefined when no WebAssembly memory can be had (the caller uses an ordinary one). */
  take(): Buffer | undefined {
    if (this.free.length === 0) this.addSlab();
    return this.free.pop();
  }

  /** Returns a buffer of this pool (isAligned) for reuse. */
  give(buf: Buffer): void {
    this.free.push(buf);
  }

  isAligned(buf: Buffer): boolean {
    return this.aligned.has(buf);
  }

  private addSlab(): void {
    const stride = Math.ceil(this.bufferBytes / DIRECT_IO_ALIGNMENT) * DIRECT_IO_ALIGNMENT;
    const pages = Math.ceil((stride * BUFFERS_PER_SLAB + this.shift) / WASM_PAGE_BYTES);
    let memory: { readonly buffer: ArrayBuffer };
    try {
      if (WasmMemory === undefined) return;
      memory = new WasmMemory({ initial: pages, maximum: pages });
    } catch {
      return; // no address space for it (ulimit -v): ordinary buffers and writes
    }
    for (let i = 0; i < BUFFERS_PER_SLAB; i++) {
      const buf = Buffer.from(memory.buffer, i * stride + this.shift, this.bufferBytes);
      this.aligned.add(buf);
      this.free.push(buf);
    }
  }
}

export class ByteFileWriter {
  /** The buffer being filled; the encoder writes bytes at `pos` after `ensure(n)`. */
  buf: Buffer;
  pos = 0;
  /** Ordinary descriptor: the unaligned end of the file, truncation, and every write when direct I/O is off. */
  private fd: number | undefined;
  /** O_DIRECT descriptor, while direct I/O works. */
  private directFd: number | undefined;
  /** Why direct I/O is not (or no longer) used; undefined while it is. */
  directIoOff: string | undefined;
  /** Bytes written with O_DIRECT so far. */
  directBytes = 0;
  /** File offset of buf[0] (a multiple of DIRECT_IO_ALIGNMENT while direct I/O is on). */
  private filePos = 0;
  private readonly pool: AlignedBufferPool;
  private readonly directFrom: number;
  private readonly plainPool: Buffer[] = [];
  private readonly pending = new Set<Promise<void>>();
  private pendingBytes = 0;
  private error: unknown = undefined;

  constructor(
    readonly path: string,
    private readonly bufferBytes: number = BYTE_WRITER_BUFFER_BYTES,
    options: ByteFileWriterOptions = {},
  ) {
    this.fd = openSync(path, 'w');
    this.pool = new AlignedBufferPool(bufferBytes, options.misalignForTest ?? 0);
    this.directFrom = options.directIoAfterBytes ?? DIRECT_IO_AFTER_BYTES;
    if (options.directIo === 'off') this.directIoOff = 'turned off';
    else if (bufferBytes < 2 * DIRECT_IO_ALIGNMENT) this.directIoOff = 'buffers too small';
    else if (constants.O_DIRECT === undefined) this.directIoOff = 'no O_DIRECT on this platform';
    else {
      try {
        this.directFd = openSync(path, constants.O_WRONLY | constants.O_DIRECT);
      } catch (err) {
        this.directIoOff = `O_DIRECT refused: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
      }
    }
    this.buf = this.newBuffer();
  }

  private get alignment(): number {
    return this.directFd === undefined ? 1 : DIRECT_IO_ALIGNMENT;
  }

  private newBuffer(): Buffer {
    if (this.directFd !== undefined) {
      const aligned = this.pool.take();
      if (aligned !== undefined) return aligned;
    }
    return this.plainPool.pop() ?? Buffer.allocUnsafe(this.bufferBytes);
  }

  private recycle(buf: Buffer): void {
    // Every standard buffer is reused: the pool never exceeds what drain() lets be in flight, and no buffer is
    // left for the garbage collector (external memory it frees late).
    if (this.pool.isAligned(buf)) this.pool.give(buf);
    else if (buf.length === this.bufferBytes) this.plainPool.push(buf);
  }

  /** Makes room for n contiguous bytes at `pos` (queues the current buffer when it is too full). */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.submit();
    if (this.pos + n > this.buf.length) {
      // One oversized row: an ordinary buffer (its blocks go through the ordinary descriptor); not pooled.
      const big = Buffer.allocUnsafe(this.pos + n);
      this.buf.copy(big, 0, 0, this.pos);
      this.recycle(this.buf);
      this.buf = big;
    }
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

  /** Queues the whole blocks of the current buffer; the partial last block moves to the start of a fresh one. */
  private submit(): void {
    if (this.fd === undefined) throw new Error(`write to closed file ${this.path}`);
    const length = this.pos - (this.pos % this.alignment);
    if (length === 0) return;
    const buf = this.buf;
    const at = this.filePos;
    this.filePos += length;
    this.track(this.writeBlocks(buf, length, at).then(() => this.recycle(buf)), length);
    this.buf = this.newBuffer();
    this.pos = this.pos - length;
    if (this.pos > 0) buf.copy(this.buf, 0, length, length + this.pos);
  }

  /** buf[0, length) at `at`: directly when buf is aligned and direct I/O still works, else the ordinary way. */
  private async writeBlocks(buf: Buffer, length: number, at: number): Promise<void> {
    const direct = this.directFd;
    if (direct !== undefined && at >= this.directFrom && this.pool.isAligned(buf)) {
      try {
        await writeAt(direct, buf, length, at);
        this.directBytes += length;
        return;
      } catch (err) {
        // EINVAL and friends: this file system will not take direct writes after all. Same bytes, other path.
        this.disableDirectIo(`direct write refused: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
    }
    if (this.fd === undefined) throw new Error(`write to closed file ${this.path}`);
    return writeAt(this.fd, buf, length, at);
  }

  private disableDirectIo(reason: string): void {
    if (this.directFd === undefined) return;
    // Writes already queued on it finish first; closeSync waits for nothing, so close once they are done.
    const fd = this.directFd;
    this.directFd = undefined;
    this.directIoOff = reason;
    void Promise.allSettled([...this.pending]).then(() => closeSync(fd));
  }

  private track(write: Promise<void>, length: number): void {
    this.pendingBytes += length;
    const tracked: Promise<void> = write
      .catch((err: unknown) => {
        this.error ??= err;
      })
      .finally(() => {
        this.pendingBytes -= length;
        this.pending.delete(tracked);
      });
    this.pending.add(tracked);
  }

  private throwIfFailed(): void {
    if (this.error !== undefined) throw this.error;
  }

  private async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Waits until at most `limit` bytes are queued. */
  async drain(limit: number = MAX_IN_FLIGHT_BYTES): Promise<void> {
    while (this.pendingBytes > limit && this.pending.size > 0) await Promise.race(this.pending);
    this.throwIfFailed();
  }

  /**
   * Writes everything buffered and waits for every write. The partial last block is written the ordinary way
   * and kept in the buffer: later bytes extend it, and its next write (whole, aligned) covers the same block.
   */
  async flush(): Promise<void> {
    this.submit();
    // Nothing fills the buffer before this returns, so the write can read it in place.
    if (this.pos > 0 && this.fd !== undefined) this.track(writeAt(this.fd, this.buf, this.pos, this.filePos), this.pos);
    await this.settle();
    this.throwIfFailed();
  }

  /** Drops everything written and buffered: the file is empty again. */
  async truncate(): Promise<void> {
    if (this.fd === undefined) throw new Error(`truncate of closed file ${this.path}`);
    this.pos = 0;
    await this.settle();
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
      await this.settle();
      closeSync(this.fd);
      this.fd = undefined;
      if (this.directFd !== undefined) closeSync(this.directFd);
      this.directFd = undefined;
    }
  }

  get closed(): boolean {
    return this.fd === undefined;
  }
}
