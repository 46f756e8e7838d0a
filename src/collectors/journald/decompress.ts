// Decompression of journal DATA payloads, every output size bounded by a named limit.
// References: systemd/systemd src/basic/compress.c (compress_blob_xz: an .xz stream, LZMA_CHECK_NONE;
// compress_blob_lz4: le64 uncompressed size + one raw LZ4 block, decompress_blob_lz4 requires the block to inflate
// to exactly that size; compress_blob_zstd: one zstd frame with its content size); the LZ4 block format
// (lz4/lz4 doc/lz4_Block_format.md); RFC 8878 §3.1.1 (zstd frame header).
//
// ZSTD uses fzstd, XZ uses xz-decompress (WebAssembly behind a web ReadableStream, hence asynchronous). LZ4 is
// decoded here: lz4js.decompressBlock has no bounds checks (a match offset before the start reads zeros, writes past
// the output are dropped silently, and a run of 0xff length bytes makes it loop for ~255 × input bytes), so a
// hostile payload could make it spin; the 40-line decoder below rejects all three. lz4js (compressBlock) is used by
// the fixture script and cross-checked against this decoder in the tests.
import { Decompress as ZstdStream, decompress as zstdDecompress } from 'fzstd';
import xzPackage from 'xz-decompress';
import { MAX_DATA_DECOMPRESSED_BYTES, u32, u64 } from './format.js';

const { XzReadableStream } = xzPackage as { XzReadableStream: new (s: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array> };

export class DecompressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecompressError';
  }
}

/** systemd's LZ4 payload: le64 uncompressed size, then one LZ4 block that must inflate to exactly that size. */
export function decompressLz4Payload(payload: Uint8Array, maxBytes = MAX_DATA_DECOMPRESSED_BYTES): Uint8Array {
  if (payload.length < 8) throw new DecompressError(`LZ4 payload is ${payload.length} bytes, shorter than its 8-byte size prefix`);
  const size = u64(payload, 0);
  if (size > maxBytes) {
    throw new DecompressError(`LZ4 uncompressed size ${size} is over the limit ${maxBytes} (MAX_DATA_DECOMPRESSED_BYTES)`);
  }
  const out = new Uint8Array(size);
  const n = lz4DecodeBlock(payload.subarray(8), out);
  if (n !== size) throw new DecompressError(`LZ4 block inflated to ${n} bytes, its prefix says ${size}`);
  return out;
}

/** Decodes one raw LZ4 block into `dst`; returns the bytes written. Throws on any out-of-bounds reference. */
export function lz4DecodeBlock(src: Uint8Array, dst: Uint8Array): number {
  let s = 0;
  let d = 0;
  const sEnd = src.length;
  const dEnd = dst.length;
  while (s < sEnd) {
    const token = src[s++];
    let lit = token >>> 4;
    if (lit === 15) {
      let b: number;
      do {
        if (s >= sEnd) throw new DecompressError('LZ4 literal length runs past the end of the block');
        b = src[s++];
        lit += b;
      } while (b === 255);
    }
    if (s + lit > sEnd) throw new DecompressError(`LZ4 literals (${lit} bytes at ${s}) run past the end of the block`);
    if (d + lit > dEnd) throw new DecompressError(`LZ4 output exceeds the declared ${dEnd} bytes`);
    dst.set(src.subarray(s, s + lit), d);
    s += lit;
    d += lit;
    if (s >= sEnd) break; // the last sequence has literals only
    if (s + 2 > sEnd) throw new DecompressError('LZ4 match offset cut by the end of the block');
    const off = src[s] | (src[s + 1] << 8);
    s += 2;
    if (off === 0 || off > d) throw new DecompressError(`LZ4 match offset ${off} points before the start of the output (at ${d})`);
    let len = token & 15;
    if (len === 15) {
      let b: number;
      do {
        if (s >= sEnd) throw new DecompressError('LZ4 match length runs past the end of the block');
        b = src[s++];
        len += b;
      } while (b === 255);
    }
    len += 4;
    if (d + len > dEnd) throw new DecompressError(`LZ4 output exceeds the declared ${dEnd} bytes`);
    if (off >= len) {
      dst.copyWithin(d, d - off, d - off + len);
      d += len;
    } else {
      for (let i = 0; i < len; i++, d++) dst[d] = dst[d - off];
    }
  }
  return d;
}

