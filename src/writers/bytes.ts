// Byte-level building blocks of the timeline row printer (row-transport-decode.ts): numbers, hex, copies and the
// CSV / JSON text cells of UTF-8 bytes, into a Buffer at a position. Every function returns the new position;
// callers reserve room first (a text grows at most 6x in bytes).

const HEX = Buffer.from('0123456789abcdef', 'latin1');

type Utf8Writable = Buffer & { utf8Write?: (s: string, offset: number) => number };
/** Buffer's internal UTF-8 writer (what Buffer#write calls after checking its arguments), when present. */
export const utf8Write: (b: Buffer, s: string, p: number) => number =
  typeof (Buffer.prototype as Utf8Writable).utf8Write === 'function'
    ? (b, s, p) => (b as Utf8Writable).utf8Write!(s, p)
    : (b, s, p) => b.write(s, p, 'utf8');

/** Writes s as UTF-8 at p (lone surrogates become U+FFFD, as Buffer#write does); returns the new position. */
function putText(b: Buffer, p: number, s: string): number {
  const start = p;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return start + utf8Write(b, s, start);
    b[p++] = c;
  }
  return p;
}

/** Decimal digits of a non-negative safe integer. */
export function putUint(b: Buffer, p: number, n: number): number {
  if (n < 10) {
    b[p] = 48 + n;
    return p + 1;
  }
  let digits = 2;
  for (let limit = 100; n >= limit && digits < 16; limit *= 10) digits++;
  let q = p + digits;
  let x = n;
  // Doubles above 2^31 first, then int32 arithmetic.
  while (x > 0x7fffffff) {
    const next = Math.floor(x / 10);
    b[--q] = 48 + (x - next * 10);
    x = next;
  }
  while (q > p) {
    const next = (x / 10) | 0;
    b[--q] = 48 + (x - next * 10);
    x = next;
  }
  return p + digits;
}

/** All of src at p; returns the new position. */
export function putBuffer(b: Buffer, p: number, src: Uint8Array): number {
  b.set(src, p);
  return p + src.length;
}

/**
 * Copies src[from, to) to b at p; returns the new position (no argument checks: the callers reserved room). Pass a
 * plain Uint8Array view as src: its subarray costs about half a Buffer's (no FastBuffer species construction).
 */
export function putSlice(b: Buffer, p: number, src: Uint8Array, from: number, to: number): number {
  const n = to - from;
  if (n <= 24) {
    for (let k = 0; k < n; k++) b[p + k] = src[from + k];
  } else {
    b.set(src.subarray(from, to), p);
  }
  return p + n;
}

/** A number as String() (CSV) or JSON.stringify() (JSON) prints it. */
export function putNumber(b: Buffer, p: number, n: number, json: boolean): number {
  if (Number.isSafeInteger(n) && n >= 0) return putUint(b, p, n);
  return putText(b, p, json ? JSON.stringify(n) ?? 'null' : String(n));
}

export function putHex8(b: Uint8Array, p: number, n: number): void {
  for (let k = 7; k >= 0; k--) {
    b[p + k] = HEX[n & 15];
    n >>>= 4;
  }
}

/** csvTextCell of the UTF-8 text in src[from, to), at p: formula signs neutralised, RFC 4180 quoting. */
export function putCsvCellFromBytes(b: Buffer, p: number, src: Uint8Array, from: number, to: number): number {
  if (from === to) return p;
  const start = p;
  const c0 = src[from];
  if (c0 === 61 || c0 === 43 || c0 === 45 || c0 === 64 || c0 === 9 || c0 === 13) b[p++] = 39; // = + - @ TAB CR
  const end = putSlice(b, p, src, from, to);
  // ASCII bytes never occur inside a UTF-8 sequence, so the scan is exact.
  for (let k = from; k < to; k++) {
    const c = src[k];
    if (c === 34 || c === 44 || c === 13 || c === 10) return csvQuoteInPlace(b, start, end);
  }
  return end;
}

/** RFC 4180 quoting of bytes [start, end) in place (the caller reserved the room); returns the new end. */
function csvQuoteInPlace(b: Buffer, start: number, end: number): number {
  let quotes = 0;
  for (let k = start; k < end; k++) if (b[k] === 34) quotes++;
  const newEnd = end + 2 + quotes;
  let w = newEnd - 1;
  b[w--] = 34;
  for (let k = end - 1; k >= start; k--) {
    const c = b[k];
    b[w--] = c;
    if (c === 34) b[w--] = 34;
  }
  b[w] = 34;
  return newEnd;
}

/**
 * jsonString of the well-formed UTF-8 text in src[from, to), at p: JSON.stringify's escapes (`\"`, `\\`, the
 * short forms \b \t \n \f \r, else \u00xx in lowercase hex); every other byte is copied.
 */
export function putJsonStringFromBytes(b: Buffer, p: number, src: Uint8Array, from: number, to: number): number {
  b[p++] = 34;
  let extra = 0;
  for (let k = from; k < to; k++) {
    const c = src[k];
    if (c === 34 || c === 92) extra += 1;
    else if (c < 0x20) extra += c === 8 || c === 9 || c === 10 || c === 12 || c === 13 ? 1 : 5;
  }
  let end = putSlice(b, p, src, from, to);
  if (extra > 0) end = jsonEscapeInPlace(b, p, end, extra);
  b[end] = 34;
  return end + 1;
}

function jsonEscapeInPlace(b: Buffer, start: number, end: number, extra: number): number {
  const newEnd = end + extra;
  let w = newEnd;
  for (let k = end - 1; k >= start; k--) {
    const c = b[k];
    if (c >= 0x20 && c !== 34 && c !== 92) {
      b[--w] = c;
      continue;
    }
    const short = c === 34 || c === 92 ? c : c === 8 ? 98 : c === 9 ? 116 : c === 10 ? 110 : c === 12 ? 102 : c === 13 ? 114 : 0;
    if (short !== 0) {
      b[--w] = short;
    } else {
      b[--w] = HEX[c & 15];
      b[--w] = HEX[c >> 4];
      b[--w] = 48;
      b[--w] = 48;
      b[--w] = 117; // u
    }
    b[--w] = 92;
  }
  return newEnd;
}

