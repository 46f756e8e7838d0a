// Finds every Docker data root ("graph" directory) in the evidence and says how each was found.
//
// References:
//  - moby/moby `cmd/dockerd/config.go` / `daemon/config/config.go`: `--data-root` (`data-root` in daemon.json), the
//    deprecated `-g`/`--graph` (`graph` in daemon.json); default /var/lib/docker, rootless
//    $XDG_DATA_HOME/docker = ~/.local/share/docker.
//  - Debian/Ubuntu packaging: /etc/default/docker `DOCKER_OPTS`; RHEL/CentOS: /etc/sysconfig/docker `OPTIONS`.
//  - systemd.unit(5): drop-ins `<unit>.d/*.conf` override the unit; an empty `ExecStart=` resets the list.
//  - snap: the docker snap keeps its data in /var/snap/docker/common/var-lib-docker.
import { errorMessage } from '../../events/event.js';
import { exists, isDir, joinPath, readTextLimited, type Vfs } from '../../fs/vfs.js';
import type { CollectorContext } from '../types.js';
import { isObject } from './json-guard.js';

export const COMPONENT = 'docker';

/** Largest config file (daemon.json, unit files, /etc/default/docker) we read. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** Home directories under /home we look into for rootless Docker. */
export const MAX_HOME_DIRS = 10_000;
/** Drop-in files per docker.service.d directory. */
export const MAX_DROPINS = 1_000;

/** Entries whose presence marks a directory as a Docker data root. */
export const DATA_ROOT_MARKERS = [
  'containers',
  'image',
  'graph',
  'overlay2',
  'overlay',
  'aufs',
  'volumes',
  'btrfs',
  'zfs',
  'devicemapper',
  'vfs',
  'fuse-overlayfs',
] as const;

export interface DataRoot {
  /** Path inside the evidence (realpath when it exists). */
  path: string;
  /** Every way it was found, e.g. `default /var/lib/docker`, `/etc/docker/daemon.json data-root`. */
  how: string[];
  /** True when the path exists in the evidence and looks like a data root. */
  exists: boolean;
}

export const DEFAULT_DATA_ROOT = '/var/lib/docker';
export const SNAP_DATA_ROOT = '/var/snap/docker/common/var-lib-docker';
const SYSTEMD_DIRS = ['/lib/systemd/system', '/usr/lib/systemd/system', '/etc/systemd/system'];

export function looksLikeDataRoot(vfs: Vfs, path: string): boolean {
  if (!isDir(vfs, path)) return false;
  return DATA_ROOT_MARKERS.some((m) => isDir(vfs, joinPath(path, m)));
}

/**
 * Splits a command line the way a POSIX shell would for our purposes: whitespace separates words, single and double
 * quotes group, backslash escapes the next character. No expansion is performed.
 */
export function shellSplit(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

/** Extracts the data-root values from dockerd arguments: `--data-root X`, `--data-root=X`, `-g X`, `-gX`, `--graph`. */
export function dataRootFlags(args: string[]): Array<{ flag: string; value: string }> {
  const found: Array<{ flag: string; value: string }> = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    for (const flag of ['--data-root', '--graph', '-g']) {
      if (a === flag && i + 1 < args.length) {
        found.push({ flag, value: args[i + 1] });
        i++;
      } else if (a.startsWith(flag + '=')) {
        found.push({ flag, value: a.slice(flag.length + 1) });
      } else if (flag === '-g' && a.startsWith('-g') && !a.startsWith('--') && a.length > 2) {
        found.push({ flag, value: a.slice(2) });
      }
    }
  }
  return found;
}

/** The ExecStart command lines of a unit file, with `\` continuations joined. */
export function execStartLines(unitText: string): string[] {
  const joined = unitText.replace(/\\\r?\n/g, ' ');
  const out: string[] = [];
  for (const raw of joined.split(/\r?\n/)) {
    const line = raw.trim();
    const m = /^ExecStart\s*=\s*(.*)$/.exec(line);
    if (m) out.push(m[1].replace(/^[-@:+!]+/, ''));
  }
  return out;
}

