// Reads the entries of one systemd journal file through positional reads with a small page cache (never the whole
// file in memory): the global entry-array chain first, then a linear object scan from the last entry read — for
// entries appended but not yet linked (dirty/online files), and for everything after a point where the chain or an
// entry is damaged. Every offset, size, count and chain is checked; problems go to `warn`, never an exception.
// References: systemd/systemd docs/JOURNAL_FILE_FORMAT.md ("Reading", "Entry Array Objects");
// src/libsystemd/sd-journal/journal-file.c (journal_file_move_to_object, check_object, journal_file_data_payload);
// src/libsystemd/sd-journal/journal-verify.c (linear object walk); docs/formats/journald.md.
// The page cache (page-cache.ts) and the returned shapes (journal-entry.ts) are beside this module.
import { Buffer, isUtf8 } from 'node:buffer';
import { errorMessage } from '../../events/event.js';
import type { VfsFile } from '../../fs/vfs.js';
import {
  DecompressError,
  decompressLz4Payload,
  decompressXzPayload,
  decompressZstdPayload,
} from './decompress.js';
import {
  type Compression,
  ENTRY,
  ENTRY_ARRAY,
  HEADER_SIZE_CURRENT,
  type JournalHeader,
  MAX_DATA_DECOMPRESSED_BYTES,
  MAX_ENTRY_ARRAY_CHAIN,
  MAX_ENTRY_ITEMS,
  MAX_OBJECT_BYTES,
  OBJECT_DATA,
  OBJECT_ENTRY,
  OBJECT_ENTRY_ARRAY,
  OBJECT_HEADER_SIZE,
  OBJECT_TYPE_NAMES,
  STATE_NAMES,
  TIME_VALID_MAX,
  align8,
  compressionOf,
  headerFlagFor,
  id128,
  objectHeaderProblem,
  parseHeader,
  u32,
  u64,
  u64big,
} from './format.js';
import type { JournalEntry, JournalField, JournalReaderOptions } from './journal-entry.js';
import { MAX_PAGES, PAGE_BYTES, PageCache } from './page-cache.js';

export type { JournalEntry, JournalField, JournalReaderOptions } from './journal-entry.js';

const MAX_CACHED_FIELDS = 16384;
/** Only fields this small are cached (bounds the cache to MAX_CACHED_FIELDS × this). */
const MAX_CACHED_FIELD_BYTES = 1024;

/** A failed read of one object: why, already phrased for a problem. */
class ObjectProblem {
  constructor(readonly reason: string) {}
}

const EQUALS = 0x3d;

export class JournalReader {
  readonly header: JournalHeader;
  /** End of the used part of the file: min(file size, header_size + arena_size). */
  readonly end: number;
  private readonly cache: PageCache;
  private readonly fieldCache = new Map<number, JournalField>();
  private readonly maxObjectBytes: number;
  private readonly maxDecompressed: number;
  private readonly maxItems: number;
  private readonly maxChain: number;
  private readonly maxCachedFields: number;
  private readonly warnedCompression = new Set<Compression>();
  /** Entries returned so far, and how they were found. */
  stats = { chain: 0, scanned: 0, badEntries: 0, badFields: 0 };

