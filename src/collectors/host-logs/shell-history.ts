// Shell histories of every user: bash (~/.bash_history, with `#EPOCH` lines when HISTTIMEFORMAT was set),
// zsh (~/.zsh_history, plain or EXTENDED_HISTORY `: EPOCH:DURATION;command`), ash/sh/ksh (~/.ash_history,
// ~/.sh_history, ~/.history) of /root, /home/* and the home directories named in /etc/passwd.
// A command with a recorded time gets it (timestamp_desc 'Event Recorded Time'); a command without one keeps
// its line number and takes the file's mtime as an upper bound ('Content Modification Time',
// attrs.time_is_upper_bound). Commands of docker/podman/ctr/kubectl/... are flagged (attrs.docker_command).
// References: bash(1) HISTFILE / HISTTIMEFORMAT ("the time stamp ... is written as a comment line beginning
// with the history comment character followed by digits"; bash lib/readline/histfile.c), zsh zshparam(1) and
// zshoptions(1) EXTENDED_HISTORY (": <beginning time>:<elapsed seconds>;<command>", metafied bytes; a line
// ending in `\` continues). docs/formats/bash-history.md.
import { Buffer } from 'node:buffer';
import { TimeDesc, type TimelineEvent } from '../../events/event.js';
import { NS_PER_SECOND } from '../../events/time.js';
import { readTextLimited } from '../../fs/vfs.js';
import type { HostCollector } from '../registry.js';
import type { CollectorContext, EventSource } from '../types.js';
import { containerCommand } from './auth-parse.js';
import { dockerCommandsOnly } from '../../lifecycle/source-readers.js'; // issue 6
import { BATCH_EVENTS, FileProblems, type LineSink, LineSplitter, MAX_LINE_BYTES, openLogBytes, streamLines } from './text-file.js';

export const SHELL_HISTORY_SOURCE = 'bash_history';
const COMPONENT = 'shell-history';

export const HISTORY_FILES = ['.bash_history', '.zsh_history', '.ash_history', '.sh_history', '.history', '.ksh_history'];
/** Home directories examined (a passwd with a million users is not a real host). */
export const MAX_HOME_DIRS = 4096;
/** Continuation lines joined into one zsh command. */
export const MAX_COMMAND_LINES = 1000;

export interface HistoryFileInfo {
  path: string;
  host: string;
  inode?: bigint;
  user?: string;
  shell: string;
  /** File mtime (UTC ns): the upper bound of untimed commands. */
  mtime?: bigint;
}

/** zsh "metafied" bytes: 0x83 followed by (byte ^ 0x20) stands for a byte in 0x83..0xa2 (zsh utils.c unmetafy). */
function unmetafy(buf: Buffer, s: number, e: number): Buffer {
  if (buf.indexOf(0x83, s) < 0 || buf.indexOf(0x83, s) >= e) return buf.subarray(s, e);
  const out = Buffer.allocUnsafe(e - s);
  let o = 0;
  for (let i = s; i < e; i++) {
    if (buf[i] === 0x83 && i + 1 < e) out[o++] = buf[++i] ^ 0x20;
    else out[o++] = buf[i];
  }
  return out.subarray(0, o);
}

export class HistorySink implements LineSink {
  events: TimelineEvent[] = [];
  private pendingTime: { sec: number; raw: string; line: number } | undefined;
  // zsh continuation
  private cont: { text: string[]; line: number; offset: number; sec?: number; raw?: string; duration?: number } | undefined;

  constructor(private readonly info: HistoryFileInfo) {}

  readonly line = (buf: Buffer, s: number, e: number, offset: number, lineNo: number): void => {
    const zsh = this.info.shell === 'zsh';
    const text = (zsh ? unmetafy(buf, s, e) : buf.subarray(s, e)).toString('utf8');
    if (zsh) {
      this.zshLine(text, offset, lineNo);
      return;
    }
    const ts = /^#(\d{9,11})\s*$/.exec(text);
    if (ts) {
      this.pendingTime = { sec: Number(ts[1]), raw: text, line: lineNo };
      return;
    }
    if (text.length === 0) return;
    const t = this.pendingTime;
    this.pendingTime = undefined;
    this.emit(text, lineNo, offset, t?.sec, t?.raw);
  };

  private zshLine(text: string, offset: number, lineNo: number): void {
    if (this.cont) {
      const ends = text.endsWith('\\') && this.cont.text.length < MAX_COMMAND_LINES;
      this.cont.text.push(ends ? text.slice(0, -1) : text);
      if (!ends) this.flushCont();
      return;
    }
    const m = /^: (\d{1,11}):(\d+);(.*)$/s.exec(text);
    const cmd = m ? m[3] : text;
    if (!m && text.length === 0) return;
    const c = {
      text: [cmd.endsWith('\\') ? cmd.slice(0, -1) : cmd],
      line: lineNo,
      offset,
      sec: m ? Number(m[1]) : undefined,
      raw: m ? `: ${m[1]}:${m[2]}` : undefined,
      duration: m ? Number(m[2]) : undefined,
    };
    if (cmd.endsWith('\\')) this.cont = c;
    else {
      this.cont = c;
      this.flushCont();
    }
  }

