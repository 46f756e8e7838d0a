import { describe, expect, it } from 'vitest';
import { atimeRisk, mountOf, parseMountInfo } from '../../../src/fs/host-dir/mount-check.js';

const MOUNTINFO = [
  '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
  '40 22 7:0 / /mnt/evidence ro,relatime shared:2 - ext4 /dev/loop0 ro',
  '41 22 7:1 / /mnt/case\\040two rw,noatime shared:3 - ext4 /dev/loop1 rw',
].join('\n');

describe('mount check for directory evidence', () => {
  it('finds the mount holding a path (longest prefix, escaped spaces)', () => {
    const m = parseMountInfo(MOUNTINFO);
    expect(mountOf('/mnt/evidence/var/lib', m)?.mountPoint).toBe('/mnt/evidence');
    expect(mountOf('/mnt/case two/x', m)?.mountPoint).toBe('/mnt/case two');
    expect(mountOf('/mnt/evidencex', m)?.mountPoint).toBe('/');
  });

  it('warns only for read-write mounts that update access times', () => {
    expect(atimeRisk('/', MOUNTINFO)).toMatch(/read-write mount \(\/, rw,relatime\)/);
  });
});
