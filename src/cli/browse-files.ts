// `flotsam ls IMAGE[:PATH]`, `cat IMAGE PATH`, `stat IMAGE PATH`: one path of the evidence at a time, read through
// the VFS without mounting. Kept together because they share the path handling and the stat formatting.
import { formatIsoNano } from '../events/time.js';
import { type DirEntry, type Vfs, type VfsStat, readChunks } from '../fs/vfs.js';
import { formatJson } from '../writers/index.js';
import { evidencePath, formatXattrValue, modeString, parseTarget, printable, withEvidence, write } from './browse-common.js';

/** Entries `ls -r` prints before it stops (a note says so). */
export const MAX_LS_ENTRIES = 10_000_000;
/** Directory depth `ls -r` descends. */
export const MAX_LS_DEPTH = 256;

function time(ns: bigint | undefined): string {
  if (ns === undefined) return '-';
  const sec = ns / 1_000_000_000n;
  const frac = ((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
  const secs = ns < 0n && frac !== 0n ? sec - 1n : sec;
  return `${formatIsoNano(ns)} (${secs}.${frac.toString().padStart(9, '0')})`;
}

// ------------------------------------------------------------------------------------------------------ ls

export interface LsArgs {
  target: string;
  long?: boolean;
  recursive?: boolean;
}

function longLine(vfs: Vfs, path: string, name: string): string {
  let st: VfsStat;
  try {
    st = vfs.lstat(path);
  } catch (err) {
    return `?????????? ${printable(name)}  (${err instanceof Error ? err.message : String(err)})`;
  }
  let target = '';
  if (st.type === 'symlink') {
    try {
      target = ' -> ' + vfs.readlink(path);
    } catch {
      target = ' -> ?';
    }
  }
  const size = st.type === 'char' || st.type === 'block' ? `${st.rdevMajor},${st.rdevMinor}` : String(st.size);
  const mtime = st.mtime !== undefined ? formatIsoNano(st.mtime) : '-';
  return printable(
    `${modeString(st.mode, st.type)} ${String(st.nlink).padStart(3)} ${String(st.uid).padStart(5)} ${String(st.gid).padStart(5)} ` +
      `${size.padStart(12)} ${mtime} ${String(st.ino).padStart(9)} ${name}${target}`,
  );
}

export async function lsCommand(args: LsArgs, out: NodeJS.WritableStream): Promise<void> {
  const { evidence, path: inPath } = parseTarget(args.target);
  await withEvidence(evidence, async ({ vfs }) => {
    const start = evidencePath(inPath).replace(/(.)\/+$/, '$1');
    const st = vfs.stat(start);
    const line = (p: string, name: string, type: DirEntry['type']) =>
      args.long ? longLine(vfs, p, name) : printable(name) + (type === 'dir' ? '/' : '');
    if (st.type !== 'dir') {
      await write(out, line(start, args.recursive ? start : start.split('/').pop()!, st.type) + '\n');
      return;
    }
    let count = 0;
    let buf = '';
    const flush = async () => {
      if (buf) await write(out, buf);
      buf = '';
    };
    const visit = async (dir: string, depth: number): Promise<void> => {
      let entries: DirEntry[];
      try {
        entries = vfs.readdir(dir);
      } catch (err) {
        if (dir === start) throw err;
        buf += `${printable(dir)}: cannot list: ${printable(err instanceof Error ? err.message : String(err))}\n`;
        return;
      }
      for (const e of entries) {
        if (++count > MAX_LS_ENTRIES) return;
        const p = dir === '/' ? `/${e.name}` : `${dir}/${e.name}`;
        buf += line(p, args.recursive ? p : e.name, e.type) + '\n';
        if (buf.length > 1 << 16) await flush();
        if (args.recursive && e.type === 'dir' && depth < MAX_LS_DEPTH) await visit(p, depth + 1);
      }
    };
    await visit(start, 0);
    if (count > MAX_LS_ENTRIES) buf += `(stopped after ${MAX_LS_ENTRIES} entries)\n`;
    await flush();
  });
}

// ------------------------------------------------------------------------------------------------------ cat

export interface CatArgs {
  image: string;
  path: string;
}

export async function catCommand(args: CatArgs, out: NodeJS.WritableStream): Promise<void> {
  await withEvidence(args.image, async ({ vfs }) => {
    const f = vfs.open(evidencePath(args.path));
    try {
      for (const chunk of readChunks(f)) await write(out, Buffer.from(chunk));
    } finally {
      f.close();
    }
  });
}

// ------------------------------------------------------------------------------------------------------ stat

export interface StatArgs {
  image: string;
  path: string;
  json?: boolean;
  follow?: boolean;
}

export async function statCommand(args: StatArgs, out: NodeJS.WritableStream): Promise<void> {
  await withEvidence(args.image, async (ev) => {
    const vfs = ev.vfs;
    const path = evidencePath(args.path);
    const st = args.follow ? vfs.stat(path) : vfs.lstat(path);
    const target = st.type === 'symlink' ? vfs.readlink(path) : undefined;
    const xattrs = vfs.xattrs(path);
    let where: { mountPoint: string; inner: string; what?: string } | undefined;
    if (ev.layout) where = ev.layout.vfs.whereIs(path, args.follow ?? false);
    if (args.json) {
      await write(
        out,
        formatJson({
          path,
          ...st,
          mode: '0' + st.mode.toString(8),
          symlink_target: target,
          file_system: where ? { mount_point: where.mountPoint, path: where.inner, what: where.what } : undefined,
          xattrs: xattrs ? Object.fromEntries([...xattrs].map(([k, v]) => [k, formatXattrValue(v)])) : undefined,
        }),
      );
      return;
    }
    const lines = [
      `  Path: ${path}${target !== undefined ? ` -> ${target}` : ''}`,
      `  Type: ${st.type}`,
      `  Mode: ${(st.mode & 0o7777).toString(8).padStart(4, '0')} (${modeString(st.mode, st.type)})`,
      ` Inode: ${st.ino}`,
      ` Links: ${st.nlink}`,
      `   Uid: ${st.uid}`,
      `   Gid: ${st.gid}`,
      `  Size: ${st.size}`,
    ];
    if (st.type === 'char' || st.type === 'block') lines.push(`  Rdev: ${st.rdevMajor}:${st.rdevMinor}`);
    lines.push(
      `Access: ${time(st.atime)}`,
      `Modify: ${time(st.mtime)}`,
      `Change: ${time(st.ctime)}`,
      ` Birth: ${time(st.birthtime)}`,
    );
    if (where) lines.push(`    FS: ${where.what ?? '?'} mounted at ${where.mountPoint}, path there ${where.inner}`);
    if (xattrs === undefined) lines.push('Xattrs: (not visible to this reader)');
    else if (xattrs.size === 0) lines.push('Xattrs: none');
    else {
      lines.push('Xattrs:');
      for (const [k, v] of [...xattrs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) lines.push(`  ${k} = ${formatXattrValue(v)}`);
    }
    await write(out, lines.map(printable).join('\n') + '\n');
  });
}
