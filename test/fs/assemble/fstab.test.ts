import { describe, expect, it } from 'vitest';
import { formatUuid, parseDeviceSpec, parseFstab, specMatches, unescapeFstab } from '../../../src/fs/assemble/fstab.js';

describe('parseFstab', () => {
  it('parses fields, defaults, comments, blank lines and escapes', () => {
    const text = [
      '# comment',
      '',
      'UUID=1234-abcd  /              ext4  errors=remount-ro 0 1',
      '   LABEL=My\\040Data /mnt/my\\040data ext4 defaults,nofail 0 2   ',
      '/dev/sda3\tnone\tswap\tsw\t0\t0',
      'tmpfs /tmp tmpfs',
      '/dev/sdb1 /x',
      'garbage',
      'proc /proc proc defaults 0 0 # trailing comment ignored as extra fields',
      'dos\r',
    ].join('\n');
    const { entries, bad } = parseFstab(text);
    expect(entries.map((e) => [e.line, e.spec, e.file, e.vfstype])).toEqual([
      [3, 'UUID=1234-abcd', '/', 'ext4'],
      [4, 'LABEL=My Data', '/mnt/my data', 'ext4'],
      [5, '/dev/sda3', 'none', 'swap'],
      [6, 'tmpfs', '/tmp', 'tmpfs'],
      [7, '/dev/sdb1', '/x', 'auto'],
      [9, 'proc', '/proc', 'proc'],
    ]);
    expect(entries[0]!.options).toEqual(['errors=remount-ro']);
    expect(entries[0]!.passno).toBe(1);
    expect(entries[1]!.options).toEqual(['defaults', 'nofail']);
    expect(entries[3]!.options).toEqual(['defaults']);
    expect(entries[3]!.freq).toBe(0);
    expect(bad).toEqual([
      { line: 8, text: 'garbage' },
      { line: 10, text: 'dos' },
    ]);
  });

  it('decodes octal escapes', () => {
    expect(unescapeFstab('a\\040b\\011c\\134d')).toBe('a b\tc\\d');
  });
});

describe('parseDeviceSpec', () => {
  it.each([
    ['UUID=6A1C0D4E-1111-4AAA-8BBB-0123456789A1', { kind: 'uuid', value: '6A1C0D4E-1111-4AAA-8BBB-0123456789A1' }],
    ['uuid="abcd"', { kind: 'uuid', value: 'abcd' }],
    ['LABEL=root', { kind: 'label', value: 'root' }],
    ['PARTUUID=1234abcd-05', { kind: 'partuuid', value: '1234abcd-05' }],
    ['PARTLABEL=var', { kind: 'partlabel', value: 'var' }],
    ['/dev/disk/by-uuid/abcd', { kind: 'uuid', value: 'abcd' }],
    ['/dev/disk/by-label/my\\x20disk', { kind: 'label', value: 'my disk' }],
    ['/dev/disk/by-partuuid/7b2d', { kind: 'partuuid', value: '7b2d' }],
    ['/dev/disk/by-partlabel/var', { kind: 'partlabel', value: 'var' }],
    ['/dev/sda1', { kind: 'devname', disk: 'sda', part: 1 }],
    ['/dev/sdab12', { kind: 'devname', disk: 'sdab', part: 12 }],
    ['/dev/vdb2', { kind: 'devname', disk: 'vdb', part: 2 }],
    ['/dev/xvda1', { kind: 'devname', disk: 'xvda', part: 1 }],
    ['/dev/hda5', { kind: 'devname', disk: 'hda', part: 5 }],
    ['/dev/nvme0n1p2', { kind: 'devname', disk: 'nvme0n1', part: 2 }],
    ['/dev/mmcblk0p1', { kind: 'devname', disk: 'mmcblk0', part: 1 }],
    ['/dev/sda', { kind: 'devname', disk: 'sda', part: undefined }],
    ['/dev/nvme0n1', { kind: 'devname', disk: 'nvme0n1', part: undefined }],
    ['/dev/mapper/vg-root', { kind: 'other', value: '/dev/mapper/vg-root' }],
    ['server:/export', { kind: 'other', value: 'server:/export' }],
    ['tmpfs', { kind: 'none', value: 'tmpfs' }],
  ])('%s', (spec, expected) => {
    expect(parseDeviceSpec(spec)).toEqual(expected);
  });
});

describe('specMatches', () => {
  const p2 = {
    uuid: '6a1c0d4e-2222-4aaa-8bbb-0123456789a2',
    label: 'var',
    partuuid: '7b2d1e5f-0002-4ccc-9ddd-00000000000b',
    partlabel: 'var-part',
    partNumber: 2,
  };
  const bare = { uuid: '6a1c0d4e-3333-4aaa-8bbb-0123456789a3', label: '' };
  it('matches tags case-insensitively for UUIDs, exactly for labels', () => {
    expect(specMatches(parseDeviceSpec('UUID=6A1C0D4E-2222-4AAA-8BBB-0123456789A2'), p2)).toBe(true);
    expect(specMatches(parseDeviceSpec('UUID=6a1c0d4e-2222-4aaa-8bbb-0123456789a3'), p2)).toBe(false);
    expect(specMatches(parseDeviceSpec('LABEL=var'), p2)).toBe(true);
    expect(specMatches(parseDeviceSpec('LABEL=VAR'), p2)).toBe(false);
    expect(specMatches(parseDeviceSpec('PARTUUID=7B2D1E5F-0002-4CCC-9DDD-00000000000B'), p2)).toBe(true);
    expect(specMatches(parseDeviceSpec('PARTLABEL=var-part'), p2)).toBe(true);
    expect(specMatches(parseDeviceSpec('/dev/disk/by-uuid/6a1c0d4e-2222-4aaa-8bbb-0123456789a2'), p2)).toBe(true);
    expect(specMatches(parseDeviceSpec('LABEL='), bare)).toBe(false); // an empty label matches nothing
  });
  it('matches device names by partition number on the host disk', () => {
    expect(specMatches(parseDeviceSpec('/dev/sda2'), p2)).toBe(true);
    expect(specMatches(parseDeviceSpec('/dev/vda2'), p2)).toBe(true);
    expect(specMatches(parseDeviceSpec('/dev/nvme0n1p2'), p2)).toBe(true);
    expect(specMatches(parseDeviceSpec('/dev/sda3'), p2)).toBe(false);
    expect(specMatches(parseDeviceSpec('/dev/sdb2'), p2)).toBe(false); // another disk
    expect(specMatches(parseDeviceSpec('/dev/sdb2'), p2, 'sdb')).toBe(true); // the root says the disk was sdb
    expect(specMatches(parseDeviceSpec('/dev/sda2'), p2, 'sdb')).toBe(false);
    expect(specMatches(parseDeviceSpec('/dev/sda'), bare)).toBe(true); // whole disk = bare file system
    expect(specMatches(parseDeviceSpec('/dev/sda1'), bare)).toBe(false);
  });
  it('never matches pseudo or network specs', () => {
    expect(specMatches(parseDeviceSpec('tmpfs'), p2)).toBe(false);
    expect(specMatches(parseDeviceSpec('/dev/mapper/x'), p2)).toBe(false);
  });
});

it('formatUuid', () => {
  const b = Uint8Array.from([0x6a, 0x1c, 0x0d, 0x4e, 0x11, 0x11, 0x4a, 0xaa, 0x8b, 0xbb, 0x01, 0x23, 0x45, 0x67, 0x89, 0xa1]);
  expect(formatUuid(b)).toBe('6a1c0d4e-1111-4aaa-8bbb-0123456789a1');
});
