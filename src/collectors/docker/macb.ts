// File-system MACB events for the Docker artifacts themselves (container directory, configs, logs, layerdb mounts).
// One event per time the file system keeps: atime, mtime, ctime and (where available) birth time.
// Reference: sleuthkit body file v3 (MACB), plaso `plaso/lib/definitions.py` TIME_DESCRIPTION_*.
import { errorMessage, TimeDesc, type ProblemLog, type TimelineEvent } from '../../events/event.js';
import type { Vfs, VfsStat } from '../../fs/vfs.js';

export interface MacbSubject {
  path: string;
  /** What the file is, for the message: `config.v2.json`, `container directory`, `json-file log`. */
  what: string;
  containerId?: string;
  containerName?: string;
}

const TIMES: Array<[keyof VfsStat & ('atime' | 'mtime' | 'ctime' | 'birthtime'), string, string]> = [
  ['atime', TimeDesc.lastAccess, 'accessed'],
  ['mtime', TimeDesc.modification, 'modified'],
  ['ctime', TimeDesc.metadataModification, 'metadata changed'],
  ['birthtime', TimeDesc.creation, 'created'],
];

/** Appends the MACB events of one path (lstat: a symlink's own times) to `out`. */
export function macbEvents(
  vfs: Vfs,
  problems: ProblemLog,
  component: string,
  host: string,
  subject: MacbSubject,
  out: TimelineEvent[],
): void {
  let st: VfsStat;
  try {
    st = vfs.lstat(subject.path);
  } catch (err) {
    problems.warn(component, subject.path, `cannot stat: ${errorMessage(err)}`, host);
    return;
  }
  const who =
    subject.containerId !== undefined
      ? ` of container ${subject.containerName || '?'} (${subject.containerId.slice(0, 12)})`
      : '';
  for (const [key, desc, verb] of TIMES) {
    const t = st[key];
    if (t === undefined) continue;
    const ev: TimelineEvent = {
      time: t,
      timestamp_desc: desc,
      source: 'fs:macb',
      host,
      message: `${subject.what}${who} ${verb}: ${subject.path}`,
      path: subject.path,
      inode: st.ino,
      raw_time: t.toString(),
      attrs: {
        kind: 'macb',
        mode: '0' + st.mode.toString(8),
        uid: st.uid,
        gid: st.gid,
        size: st.size.toString(),
      },
    };
    if (subject.containerId !== undefined) ev.container_id = subject.containerId;
    if (subject.containerName) ev.container_name = subject.containerName;
    out.push(ev);
  }
}