/** Values of `NAME=...` shell assignments (optionally `export`ed), comments skipped. */
export function shellAssignments(text: string, name: string): string[] {
  const out: string[] = [];
  const re = new RegExp(`^\\s*(?:export\\s+)?${name}\\s*=(.*)$`);
  for (const line of text.replace(/\\\r?\n/g, ' ').split(/\r?\n/)) {
    if (/^\s*#/.test(line)) continue;
    const m = re.exec(line);
    if (!m) continue;
    // The value itself is one shell word: unquote it, then split it into arguments.
    const words = shellSplit(m[1].replace(/\s+#.*$/, ''));
    out.push(words.join(' '));
  }
  return out;
}

export function discoverDockerRoots(ctx: CollectorContext): DataRoot[] {
  const { vfs, problems, host } = ctx;
  const byKey = new Map<string, DataRoot>();
  const order: string[] = [];

  const add = (path: string, how: string, configured: boolean): void => {
    if (!path.startsWith('/')) {
      problems.warn(COMPONENT, how, `data root ${JSON.stringify(path)} is not an absolute path; ignored`, host);
      return;
    }
    const lexical = joinPath(path);
    let key = lexical;
    try {
      key = vfs.realpath(lexical);
    } catch {
      // Does not exist (or a broken link): keep the lexical path.
    }
    const found = looksLikeDataRoot(vfs, key);
    if (!found && !configured) return;
    let root = byKey.get(key);
    if (!root) {
      root = { path: key, how: [], exists: found };
      byKey.set(key, root);
      order.push(key);
      if (!found) {
        problems.warn(COMPONENT, lexical, `configured Docker data root (${how}) not found in the evidence`, host);
      }
    }
    if (!root.how.includes(how)) root.how.push(how);
  };

  const readText = (path: string): string | undefined => {
    if (!exists(vfs, path)) return undefined;
    try {
      return readTextLimited(vfs, path, MAX_CONFIG_BYTES);
    } catch (err) {
      problems.warn(COMPONENT, path, `cannot read: ${errorMessage(err)}`, host);
      return undefined;
    }
  };

  // The evidence root itself may be a bare data root (`flotsam triage ./var/lib/docker`).
  if (isDir(vfs, '/containers') || isDir(vfs, '/image') || isDir(vfs, '/graph')) {
    add('/', 'evidence root is a data root', false);
  }

  add(DEFAULT_DATA_ROOT, `default ${DEFAULT_DATA_ROOT}`, false);

  const daemonJson = (path: string): void => {
    const text = readText(path);
    if (text === undefined) return;
    let cfg: unknown;
    try {
      cfg = JSON.parse(text);
    } catch (err) {
      problems.warn(COMPONENT, path, `invalid JSON: ${errorMessage(err)}`, host);
      return;
    }
    if (!isObject(cfg)) {
      problems.warn(COMPONENT, path, 'expected a JSON object', host);
      return;
    }
    for (const key of ['data-root', 'graph']) {
      const v = cfg[key];
      if (v === undefined) continue;
      if (typeof v !== 'string') {
        problems.warn(COMPONENT, path, `${key} is not a string`, host);
        continue;
      }
      add(v, `${path} ${key}`, true);
    }
  };
  daemonJson('/etc/docker/daemon.json');
  daemonJson('/var/snap/docker/current/config/daemon.json');

  // systemd units and their drop-ins.
  for (const dir of SYSTEMD_DIRS) {
    const files = [joinPath(dir, 'docker.service')];
    const dropDir = joinPath(dir, 'docker.service.d');
    if (isDir(vfs, dropDir)) {
      try {
        const entries = vfs.readdir(dropDir).filter((e) => e.name.endsWith('.conf'));
        if (entries.length > MAX_DROPINS) {
          problems.warn(COMPONENT, dropDir, `${entries.length} drop-ins, limit ${MAX_DROPINS}`, host);
        }
        for (const e of entries.slice(0, MAX_DROPINS)) files.push(joinPath(dropDir, e.name));
      } catch (err) {
        problems.warn(COMPONENT, dropDir, `cannot list: ${errorMessage(err)}`, host);
      }
    }
    for (const f of files) {
      const text = readText(f);
      if (text === undefined) continue;
      for (const line of execStartLines(text)) {
        for (const { flag, value } of dataRootFlags(shellSplit(line))) add(value, `${f} ExecStart ${flag}`, true);
      }
    }
  }

  for (const [file, variable] of [
    ['/etc/default/docker', 'DOCKER_OPTS'],
    ['/etc/sysconfig/docker', 'OPTIONS'],
  ] as const) {
    const text = readText(file);
    if (text === undefined) continue;
    for (const value of shellAssignments(text, variable)) {
      for (const { flag, value: v } of dataRootFlags(shellSplit(value))) add(v, `${file} ${variable} ${flag}`, true);
    }
  }

  add(SNAP_DATA_ROOT, `snap ${SNAP_DATA_ROOT}`, false);

  // Rootless Docker: ~/.local/share/docker (and a data-root in ~/.config/docker/daemon.json).
  const homes = ['/root'];
  if (isDir(vfs, '/home')) {
    try {
      const entries = vfs.readdir('/home').filter((e) => e.type === 'dir' || e.type === 'symlink');
      if (entries.length > MAX_HOME_DIRS) {
        problems.warn(COMPONENT, '/home', `${entries.length} home directories, limit ${MAX_HOME_DIRS}`, host);
      }
      for (const e of entries.slice(0, MAX_HOME_DIRS)) homes.push(joinPath('/home', e.name));
    } catch (err) {
      problems.warn(COMPONENT, '/home', `cannot list: ${errorMessage(err)}`, host);
    }
  }
  for (const home of homes) {
    const p = joinPath(home, '.local/share/docker');
    add(p, `rootless ${p}`, false);
    daemonJson(joinPath(home, '.config/docker/daemon.json'));
  }

  return order.map((k) => byKey.get(k) as DataRoot);
}
