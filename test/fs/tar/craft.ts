// A tiny tar writer for hostile test archives: every field can be set to any bytes, the checksum is recomputed
// unless told otherwise. Only for tests; real archives come from GNU tar (fixtures.ts).
import { POSIX_HEADER } from '../../../src/fs/tar/structs.js';

export interface CraftMember {
  name: string;
  type?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  /** Raw size field bytes (12), overriding `size` in the header only. */
  sizeField?: Uint8Array;
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  data?: Uint8Array | string;
  magic?: 'ustar' | 'gnu' | 'v7';
  badChecksum?: boolean;
}

const enc = new TextEncoder();

function putString(b: Uint8Array, off: number, len: number, s: string): void {
  const bytes = enc.encode(s);
  b.set(bytes.subarray(0, len), off);
}

function putOctal(b: Uint8Array, off: number, len: number, v: number): void {
  putString(b, off, len, v.toString(8).padStart(len - 1, '0') + '\0');
}

export function header(m: CraftMember, dataLen: number): Uint8Array {
  const b = new Uint8Array(512);
  const H = POSIX_HEADER;
  putString(b, H.name.offset, 100, m.name);
  putOctal(b, H.mode.offset, 8, m.mode ?? 0o644);
  putOctal(b, H.uid.offset, 8, m.uid ?? 0);
  putOctal(b, H.gid.offset, 8, m.gid ?? 0);
  if (m.sizeField) b.set(m.sizeField, H.size.offset);
  else putOctal(b, H.size.offset, 12, m.size ?? dataLen);
  putOctal(b, H.mtime.offset, 12, m.mtime ?? 1_700_000_000);
  b[H.typeflag.offset] = (m.type ?? '0').charCodeAt(0);
  putString(b, H.linkname.offset, 100, m.linkname ?? '');
  const magic = m.magic ?? 'ustar';
  if (magic === 'ustar') putString(b, 257, 8, 'ustar\u000000');
  else if (magic === 'gnu') putString(b, 257, 8, 'ustar  \u0000');
  putOctal(b, H.devmajor.offset, 8, m.devmajor ?? 0);
  putOctal(b, H.devminor.offset, 8, m.devminor ?? 0);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  putString(b, 148, 8, sum.toString(8).padStart(6, '0') + '\u0000 ');
  if (m.badChecksum) b[148] = '7'.charCodeAt(0);
  return b;
}

export function paxData(records: Array<[string, string]>): Uint8Array {
  let out = '';
  for (const [k, v] of records) {
    const body = ` ${k}=${v}\n`;
    let len = Buffer.byteLength(body) + 1;
    while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
    out += `${len}${body}`;
  }
  return enc.encode(out);
}

/** Concatenates members (header + padded data) and, unless `end` is false, the two-zero-block end marker. */
export function craftTar(members: CraftMember[], end = true): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const m of members) {
    const data = typeof m.data === 'string' ? enc.encode(m.data) : (m.data ?? new Uint8Array(0));
    parts.push(header(m, data.length));
    const padded = new Uint8Array(Math.ceil(data.length / 512) * 512);
    padded.set(data);
    parts.push(padded);
  }
  if (end) parts.push(new Uint8Array(1024));
  const total = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A StreamReader over bytes in memory. */
export function memReader(bytes: Uint8Array): { size: number; read(buf: Uint8Array, off: number, len: number, pos: number): number } {
  return {
    size: bytes.length,
    read(buf, off, len, pos) {
      if (pos >= bytes.length) return 0;
      const n = Math.min(len, bytes.length - pos);
      buf.set(bytes.subarray(pos, pos + n), off);
      return n;
    },
  };
}
