import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { MemorySource, readBytes } from '../../src/io/byte-source.js';
import { IMAGE_OPENERS, openImage } from '../../src/io/raw.js';
import { VHD_MAX_BAT_BYTES, VhdError, VhdSource, openVhdFile, parseVhdFooter, probeVhdFile, vhdChecksum } from '../../src/io/vhd.js';
import { hashFile, hashSource, makeDifferencingVhd, putU32BE, putU64BE, scratchDir, virtualDisks } from '../fixtures-scripts/virtual-disks.js';

const dir = virtualDisks();
const img = (n: string) => path.join(dir, n);
const scratch = scratchDir('vhd');
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
const sha = (b: Uint8Array) => hashSource(new MemorySource(b));

describe('VHD images from qemu-img hash equal to qemu-img convert -f vpc -O raw', () => {
  const base = fs.readFileSync(img('base.raw'));
  for (const name of ['dynamic.vhd', 'fixed.vhd', 'exact.vhd']) {
    test(name, () => {
      const before = hashFile(img(name));
      const s = openVhdFile(img(name), { strict: true });
      try {
        const h = hashSource(s, undefined, 300_000);
        expect(h).toBe(hashFile(img(`${name}.oracle.raw`)));
        // qemu rounds the size up to a CHS geometry unless force_size: the raw disk is a prefix, zeros after
        expect(hashSource(s, BigInt(base.length))).toBe(sha(base));
        expect(s.problems).toEqual([]);
      } finally {
        s.close();
      }
      expect(hashFile(img(name))).toBe(before);
    });
  }
  test('disk types and sizes', () => {
    const d = openVhdFile(img('dynamic.vhd'));
    expect(d.footer.diskType).toBe(3);
    expect(d.dynamicHeader?.blockSize).toBe(2 * 1024 * 1024);
    expect(d.footer.checksumOk).toBe(true);
    d.close();
    const e = openVhdFile(img('exact.vhd'));
    expect(e.size).toBe(24n << 20n);
    e.close();
  });
  test('openImage detects VHD by content (fixed: footer only)', () => {
    for (const n of ['dynamic.vhd', 'fixed.vhd']) {
      const p = path.join(scratch, `${n}.img`);
      fs.copyFileSync(img(n), p);
      expect(probeVhdFile(p)).toBe(true);
      expect(IMAGE_OPENERS.filter((o) => o.probe(p)).map((o) => o.name)).toEqual(['vhd']);
      const s = openImage(p);
      expect(hashSource(s)).toBe(hashFile(img(`${n}.oracle.raw`)));
      s.close();
    }
    expect(probeVhdFile(img('base.raw'))).toBe(false);
  });
});

describe('differencing disks', () => {
  const d = fs.mkdtempSync(path.join(scratch, 'diff-'));
  fs.copyFileSync(img('dynamic.vhd'), path.join(d, 'dynamic.vhd'));
  fs.copyFileSync(img('dynamic.vhd.oracle.raw'), path.join(d, 'dynamic.vhd.oracle.raw'));
  const expected = makeDifferencingVhd(path.join(d, 'dynamic.vhd'), path.join(d, 'child.vhd'));
  test('reads its own sectors and the parent for the rest (sector bitmaps)', () => {
    const s = openVhdFile(path.join(d, 'child.vhd'), { strict: true });
    expect(s.footer.diskType).toBe(4);
    expect(s.parent).toBeDefined();
    expect(hashSource(s, undefined, 100_000)).toBe(sha(expected));
    expect(s.problems).toEqual([]);
    s.close();
  });
  test('grandchild: a chain of two', () => {
    // the grandchild's expected bytes start from the child's expected bytes (built by hand, not read by flotsam)
    fs.writeFileSync(path.join(d, 'child.vhd.oracle.raw'), expected);
    const exp2 = makeDifferencingVhd(path.join(d, 'child.vhd'), path.join(d, 'grandchild.vhd'));
    const s = openVhdFile(path.join(d, 'grandchild.vhd'));
    expect(hashSource(s)).toBe(sha(exp2));
    s.close();
  });
  test('missing parent is EMISSING naming it', () => {
    const e = fs.mkdtempSync(path.join(scratch, 'orphan-'));
    fs.copyFileSync(path.join(d, 'child.vhd'), path.join(e, 'child.vhd'));
    expect(() => openVhdFile(path.join(e, 'child.vhd'))).toThrow(/needs ".\\\\dynamic\.vhd".*not found beside the image/);
  });
  test('a disk that is its own parent is ELOOP', () => {
    const e = fs.mkdtempSync(path.join(scratch, 'self-'));
    fs.copyFileSync(img('dynamic.vhd'), path.join(e, 'dynamic.vhd'));
    fs.copyFileSync(img('dynamic.vhd.oracle.raw'), path.join(e, 'dynamic.vhd.oracle.raw'));
    makeDifferencingVhd(path.join(e, 'dynamic.vhd'), path.join(e, 'self.vhd'), 'self.vhd');
    expect(() => openVhdFile(path.join(e, 'self.vhd'))).toThrow(expect.objectContaining({ code: 'ELOOP' }));
  });
  test('a parent with another unique id is a problem, not an error', () => {
    const e = fs.mkdtempSync(path.join(scratch, 'otherid-'));
    fs.copyFileSync(path.join(d, 'child.vhd'), path.join(e, 'child.vhd'));
    fs.copyFileSync(img('fixed.vhd'), path.join(e, 'dynamic.vhd'));
    const s = openVhdFile(path.join(e, 'child.vhd'));
    expect(s.problems.join()).toMatch(/unique id .* differs/);
    s.close();
  });
});

