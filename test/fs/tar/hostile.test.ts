// Damaged and hostile archives (STYLE.md habit 5): one regression test per guard. Damage gives problems and
// partial results, never a throw or a hang: truncation (plain and gzip), bad checksums (resync at the next header),
// absurd size fields, pax length overflow and oversized pax headers, member-count and inflate limits, random
// corruption.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexTar } from '../../../src/fs/tar/archive.js';
import { openTarArchive } from '../../../src/fs/tar/index.js';
import { MAX_LONG_NAME_BYTES, MAX_PAX_HEADER_BYTES } from '../../../src/fs/tar/parse.js';
import { buildTree } from '../../../src/fs/tar/tree.js';
import { readFileLimited } from '../../../src/fs/vfs.js';
import { craftTar, header, memReader, paxData } from './craft.js';
import { type TarFixtures, buildTarFixtures } from './fixtures.js';

let fx: TarFixtures;
let pax: Uint8Array;

beforeAll(() => {
  fx = buildTarFixtures();
  pax = new Uint8Array(fs.readFileSync(fx.paxTar));
});
afterAll(() => fx?.cleanup());

function write(name: string, bytes: Uint8Array): string {
  const p = path.join(fx.dir, name);
  fs.writeFileSync(p, bytes);
  return p;
}

function memberAt(bytes: Uint8Array, name: string) {
  const m = indexTar(memReader(bytes)).members.find((x) => x.name === name);
  if (!m) throw new Error(`no member ${name}`);
  return m;
}

