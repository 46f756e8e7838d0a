// Kubernetes CRI container logs (/var/log/pods/<ns>_<pod>_<uid>/<container>/<restart>.log, kubelet's format:
// `<RFC 3339 nano time> <stdout|stderr> <P|F> <message>`, P = partial line continued by the next record) as an
// ordered timeline source, for the files a /var/log/containers/<pod>_<ns>_<container>-<id>.log link names.
// One file belongs to one container id (a restart writes <n+1>.log for a new id); rotated plain siblings
// (`0.log.<timestamp>`) are read first; compressed rotations (`.gz`) are not read (a problem says so).
// References: kubernetes pkg/kubelet/kuberuntime/logs/logs.go (parseCRILog), pkg/kubelet/logs/container_log_manager.go.
import { errorMessage, TimeDesc, type TimelineEvent } from '../events/event.js';
import { parseRfc3339Nano } from '../events/time.js';
import { budgetedSizes } from '../collectors/file-bytes.js';
import type { CollectorContext, EventSource, ReadBudget } from '../collectors/types.js';
import { baseName, dirName, joinPath } from '../fs/vfs.js';

export const CRI_LOG_SOURCE = 'kubernetes:cri-log';
const COMPONENT = 'cri-log';
/** Bytes read per chunk. */
const CHUNK = 1 << 20;
/** Longest record kept whole (longer ones are cut; kubelet itself splits at 16 KiB). */
export const MAX_CRI_LINE_BYTES = 1 << 20;
/** Events per batch. */
const BATCH = 2048;

export interface CriLogRef {
  containerId: string;
  /** Container name, pod and namespace from the /var/log/containers link name. */
  name: string;
  pod: string;
  namespace: string;
  /** The log file the link resolves to. */
  path: string;
}

const LINE = /^(\S+) (stdout|stderr) ([PF])(?: (.*))?$/s;

/** The file and its plain rotated siblings, oldest first (rotations sort by their timestamp suffix). */
function files(ctx: CollectorContext, ref: CriLogRef, report: boolean): string[] {
  const dir = dirName(ref.path);
  const base = baseName(ref.path);
  let rotated: string[] = [];
  try {
    const names = ctx.vfs.readdir(dir).filter((e) => e.type === 'file' && e.name.startsWith(`${base}.`)).map((e) => e.name);
    const gz = names.filter((n) => n.endsWith('.gz'));
    if (gz.length > 0 && report) ctx.problems.warn(COMPONENT, joinPath(dir, gz[0]), `${gz.length} compressed CRI log rotation(s) not read`, ctx.host);
    rotated = names.filter((n) => !n.endsWith('.gz')).sort().map((n) => joinPath(dir, n));
  } catch {
    // directory unreadable: the file alone
  }
  return [...rotated, ref.path];
}

async function* readFile(
  ctx: CollectorContext,
  ref: CriLogRef,
  path: string,
  report: boolean,
  budget?: ReadBudget,
): AsyncGenerator<TimelineEvent[]> {
  const { readChunkBytes: chunkBytes, batchEvents } = budgetedSizes({ readChunkBytes: CHUNK, feedBytes: CHUNK, batchEvents: BATCH }, budget);
  const warn = (reason: string): void => {
    if (report) ctx.problems.warn(COMPONENT, path, reason, ctx.host);
  };
  let f;
  try {
    f = ctx.vfs.open(path);
  } catch (err) {
    warn(`cannot open: ${errorMessage(err)}`);
    return;
  }
  const dec = new TextDecoder('utf-8', { fatal: false });
  let out: TimelineEvent[] = [];
  let bad = 0;
  try {
    const size = Number(f.size);
    const buf = new Uint8Array(chunkBytes);
    let pending: Uint8Array = new Uint8Array(0);
    let pendingAt = 0;
    let pos = 0;
    let lineNo = 0;
    const emit = (bytes: Uint8Array, at: number): void => {
      lineNo++;
      const text = dec.decode(bytes.subarray(0, Math.min(bytes.length, MAX_CRI_LINE_BYTES))).replace(/\r$/, '');
      if (text === '') return;
      const m = LINE.exec(text);
      const t = m ? parseRfc3339Nano(m[1]) : undefined;
      if (!m || t === undefined) {
        bad++;
        return;
      }
      out.push({
        time: t,
        timestamp_desc: TimeDesc.recorded,
        source: CRI_LOG_SOURCE,
        host: ctx.host,
        container_id: ref.containerId,
        container_name: ref.name,
        message: `${ref.namespace}/${ref.pod}/${ref.name} ${m[2]}: ${m[4] ?? ''}`,
        path,
        line: lineNo,
        offset: at,
        raw_time: m[1],
        attrs: { stream: m[2], partial: m[3] === 'P', pod: ref.pod, namespace: ref.namespace, container: ref.name },
      });
    };
    while (pos < size) {
      const n = f.read(buf, 0, Math.min(chunkBytes, size - pos), pos);
      if (n <= 0) break;
      const chunk = buf.subarray(0, n);
      let start = 0;
      for (let i = 0; i < n; i++) {
        if (chunk[i] !== 0x0a) continue;
        const piece = chunk.subarray(start, i);
        if (pending.length > 0) {
          const whole = new Uint8Array(pending.length + piece.length);
          whole.set(pending);
          whole.set(piece, pending.length);
          emit(whole, pendingAt);
          pending = new Uint8Array(0);
        } else emit(piece, pos + start);
        start = i + 1;
      }
      if (start < n && pending.length < MAX_CRI_LINE_BYTES) {
        if (pending.length === 0) pendingAt = pos + start;
        const rest = chunk.subarray(start);
        const whole = new Uint8Array(pending.length + rest.length);
        whole.set(pending);
        whole.set(rest, pending.length);
        pending = whole;
      }
      pos += n;
      if (out.length >= batchEvents) {
        yield out;
        out = [];
      }
    }
    if (pending.length > 0) emit(pending, pendingAt);
  } catch (err) {
    warn(`read error: ${errorMessage(err)}; kept what was read before`);
  } finally {
    f.close();
  }
  if (bad > 0) warn(`${bad} line(s) not in CRI log format skipped`);
  if (out.length > 0) yield out;
}

/** Every record of one container's CRI log (rotations first); lifecycle(): its first and last record. */
export function criLogSource(ctx: CollectorContext, ref: CriLogRef): EventSource {
  const read = async function* (report: boolean, budget?: ReadBudget): AsyncGenerator<TimelineEvent[]> {
    for (const p of files(ctx, ref, report)) yield* readFile(ctx, ref, p, report, budget);
  };
  const open = (budget?: ReadBudget): AsyncGenerator<TimelineEvent[]> => read(true, budget);
  return {
    id: ref.path,
    ordered: true,
    open,
    // A full read (CRI logs have no cheap tail reader yet), keeping the edges only; problems are reported by open().
    async *lifecycle() {
      let first: TimelineEvent | undefined;
      let last: TimelineEvent | undefined;
      for await (const batch of read(false)) {
        for (const ev of batch) {
          if (!first || ev.time < first.time) first = ev;
          if (!last || ev.time >= last.time) last = ev;
        }
      }
      if (first && last) yield first === last ? [first] : [first, last];
    },
  };
}
