// Browsing commands: `flotsam info IMAGE`, `ls IMAGE[:PATH]`, `cat IMAGE PATH`, `stat IMAGE PATH` — a consultant's
// quick look at evidence (a disk image or a directory) without mounting it. Plain handlers writing to a stream, plus
// registerBrowseCommands() for the yargs shell in main.ts. Everything printed from evidence is made terminal-safe.
import type { ByteSource } from '../io/index.js';
import { once } from 'node:events';
import * as fs from 'node:fs';
import type { Argv } from 'yargs';
import { discoverDockerRoots } from '../collectors/docker/index.js';
import { readHostIdentity } from '../collectors/host/identity.js';
import { ProblemLog } from '../events/event.js';
import { formatIsoNano } from '../events/time.js';
import { PARTITION_TYPE_NAMES } from '../fs/assemble/assemble.js';
import { EvidenceError, type OpenedEvidence, openEvidenceDetailed } from '../fs/open-evidence.js';
import { type DirEntry, type Vfs, type VfsStat, VfsError, readChunks } from '../fs/vfs.js';
import { formatJson } from '../writers/index.js';

/** Entries `ls -r` prints before it stops (a note says so). */
export const MAX_LS_ENTRIES = 10_000_000;
/** Directory depth `ls -r` descends. */
export const MAX_LS_DEPTH = 256;
/** Bytes of one xattr value shown (the rest is counted). */
export const MAX_XATTR_SHOWN = 256;

/** Control characters from evidence must not drive the analyst's terminal. */
export function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** An xattr value: a quoted string when it is printable UTF-8 (one trailing NUL allowed), else hex. */
export function formatXattrValue(v: Uint8Array): string {
  let body = v;
  if (body.length > 0 && body[body.length - 1] === 0) body = body.subarray(0, body.length - 1);
  let text: string | undefined;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    text = undefined;
  }
  if (text !== undefined && body.length <= MAX_XATTR_SHOWN && !/[\u0000-\u0008\u000e-\u001f\u007f-\u009f]/.test(text)) {
    return JSON.stringify(text);
  }
  const shown = v.subarray(0, MAX_XATTR_SHOWN);
  const hex = '0x' + Array.from(shown, (b) => b.toString(16).padStart(2, '0')).join('');
  return v.length > MAX_XATTR_SHOWN ? `${hex}... (${v.length} bytes)` : hex;
}

