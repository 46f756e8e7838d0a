// Linux audit logs (/var/log/audit/audit.log and its rotations audit.log.N, oldest first): records
// `[node=H ]type=T msg=audit(SECONDS.MILLIS:SERIAL): key=value ...` grouped into one event per serial.
//
// The records of one event share the serial and are written next to each other (a syscall event ends with an
// EOE record); records of other events may interleave a little. Groups stay open in a small window
// (AUDIT_GROUP_WINDOW_RECORDS records, at most MAX_OPEN_AUDIT_GROUPS groups) and are flushed at EOE or when
// they fall out of the window, so memory is bounded whatever the file holds.
// Untrusted strings are written quoted ("...") or, when they hold spaces, quotes or control characters, as
// upper-case hex (proctitle always: its argv is NUL-separated): those are decoded; proctitle NULs become spaces.
// Times are UTC epoch seconds with milliseconds.
// References: linux-audit/audit-userspace docs (audit.log format, `ausearch -i`), lib/audit_logging.c and
// auparse/interpret.c (which fields are hex-encoded: proctitle, name, cwd, exe, comm, cmd, acct, key, data,
// path, EXECVE a[n]); log_format=ENRICHED appends `\x1d` and upper-case interpreted fields; kernel
// kernel/audit.c audit_log_start (the `audit(%llu.%03lu:%u)` stamp). docs/formats/audit-log.md.
import { Buffer } from 'node:buffer';
import { TimeDesc, type TimelineEvent } from '../../events/event.js';
import { NS_PER_SECOND } from '../../events/time.js';
import type { HostCollector } from '../registry.js';
import type { CollectorContext, EventSource } from '../types.js';
import {
  BATCH_EVENTS,
  FileProblems,
  LineSplitter,
  type LineSink,
  MAX_LINE_BYTES,
  type ReadOptions,
  looksBinary,
  openLogBytes,
  streamLines,
} from './text-file.js';

export const AUDIT_SOURCE = 'audit';
const COMPONENT = 'audit';

/** Records after which a group without EOE is considered complete. */
export const AUDIT_GROUP_WINDOW_RECORDS = 32;
/** Groups open at once (interleaving of more events than this flushes the oldest early). */
export const MAX_OPEN_AUDIT_GROUPS = 64;
/** Records merged into one event; the rest are counted, not kept. */
export const MAX_AUDIT_RECORDS_PER_GROUP = 256;
/** Fields kept per record. */
export const MAX_AUDIT_FIELDS_PER_RECORD = 256;

const HEADER = /^(?:node=(\S+) )?type=(\S+) msg=audit\((\d{1,12})\.(\d{3}):(\d{1,20})\):\s?/;

/** Fields audit writes as untrusted strings (quoted, or hex when they need escaping). */
const HEX_FIELDS = new Set([
  'proctitle', 'name', 'cwd', 'exe', 'comm', 'cmd', 'acct', 'key', 'data', 'path', 'ocomm', 'old-chardev', 'new-chardev',
  'watch', 'vm', 'grp', 'new_group', 'id', 'dir', 'file', 'old-disk', 'new-disk',
]);

/** x86-64 syscall numbers of interest (linux arch/x86/entry/syscalls/syscall_64.tbl) for arch=c000003e. */
const X86_64_SYSCALLS: Record<number, string> = {
  0: 'read', 1: 'write', 2: 'open', 9: 'mmap', 10: 'mprotect', 41: 'socket', 42: 'connect', 43: 'accept', 49: 'bind',
  56: 'clone', 57: 'fork', 58: 'vfork', 59: 'execve', 62: 'kill', 76: 'truncate', 77: 'ftruncate', 82: 'rename',
  83: 'mkdir', 84: 'rmdir', 86: 'link', 87: 'unlink', 88: 'symlink', 90: 'chmod', 91: 'fchmod', 92: 'chown',
  101: 'ptrace', 105: 'setuid', 106: 'setgid', 126: 'capset', 133: 'mknod', 155: 'pivot_root', 161: 'chroot',
  165: 'mount', 166: 'umount2', 170: 'sethostname', 175: 'init_module', 176: 'delete_module', 231: 'exit_group',
  257: 'openat', 258: 'mkdirat', 260: 'fchownat', 263: 'unlinkat', 264: 'renameat', 268: 'fchmodat', 272: 'unshare',
  288: 'accept4', 308: 'setns', 313: 'finit_module', 316: 'renameat2', 319: 'memfd_create', 321: 'bpf',
  322: 'execveat', 435: 'clone3', 437: 'openat2',
};

