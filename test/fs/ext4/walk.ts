import { expect } from 'vitest';
import type { Ext4Vfs } from '../../../src/fs/ext4/vfs.js';
import type { VfsStat } from '../../../src/fs/vfs.js';

/** Every path under `dir` (symlinks not followed) with its lstat; checks readdir's ino/type against lstat. */
export function walk(vfs: Ext4Vfs, dir = '/', out = new Map<string, VfsStat>()): Map<string, VfsStat> {
  for (const e of vfs.readdir(dir)) {
    const p = dir === '/' ? `/${e.name}` : `${dir}/${e.name}`;
    const st = vfs.lstat(p);
    expect(st.ino, p).toBe(e.ino);
    expect(st.type, p).toBe(e.type);
    out.set(p, st);
    if (st.type === 'dir') walk(vfs, p, out);
  }
  return out;
}