function time(ns: bigint | undefined): string {
  if (ns === undefined) return '-';
  const sec = ns / 1_000_000_000n;
  const frac = ((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
  const secs = ns < 0n && frac !== 0n ? sec - 1n : sec;
  return `${formatIsoNano(ns)} (${secs}.${frac.toString().padStart(9, '0')})`;
}

const TYPE_CHAR: Record<string, string> = { file: '-', dir: 'd', symlink: 'l', char: 'c', block: 'b', fifo: 'p', socket: 's', unknown: '?' };

export function modeString(mode: number, type: string): string {
  const r = (bit: number, c: string) => (mode & bit ? c : '-');
  const x = (bit: number, special: number, on: string, onNoX: string) =>
    mode & special ? (mode & bit ? on : onNoX) : mode & bit ? 'x' : '-';
  return (
    (TYPE_CHAR[type] ?? '?') +
    r(0o400, 'r') + r(0o200, 'w') + x(0o100, 0o4000, 's', 'S') +
    r(0o040, 'r') + r(0o020, 'w') + x(0o010, 0o2000, 's', 'S') +
    r(0o004, 'r') + r(0o002, 'w') + x(0o001, 0o1000, 't', 'T')
  );
}

/** `IMAGE[:PATH]`: the longest prefix before a `:` that exists on the analyst's machine is the evidence. */
export function parseTarget(target: string): { evidence: string; path: string } {
  if (fs.existsSync(target)) return { evidence: target, path: '/' };
  for (let i = target.lastIndexOf(':'); i > 0; i = target.lastIndexOf(':', i - 1)) {
    const ev = target.slice(0, i);
    if (fs.existsSync(ev)) return { evidence: ev, path: target.slice(i + 1) || '/' };
  }
  return { evidence: target, path: '/' };
}

/** Opens evidence, runs `fn`, closes; VfsErrors become EvidenceErrors (exit code 2, one line). */
async function withEvidence<T>(evidence: string, fn: (ev: OpenedEvidence) => Promise<T> | T): Promise<T> {
  const ev = openEvidenceDetailed(evidence);
  try {
    return await fn(ev);
  } catch (err) {
    if (err instanceof VfsError) throw new EvidenceError(`${evidence}: ${err.message}`);
    throw err;
  } finally {
    ev.vfs.close();
  }
}

/** A path as typed, made absolute; `..` is left for the VFS to resolve physically (through symlinks, across mounts). */
function evidencePath(p: string): string {
  return p.startsWith('/') ? p : '/' + p;
}

async function write(out: NodeJS.WritableStream, text: string | Uint8Array): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

// ------------------------------------------------------------------------------------------------------ info

export interface InfoArgs {
  image: string;
  json?: boolean;
}

export async function infoCommand(args: InfoArgs, out: NodeJS.WritableStream): Promise<void> {
  await withEvidence(args.image, async (ev) => {
    const vfs = ev.vfs;
    const scratch = new ProblemLog();
    const identity = readHostIdentity(vfs, scratch);
    const roots = discoverDockerRoots({ vfs, host: identity.hostname ?? '', problems: scratch });
    const l = ev.layout;
    const partitions = l
      ? l.volumes.partitions.map((p) => {
          const f = l.filesystems.find((x) => x.partition === p);
          return {
            index: l.volumes.scheme === 'none' ? undefined : p.index,
            start: p.start,
            size: p.size,
            type: p.type,
            type_name: PARTITION_TYPE_NAMES[p.type.toLowerCase()],
            name: p.name,
            partuuid: f?.partuuid ?? p.guid,
            filesystem: f?.fsKind,
            label: f?.label,
            uuid: f?.uuid,
            last_mounted: f?.lastMounted,
            is_root: f?.isRoot ?? false,
            mount_point: f?.mountPoint,
            error: f?.openError,
          };
        })
      : undefined;
    const image = l ? imageDescription(l.disk) : undefined;
    const info = {
      evidence: args.image,
      kind: ev.kind,
      image,
      disk_size: l?.diskSize,
      partition_table: l?.volumes.scheme,
      sector_size: l?.volumes.sectorSize,
      partitions,
      root: l ? { how: l.rootHow, partition: l.root?.partNumber, uuid: l.root?.uuid } : undefined,
      mounts: l?.vfs.mountTable.map((m) => ({ point: m.point, what: m.what })),
      fstab: l?.fstab.map((e) => ({ line: e.line, spec: e.spec, mount_point: e.file, type: e.vfstype, options: e.options.join(',') })),
      hostname: identity.hostname,
      os_release: identity.osPrettyName,
      machine_id: identity.machineId,
      is_linux_root: identity.isLinuxRoot,
      docker_data_roots: roots.filter((r) => r.exists).map((r) => ({ path: r.path, how: r.how })),
      problems: ev.problems.map((p) => ({ path: p.path, reason: p.reason })),
    };
    if (args.json) {
      await write(out, formatJson(info));
      return;
    }
    const lines: string[] = [];
    const P = (s: string) => lines.push(printable(s));
    P(`Evidence:        ${args.image} (${ev.kind})`);
    if (image) {
      P(`Image format:    ${image.format}`);
      for (const [k, v] of Object.entries(image.details)) P(`  ${k.padEnd(22)} ${v}`);
    }
    if (l) {
      P(`Disk size:       ${l.diskSize} bytes (${(Number(l.diskSize) / 2 ** 30).toFixed(2)} GiB)`);
      P(`Partition table: ${l.volumes.scheme}${l.volumes.scheme === 'none' ? ' (bare file system)' : ''}, sector size ${l.volumes.sectorSize}`);
      P('');
      P('Partitions:');
      const rows = [['#', 'START', 'SIZE', 'TYPE', 'NAME', 'FS', 'LABEL', 'UUID', 'MOUNT']];
      for (const p of partitions ?? []) {
        rows.push([
          p.index === undefined ? '-' : String(p.index),
          String(p.start),
          String(p.size),
          p.type + (p.type_name ? ` (${p.type_name})` : ''),
          p.name || '-',
          (p.filesystem ?? '-') + (p.error ? ' (unreadable)' : ''),
          p.label || '-',
          p.uuid ?? '-',
          (p.mount_point ?? '-') + (p.is_root ? ' (root)' : ''),
        ]);
      }
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      for (const r of rows) P('  ' + r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
      P('');
      const rootDesc =
        l.root === undefined
          ? 'none found'
          : `${l.root.partNumber !== undefined ? `partition ${l.root.partNumber}` : 'whole disk'} (${l.rootHow})`;
      P(`Linux root:      ${rootDesc}`);
      P(`Mounts:          ${l.vfs.mountTable.map((m) => `${m.point} <- ${m.what ?? '?'}`).join('; ')}`);
    }
    P(`Hostname:        ${identity.hostname ?? '-'}`);
    P(`OS release:      ${identity.osPrettyName ?? '-'}`);
    if (identity.machineId) P(`Machine id:      ${identity.machineId}`);
    P(`Docker roots:    ${info.docker_data_roots.length === 0 ? 'none found' : info.docker_data_roots.map((r) => `${r.path} (${r.how.join(', ')})`).join('; ')}`);
    if (ev.problems.length > 0) {
      P('');
      P('Problems:');
      for (const p of ev.problems) P(`  ${p.path}: ${p.reason}`);
    }
    await write(out, lines.join('\n') + '\n');
  });
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

// ------------------------------------------------------------------------------------------------------ yargs

/** `flotsam ls ... | head`: a closed pipe ends the command quietly instead of as an internal error. */
function quietOnClosedPipe(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

export function registerBrowseCommands(y: Argv): Argv {
  return y
    .middleware((argv) => {
      if (['info', 'ls', 'cat', 'stat'].includes(String(argv._[0]))) quietOnClosedPipe();
    })
    .command(
      'info <image>',
      'Describe evidence: partitions, file systems, the Linux root and its mounts, OS, Docker data roots',
      (a) =>
        a
          .positional('image', { type: 'string', demandOption: true, describe: 'disk image or directory' })
          .option('json', { type: 'boolean', default: false, describe: 'JSON output' }),
      async (a) => infoCommand({ image: a.image as string, json: a.json as boolean }, process.stdout),
    )
    .command(
      'ls <target>',
      'List a directory of the evidence (IMAGE[:PATH])',
      (a) =>
        a
          .positional('target', { type: 'string', demandOption: true, describe: 'IMAGE[:PATH]' })
          .option('long', { alias: 'l', type: 'boolean', default: false, describe: 'mode, links, owner, size, mtime, inode' })
          .option('recursive', { alias: 'r', type: 'boolean', default: false, describe: 'descend into directories (full paths)' })
          .example('$0 ls disk.img:/var/lib/docker -l', ''),
      async (a) => lsCommand({ target: a.target as string, long: a.long as boolean, recursive: a.recursive as boolean }, process.stdout),
    )
    .command(
      'cat <image> <path>',
      'Write a file of the evidence to stdout',
      (a) =>
        a
          .positional('image', { type: 'string', demandOption: true })
          .positional('path', { type: 'string', demandOption: true }),
      async (a) => catCommand({ image: a.image as string, path: a.path as string }, process.stdout),
    )
    .command(
      'stat <image> <path>',
      'Inode metadata of a path in the evidence: all times in ns with crtime, inode, mode, owner, xattrs',
      (a) =>
        a
          .positional('image', { type: 'string', demandOption: true })
          .positional('path', { type: 'string', demandOption: true })
          .option('follow', { alias: 'L', type: 'boolean', default: false, describe: 'follow a final symlink' })
          .option('json', { type: 'boolean', default: false, describe: 'JSON output' }),
      async (a) =>
        statCommand({ image: a.image as string, path: a.path as string, follow: a.follow as boolean, json: a.json as boolean }, process.stdout),
    );
}

/** The image container's own description: format and, for E01, the acquisition header and stored hashes. */
function imageDescription(disk: ByteSource): { format: string; details: Record<string, string> } {
  const d = disk as ByteSource & { metadata?: EwfMetadataLike };
  const details: Record<string, string> = {};
  const m = d.metadata;
  if (m && typeof m === 'object' && 'header' in m) {
    const h = m.header ?? {};
    const put = (k: string, v: unknown): void => {
      if (v !== undefined && v !== null && v !== '') details[k] = String(v);
    };
    put('case number', h.caseNumber);
    put('evidence number', h.evidenceNumber);
    put('examiner', h.examinerName);
    put('description', h.description);
    put('notes', h.notes);
    put('acquired', h.acquisitionDate?.iso ?? h.acquisitionDate?.raw);
    put('system date', h.systemDate?.iso ?? h.systemDate?.raw);
    put('acquisition software', [h.acquisitionSoftware, h.acquisitionSoftwareVersion].filter(Boolean).join(' '));
    put('acquisition OS', h.acquisitionOperatingSystem);
    put('segments', m.segments?.length);
    put('chunk size', m.chunkSize);
    put('stored MD5', m.storedHashes?.md5);
    put('stored SHA-1', m.storedHashes?.sha1);
    put('acquisition errors', m.acquisitionErrors?.length ? m.acquisitionErrors.length : undefined);
    return { format: String(m.format ?? 'EWF'), details };
  }
  return { format: disk.constructor?.name?.replace(/Source$/, '') || 'raw', details };
}

interface EwfMetadataLike {
  format?: string;
  header?: {
    caseNumber?: string;
    evidenceNumber?: string;
    examinerName?: string;
    description?: string;
    notes?: string;
    acquisitionDate?: { raw?: string; iso?: string };
    systemDate?: { raw?: string; iso?: string };
    acquisitionSoftware?: string;
    acquisitionSoftwareVersion?: string;
    acquisitionOperatingSystem?: string;
  };
  segments?: unknown[];
  chunkSize?: number;
  storedHashes?: { md5?: string; sha1?: string };
  acquisitionErrors?: unknown[];
}