describe('hostile footers and headers (one test per guard)', () => {
  const good = () => Uint8Array.from(fs.readFileSync(img('dynamic.vhd')));
  const open = (b: Uint8Array, strict = true) => VhdSource.open(new MemorySource(b, 'mem.vhd'), { strict });
  const code = (b: Uint8Array) => {
    try {
      open(b).close();
      return 'ok';
    } catch (e) {
      expect(e).toBeInstanceOf(VhdError);
      return (e as VhdError).code;
    }
  };
  const refooter = (b: Uint8Array, edit: (f: Uint8Array) => void) => {
    for (const off of [0, b.length - 512]) {
      const f = b.subarray(off, off + 512);
      edit(f);
      putU32BE(f, 64, vhdChecksum(f, 64));
    }
  };
  test('no footer anywhere', () => {
    const b = good();
    b[0] = 0;
    b[b.length - 512] = 0;
    expect(code(b)).toBe('EMAGIC');
  });
  test('trailing footer lost: the copy at 0 is used, with a note', () => {
    const b = good();
    b[b.length - 512] = 0;
    const s = open(b, false);
    expect(s.problems[0]).toMatch(/copy at offset 0/);
  });
  test('tiny file', () => expect(code(new Uint8Array(100))).toBe('ETRUNCATED'));
  test('unknown disk type', () => {
    const b = good();
    refooter(b, (f) => putU32BE(f, 60, 9));
    expect(code(b)).toBe('EUNSUPPORTED');
  });
  test('absurd current size', () => {
    const b = good();
    refooter(b, (f) => putU64BE(f, 48, 1n << 60n));
    expect(code(b)).toBe('ELIMIT');
  });
  test('current size larger than the BAT covers', () => {
    const b = good();
    refooter(b, (f) => putU64BE(f, 48, 1n << 40n));
    expect(code(b)).toBe('ECORRUPT');
  });
  test('bad checksum is a note', () => {
    const b = good();
    b[b.length - 512 + 30] ^= 1;
    const s = open(b, false);
    expect(s.problems.join()).toMatch(/checksum/);
  });
  test('dynamic header outside the file', () => {
    const b = good();
    refooter(b, (f) => putU64BE(f, 16, 1n << 40n));
    expect(code(b)).toBe('ETRUNCATED');
  });
  test('dynamic header bad cookie', () => {
    const b = good();
    b[512] = 0;
    expect(code(b)).toBe('EMAGIC');
  });
  test('block size not a power of two / huge', () => {
    const b = good();
    putU32BE(b, 512 + 32, 3000);
    expect(code(b)).toBe('ECORRUPT');
    putU32BE(b, 512 + 32, 0x80000000);
    expect(code(b)).toBe('ELIMIT');
  });
  test('absurd max table entries', () => {
    const b = good();
    putU32BE(b, 512 + 28, VHD_MAX_BAT_BYTES / 4 + 1);
    expect(code(b)).toBe('ELIMIT');
  });
  test('BAT outside the file', () => {
    const b = good();
    putU64BE(b, 512 + 16, 1n << 40n);
    expect(code(b)).toBe('ETRUNCATED');
  });
  test('BAT entry pointing outside the file: zeros + problem, EDATA in strict mode', () => {
    const b = good();
    const bat = Number(new DataView(b.buffer).getBigUint64(512 + 16));
    putU32BE(b, bat, 0x7fffff00);
    const s = open(b, false);
    expect(readBytes(s, 0, 4096).every((x) => x === 0)).toBe(true);
    expect(s.problems[0]).toMatch(/past the end/);
    const t = open(b, true);
    expect(() => readBytes(t, 0, 4096)).toThrow(expect.objectContaining({ code: 'EDATA' }));
  });
  test('truncated dynamic disk: partial results', () => {
    const b = good();
    const cut = Uint8Array.from(b.subarray(0, 4 * 1024 * 1024));
    const withFooter = new Uint8Array(cut.length + 512);
    withFooter.set(cut);
    withFooter.set(b.subarray(b.length - 512), cut.length);
    const s = open(withFooter, false);
    hashSource(s);
    expect(s.problems.length).toBeGreaterThan(0);
  });
  test('footer parser from literal bytes', () => {
    const f = Uint8Array.from(fs.readFileSync(img('fixed.vhd')).subarray(-512));
    const p = parseVhdFooter(f);
    expect(p).toMatchObject({ diskType: 2, dataOffset: 0xffffffffffffffffn, creatorApplication: 'qemu', checksumOk: true });
  });
});
