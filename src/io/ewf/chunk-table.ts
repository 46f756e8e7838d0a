// Chunk tables of an EWF set (see ./ewf-source.ts): numbering the chunks table by table at open time, and decoding
// one table's 4-byte entries into chunk offsets and stored sizes when a chunk of it is first needed.
import * as fs from 'node:fs';
import type { EwfProblem } from './errors.js';
import {
  BAD_ORDER,
  BAD_OUTSIDE,
  BAD_TOO_BIG,
  type LoadedTable,
  type Segment,
  type TableRef,
  maxStoredChunkBytes,
  sectionEndAt,
  u32le,
} from './source-types.js';
import { FILE_HEADER_SIZE, SECTION_DESCRIPTOR_SIZE, TABLE_HEADER_SIZE, adler32, parseTableEntries } from './structures.js';

/**
 * Numbers the chunks table by table, in segment order. After a lost table (unusable header, even through its table2,
 * or a truncated segment) the count of chunks it held is unknown: the tables after it are numbered back from the end
 * of the media (the volume's chunk count), which holds when the rest of the set is intact; the chunks in between read
 * as zeros with a TABLE_LOST problem. Chunks are never shifted onto the wrong media offset silently.
 */
export function assignChunks(
  tables: TableRef[],
  segments: Segment[],
  first: string,
  chunksNeeded: number,
  problem: (p: EwfProblem) => void,
): TableRef[] {
  const out: TableRef[] = [];
  let next = 0;
  let lostAt = -1;
  for (let k = 0; k < tables.length; k++) {
    const t0 = tables[k] as TableRef;
    let t = t0;
    if ((t.count < 0 || !t.headerOk) && t.mirror && t.mirror.headerOk) {
      t = { ...t.mirror };
      problem({ code: 'TABLE_CHECKSUM', path: segments[t.seg]?.path ?? first, offset: t0.offset, reason: `table header damaged; using table2 at ${t.offset}` });
    }
    if (t.count < 0) {
      lostAt = k;
      break;
    }
    t.firstChunk = next;
    if (t.mirror) t.mirror.firstChunk = next;
    next += t.count;
    if (t.count > 0) out.push(t);
  }
  if (lostAt >= 0) {
    const lost = tables[lostAt] as TableRef;
    const where = segments[lost.seg]?.path ?? first;
    const after: TableRef[] = [];
    for (const t0 of tables.slice(lostAt + 1)) {
      const t = t0.count < 0 || !t0.headerOk ? (t0.mirror?.headerOk ? { ...t0.mirror } : t0) : t0;
      if (t.count < 0) {
        after.length = 0; // a second loss: nothing after the first can be placed
        break;
      }
      after.push(t);
    }
    const tail = after.reduce((n, t) => n + t.count, 0);
    const start = chunksNeeded - tail;
    if (tail > 0 && start >= next) {
      let c = start;
      for (const t of after) {
        t.firstChunk = c;
        if (t.mirror) t.mirror.firstChunk = c;
        c += t.count;
        if (t.count > 0) out.push(t);
      }
      problem({ code: 'TABLE_LOST', path: where, offset: lost.offset,
        reason: `a table is lost: chunks ${next}..${start - 1} read as zeros; the ${tail} chunks after it are placed back from the end of the media` });
    } else {
      problem({ code: 'TABLE_LOST', path: where, offset: lost.offset,
        reason: `a table is lost: chunks from ${next} on cannot be placed and read as zeros` });
    }
  }
  return out;
}

/** Reads and checks the entries of table `t` (in segment `seg`); `footerOk` is false when their Adler-32 footer fails. */
export function decodeTable(
  t: TableRef,
  seg: Segment,
  chunkSize: number,
  chunkLength: (i: number) => number,
  problem: (p: EwfProblem) => void,
): { loaded: LoadedTable; footerOk: boolean } {
  const entriesAt = t.offset + SECTION_DESCRIPTOR_SIZE + TABLE_HEADER_SIZE;
  const want = 4 * t.count + 4;
  const b = new Uint8Array(want);
  const got = seg.fd === undefined ? 0 : fs.readSync(seg.fd, b, 0, Math.max(0, Math.min(want, seg.size - entriesAt)), entriesAt);
  const n = Math.min(t.count, Math.floor(got / 4));
  const e = parseTableEntries(b, 0, n, t.base);
  const sizes = new Int32Array(t.count).fill(BAD_OUTSIDE);
  const offsets = new Float64Array(t.count);
  offsets.set(e.offsets);
  const compressed = new Uint8Array(t.count);
  compressed.set(e.compressed);
  const entriesEnd = entriesAt + 4 * t.count;
  // The entry array has an Adler-32 footer unless the chunks follow it directly (SMART / original EWF).
  const hasFooter = n === 0 || (e.offsets[0] as number) !== entriesEnd;
  let footerOk = true;
  if (hasFooter) footerOk = got >= want && adler32(b, 0, 4 * t.count) === u32le(b, 4 * t.count);
  if (e.overflowAt >= 0) {
    problem({ code: 'TABLE_ENTRY', path: seg.path, offset: t.offset,
      reason: `table offsets overflow 31 bits at entry ${e.overflowAt} (EnCase 6.7.1 quirk): later chunks read as uncompressed` });
  }
  const limit = maxStoredChunkBytes(chunkSize);
  for (let k = 0; k < n; k++) {
    const off = e.offsets[k] as number;
    if (off < FILE_HEADER_SIZE || off >= seg.size) continue; // stays BAD_OUTSIDE
    let end: number;
    if (k + 1 < n) end = e.offsets[k + 1] as number;
    else end = sectionEndAt(seg, off);
    if (!(e.compressed[k] as number)) {
      // A stored chunk's size is known; the next offset only bounds it.
      const need = chunkLength(t.firstChunk + k) + 4;
      end = Math.min(seg.size, off + need);
    }
    const size = Math.min(end, seg.size) - off;
    sizes[k] = size <= 0 ? BAD_ORDER : size > limit ? BAD_TOO_BIG : size;
  }
  if (n < t.count) {
    problem({ code: 'TRUNCATED', path: seg.path, offset: entriesAt, reason: `table holds ${n} of ${t.count} entries before the segment ends` });
  }
  return { loaded: { offsets, sizes, compressed }, footerOk };
}
