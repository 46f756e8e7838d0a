// Byte-level helpers of the syslog fast path (syslog-sink.ts): Buffer slices, the program-name table, the
// per-minute timestamp cache and ASCII character classes.
import { Buffer } from 'node:buffer';
import { NS_PER_SECOND } from '../../events/time.js';
import { isDaemonUnit } from '../daemon-events/daemon-events.js';
import { authProgramKnown } from './auth-parse.js';

// Node's Buffer#utf8Slice/latin1Slice (what toString calls after checking its arguments) are about twice as fast
// as toString for short ranges; utf8Slice replaces invalid UTF-8 with U+FFFD like toString. Fall back to
// toString if they go away (as src/collectors/docker/json-log-parse.ts).
interface SliceBuffer {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}
const HAS_SLICES =
  typeof (Buffer.prototype as unknown as Partial<SliceBuffer>).utf8Slice === 'function' &&
  typeof (Buffer.prototype as unknown as Partial<SliceBuffer>).latin1Slice === 'function';
export const utf8Slice: (b: Buffer, s: number, e: number) => string = HAS_SLICES
  ? (b, s, e) => (b as unknown as SliceBuffer).utf8Slice(s, e)
  : (b, s, e) => b.toString('utf8', s, e);
export const latin1Slice: (b: Buffer, s: number, e: number) => string = HAS_SLICES
  ? (b, s, e) => (b as unknown as SliceBuffer).latin1Slice(s, e)
  : (b, s, e) => b.toString('latin1', s, e);

/** What we know of one syslog program name (tag). */
export interface ProgramInfo {
  name: string;
  /** isDaemonUnit(name): dockerd / containerd lines become daemon events. */
  daemon: boolean;
  /** authProgramKnown(name): parseAuthMessage may match any of its messages. */
  auth: boolean;
  bytes: Uint8Array;
}

const PROGRAM_SLOTS = 512;

/** Interns ASCII program names by their bytes (a small direct-mapped table; a collision just replaces). */
export class ProgramTable {
  private readonly slots: Array<ProgramInfo | undefined> = new Array<ProgramInfo | undefined>(PROGRAM_SLOTS).fill(undefined);

  /** `hash`: (h * 31 + byte) | 0 over the bytes, from 0. */
  lookup(buf: Buffer, s: number, e: number, hash: number): ProgramInfo {
    const len = e - s;
    const h = hash ^ Math.imul(len, 0x9e3779b1);
    const slot = (h ^ (h >>> 9) ^ (h >>> 18)) & (PROGRAM_SLOTS - 1);
    const p = this.slots[slot];
    if (p !== undefined && p.bytes.length === len) {
      const b = p.bytes;
      let i = 0;
      while (i < len && b[i] === buf[s + i]) i++;
      if (i === len) return p;
    }
    const name = latin1Slice(buf, s, e);
    const info: ProgramInfo = { name, daemon: isDaemonUnit(name), auth: authProgramKnown(name), bytes: new Uint8Array(buf.subarray(s, e)) };
    this.slots[slot] = info;
    return info;
  }
}

/** Wall-clock seconds of one minute of timestamp text, and its UTC conversion when the zone offset is constant. */
export class MinuteCache {
  readonly key = new Uint8Array(32);
  len = 0;
  /** Local seconds (fields as if UTC) at second 0 of the minute. */
  local = 0;
  /** UTC seconds at second 0 when `uniform`. */
  utc = 0;
  /** True when seconds 0..59 of the minute all convert with one offset and no DST flag. */
  uniform = false;
  /** `utc` in ns (when uniform). */
  utcNs = 0n;

  hit(buf: Buffer, s: number, e: number): boolean {
    const n = e - s;
    if (n !== this.len) return false;
    const k = this.key;
    for (let i = 0; i < n; i++) if (k[i] !== buf[s + i]) return false;
    return true;
  }

  store(buf: Buffer, s: number, e: number): void {
    const n = e - s;
    for (let i = 0; i < n; i++) this.key[i] = buf[s + i];
    this.len = n;
  }
}

export const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
/** JS `\s` over ASCII: tab, LF, VT, FF, CR, space. */
export const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);

/** n * 1e9 as BigInts for n = 0..60 (a second of a cached minute). */
export const SECOND_NS: bigint[] = Array.from({ length: 61 }, (_, n) => BigInt(n) * NS_PER_SECOND);