export interface AuditRecord {
  type: string;
  node?: string;
  sec: number;
  ms: number;
  serial: string;
  fields: Record<string, string>;
  /** ENRICHED format's interpreted fields (after \x1d). */
  enriched?: Record<string, string>;
}

function decodeHex(v: string, nulToSpace: boolean): string | undefined {
  if (v.length < 2 || v.length % 2 !== 0 || !/^[0-9A-F]+$/.test(v)) return undefined;
  const b = Buffer.from(v, 'hex');
  let s = b.toString('utf8');
  if (nulToSpace) s = s.replace(/\0+$/, '').replace(/\0/g, ' ');
  return s;
}

/** Splits `k=v k="v" k='nested k=v'` into fields (quoted values unquoted, nested msg='...' flattened). */
export function parseAuditFields(text: string, out: Record<string, string> = {}, depth = 0): Record<string, string> {
  let i = 0;
  const n = text.length;
  let count = 0;
  while (i < n) {
    while (i < n && text.charCodeAt(i) === 0x20) i++;
    if (i >= n) break;
    const ks = i;
    while (i < n && text[i] !== '=' && text[i] !== ' ') i++;
    const key = text.slice(ks, i);
    if (text[i] !== '=') {
      // a bare word (audit writes a few, e.g. "audit_enabled=1 old=1 ... res=1"): skip
      continue;
    }
    i++;
    let value: string;
    let quoted = false;
    const q = text[i];
    if (q === '"' || q === "'") {
      const end = text.indexOf(q, i + 1);
      const e = end < 0 ? n : end;
      value = text.slice(i + 1, e);
      i = e + 1;
      quoted = true;
      if (q === "'" && key === 'msg' && depth === 0) {
        parseAuditFields(value, out, depth + 1);
        continue;
      }
    } else {
      const vs = i;
      while (i < n && text.charCodeAt(i) !== 0x20) i++;
      value = text.slice(vs, i);
    }
    if (++count > MAX_AUDIT_FIELDS_PER_RECORD) break;
    if (!quoted && (HEX_FIELDS.has(key) || /^a\d+$/.test(key) && out.__type === 'EXECVE')) {
      const d = decodeHex(value, key === 'proctitle');
      if (d !== undefined) value = d;
    }
    out[key in out && key !== '__type' ? `${key}_${count}` : key] = value;
  }
  return out;
}

