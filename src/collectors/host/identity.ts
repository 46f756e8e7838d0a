// Who the evidence is: host name, OS release, machine id, time zone — read from the evidence, never from the
// analyst's machine. References: os-release(5), hostname(5), machine-id(5).
import type { ProblemLog } from '../../events/event.js';
import { errorMessage } from '../../events/event.js';
import { type Vfs, VfsError, isDir, readTextLimited } from '../../fs/vfs.js';

/** Identity files are a few bytes; anything larger is not what we expect. */
const MAX_IDENTITY_FILE_BYTES = 64 * 1024;

export interface HostIdentity {
  hostname?: string;
  osRelease?: Record<string, string>;
  osPrettyName?: string;
  machineId?: string;
  timezone?: string;
  /** True when the evidence looks like a Linux root (has /etc and one of the usual markers). */
  isLinuxRoot: boolean;
}

/** Parses os-release(5): KEY=value lines, values optionally quoted with shell-style escapes. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2];
    if ((v.startsWith('"') && v.endsWith('"') && v.length >= 2) || (v.startsWith("'") && v.endsWith("'") && v.length >= 2)) {
      v = v.slice(1, -1).replace(/\\(["'$`\\])/g, '$1');
    }
    out[m[1]] = v;
  }
  return out;
}

function readOptional(vfs: Vfs, path: string, problems: ProblemLog): string | undefined {
  try {
    return readTextLimited(vfs, path, MAX_IDENTITY_FILE_BYTES);
  } catch (err) {
    if (err instanceof VfsError && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return undefined;
    problems.warn('host-identity', path, errorMessage(err));
    return undefined;
  }
}

export function readHostIdentity(vfs: Vfs, problems: ProblemLog): HostIdentity {
  const hostnameText = readOptional(vfs, '/etc/hostname', problems);
  const hostname = hostnameText
    ?.split('\n')
    .map((l) => l.trim())
    .find((l) => l && !l.startsWith('#'));
  const osText = readOptional(vfs, '/etc/os-release', problems) ?? readOptional(vfs, '/usr/lib/os-release', problems);
  const osRelease = osText !== undefined ? parseOsRelease(osText) : undefined;
  const machineId = readOptional(vfs, '/etc/machine-id', problems)?.trim() || undefined;
  const timezone = readOptional(vfs, '/etc/timezone', problems)?.trim() || undefined;
  const isLinuxRoot =
    isDir(vfs, '/etc') && (osRelease !== undefined || hostname !== undefined || isDir(vfs, '/var/lib') || isDir(vfs, '/usr/bin'));
  return {
    hostname,
    osRelease,
    osPrettyName: osRelease?.PRETTY_NAME ?? osRelease?.NAME,
    machineId,
    timezone,
    isLinuxRoot,
  };
}