function fixChecksum(b: Uint8Array, at: number): void {
  b.fill(0x20, at + 148, at + 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += b[at + i] as number;
  b.set(new TextEncoder().encode(sum.toString(8).padStart(6, '0') + '\0 '), at + 148);
}

describe('damaged archives give partial results and problems', () => {
  it('truncated inside a member: earlier members intact, the cut member keeps what is present', () => {
    const big = memberAt(pax, './data/big.bin');
    const cut = write('cut.tar', pax.subarray(0, big.dataOffset + 1000));
    const { vfs, problems } = openTarArchive(cut);
    try {
      expect(problems.some((p) => p.reason.includes('truncated') && p.reason.includes('1000 present'))).toBe(true);
      expect(vfs.stat('/data/big.bin').size).toBe(1000n);
      expect(readFileLimited(vfs, '/data/big.bin').length).toBe(1000);
      const before = indexTar(memReader(pax)).members.filter((m) => m.index < big.index).length;
      expect(vfs.index.members.length).toBe(before + 1);
    } finally {
      vfs.close();
    }
  });

  it('truncated inside a header block and without an end marker', () => {
    const host = memberAt(pax, './etc/hostname');
    const r1 = indexTar(memReader(pax.subarray(0, host.blockOffset + 100)));
    expect(r1.problems.some((p) => p.reason.includes('ends inside a header block'))).toBe(true);
    const r2 = indexTar(memReader(pax.subarray(0, host.headerOffset)));
    expect(r2.problems.some((p) => p.reason.includes('without the end-of-archive marker'))).toBe(true);
    expect(r2.complete).toBe(false);
  });

  it('bad checksum: a problem, then the index resynchronises at the next valid header', () => {
    const b = pax.slice();
    const host = memberAt(pax, './etc/hostname');
    b[host.blockOffset + 5] ^= 0x20;
    const r = indexTar(memReader(b));
    expect(r.problems.some((p) => p.reason.includes(`header at offset ${host.blockOffset}: bad checksum`) && p.reason.includes('skipped'))).toBe(true);
    const all = indexTar(memReader(pax)).members;
    expect(r.members.length).toBe(all.length - 1);
    expect(r.members.some((m) => m.name === './etc/hostname')).toBe(false);
    expect(r.members.some((m) => m.name === './etc/shadow')).toBe(true);
  });

  it('a damaged header with nothing valid after it stops the index', () => {
    const b = craftTar([{ name: 'ok', data: 'fine' }, { name: 'bad', data: 'x', badChecksum: true }]);
    const r = indexTar(memReader(b));
    expect(r.members.map((m) => m.name)).toEqual(['ok']);
    expect(r.problems.some((p) => p.reason.includes('no valid header'))).toBe(true);
  });

  it('absurd size field (8 GiB in a small archive): truncated, no hang', () => {
    const b = pax.slice();
    const host = memberAt(pax, './etc/hostname');
    b.set(new TextEncoder().encode('77777777777\0'), host.blockOffset + 124);
    fixChecksum(b, host.blockOffset);
    // pax records override the header size: drop the member's x header so the header field is used
    const r = indexTar(memReader(b));
    expect(r.problems.some((p) => /truncated|exceeds/.test(p.reason))).toBe(true);
    const base256 = craftTar([{ name: 'huge', sizeField: new Uint8Array([0x80, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]) }]);
    const r2 = indexTar(memReader(base256));
    expect(r2.problems.some((p) => p.reason.includes('exceeds'))).toBe(true);
  });

  it('non-octal numeric field: a problem naming the field, resync', () => {
    const b = craftTar([{ name: 'a', data: 'A' }, { name: 'b', data: 'B' }, { name: 'c', data: 'C' }]);
    b.set(new TextEncoder().encode('12x4567\0'), 1024 + 108);
    fixChecksum(b, 1024);
    const r = indexTar(memReader(b));
    expect(r.members.map((m) => m.name)).toEqual(['a', 'c']);
    expect(r.problems.some((p) => p.reason.includes('uid field is not octal'))).toBe(true);
  });

  it('pax length overflow and bad pax values: problems, header fields used instead', () => {
    const junk = new TextEncoder().encode('99999999 path=/etc/evil\n');
    const b = craftTar([
      { name: 'x', type: 'x', data: junk },
      { name: 'plain', data: 'p', uid: 3 },
      { name: 'x', type: 'x', data: paxData([['uid', '99999999999'], ['mtime', 'yesterday'], ['size', 'lots']]) },
      { name: 'after', data: 'q' },
    ]);
    const r = indexTar(memReader(b));
    expect(r.members[0]).toMatchObject({ name: 'plain', uid: 3 });
    expect(r.problems.some((p) => p.reason.includes('pax header: record at byte 0: length 99999999 exceeds'))).toBe(true);
    expect(r.problems.some((p) => p.reason.includes('pax size="lots"') && p.reason.includes('size field (1) is used'))).toBe(true);
    expect(r.members.map((m) => m.name)).toEqual(['plain', 'after']);
    expect(r.members[1]?.uid).toBe(0);
  });

  it('pax header and GNU long name larger than their limits are ignored with a problem', () => {
    const bigPax = new Uint8Array(MAX_PAX_HEADER_BYTES + 1).fill(0x41);
    const bigName = new Uint8Array(MAX_LONG_NAME_BYTES + 1).fill(0x61);
    const b = craftTar([
      { name: 'x', type: 'x', data: bigPax },
      { name: 'one', data: '1' },
      { name: '././@LongLink', type: 'L', data: bigName },
      { name: 'two', data: '2' },
    ]);
    const r = indexTar(memReader(b));
    expect(r.members.map((m) => m.name)).toEqual(['one', 'two']);
    expect(r.problems.filter((p) => p.reason.includes('exceeds the limit'))).toHaveLength(2);
  });

  it('member count limit', () => {
    const b = craftTar(Array.from({ length: 10 }, (_, i) => ({ name: `f${i}`, data: 'x' })));
    const r = indexTar(memReader(b), { maxMembers: 4 });
    expect(r.members).toHaveLength(4);
    expect(r.problems.some((p) => p.reason.includes('more than 4 members'))).toBe(true);
  });

  it('concatenated archives are read on (tar -i); trailing garbage is a problem', () => {
    const a = craftTar([{ name: 'first', data: '1' }]);
    const c = craftTar([{ name: 'second', data: '2' }]);
    const r = indexTar(memReader(new Uint8Array([...a, ...c])));
    expect(r.members.map((m) => m.name)).toEqual(['first', 'second']);
    expect(r.problems.some((p) => p.reason.includes('another archive follows'))).toBe(true);
    const g = new Uint8Array([...a, ...new Uint8Array(512).fill(0x5a)]);
    const r2 = indexTar(memReader(g));
    expect(r2.problems.some((p) => p.reason.includes('non-tar data after'))).toBe(true);
    expect(r2.complete).toBe(true);
  });

  it('a lying sparse map is refused, the stored bytes shown', () => {
    const h = header({ name: 'sp', type: 'S', magic: 'gnu', data: 'abcd' }, 4);
    // sparse entry: offset 10 numbytes 4, realsize 5 (the run ends past the real size)
    h.set(new TextEncoder().encode('00000000012\0' + '00000000004\0'), 386);
    h.set(new TextEncoder().encode('00000000005\0'), 483);
    fixChecksum(h, 0);
    const data = new Uint8Array(512);
    data.set(new TextEncoder().encode('abcd'));
    const b = new Uint8Array([...h, ...data, ...new Uint8Array(1024)]);
    const r = indexTar(memReader(b));
    expect(r.members[0]).toMatchObject({ name: 'sp', size: 4, sparse: undefined });
    expect(r.problems.some((p) => p.reason.includes('passes the real size'))).toBe(true);
  });

  it('random corruption never throws nor hangs', () => {
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const t0 = Date.now();
    for (let k = 0; k < 300; k++) {
      const b = pax.slice(0, rnd(4) === 0 ? rnd(pax.length) : pax.length);
      for (let j = 0; j < 1 + rnd(20); j++) b[rnd(b.length)] = rnd(256);
      const r = indexTar(memReader(b));
      buildTree(r.members, b.length);
    }
    expect(Date.now() - t0).toBeLessThan(20_000);
  });
});

describe('damaged .tar.gz', () => {
  it('a truncated gzip stream: a problem and the members inflated before the cut', () => {
    const gz = fs.readFileSync(fx.paxGz);
    const cut = write('cut.tar.gz', gz.subarray(0, Math.floor(gz.length * 0.6)));
    const { vfs, problems } = openTarArchive(cut);
    try {
      expect(problems.some((p) => p.reason.startsWith('gzip stream:'))).toBe(true);
      expect(vfs.index.members.length).toBeGreaterThan(3);
    } finally {
      vfs.close();
    }
  });

  it('the inflate limit stops the copy with a problem', () => {
    const { vfs, problems } = openTarArchive(fx.paxGz, { maxInflatedBytes: 20_000 });
    try {
      expect(problems.some((p) => p.reason.includes('limit of 20000 bytes'))).toBe(true);
      expect(vfs.index.members.length).toBeGreaterThan(0);
    } finally {
      vfs.close();
    }
  });

  it('a gzip bomb stays bounded by the limit', () => {
    const bomb = path.join(fx.dir, 'bomb.tar.gz');
    const head = craftTar([{ name: 'zeros', size: 1 << 30 }], false).subarray(0, 512);
    fs.writeFileSync(path.join(fx.dir, 'bomb-head'), head);
    execFileSync('sh', ['-c', `(cat '${path.join(fx.dir, 'bomb-head')}'; head -c 200000000 /dev/zero) | gzip -1 > '${bomb}'`]);
    const { vfs, problems } = openTarArchive(bomb, { maxInflatedBytes: 8 * 1024 * 1024 });
    try {
      expect(problems.some((p) => p.reason.includes('limit'))).toBe(true);
      expect(vfs.stat('/zeros').size).toBe(BigInt(8 * 1024 * 1024 - 512));
    } finally {
      vfs.close();
    }
  });
});
