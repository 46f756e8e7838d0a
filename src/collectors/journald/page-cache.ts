// Positional reads of a journal file through a small cache of fixed-size pages, so the reader never holds the whole
// file in memory. Apart from reader.ts because it is the only part that touches the file: reading bytes, not
// parsing them.
import { Buffer } from 'node:buffer';
import type { VfsFile } from '../../fs/vfs.js';

/** Default page size and page count of the read cache (JournalReaderOptions.pageBytes / maxPages). */
export const PAGE_BYTES = 64 * 1024;
export const MAX_PAGES = 64;

/** Positional reads through a FIFO cache of fixed-size pages. */
export class PageCache {
  private readonly pages = new Map<number, Buffer>();

  constructor(
    private readonly file: VfsFile,
    readonly size: number,
    private readonly pageBytes: number,
    private readonly maxPages: number,
  ) {}

  private page(index: number): Buffer {
    let p = this.pages.get(index);
    if (p) return p;
    const start = index * this.pageBytes;
    const len = Math.min(this.pageBytes, this.size - start);
    p = Buffer.allocUnsafe(len);
    let got = 0;
    while (got < len) {
      const n = this.file.read(p, got, len - got, start + got);
      if (n <= 0) break;
      got += n;
    }
    if (got < len) p = p.subarray(0, got);
    if (this.pages.size >= this.maxPages) this.pages.delete(this.pages.keys().next().value as number);
    this.pages.set(index, p);
    return p;
  }

  /** `len` bytes at `off`, or undefined when they are not all in the file. The result may share memory with the
   *  cache: read it before the next call that could evict (callers copy what they keep). */
  read(off: number, len: number): Buffer | undefined {
    if (off < 0 || len < 0 || off + len > this.size) return undefined;
    const first = Math.floor(off / this.pageBytes);
    const last = Math.floor((off + len - 1) / this.pageBytes);
    if (len === 0) return Buffer.alloc(0);
    if (first === last) {
      const p = this.page(first);
      const s = off - first * this.pageBytes;
      return s + len <= p.length ? p.subarray(s, s + len) : undefined;
    }
    const out = Buffer.allocUnsafe(len);
    if (len > this.pageBytes * 4) {
      let got = 0;
      while (got < len) {
        const n = this.file.read(out, got, len - got, off + got);
        if (n <= 0) return undefined;
        got += n;
      }
      return out;
    }
    let done = 0;
    for (let i = first; i <= last; i++) {
      const p = this.page(i);
      const s = i === first ? off - first * this.pageBytes : 0;
      const n = Math.min(p.length - s, len - done);
      if (n <= 0) return undefined;
      p.copy(out, done, s, s + n);
      done += n;
    }
    return done === len ? out : undefined;
  }
}
