// EWF segment file naming (EWF spec 2.2): NAME.E01 ... NAME.E99, then NAME.EAA ... NAME.EAZ, NAME.EBA ... NAME.EZZ,
// NAME.FAA ... NAME.ZZZ. The same scheme with `s` (SMART .s01) and lower-case `e` (ewfacquire -f ewf). The case of the
// first segment's extension is kept for all others.
import * as nodePath from 'node:path';

/** Segments a set may have: E01..E99 plus EAA..ZZZ (99 + 22 x 676 = 14971). */
export const MAX_EWF_SEGMENTS = 14_971;

/** Is `path` named like the first segment of an EWF set (`.E01`, `.e01`, `.s01`, `.S01`)? */
export function isFirstSegmentName(path: string): boolean {
  return /\.[EeSs]01$/.test(path);
}

/**
 * The name generator of the set whose first segment is `first`: `name(1)` is `first`, `name(n)` the n-th segment,
 * undefined past the last name the scheme allows. Undefined when `first` is not named `*.E01`.
 */
export function ewfSegmentNames(first: string): ((segmentNumber: number) => string | undefined) | undefined {
  const m = /^(.*\.)([EeSs])01$/.exec(first);
  if (!m) return undefined;
  const stem = m[1] as string;
  const letter = m[2] as string;
  const upper = letter === letter.toUpperCase();
  const A = upper ? 65 : 97;
  const firstLetter = letter.charCodeAt(0) - A; // E -> 4, S -> 18
  return (n) => {
    if (!Number.isInteger(n) || n < 1) return undefined;
    if (n <= 99) return stem + letter + String(n).padStart(2, '0');
    const k = n - 100;
    const l0 = firstLetter + Math.floor(k / 676);
    if (l0 > 25) return undefined;
    const l1 = Math.floor(k / 26) % 26;
    const l2 = k % 26;
    return stem + String.fromCharCode(A + l0, A + l1, A + l2);
  };
}

/** The base name without directory, for messages. */
export function shortName(path: string): string {
  return nodePath.basename(path);
}
