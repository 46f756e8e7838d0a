// Test helper: builds the images of virtual-disks.sh once per script version into the OS temp dir, and hashes
// ByteSources and files for the comparisons with `qemu-img convert -O raw`.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ByteSource } from '../../src/io/byte-source.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const script = path.join(here, 'virtual-disks.sh');

/** Directory holding the images; built at most once per script content (atomic rename, safe across test workers). */
export function virtualDisks(): string {
  const tag = createHash('sha256').update(fs.readFileSync(script)).digest('hex').slice(0, 12);
  const dir = path.join(os.tmpdir(), `flotsam-vdisk-fixtures-${tag}`);
  if (fs.existsSync(path.join(dir, '.done'))) return dir;
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const r = spawnSync('bash', [script, tmp], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
  if (r.status !== 0) throw new Error(`virtual-disks.sh failed (${r.status}): ${r.stderr}`);
  try {
    fs.renameSync(tmp, dir);
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true }); // another worker won the race
  }
  if (!fs.existsSync(path.join(dir, '.done'))) throw new Error(`fixtures missing in ${dir}`);
  return dir;
}

/** sha256 of the whole source (or its first `limit` bytes), read in `chunk`-byte positional reads. */
export function hashSource(src: ByteSource, limit?: bigint, chunk = 1 << 20): string {
  const h = createHash('sha256');
  const buf = new Uint8Array(chunk);
  const end = limit !== undefined && limit < src.size ? limit : src.size;
  let pos = 0n;
  while (pos < end) {
    const want = Number(end - pos < BigInt(chunk) ? end - pos : BigInt(chunk));
    const n = src.read(buf, 0, want, pos);
    if (n <= 0) throw new Error(`short read at ${pos}`);
    h.update(buf.subarray(0, n));
    pos += BigInt(n);
  }
  return h.digest('hex');
}

export function hashFile(p: string, limit?: number): string {
  const b = fs.readFileSync(p);
  return createHash('sha256').update(limit === undefined ? b : b.subarray(0, limit)).digest('hex');
}

/** A private copy of a fixture (or a whole fixture folder) to corrupt; removed by the caller's afterAll. */
export function scratchDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `flotsam-vdisk-${tag}-`));
}

/** Overwrites bytes of `buf` at `offset` (big-endian helpers for corrupting headers in memory). */
export function putU32BE(buf: Uint8Array, offset: number, v: number): void {
  new DataView(buf.buffer, buf.byteOffset, buf.byteLength).setUint32(offset, v >>> 0, false);
}
export function putU64BE(buf: Uint8Array, offset: number, v: bigint): void {
  new DataView(buf.buffer, buf.byteOffset, buf.byteLength).setBigUint64(offset, v, false);
}
export function putU32LE(buf: Uint8Array, offset: number, v: number): void {
  new DataView(buf.buffer, buf.byteOffset, buf.byteLength).setUint32(offset, v >>> 0, true);
}
export function putU64LE(buf: Uint8Array, offset: number, v: bigint): void {
  new DataView(buf.buffer, buf.byteOffset, buf.byteLength).setBigUint64(offset, v, true);
}

function vhdSum(b: Uint8Array): number {
  let s = 0;
  for (const x of b) s += x;
  return ~s >>> 0;
}

/**
 * Writes a VHD differencing disk over `parentPath` (a dynamic VHD, named by a relative W2ru locator and the Unicode
 * parent name) into `outPath`, and returns the bytes its virtual disk must read as. qemu-img cannot create
 * differencing VHDs, so this follows the Microsoft VHD specification by hand: block 0 overrides a few sector runs
 * (the rest comes from the parent), block 5 overrides all but its first 100 sectors, the others are unallocated.
 */
export function makeDifferencingVhd(parentPath: string, outPath: string, parentName = path.basename(parentPath)): Buffer {
  const parent = fs.readFileSync(parentPath);
  const pfooter = parent.subarray(parent.length - 512);
  const size = Number(pfooter.readBigUInt64BE(48));
  const expected = Buffer.from(fs.readFileSync(`${parentPath}.oracle.raw`).subarray(0, size));
  const bs = 2 * 1024 * 1024;
  const entries = Math.ceil(size / bs);
  const batBytes = Math.ceil((entries * 4) / 512) * 512;
  const blockStart = 2048 + batBytes;
  const blockBytes = 512 + bs;
  const out = Buffer.alloc(blockStart + 2 * blockBytes + 512);
  // footer
  const f = Buffer.alloc(512);
  f.write('conectix', 0, 'latin1');
  f.writeUInt32BE(2, 8);
  f.writeUInt32BE(0x00010000, 12);
  f.writeBigUInt64BE(512n, 16);
  f.writeUInt32BE(0, 24);
  f.write('flts', 28, 'latin1');
  f.writeUInt32BE(0x00010000, 32);
  f.write('Wi2k', 36, 'latin1');
  f.writeBigUInt64BE(BigInt(size), 40);
  f.writeBigUInt64BE(BigInt(size), 48);
  pfooter.copy(f, 56, 56, 60); // geometry
  f.writeUInt32BE(4, 60);
  Buffer.from('0123456789abcdef0123456789abcdef', 'hex').copy(f, 68);
  f.writeUInt32BE(vhdSum(f), 64);
  f.copy(out, 0);
  f.copy(out, out.length - 512);
  // dynamic header
  const h = Buffer.alloc(1024);
  h.write('cxsparse', 0, 'latin1');
  h.writeBigUInt64BE(0xffffffffffffffffn, 8);
  h.writeBigUInt64BE(2048n, 16);
  h.writeUInt32BE(0x00010000, 24);
  h.writeUInt32BE(entries, 28);
  h.writeUInt32BE(bs, 32);
  pfooter.copy(h, 40, 68, 84); // parent unique id
  for (let i = 0; i < parentName.length; i++) h.writeUInt16BE(parentName.charCodeAt(i), 64 + i * 2);
  const loc = Buffer.from(`.\\${parentName}`, 'utf16le');
  h.write('W2ru', 576, 'latin1');
  h.writeUInt32BE(1, 580);
  h.writeUInt32BE(loc.length, 584);
  h.writeBigUInt64BE(1536n, 592);
  h.writeUInt32BE(vhdSum(h), 36);
  h.copy(out, 512);
  loc.copy(out, 1536);
  // BAT
  for (let i = 0; i < batBytes / 4; i++) out.writeUInt32BE(0xffffffff, 2048 + i * 4);
  const setBlock = (blk: number, slot: number, sectors: (s: number) => number | undefined) => {
    const off = blockStart + slot * blockBytes;
    out.writeUInt32BE(off / 512, 2048 + blk * 4);
    for (let s = 0; s < bs / 512; s++) {
      const v = sectors(s);
      if (v === undefined) continue;
      out[off + (s >> 3)] = (out[off + (s >> 3)] as number) | (0x80 >> (s & 7));
      out.fill(v, off + 512 + s * 512, off + 512 + (s + 1) * 512);
      const vpos = blk * bs + s * 512;
      if (vpos < size) expected.fill(v, vpos, Math.min(size, vpos + 512));
    }
  };
  setBlock(0, 0, (s) => (s < 8 ? 0xaa : s >= 100 && s < 164 ? 0xbb : s === 4095 ? 0xcc : undefined));
  setBlock(5, 1, (s) => (s < 100 ? undefined : 0x5e));
  fs.writeFileSync(outPath, out);
  return expected;
}
