import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { MemorySource, readBytes } from '../../src/io/byte-source.js';
import { IMAGE_OPENERS, openImage } from '../../src/io/raw.js';
import {
  VMDK_MAX_EXTENTS,
  VmdkError,
  VmdkSparseExtent,
  openVmdkFile,
  parseVmdkDescriptor,
  parseVmdkSparseHeader,
  probeVmdkFile,
} from '../../src/io/vmdk.js';
import { ProblemLog } from '../../src/io/virtual-disk-common.js';
import { hashFile, hashSource, putU32LE, putU64LE, scratchDir, virtualDisks } from '../fixtures-scripts/virtual-disks.js';

const dir = virtualDisks();
const img = (n: string) => path.join(dir, n);
const scratch = scratchDir('vmdk');
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe('VMDK images from qemu-img hash equal to qemu-img convert -O raw', () => {
  const base = hashFile(img('base.raw'));
  const cases: [string, string, string][] = [
    ['sparse.vmdk', 'monolithicSparse', 'sparse.vmdk.oracle.raw'],
    ['stream.vmdk', 'streamOptimized', 'stream.vmdk.oracle.raw'],
    ['zeroed.vmdk', 'monolithicSparse', 'zeroed.vmdk.oracle.raw'],
    ['twogb-sparse/disk.vmdk', 'twoGbMaxExtentSparse', 'twogb-sparse_disk.vmdk.oracle.raw'],
    ['twogb-flat/disk.vmdk', 'twoGbMaxExtentFlat', 'twogb-flat_disk.vmdk.oracle.raw'],
    ['mono-flat/disk.vmdk', 'monolithicFlat', 'mono-flat_disk.vmdk.oracle.raw'],
  ];
  for (const [name, type, oracle] of cases) {
    test(`${name} (${type})`, () => {
      const before = hashFile(img(name));
      const s = openVmdkFile(img(name), { strict: true });
      try {
        expect(s.createType).toBe(type);
        expect(s.size).toBe(24n * 1024n * 1024n);
        const h = hashSource(s, undefined, 300_000);
        expect(h).toBe(hashFile(img(oracle)));
        if (name !== 'zeroed.vmdk') expect(h).toBe(base);
        expect(s.problems).toEqual([]);
      } finally {
        s.close();
      }
      expect(hashFile(img(name))).toBe(before);
    });
  }
  test('zeroed-grain GTEs read as zeros', () => {
    const s = openVmdkFile(img('zeroed.vmdk'));
    expect(readBytes(s, 2 * 1024 * 1024, 65536).every((b) => b === 0)).toBe(true);
    s.close();
  });
  test('a delta disk reads through its parent', () => {
    const s = openVmdkFile(img('delta.vmdk'), { strict: true });
    expect(s.parent).toBeDefined();
    expect(hashSource(s)).toBe(hashFile(img('delta.vmdk.oracle.raw')));
    s.close();
  });
  test('a delta disk without its parent names it', () => {
    const d = fs.mkdtempSync(path.join(scratch, 'noparent-'));
    fs.copyFileSync(img('delta.vmdk'), path.join(d, 'delta.vmdk'));
    expect(() => openVmdkFile(path.join(d, 'delta.vmdk'))).toThrow(/needs "sparse\.vmdk".*not found beside the image/);
  });
  test('openImage detects VMDK by content, sparse and descriptor alike', () => {
    for (const n of ['sparse.vmdk', 'stream.vmdk', 'mono-flat/disk.vmdk']) {
      const p = path.join(scratch, `x-${n.replace('/', '_')}.bin`);
      fs.copyFileSync(img(n), p);
      if (n.includes('/')) fs.copyFileSync(img('mono-flat/disk-flat.vmdk'), path.join(scratch, 'disk-flat.vmdk'));
      expect(probeVmdkFile(p)).toBe(true);
      expect(IMAGE_OPENERS.filter((o) => o.probe(p)).map((o) => o.name)).toEqual(['vmdk']);
      const s = openImage(p);
      expect(hashSource(s)).toBe(hashFile(img('base.raw')));
      s.close();
    }
    expect(probeVmdkFile(img('base.raw'))).toBe(false);
    // the flat extent itself is plain raw
    expect(IMAGE_OPENERS.filter((o) => o.probe(img('mono-flat/disk-flat.vmdk'))).map((o) => o.name)).toEqual(['raw']);
  });
  test('random reads of the stream-optimized disk agree with the oracle', () => {
    const oracle = fs.readFileSync(img('stream.vmdk.oracle.raw'));
    const s = openVmdkFile(img('stream.vmdk'));
    let seed = 11;
    for (let i = 0; i < 300; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const pos = seed % oracle.length;
      const len = 1 + ((seed >>> 8) % 200_000);
      expect(Buffer.from(readBytes(s, pos, len)).equals(oracle.subarray(pos, pos + len))).toBe(true);
    }
    s.close();
  });
});