  /** Throws JournalFormatError when the header makes the file unreadable. */
  constructor(
    file: VfsFile,
    private readonly warn: (reason: string) => void,
    options: JournalReaderOptions = {},
  ) {
    const size = Number(file.size);
    this.cache = new PageCache(file, size, options.pageBytes ?? PAGE_BYTES, options.maxPages ?? MAX_PAGES);
    this.maxObjectBytes = options.maxObjectBytes ?? MAX_OBJECT_BYTES;
    this.maxDecompressed = options.maxDecompressedBytes ?? MAX_DATA_DECOMPRESSED_BYTES;
    this.maxItems = options.maxEntryItems ?? MAX_ENTRY_ITEMS;
    this.maxChain = options.maxEntryArrayChain ?? MAX_ENTRY_ARRAY_CHAIN;
    this.maxCachedFields = options.maxCachedFields ?? MAX_CACHED_FIELDS;
    const head = this.cache.read(0, Math.min(size, HEADER_SIZE_CURRENT)) ?? Buffer.alloc(0);
    this.header = parseHeader(Buffer.from(head), size);
    const h = this.header;
    const declaredEnd = h.header_size + h.arena_size;
    if (declaredEnd > size) {
      this.warn(
        `file is ${size} bytes but header_size + arena_size is ${declaredEnd}: truncated, ` +
          `objects past ${size} are lost (state ${STATE_NAMES[h.state] ?? h.state})`,
      );
      this.end = size;
    } else {
      this.end = declaredEnd;
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Objects

  /** Reads and checks the object at `off`; the buffer holds the whole object (header included). */
  private readObject(off: number, type: number): Buffer | ObjectProblem {
    const what = OBJECT_TYPE_NAMES[type];
    if (!Number.isFinite(off) || off % 8 !== 0 || off < this.header.header_size || off + OBJECT_HEADER_SIZE > this.end) {
      return new ObjectProblem(
        `${what} offset ${off} is ${off % 8 !== 0 ? 'not 8-byte aligned' : `outside the objects (${this.header.header_size}..${this.end})`}`,
      );
    }
    let hdr: Buffer | undefined;
    try {
      hdr = this.cache.read(off, OBJECT_HEADER_SIZE);
    } catch (err) {
      return new ObjectProblem(`read error at ${off}: ${errorMessage(err)}`);
    }
    if (!hdr) return new ObjectProblem(`${what} at ${off} is past the end of the file`);
    const bad = objectHeaderProblem(hdr, 0, off, this.end, this.header);
    if (bad) return new ObjectProblem(`${what} expected at ${off}: ${bad}`);
    if (hdr[0] !== type) return new ObjectProblem(`${what} expected at ${off}, found a ${OBJECT_TYPE_NAMES[hdr[0]]} object`);
    const size = u64(hdr, 8);
    if (size > this.maxObjectBytes) {
      return new ObjectProblem(`${what} at ${off} is ${size} bytes, over the limit ${this.maxObjectBytes} (MAX_OBJECT_BYTES)`);
    }
    let obj: Buffer | undefined;
    try {
      obj = this.cache.read(off, size);
    } catch (err) {
      return new ObjectProblem(`read error at ${off}: ${errorMessage(err)}`);
    }
    return obj ?? new ObjectProblem(`${what} at ${off} (${size} bytes) is past the end of the file`);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Entries

  /**
   * Every readable entry in file order. A yielded value is a Promise only when one of the entry's DATA objects is
   * XZ-compressed (xz-decompress is asynchronous). Entries that cannot be read are skipped with a problem.
   */
  *entries(): Generator<JournalEntry | Promise<JournalEntry>> {
    const h = this.header;
    let lastGood = 0; // offset of the last entry read successfully
    let broken: string | undefined;
    let off = h.entry_array_offset;
    const visited = new Set<number>();
    let items = 0;
    if (off === 0 && h.n_entries > 0) broken = `header has n_entries ${h.n_entries} but no entry_array_offset`;
    chain: while (off !== 0 && broken === undefined) {
      if (visited.has(off)) {
        broken = `entry array chain loops back to ${off}`;
        break;
      }
      if (visited.size >= this.maxChain) {
        broken = `entry array chain is longer than ${this.maxChain} arrays (MAX_ENTRY_ARRAY_CHAIN)`;
        break;
      }
      visited.add(off);
      const arr = this.readObject(off, OBJECT_ENTRY_ARRAY);
      if (arr instanceof ObjectProblem) {
        broken = arr.reason;
        break;
      }
      const itemBytes = h.entryArrayItemSize;
      const n = (arr.length - ENTRY_ARRAY.items) / itemBytes;
      if (!Number.isInteger(n)) {
        broken = `ENTRY_ARRAY at ${off}: ${arr.length - ENTRY_ARRAY.items} item bytes are not a multiple of ${itemBytes}`;
        break;
      }
      // The array stays valid while we yield (evicted pages are dropped, never reused).
      const next = u64(arr, ENTRY_ARRAY.next_entry_array_offset);
      for (let i = 0; i < n; i++) {
        const p = ENTRY_ARRAY.items + i * itemBytes;
        const item = itemBytes === 8 ? u64(arr, p) : u32(arr, p);
        if (item === 0) break; // the unused tail of the last array
        if (item <= lastGood) {
          broken = `ENTRY_ARRAY at ${off} item ${i}: entry offset ${item} is not after the previous entry ${lastGood}`;
          break chain;
        }
        const e = this.readEntry(item, false);
        if (e instanceof ObjectProblem) {
          broken = `entry array at ${off} item ${i}: ${e.reason}`;
          break chain;
        }
        lastGood = item;
        items++;
        this.stats.chain++;
        yield e;
      }
      off = next;
    }
    if (broken === undefined && items !== h.n_entries && h.n_entries !== Infinity) {
      this.warn(`entry array chain holds ${items} entries, header n_entries says ${h.n_entries}`);
    }
    const from = lastGood > 0 ? lastGood : h.header_size;
    if (broken !== undefined) {
      this.warn(`${broken}; ${items} entries read through the chain, scanning objects from offset ${from} for the rest`);
    }
    yield* this.scan(from, lastGood, broken !== undefined);
  }

  /**
   * Walks objects from `from` (an object boundary) by their sizes and reads every ENTRY after `after`. Damaged
   * object headers are skipped 8 bytes at a time until a plausible header appears (journal-verify.c walks the same
   * way, but stops at the first damage). A zero header past the tail object is the unwritten end of the file.
   */
  private *scan(from: number, after: number, chainBroken: boolean): Generator<JournalEntry | Promise<JournalEntry>> {
    const h = this.header;
    const tailEnd = this.tailObjectEnd();
    let pos = from;
    let badStart = -1;
    let badReason = '';
    let found = 0;
    const endBad = (at: number): void => {
      if (badStart >= 0) {
        this.warn(`damaged objects from offset ${badStart} to ${at} (${at - badStart} bytes) skipped: ${badReason}`);
        badStart = -1;
      }
    };
    while (pos + OBJECT_HEADER_SIZE <= this.end) {
      let hdr: Buffer | undefined;
      try {
        hdr = this.cache.read(pos, OBJECT_HEADER_SIZE);
      } catch (err) {
        endBad(pos);
        this.warn(`read error at ${pos}: ${errorMessage(err)}; stopped scanning`);
        break;
      }
      if (!hdr) break;
      const bad = objectHeaderProblem(hdr, 0, pos, this.end, h);
      if (bad) {
        if (pos >= tailEnd && isZero(hdr)) break; // unwritten (preallocated) space after the last object
        if (badStart < 0) {
          badStart = pos;
          badReason = bad;
        }
        pos += 8;
        continue;
      }
      endBad(pos);
      const size = u64(hdr, 8);
      if (hdr[0] === OBJECT_ENTRY && pos > after) {
        const e = this.readEntry(pos, true);
        if (e instanceof ObjectProblem) {
          this.stats.badEntries++;
          this.warn(`entry at ${pos} skipped: ${e.reason}`);
        } else {
          found++;
          this.stats.scanned++;
          yield e;
        }
      }
      pos += align8(size);
    }
    endBad(pos);
    if (found > 0 && !chainBroken) {
      this.warn(
        `${found} entries after offset ${after} are not linked in the entry array chain ` +
          `(file state ${STATE_NAMES[h.state] ?? h.state}: written while the file was open, or lost links); read by scanning`,
      );
    }
  }

  /** End of the tail object when the header's tail_object_offset points at a plausible one, else the data end. */
  private tailObjectEnd(): number {
    const off = this.header.tail_object_offset;
    if (!Number.isFinite(off) || off % 8 !== 0 || off < this.header.header_size || off + OBJECT_HEADER_SIZE > this.end) return this.end;
    const hdr = this.cache.read(off, OBJECT_HEADER_SIZE);
    if (!hdr || objectHeaderProblem(hdr, 0, off, this.end, this.header)) return this.end;
    return off + align8(u64(hdr, 8));
  }

  /** One ENTRY object with all its fields; fields that cannot be read are dropped with a problem. */
  private readEntry(off: number, scanned: boolean): JournalEntry | Promise<JournalEntry> | ObjectProblem {
    const obj = this.readObject(off, OBJECT_ENTRY);
    if (obj instanceof ObjectProblem) return obj;
    const h = this.header;
    const itemBytes = h.entryItemSize;
    const n = (obj.length - ENTRY.items) / itemBytes;
    if (!Number.isInteger(n)) {
      return new ObjectProblem(`ENTRY at ${off}: ${obj.length - ENTRY.items} item bytes are not a multiple of ${itemBytes}`);
    }
    if (n > this.maxItems) return new ObjectProblem(`ENTRY at ${off} has ${n} items, over the limit ${this.maxItems} (MAX_ENTRY_ITEMS)`);
    const seqnum = u64big(obj, ENTRY.seqnum);
    const realtime = u64big(obj, ENTRY.realtime);
    const monotonic = u64big(obj, ENTRY.monotonic);
    if (realtime === 0n || realtime >= TIME_VALID_MAX) return new ObjectProblem(`ENTRY at ${off} has an invalid realtime ${realtime}`);
    if (monotonic >= TIME_VALID_MAX) return new ObjectProblem(`ENTRY at ${off} has an invalid monotonic time ${monotonic}`);
    const bootId = id128(obj, ENTRY.boot_id);
    // Item offsets are copied out first: reading DATA objects may evict the page the entry lives in.
    const offsets: number[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const p = ENTRY.items + i * itemBytes;
      offsets[i] = itemBytes === 4 ? u32(obj, p) : u64(obj, p);
    }
    const fields: JournalField[] = [];
    let pending: Array<Promise<void>> | undefined;
    for (let i = 0; i < n; i++) {
      const f = this.field(offsets[i], off, i);
      if (f === undefined) continue;
      if (f instanceof Promise) {
        const slot = fields.length;
        fields.push({ name: '', text: '' });
        (pending ??= []).push(
          f.then((v) => {
            if (v) fields[slot] = v;
            else fields[slot].name = '\0';
          }),
        );
      } else {
        fields.push(f);
      }
    }
    const entry: JournalEntry = { offset: off, seqnum, realtime, monotonic, bootId, fields, scanned };
    if (!pending) return entry;
    return Promise.all(pending).then(() => {
      entry.fields = fields.filter((f) => f.name !== '\0');
      return entry;
    });
  }

  private fieldProblem(entryOff: number, item: number, reason: string): undefined {
    this.stats.badFields++;
    this.warn(`entry at ${entryOff} item ${item}: ${reason}; field dropped`);
    return undefined;
  }

  /** The DATA object at `off` as a field (cached), a Promise for XZ payloads, or undefined after a problem. */
  private field(off: number, entryOff: number, item: number): JournalField | Promise<JournalField | undefined> | undefined {
    const cached = this.fieldCache.get(off);
    if (cached) return cached;
    const obj = this.readObject(off, OBJECT_DATA);
    if (obj instanceof ObjectProblem) return this.fieldProblem(entryOff, item, obj.reason);
    const payload = obj.subarray(this.header.dataPayloadOffset);
    const c = compressionOf(obj[1]);
    if (c === undefined) return this.decodeField(off, payload, entryOff, item, true);
    if ((this.header.incompatible_flags & headerFlagFor(c)) === 0 && !this.warnedCompression.has(c)) {
      this.warnedCompression.add(c);
      this.warn(`DATA at ${off} is ${c.toUpperCase()}-compressed but the header does not flag ${c.toUpperCase()}; decoded anyway`);
    }
    try {
      if (c === 'xz') {
        const copy = Uint8Array.from(payload);
        return decompressXzPayload(copy, this.maxDecompressed).then(
          (out) => this.decodeField(off, toBuffer(out), entryOff, item, false),
          (err: unknown) => this.fieldProblem(entryOff, item, `DATA at ${off}: ${errorMessage(err)}`),
        );
      }
      const out = c === 'lz4' ? decompressLz4Payload(payload, this.maxDecompressed) : decompressZstdPayload(payload, this.maxDecompressed);
      return this.decodeField(off, toBuffer(out), entryOff, item, false);
    } catch (err) {
      if (err instanceof DecompressError) return this.fieldProblem(entryOff, item, `DATA at ${off}: ${err.message}`);
      throw err;
    }
  }

  private decodeField(off: number, payload: Buffer, entryOff: number, item: number, cacheable: boolean): JournalField | undefined {
    const eq = payload.indexOf(EQUALS);
    if (eq <= 0) {
      return this.fieldProblem(entryOff, item, `DATA at ${off}: payload has ${eq === 0 ? 'an empty field name' : "no '='"}`);
    }
    const name = payload.toString('utf8', 0, eq);
    const value = payload.subarray(eq + 1);
    const f: JournalField = { name, text: value.toString('utf8') };
    if (!isUtf8(value)) f.raw = Uint8Array.from(value);
    if (cacheable && payload.length <= MAX_CACHED_FIELD_BYTES) {
      if (this.fieldCache.size >= this.maxCachedFields) this.fieldCache.delete(this.fieldCache.keys().next().value as number);
      this.fieldCache.set(off, f);
    }
    return f;
  }
}

function toBuffer(a: Uint8Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.length);
}

function isZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}
