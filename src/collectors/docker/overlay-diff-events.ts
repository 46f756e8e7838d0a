// Timeline events of a container's change set: kept apart from the diff itself, which `flotsam diff` uses without
// any timeline.
import { TimeDesc, type TimelineEvent } from '../../events/event.js';
import type { ContainerRecord } from './containers.js';
import type { ChangeKind, ContainerDiff } from './overlay-diff.js';

export const FS_CHANGE_SOURCE = 'docker:fs-change';

const TIMES: Array<['atime' | 'mtime' | 'ctime' | 'birthtime', string]> = [
  ['mtime', TimeDesc.modification],
  ['atime', TimeDesc.lastAccess],
  ['ctime', TimeDesc.metadataModification],
  ['birthtime', TimeDesc.creation],
];

const VERB: Record<ChangeKind, string> = { A: 'added', C: 'changed', D: 'deleted' };

/**
 * Timeline events of a change set: one event per time the evidence entry keeps (mtime, atime, ctime, crtime) of
 * the upper-layer entry (for D: the whiteout's own times, or the opaque directory's).
 */
export function changeEvents(rec: ContainerRecord, diff: ContainerDiff, host: string): TimelineEvent[] {
  const out: TimelineEvent[] = [];
  const who = `${rec.name || '?'} (${rec.id.slice(0, 12)})`;
  for (const c of diff.changes) {
    const st = c.stat;
    if (!st || !c.evidencePath) continue;
    const attrs: Record<string, unknown> = {
      change: c.kind,
      container_path: c.path,
      file_type: st.type,
      mode: '0' + st.mode.toString(8),
      uid: st.uid,
      gid: st.gid,
      size: st.size.toString(),
      layer: diff.layers?.mountId,
    };
    if (c.deletedBy) attrs.deleted_by = c.deletedBy;
    if (c.opaque) attrs.opaque = true;
    if (c.lowerPath) attrs.lower_path = c.lowerPath;
    if (c.linkTarget !== undefined) attrs.link_target = c.linkTarget;
    if (c.sha256) attrs.sha256 = c.sha256;
    if (st.type === 'file' && (st.mode & 0o111) !== 0 && c.kind !== 'D') attrs.executable = true;
    for (const [key, desc] of TIMES) {
      const t = st[key];
      if (t === undefined) continue;
      out.push({
        time: t,
        timestamp_desc: desc,
        source: FS_CHANGE_SOURCE,
        host,
        container_id: rec.id,
        container_name: rec.name,
        message: `${c.kind} ${c.path}: file ${VERB[c.kind]} in container ${who}` + (c.deletedBy === 'opaque-dir' ? ' (hidden by an opaque directory)' : ''),
        path: c.evidencePath,
        inode: st.ino,
        raw_time: t.toString(),
        attrs,
      });
    }
  }
  return out;
}
