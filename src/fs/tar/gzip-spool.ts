// Random access into a .tar.gz: the gzip stream is inflated once, sequentially, into an anonymous temporary file
// (created in os.tmpdir() or a directory the caller names, never beside the evidence, and unlinked before the first
// byte is written, so it disappears when its descriptor is closed, even if flotsam crashes), with a named size limit.
// Why not checkpoints: random access inside a deflate stream needs the 32 KiB window at each checkpoint, and
// node:zlib does not expose it (no inflateGetDictionary / inflatePrime), so re-inflating from a checkpoint is not
// possible without a second inflater. Why not memory: a live-response archive can hold gigabytes.
// The VFS API is synchronous, so inflation runs in a worker thread (node:zlib's streaming gunzip, bounded memory)
// while the calling thread blocks on Atomics.wait; a worker that makes no progress for SPOOL_STALL_MS is abandoned.
// References: RFC 1952 (gzip members, multi-member streams); Node.js worker_threads, Atomics.wait, zlib.createGunzip.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import * as zlib from 'node:zlib';
import { TarError } from './errors.js';

/** Default limit on the inflated size of a .tar.gz (the temporary file never grows past it). */
export const MAX_INFLATED_BYTES = 64 * 1024 * 1024 * 1024;
/** Longest time the inflating worker may make no progress before it is abandoned. */
export const SPOOL_STALL_MS = 120_000;

export const GZIP_MAGIC = [0x1f, 0x8b] as const;

export interface SpoolResult {
  /** Read-only descriptor of the (already unlinked) temporary file holding the inflated stream. */
  fd: number;
  /** Inflated bytes in it. */
  size: number;
  /** Why inflation stopped before the end of the gzip stream (truncated, corrupt, limit), if it did. */
  error?: string;
  limitReached: boolean;
}

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const zlib = require('node:zlib');
const state = new Int32Array(workerData.state);
const progress = new Float64Array(workerData.progress);
const { src, fd, limit, port } = workerData;
let written = 0;
let done = false;
function finish(code, message) {
  if (done) return;
  done = true;
  if (message !== undefined) port.postMessage({ message });
  progress[0] = written;
  Atomics.store(state, 0, code);
  Atomics.notify(state, 0);
}
try {
  const input = fs.createReadStream(src, { highWaterMark: 1 << 20 });
  const gunzip = zlib.createGunzip({ chunkSize: 1 << 20 });
  input.on('error', (e) => { finish(2, 'read: ' + e.message); gunzip.destroy(); });
  gunzip.on('error', (e) => { finish(2, 'gzip: ' + e.message); input.destroy(); });
  gunzip.on('data', (chunk) => {
    if (done) return;
    let c = chunk;
    if (written + c.length > limit) c = c.subarray(0, limit - written);
    let off = 0;
    while (off < c.length) off += fs.writeSync(fd, c, off, c.length - off, written + off);
    written += c.length;
    progress[0] = written;
    Atomics.add(state, 1, 1);
    if (c.length < chunk.length) { finish(3); input.destroy(); gunzip.destroy(); }
  });
  gunzip.on('end', () => finish(1));
  input.pipe(gunzip);
} catch (e) {
  finish(2, String(e && e.message));
}
`;

/** True when the bytes start with the gzip magic 1f 8b and deflate method 8. */
export function isGzip(head: Uint8Array): boolean {
  return head.length >= 3 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1] && head[2] === 8;
}

/**
 * Inflates the start of a gzip member from its first bytes (no I/O): at most `want` bytes, or fewer when the input
 * ends. Used by the probe; a damaged header gives an empty result.
 * RFC 1952 2.3: ID1 ID2 CM FLG MTIME(4) XFL OS, then FEXTRA (2-byte length), FNAME, FCOMMENT (NUL-terminated), FHCRC.
 */
export function inflateHead(head: Uint8Array, want: number): Uint8Array {
  if (!isGzip(head) || head.length < 10) return new Uint8Array(0);
  const flg = head[3] as number;
  let p = 10;
  if (flg & 0x04) {
    if (p + 2 > head.length) return new Uint8Array(0);
    p += 2 + ((head[p] as number) | ((head[p + 1] as number) << 8));
  }
  for (const bit of [0x08, 0x10]) {
    if (flg & bit) {
      while (p < head.length && head[p] !== 0) p++;
      p++;
    }
  }
  if (flg & 0x02) p += 2;
  if (p >= head.length) return new Uint8Array(0);
  try {
    // A deflate stream expands at most ~1032:1, so the output of this slice is bounded.
    const out = zlib.inflateRawSync(head.subarray(p), {
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
      maxOutputLength: Math.max(want, (head.length - p) * 1100 + 1024),
    });
    return new Uint8Array(out.buffer, out.byteOffset, Math.min(out.length, want));
  } catch {
    return new Uint8Array(0);
  }
}

/**
 * Inflates the gzip file at `src` into an unlinked temporary file in `tmpDir` (default os.tmpdir()) and returns its
 * read-only descriptor. Damage or the limit stop inflation: what was inflated is kept and `error` says why.
 * A folder where the file cannot be created (missing, not a folder, not writable) is a TarError `EIO` naming it.
 */
export function spoolGzip(src: string, opts: { tmpDir?: string; maxBytes?: number } = {}): SpoolResult {
  const limit = opts.maxBytes ?? MAX_INFLATED_BYTES;
  const base = opts.tmpDir ?? os.tmpdir();
  let fd: number;
  try {
    const dir = fs.mkdtempSync(nodePath.join(base, 'flotsam-tar-'));
    try {
      fd = fs.openSync(nodePath.join(dir, 'inflated.tar'), fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    } finally {
      // Unlinked at once: the data lives as long as the descriptor.
      fs.rmSync(dir, { recursive: true, force: true });
    }
  } catch (err) {
    throw new TarError('EIO', `cannot create the temporary file for the inflated archive in ${base}: ${(err as Error).message}`);
  }
  const state = new Int32Array(new SharedArrayBuffer(8));
  const progress = new Float64Array(new SharedArrayBuffer(8));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { state: state.buffer, progress: progress.buffer, src, fd, limit, port: port2 },
    transferList: [port2],
  });
  worker.unref();
  port1.unref();
  let error: string | undefined;
  let limitReached = false;
  try {
    let lastTick = Atomics.load(state, 1);
    let lastChange = Date.now();
    for (;;) {
      const s = Atomics.load(state, 0);
      if (s !== 0) {
        const msg = receiveMessageOnPort(port1);
        if (s === 2) error = (msg?.message as { message?: string } | undefined)?.message ?? 'inflate failed';
        if (s === 3) {
          limitReached = true;
          error = `inflated size reaches the limit of ${limit} bytes (MAX_INFLATED_BYTES); the rest of the archive is not read`;
        }
        break;
      }
      Atomics.wait(state, 0, 0, 1000);
      const tick = Atomics.load(state, 1);
      if (tick !== lastTick) {
        lastTick = tick;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > SPOOL_STALL_MS) {
        error = `inflation made no progress for ${SPOOL_STALL_MS} ms; abandoned`;
        break;
      }
    }
  } finally {
    void worker.terminate();
    port1.close();
  }
  const size = fs.fstatSync(fd).size;
  return { fd, size, error, limitReached };
}