/** What the first zstd frame header declares (RFC 8878 §3.1.1.1): content size (when present), window size. */
export function zstdFrameHeader(b: Uint8Array): { contentSize?: number; windowSize: number } {
  if (b.length < 6 || u32(b, 0) !== 0xfd2fb528) throw new DecompressError('ZSTD payload does not start with the frame magic 28 b5 2f fd');
  const fhd = b[4];
  const fcsFlag = fhd >>> 6;
  const singleSegment = (fhd >>> 5) & 1;
  const dictFlag = fhd & 3;
  let windowSize = 0;
  if (!singleSegment) {
    const wd = b[5];
    const base = 2 ** (10 + (wd >>> 3));
    windowSize = base + (base / 8) * (wd & 7);
  }
  const p = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][dictFlag];
  const fcsSize = fcsFlag === 0 ? (singleSegment ? 1 : 0) : [0, 2, 4, 8][fcsFlag];
  if (p + fcsSize > b.length) throw new DecompressError('ZSTD frame header is cut');
  let contentSize: number | undefined;
  if (fcsSize === 1) contentSize = b[p];
  else if (fcsSize === 2) contentSize = (b[p] | (b[p + 1] << 8)) + 256;
  else if (fcsSize === 4) contentSize = u32(b, p);
  else if (fcsSize === 8) contentSize = u64(b, p);
  if (singleSegment) windowSize = contentSize ?? 0;
  return { contentSize, windowSize };
}

/**
 * One zstd frame through fzstd. fzstd sizes its output from the frame header (the content size, else the window),
 * so both are checked against the limit before it allocates anything.
 */
export function decompressZstdPayload(payload: Uint8Array, maxBytes = MAX_DATA_DECOMPRESSED_BYTES): Uint8Array {
  const { contentSize: declared, windowSize } = zstdFrameHeader(payload);
  if (declared !== undefined && declared > maxBytes) {
    throw new DecompressError(`ZSTD content size ${declared} is over the limit ${maxBytes} (MAX_DATA_DECOMPRESSED_BYTES)`);
  }
  if (windowSize > maxBytes) {
    throw new DecompressError(`ZSTD window size ${windowSize} is over the limit ${maxBytes} (MAX_DATA_DECOMPRESSED_BYTES)`);
  }
  if (declared !== undefined) {
    let out: Uint8Array;
    try {
      out = zstdDecompress(payload);
    } catch (err) {
      throw new DecompressError(`ZSTD frame damaged: ${(err as Error).message}`);
    }
    if (out.length !== declared) throw new DecompressError(`ZSTD frame inflated to ${out.length} bytes, its header says ${declared}`);
    return out;
  }
  // No declared size (systemd always writes one): stream with a running total.
  const parts: Uint8Array[] = [];
  let total = 0;
  const stream = new ZstdStream((chunk) => {
    total += chunk.length;
    if (total > maxBytes) throw new DecompressError(`ZSTD output is over the limit ${maxBytes} (MAX_DATA_DECOMPRESSED_BYTES)`);
    parts.push(chunk.slice());
  });
  try {
    stream.push(payload, true);
  } catch (err) {
    if (err instanceof DecompressError) throw err;
    throw new DecompressError(`ZSTD frame damaged: ${(err as Error).message}`);
  }
  return concat(parts, total);
}

/** XZ through xz-decompress (asynchronous: a WebAssembly decoder behind a web stream). */
export async function decompressXzPayload(payload: Uint8Array, maxBytes = MAX_DATA_DECOMPRESSED_BYTES): Promise<Uint8Array> {
  const input = new Blob([payload]).stream() as ReadableStream<Uint8Array>;
  const reader = new XzReadableStream(input).getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new DecompressError(`XZ output is over the limit ${maxBytes} (MAX_DATA_DECOMPRESSED_BYTES)`);
      }
      parts.push(value.slice());
    }
  } catch (err) {
    if (err instanceof DecompressError) throw err;
    throw new DecompressError(`XZ stream damaged: ${err instanceof Error ? err.message : String(err)}`);
  }
  return concat(parts, total);
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let p = 0;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}
