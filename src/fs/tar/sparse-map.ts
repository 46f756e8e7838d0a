// Sparse maps of tar members (see ./archive.ts): old GNU extension blocks, pax sparse 1.0 maps at the start of the data, pax 0.1 map lists,
// and the check of a map against the real size and the stored bytes. Damage is reported, never thrown.
import { MAX_MEMBER_SIZE, MAX_SPARSE_ENTRIES, type SparseSegment, type StreamReader } from './archive-types.js';
import { readExact, roundUp } from './index-helpers.js';
import { type SparseEntry, parsePaxInteger, parseSparseEntries } from './parse.js';
import { BLOCK_SIZE, SPARSES_IN_EXTENSION, SPARSE_EXT_ISEXTENDED } from './structs.js';

/** Records a problem at a stream offset, about member `name`. */
export type ReportProblem = (offset: number, reason: string, name?: string) => void;

/**
 * Old GNU sparse: appends the entries of the extension blocks at `dataOffset` to `sparse`. Returns the stream offset
 * after them, or undefined (having called `bad`) when the map is cut, malformed or too long.
 */
export function readGnuSparseExtensions(
  r: StreamReader,
  bad: (reason: string) => void,
  sparse: SparseEntry[],
  dataOffset: number,
): number | undefined {
  let ext = true;
  while (ext) {
    const b = readExact(r, dataOffset, BLOCK_SIZE);
    if (b.length < BLOCK_SIZE) {
      bad('archive is truncated inside the sparse map; partial results');
      return undefined;
    }
    try {
      sparse.push(...parseSparseEntries(b, 0, SPARSES_IN_EXTENSION));
    } catch (err) {
      bad(`sparse map extension at offset ${dataOffset}: ${(err as Error).message}`);
      return undefined;
    }
    if (sparse.length > MAX_SPARSE_ENTRIES) {
      bad(`more than ${MAX_SPARSE_ENTRIES} sparse map entries; the archive cannot be followed past this member`);
      return undefined;
    }
    ext = b[SPARSE_EXT_ISEXTENDED] !== 0;
    dataOffset += BLOCK_SIZE;
  }
  return dataOffset;
}

/** pax sparse 1.0: decimal numbers, one per line, at the start of the data: count, then offset/size pairs. */
export function readSparseMap1(
  r: StreamReader,
  problem: ReportProblem,
  dataOffset: number,
  stored: number,
  name: string,
): { entries: SparseEntry[]; mapBytes: number } | undefined {
  const bad = (reason: string): undefined => {
    problem(dataOffset, `pax sparse map: ${reason}; the member's stored bytes are shown without their holes`, name);
    return undefined;
  };
  const numbers: string[] = [];
  let want = -1;
  let buf = new Uint8Array(0);
  let used = 0;
  let line = '';
  // The map is read block by block: a count of N needs 2N+1 numbers of up to 20 digits.
  while (want < 0 || numbers.length < want) {
    if (used >= buf.length) {
      if (buf.length > 0 && dataOffset + buf.length > dataOffset + stored) return bad('runs past the member data');
      const more = readExact(r, dataOffset + buf.length, BLOCK_SIZE);
      if (more.length < BLOCK_SIZE || buf.length + BLOCK_SIZE > stored) return bad('runs past the member data');
      const nb = new Uint8Array(buf.length + BLOCK_SIZE);
      nb.set(buf);
      nb.set(more, buf.length);
      buf = nb;
    }
    const c = buf[used++] as number;
    if (c === 0x0a) {
      numbers.push(line);
      line = '';
      if (want < 0) {
        if (!/^[0-9]{1,8}$/.test(numbers[0] as string)) return bad(`entry count ${JSON.stringify(numbers[0])} is not a number`);
        const n = Number(numbers[0]);
        if (n > MAX_SPARSE_ENTRIES) return bad(`${n} entries exceed the limit of ${MAX_SPARSE_ENTRIES}`);
        want = 1 + 2 * n;
      }
    } else {
      line += String.fromCharCode(c);
      if (line.length > 20) return bad('a number longer than 20 digits');
    }
  }
  const list = parseSparseList(problem, numbers.slice(1), name);
  if (!list) return undefined;
  return { entries: list, mapBytes: roundUp(used) };
}

export function parseSparseList(problem: ReportProblem, parts: string[], name: string): SparseEntry[] | undefined {
  if (parts.length % 2 !== 0 || parts.length / 2 > MAX_SPARSE_ENTRIES) {
    problem(0, `sparse map with ${parts.length} numbers is malformed; shown without holes`, name);
    return undefined;
  }
  const out: SparseEntry[] = [];
  for (let i = 0; i < parts.length; i += 2) {
    try {
      out.push({
        offset: parsePaxInteger(parts[i] as string, 'sparse offset', MAX_MEMBER_SIZE),
        numbytes: parsePaxInteger(parts[i + 1] as string, 'sparse numbytes', MAX_MEMBER_SIZE),
      });
    } catch (err) {
      problem(0, `sparse map: ${(err as Error).message}; shown without holes`, name);
      return undefined;
    }
  }
  return out;
}

/** Checks a sparse map against the real size and the stored bytes; undefined (plus a problem) when it lies. */
export function sparseSegments(
  problem: ReportProblem,
  entries: SparseEntry[],
  realSize: bigint,
  dataOffset: number,
  stored: number,
  name: string,
  at: number,
): SparseSegment[] | undefined {
  if (realSize > MAX_MEMBER_SIZE) {
    problem(at, `sparse real size ${realSize} exceeds ${MAX_MEMBER_SIZE}; shown without holes`, name);
    return undefined;
  }
  const out: SparseSegment[] = [];
  let end = 0n;
  let data = 0;
  for (const e of entries) {
    if (e.offset < end || e.offset + e.numbytes > realSize) {
      problem(at, `sparse map entry ${e.offset}+${e.numbytes} overlaps or passes the real size ${realSize}; shown without holes`, name);
      return undefined;
    }
    end = e.offset + e.numbytes;
    const len = Number(e.numbytes);
    // Runs past the stored bytes (a truncated archive) are cut; the rest of the file reads as zeros.
    const have = Math.max(0, Math.min(len, stored - data));
    if (have > 0) out.push({ offset: Number(e.offset), length: have, dataPos: dataOffset + data });
    data += len;
  }
  if (data < stored) {
    problem(at, `sparse map covers ${data} bytes but ${stored} are stored`, name);
  }
  return out;
}
