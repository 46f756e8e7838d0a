// Is a mounted evidence directory really read-only? flotsam opens files with O_NOATIME, but Node cannot list a
// directory without the kernel updating the directory's atime on a read-write mount (relatime/strictatime). The
// analyst is told, once, when the evidence sits on such a mount. Reference: proc(5) /proc/self/mountinfo.
import * as fs from 'node:fs';

export interface MountInfo {
  mountPoint: string;
  options: string[];
}

/** Octal escapes (`\040` for space) as the kernel writes them in mountinfo. */
function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 6) continue;
    out.push({ mountPoint: unescapeMountField(f[4]), options: f[5].split(',') });
  }
  return out;
}

/** The mount holding `realPath` (longest mount-point prefix; later entries shadow earlier ones). */
export function mountOf(realPath: string, mounts: MountInfo[]): MountInfo | undefined {
  let best: MountInfo | undefined;
  for (const m of mounts) {
    const mp = m.mountPoint;
    const inside = mp === '/' || realPath === mp || realPath.startsWith(mp.endsWith('/') ? mp : mp + '/');
    if (inside && (best === undefined || mp.length >= best.mountPoint.length)) best = m;
  }
  return best;
}

/** A warning text when the directory's mount may change directory atimes as we list them, else undefined. */
export function atimeRisk(dir: string, mountInfoText?: string): string | undefined {
  let text = mountInfoText;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
    } catch {
      return undefined;
    }
  }
  let real: string;
  try {
    real = fs.realpathSync(dir);
  } catch {
    return undefined;
  }
  const m = mountOf(real, parseMountInfo(text));
  if (!m || m.options.includes('ro') || m.options.includes('noatime')) return undefined;
  return (
    `evidence directory is on a read-write mount (${m.mountPoint}, ${m.options.filter((o) => /atime|^rw$/.test(o)).join(',')}): ` +
    'listing directories updates their access times; mount the evidence read-only (ro,noatime) to keep them'
  );
}