  private flushCont(): void {
    const c = this.cont;
    if (!c) return;
    this.cont = undefined;
    this.emit(c.text.join('\n'), c.line, c.offset, c.sec, c.raw, c.duration);
  }

  finish(): void {
    this.flushCont();
  }

  private emit(command: string, line: number, offset: number, sec?: number, raw?: string, duration?: number): void {
    const attrs: Record<string, unknown> = { shell: this.info.shell };
    if (this.info.user) attrs.user = this.info.user;
    let time: bigint;
    let desc: string;
    let rawTime: string;
    if (sec !== undefined) {
      time = BigInt(sec) * NS_PER_SECOND;
      desc = TimeDesc.recorded;
      rawTime = raw ?? String(sec);
      if (duration !== undefined) attrs.duration_seconds = duration;
    } else {
      time = this.info.mtime ?? 0n;
      desc = TimeDesc.modification;
      rawTime = '';
      attrs.time_is_upper_bound = true;
      if (this.info.mtime === undefined) attrs.time_unknown = true;
    }
    const cc = containerCommand(command);
    if (cc) {
      attrs.docker_command = true;
      attrs.tool = cc.tool;
      if (cc.subcommand) attrs.subcommand = cc.subcommand;
    }
    this.events.push({
      time,
      timestamp_desc: desc,
      source: SHELL_HISTORY_SOURCE,
      host: this.info.host,
      message: command,
      path: this.info.path,
      inode: this.info.inode,
      line,
      offset,
      raw_time: rawTime,
      attrs,
    });
  }
}

/** Parses a whole history file's bytes (tests). */
export function parseHistoryBytes(data: Uint8Array, info: HistoryFileInfo): { events: TimelineEvent[]; problems: string[] } {
  const problems: string[] = [];
  const sink = new HistorySink(info);
  const sp = new LineSplitter(sink.line, (r) => problems.push(r));
  sp.feed(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  sp.finish();
  sink.finish();
  return { events: sink.events, problems };
}

function shellOf(name: string): string {
  if (name === '.zsh_history') return 'zsh';
  if (name === '.bash_history') return 'bash';
  if (name === '.ash_history') return 'ash';
  if (name === '.ksh_history') return 'ksh';
  return 'sh';
}

export function historyFileSource(ctx: CollectorContext, path: string, user?: string): EventSource {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const src: EventSource = {
    id: path,
    ordered: false, // untimed lines take the mtime; sorting is the timeline's job
    async *open() {
      const problems = new FileProblems(ctx, COMPONENT, path);
      try {
        let mtime: bigint | undefined;
        try {
          mtime = ctx.vfs.stat(path).mtime;
        } catch {
          // reported by open
        }
        const bytes = openLogBytes(ctx, path, problems.add);
        if (!bytes) return;
        const sink = new HistorySink({ path, host: ctx.host, inode: bytes.inode, user, shell: shellOf(name), mtime });
        yield* streamLines(bytes, sink, problems.add, MAX_LINE_BYTES, BATCH_EVENTS);
      } finally {
        problems.finish();
      }
    },
  };
  src.lifecycle = dockerCommandsOnly(src.open); // issue 6: container commands for the lifecycle pre-pass
  return src;
}

/** Home directories: /root, /home/*, and those of /etc/passwd (user name by home). */
export function homeDirs(ctx: CollectorContext): Map<string, string | undefined> {
  const homes = new Map<string, string | undefined>();
  try {
    const passwd = readTextLimited(ctx.vfs, '/etc/passwd', 16 * 1024 * 1024);
    for (const line of passwd.split('\n')) {
      const f = line.split(':');
      if (f.length >= 7 && f[5].startsWith('/') && f[5] !== '/' && !homes.has(f[5]) && homes.size < MAX_HOME_DIRS) homes.set(f[5], f[0]);
    }
  } catch {
    // no passwd
  }
  if (!homes.has('/root')) homes.set('/root', 'root');
  try {
    for (const d of ctx.vfs.readdir('/home')) {
      if (homes.size >= MAX_HOME_DIRS) break;
      const p = `/home/${d.name}`;
      if (!homes.has(p) && (d.type === 'dir' || d.type === 'symlink')) homes.set(p, d.name);
    }
  } catch {
    // no /home
  }
  return homes;
}

export const shellHistoryCollector: HostCollector = {
  name: 'shell-history',
  collect(ctx) {
    const sources: EventSource[] = [];
    const seen = new Set<string>();
    for (const [home, user] of homeDirs(ctx)) {
      for (const f of HISTORY_FILES) {
        const path = `${home}/${f}`;
        try {
          if (ctx.vfs.stat(path).type !== 'file') continue;
          const real = ctx.vfs.realpath(path);
          if (seen.has(real)) continue;
          seen.add(real);
        } catch {
          continue;
        }
        sources.push(historyFileSource(ctx, path, user));
      }
    }
    return { sources };
  },
};