/** Parses one audit.log line; a string is the reason it is not one. */
export function parseAuditLine(line: string): AuditRecord | string {
  const m = HEADER.exec(line);
  if (!m) {
    return /msg=audit\(/.test(line) ? `broken msg=audit(...) stamp: ${JSON.stringify(line.slice(0, 80))}` : `not an audit record: ${JSON.stringify(line.slice(0, 80))}`;
  }
  const rec: AuditRecord = { type: m[2], sec: Number(m[3]), ms: Number(m[4]), serial: m[5], fields: {} };
  if (m[1] !== undefined) rec.node = m[1];
  let body = line.slice(m[0].length);
  const gs = body.indexOf('\x1d');
  let enrichedText: string | undefined;
  if (gs >= 0) {
    enrichedText = body.slice(gs + 1);
    body = body.slice(0, gs);
  }
  const f: Record<string, string> = { __type: rec.type };
  parseAuditFields(body, f);
  delete f.__type;
  rec.fields = f;
  if (enrichedText !== undefined) rec.enriched = parseAuditFields(enrichedText);
  return rec;
}

interface Group {
  key: string;
  first: AuditRecord;
  records: AuditRecord[];
  dropped: number;
  lastIndex: number;
  line: number;
  offset: number;
}

export interface AuditFileInfo {
  path: string;
  host: string;
  inode?: bigint;
  compressed: boolean;
}

const KEY_FIELDS = ['exe', 'comm', 'uid', 'auid', 'euid', 'gid', 'egid', 'suid', 'fsuid', 'ses', 'pid', 'ppid', 'tty', 'key',
  'success', 'exit', 'syscall', 'arch', 'acct', 'op', 'res', 'terminal', 'addr', 'hostname', 'subj', 'cmd'];

/** Lines in, one event per serial out. */
export class AuditSink implements LineSink {
  events: TimelineEvent[] = [];
  private open = new Map<string, Group>();
  private index = 0;

  constructor(
    private readonly info: AuditFileInfo,
    private readonly problem: (reason: string) => void,
  ) {}

  readonly line = (buf: Buffer, s: number, e: number, offset: number, lineNo: number): void => {
    if (e === s) return;
    const text = buf.toString('utf8', s, e);
    const rec = parseAuditLine(text);
    if (typeof rec === 'string') {
      this.problem(`line ${lineNo}: ${looksBinary(buf, s, e) ? `binary data (${e - s} bytes at offset ${offset})` : rec}; skipped`);
      return;
    }
    this.index++;
    const key = `${rec.node ?? ''}|${rec.sec}.${rec.ms}:${rec.serial}`;
    let g = this.open.get(key);
    if (!g) {
      g = { key, first: rec, records: [], dropped: 0, lastIndex: this.index, line: lineNo, offset };
      this.open.set(key, g);
    }
    if (g.records.length < MAX_AUDIT_RECORDS_PER_GROUP) g.records.push(rec);
    else g.dropped++;
    g.lastIndex = this.index;
    if (rec.type === 'EOE') this.flush(g);
    for (const og of this.open.values()) {
      if (this.index - og.lastIndex >= AUDIT_GROUP_WINDOW_RECORDS || this.open.size > MAX_OPEN_AUDIT_GROUPS) this.flush(og);
      else break;
    }
  };

  finish(): void {
    for (const g of this.open.values()) this.flush(g);
  }

  private flush(g: Group): void {
    this.open.delete(g.key);
    const recs = g.records;
    const types = recs.map((r) => r.type).filter((t) => t !== 'EOE');
    const attrs: Record<string, unknown> = { serial: g.first.serial, types, records: recs.length + g.dropped };
    if (g.first.node !== undefined) attrs.node = g.first.node;
    if (g.dropped > 0) attrs.records_dropped = g.dropped;
    const names: string[] = [];
    let execArgs: string[] | undefined;
    const perRecord: Array<Record<string, unknown>> = [];
    for (const r of recs) {
      if (r.type === 'EOE') continue;
      perRecord.push({ type: r.type, ...r.fields, ...(r.enriched ? { enriched: r.enriched } : {}) });
      for (const k of KEY_FIELDS) {
        const v = r.fields[k];
        if (v !== undefined && attrs[k] === undefined && !(k === 'key' && v === '(null)')) attrs[k] = v;
      }
      if (r.type === 'CWD' && r.fields.cwd !== undefined) attrs.cwd = r.fields.cwd;
      if (r.type === 'PATH' && r.fields.name !== undefined && r.fields.name !== '(null)') names.push(r.fields.name);
      if (r.type === 'PROCTITLE' && r.fields.proctitle !== undefined) attrs.proctitle = r.fields.proctitle;
      if (r.type === 'EXECVE') {
        execArgs = [];
        const argc = Number(r.fields.argc ?? 0);
        for (let i = 0; i < Math.min(argc, 1024); i++) {
          const a = r.fields[`a${i}`];
          if (a === undefined) break;
          execArgs.push(a);
        }
      }
      if (r.enriched?.SYSCALL && attrs.syscall_name === undefined) attrs.syscall_name = r.enriched.SYSCALL;
    }
    if (attrs.syscall !== undefined && attrs.syscall_name === undefined && attrs.arch === 'c000003e') {
      const name = X86_64_SYSCALLS[Number(attrs.syscall)];
      if (name) attrs.syscall_name = name;
    }
    if (names.length > 0) attrs.names = names;
    if (execArgs) attrs.execve_args = execArgs;
    attrs.record_fields = perRecord;
    const main = types[0] ?? 'EOE';
    const parts = [types.join(',') || 'EOE'];
    if (attrs.syscall_name) parts.push(String(attrs.syscall_name));
    for (const k of ['exe', 'comm', 'acct', 'op', 'res', 'success', 'exit', 'auid', 'uid', 'key']) {
      if (attrs[k] !== undefined) parts.push(`${k}=${attrs[k]}`);
    }
    if (attrs.proctitle !== undefined) parts.push(`proctitle=${attrs.proctitle}`);
    else if (execArgs) parts.push(`argv=${execArgs.join(' ')}`);
    attrs.audit_type = main;
    if (this.info.compressed) attrs.compressed = true;
    this.events.push({
      time: BigInt(g.first.sec) * NS_PER_SECOND + BigInt(g.first.ms) * 1_000_000n,
      timestamp_desc: TimeDesc.recorded,
      source: AUDIT_SOURCE,
      host: this.info.host,
      message: parts.join(' '),
      path: this.info.path,
      inode: this.info.inode,
      line: g.line,
      offset: g.offset,
      raw_time: `${g.first.sec}.${String(g.first.ms).padStart(3, '0')}:${g.first.serial}`,
      attrs,
    });
  }
}

/** Parses a whole audit.log's bytes (tests). */
export function parseAuditBytes(data: Uint8Array, info: AuditFileInfo): { events: TimelineEvent[]; problems: string[] } {
  const problems: string[] = [];
  const sink = new AuditSink(info, (r) => problems.push(r));
  const sp = new LineSplitter(sink.line, (r) => problems.push(r));
  sp.feed(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  sp.finish();
  sink.finish();
  return { events: sink.events, problems };
}

export function auditFileSource(ctx: CollectorContext, path: string, options: ReadOptions = {}): EventSource {
  return {
    id: path,
    ordered: true,
    async *open() {
      const problems = new FileProblems(ctx, COMPONENT, path);
      try {
        const bytes = openLogBytes(ctx, path, problems.add, options);
        if (!bytes) return;
        const sink = new AuditSink({ path, host: ctx.host, inode: bytes.inode, compressed: bytes.compressed }, problems.add);
        yield* streamLines(bytes, sink, problems.add, MAX_LINE_BYTES, BATCH_EVENTS);
      } finally {
        problems.finish();
      }
    },
  };
}

export const auditCollector: HostCollector = {
  name: 'audit',
  collect(ctx) {
    let names: string[] = [];
    try {
      names = ctx.vfs.readdir('/var/log/audit').filter((d) => d.type === 'file').map((d) => d.name);
    } catch {
      return { sources: [] };
    }
    const files = names
      .map((n) => {
        const m = /^audit\.log(?:\.(\d{1,4}))?(\.gz)?$/.exec(n);
        return m ? { n, age: m[1] === undefined ? 0 : Number(m[1]) } : undefined;
      })
      .filter((x): x is { n: string; age: number } => x !== undefined)
      .sort((a, b) => b.age - a.age);
    return { sources: files.map((f) => auditFileSource(ctx, `/var/log/audit/${f.n}`)) };
  },
};