describe('descriptors', () => {
  test('parses extents, types, offsets and keys', () => {
    const d = parseVmdkDescriptor('# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType="twoGbMaxExtentFlat"\nRW 4192256 FLAT "a-f001.vmdk" 0\nRDONLY 2048 FLAT "a-f002.vmdk" 7\nNOACCESS 100 ZERO\n\0\0\0');
    expect(d.createType).toBe('twoGbMaxExtentFlat');
    expect(d.extents).toEqual([
      { access: 'RW', sectors: 4192256, type: 'FLAT', file: 'a-f001.vmdk', offset: 0 },
      { access: 'RDONLY', sectors: 2048, type: 'FLAT', file: 'a-f002.vmdk', offset: 7 },
      { access: 'NOACCESS', sectors: 100, type: 'ZERO', file: undefined, offset: 0 },
    ]);
  });
  const withDescriptor = (body: string) => {
    const d = fs.mkdtempSync(path.join(scratch, 'desc-'));
    fs.writeFileSync(path.join(d, 'disk.vmdk'), `# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType="monolithicFlat"\n${body}\n`);
    fs.copyFileSync(img('mono-flat/disk-flat.vmdk'), path.join(d, 'disk-flat.vmdk'));
    return path.join(d, 'disk.vmdk');
  };
  test('extent paths cannot leave the descriptor folder', () => {
    for (const bad of ['../disk-flat.vmdk', '/etc/passwd', 'sub/../../x', 'C:\\\\x.vmdk']) {
      const p = withDescriptor(`RW 49152 FLAT "${bad}" 0`);
      expect(() => openVmdkFile(p)).toThrow(expect.objectContaining({ code: 'EPATH' }));
    }
  });
  test('a symlinked extent leading outside the folder is refused', () => {
    const p = withDescriptor('RW 49152 FLAT "link.vmdk" 0');
    fs.symlinkSync(img('base.raw'), path.join(path.dirname(p), 'link.vmdk'));
    expect(() => openVmdkFile(p)).toThrow(/outside the image's folder/);
  });
  test('a missing extent is EMISSING', () => {
    const p = withDescriptor('RW 49152 FLAT "nothere.vmdk" 0');
    expect(() => openVmdkFile(p)).toThrow(expect.objectContaining({ code: 'EMISSING' }));
  });
  test('extent types we do not read are EUNSUPPORTED', () => {
    const p = withDescriptor('RW 49152 VMFSSPARSE "disk-flat.vmdk"');
    expect(() => openVmdkFile(p)).toThrow(expect.objectContaining({ code: 'EUNSUPPORTED' }));
  });
  test('a ZERO extent and a flat extent with an offset', () => {
    const p = withDescriptor('RW 2048 ZERO\nRW 2048 FLAT "disk-flat.vmdk" 2048');
    const s = openVmdkFile(p);
    expect(s.size).toBe(2n * 1024n * 1024n);
    expect(readBytes(s, 0, 1024 * 1024).every((b) => b === 0)).toBe(true);
    const raw = fs.readFileSync(img('base.raw'));
    expect(Buffer.from(readBytes(s, 1024 * 1024, 1024 * 1024)).equals(raw.subarray(1024 * 1024, 2 * 1024 * 1024))).toBe(true);
    s.close();
  });
  test('too many extents', () => {
    const text = 'createType="x"\n' + 'RW 1 ZERO\n'.repeat(VMDK_MAX_EXTENTS + 1);
    expect(() => parseVmdkDescriptor(text)).toThrow(expect.objectContaining({ code: 'ELIMIT' }));
  });
  test('absurd extent sizes', () => {
    const p = withDescriptor('RW 99999999999999999 ZERO');
    expect(() => openVmdkFile(p)).toThrow(expect.objectContaining({ code: 'ELIMIT' }));
  });
  test('a parent loop is ELOOP', () => {
    const d = fs.mkdtempSync(path.join(scratch, 'loop-'));
    fs.writeFileSync(path.join(d, 'a.vmdk'), 'createType="monolithicFlat"\nCID=1\nparentCID=2\nparentFileNameHint="b.vmdk"\nRW 1 ZERO\n');
    fs.writeFileSync(path.join(d, 'b.vmdk'), 'createType="monolithicFlat"\nCID=2\nparentCID=1\nparentFileNameHint="a.vmdk"\nRW 1 ZERO\n');
    expect(() => openVmdkFile(path.join(d, 'a.vmdk'))).toThrow(/already in the parent chain/);
  });
});

describe('hostile sparse headers (one test per guard)', () => {
  const good = () => Uint8Array.from(fs.readFileSync(img('sparse.vmdk')));
  const open = (b: Uint8Array, strict = true) => new VmdkSparseExtent(new MemorySource(b, 'mem.vmdk'), new ProblemLog(strict, (d) => new VmdkError('EDATA', 'mem', d)), 'mem.vmdk');
  const code = (b: Uint8Array) => {
    try {
      open(b);
      return 'ok';
    } catch (e) {
      expect(e).toBeInstanceOf(VmdkError);
      return (e as VmdkError).code;
    }
  };
  test('good header parses', () => {
    const h = parseVmdkSparseHeader(good());
    expect(h).toMatchObject({ version: 1, grainSize: 128, numGTEsPerGT: 512, capacity: 49152 });
  });
  test('bad magic', () => {
    const b = good();
    b[0] = 0x4c;
    expect(code(b)).toBe('EMAGIC');
  });
  test('COWD is unsupported', () => {
    const b = good();
    putU32LE(b, 0, 0x44574f43);
    expect(code(b)).toBe('EUNSUPPORTED');
  });
  test('truncated', () => expect(code(good().subarray(0, 40))).toBe('ETRUNCATED'));
  test('version', () => {
    const b = good();
    putU32LE(b, 4, 9);
    expect(code(b)).toBe('ECORRUPT');
  });
  test('grain size not a power of two / huge', () => {
    const b = good();
    putU64LE(b, 20, 100n);
    expect(code(b)).toBe('ECORRUPT');
    putU64LE(b, 20, 1n << 20n);
    expect(code(b)).toBe('ELIMIT');
  });
  test('numGTEsPerGT', () => {
    const b = good();
    putU32LE(b, 44, 100000);
    expect(code(b)).toBe('ELIMIT');
  });
  test('absurd capacity', () => {
    const b = good();
    putU64LE(b, 12, 1n << 50n);
    expect(code(b)).toBe('ELIMIT');
  });
  test('grain directory too large', () => {
    const b = good();
    putU64LE(b, 12, (1n << 44n) - 1n); // 8 PiB / 32 MiB per GT -> 2^28 entries
    expect(code(b)).toBe('ELIMIT');
  });
  test('grain directory outside the file', () => {
    const b = good();
    putU64LE(b, 56, 1n << 30n);
    putU64LE(b, 48, 1n << 30n);
    expect(code(b)).toBe('ETRUNCATED');
  });
  test('primary GD outside, redundant one used', () => {
    const b = good();
    putU64LE(b, 56, 1n << 30n);
    const e = open(b, false);
    expect(e.capacity).toBe(24 * 1024 * 1024);
  });
  test('compress algorithm unknown', () => {
    const b = Uint8Array.from(fs.readFileSync(img('stream.vmdk')));
    b[77] = 7;
    expect(code(b)).toBe('EUNSUPPORTED');
  });
  /** stream.vmdk rewritten the VMware way: gdOffset GD_AT_END in the header, footer marker + footer + EOS at the end. */
  const gdAtEnd = () => {
    const b = Uint8Array.from(fs.readFileSync(img('stream.vmdk')));
    const footer = Uint8Array.from(b.subarray(0, 512));
    putU64LE(b, 56, 0xffffffffffffffffn);
    const marker = new Uint8Array(512);
    putU64LE(marker, 0, 1n);
    putU32LE(marker, 12, 3); // MARKER_FOOTER
    const out = new Uint8Array(b.length + 1536);
    out.set(b);
    out.set(marker, b.length);
    out.set(footer, b.length + 512);
    return out; // + 512 zero bytes: end-of-stream marker
  };
  test('gdOffset GD_AT_END: the footer supplies the grain directory', () => {
    const e = open(gdAtEnd());
    expect(e.header.gdOffset).toBe(26);
    const s = hashSource({ size: 24n << 20n, description: 'x', close() {}, read: (buf, off, len, pos) => (e.read(buf, off, len, Number(pos), (x, at, l) => x.fill(0, at, at + l), 0), len) });
    expect(s).toBe(hashFile(img('base.raw')));
  });
  test('GD_AT_END with a missing or damaged footer', () => {
    const b = gdAtEnd();
    expect(code(b.subarray(0, 1024))).toBe('ETRUNCATED');
    expect(code(b.subarray(0, b.length - 1024))).toBe('EMAGIC'); // footer cut off
    const c = gdAtEnd();
    putU64LE(c, c.length - 1024 + 56, 0xffffffffffffffffn);
    expect(code(c)).toBe('ECORRUPT');
  });
  test('a truncated stream-optimized file reads what it has, zeros + problems for the rest', () => {
    const b = Uint8Array.from(fs.readFileSync(img('stream.vmdk'))).subarray(0, 1024 * 1024);
    const log = new ProblemLog(false, (d) => new Error(d));
    const e = new VmdkSparseExtent(new MemorySource(b), log, 'mem');
    const out = new Uint8Array(1 << 20);
    for (let p = 0; p < e.capacity; p += out.length) e.read(out, 0, out.length, p, (x, at, l) => x.fill(0, at, at + l), 0);
    expect(log.list.length).toBeGreaterThan(0);
    expect(log.list.join('\n')).toMatch(/marker past the end of the file|inflate failed/);
  });
  test('grain table pointing outside the file: zeros + problem, EDATA in strict mode', () => {
    const b = good();
    const h = parseVmdkSparseHeader(b);
    putU32LE(b, h.gdOffset * 512, 0x7fffffff);
    const lax = open(b, false);
    const out = new Uint8Array(4096);
    lax.read(out, 0, 4096, 0, (x, at, len) => x.fill(0, at, at + len), 0);
    expect(out.every((x) => x === 0)).toBe(true);
    const strict = open(b, true);
    expect(() => strict.read(out, 0, 4096, 0, () => {}, 0)).toThrow(expect.objectContaining({ code: 'EDATA' }));
  });
  test('compressed grain with a lying marker size or garbage data', () => {
    const b = Uint8Array.from(fs.readFileSync(img('stream.vmdk')));
    const ext0 = open(b, false);
    const h = ext0.header;
    const dv = new DataView(b.buffer);
    // first allocated GTE of the first GT
    const gt = dv.getUint32(h.gdOffset * 512, true);
    let g = 0;
    let sector = 0;
    for (; g < 512; g++) {
      sector = dv.getUint32(gt * 512 + g * 4, true);
      if (sector > 1) break;
    }
    const c1 = Uint8Array.from(b);
    putU32LE(c1, sector * 512 + 8, 0x7fffffff);
    const e1 = open(c1, false);
    const out = new Uint8Array(65536);
    e1.read(out, 0, 65536, g * 65536, () => {}, 0);
    expect(e1).toBeDefined();
    const c2 = Uint8Array.from(b);
    c2.fill(0xee, sector * 512 + 12, sector * 512 + 40);
    const log = new ProblemLog(false, (d) => new Error(d));
    const e2 = new VmdkSparseExtent(new MemorySource(c2), log, 'mem');
    e2.read(out, 0, 65536, g * 65536, () => {}, 0);
    expect(out.every((x) => x === 0)).toBe(true);
    expect(log.list.join()).toMatch(/inflate failed/);
  });
});
