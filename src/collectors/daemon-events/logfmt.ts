// logfmt as written by logrus' TextFormatter (dockerd, containerd, runc shims): `key=value` pairs separated by
// spaces; a value is written bare when it needs no quoting, else as a Go strconv.Quote string.
// References: sirupsen/logrus text_formatter.go (appendKeyValue, needsQuoting), Go strconv.Quote / Unquote
// (escapes \a \b \f \n \r \t \v \\ \" \xHH \uHHHH \UHHHHHHHH \ooo).

/** Most fields kept from one line (dockerd writes fewer than 10). */
export const MAX_LOGFMT_FIELDS = 64;
/** Longest line parsed as logfmt. */
export const MAX_LOGFMT_CHARS = 1024 * 1024;

const SIMPLE: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" };

/** Decodes the inside of a Go quoted string from s[start] (just after the opening quote); returns value and end. */
function unquote(s: string, start: number): { value: string; end: number } | undefined {
  let out = '';
  let i = start;
  let run = i;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 0x22) {
      out += s.slice(run, i);
      return { value: out, end: i + 1 };
    }
    if (c !== 0x5c) {
      i++;
      continue;
    }
    out += s.slice(run, i);
    const e = s[i + 1];
    if (e === undefined) return undefined;
    if (SIMPLE[e] !== undefined) {
      out += SIMPLE[e];
      i += 2;
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = s.slice(i + 2, i + 2 + len);
      if (hex.length !== len || !/^[0-9a-fA-F]+$/.test(hex)) return undefined;
      const cp = parseInt(hex, 16);
      // \xHH is a byte; for display we keep it as the Latin-1 character (Go would emit raw bytes).
      out += cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : '\ufffd';
      i += 2 + len;
    } else if (e >= '0' && e <= '7') {
      const oct = s.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(oct)) return undefined;
      out += String.fromCharCode(parseInt(oct, 8));
      i += 4;
    } else {
      return undefined;
    }
    run = i;
  }
  return undefined;
}

/** logfmt fields in the order their keys first appear; a repeated key keeps its first place and last value. */
export interface LogfmtPairs {
  keys: string[];
  values: string[];
}

/**
 * Parses a logfmt line into its fields in order; undefined when it is not logfmt (no `key=value` at the start,
 * an unterminated quote, too many fields). Bare keys without `=` get the value ''.
 */
export function parseLogfmt(s: string): Record<string, string> | undefined {
  const p = parseLogfmtPairs(s);
  if (!p) return undefined;
  const out: Record<string, string> = Object.create(null);
  for (let i = 0; i < p.keys.length; i++) out[p.keys[i]] = p.values[i];
  return out;
}

/** parseLogfmt as parallel arrays (no dictionary object: cheaper in hot loops). */
export function parseLogfmtPairs(s: string): LogfmtPairs | undefined {
  if (s.length > MAX_LOGFMT_CHARS) return undefined;
  const keys: string[] = [];
  const values: string[] = [];
  let count = 0;
  let nextBackslash = s.indexOf('\\'); // -1: no escapes in the line, quoted values are plain slices
  let i = 0;
  const n = s.length;
  while (i < n) {
    while (i < n && s.charCodeAt(i) === 0x20) i++;
    if (i >= n) break;
    const ks = i;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === 0x3d || c === 0x20 || c === 0x22) break;
      i++;
    }
    if (i === ks) return undefined;
    const key = s.slice(ks, i);
    let value = '';
    if (s.charCodeAt(i) === 0x3d) {
      i++;
      if (s.charCodeAt(i) === 0x22) {
        const close = s.indexOf('"', i + 1);
        if (nextBackslash >= 0 && nextBackslash <= i) nextBackslash = s.indexOf('\\', i + 1);
        if (close >= 0 && (nextBackslash < 0 || nextBackslash > close)) {
          // no escape before the closing quote: what unquote returns, without the walk
          value = s.slice(i + 1, close);
          i = close + 1;
        } else {
          const q = unquote(s, i + 1);
          if (!q) return undefined;
          value = q.value;
          i = q.end;
        }
        if (i < n && s.charCodeAt(i) !== 0x20) return undefined;
      } else {
        const vs = i;
        const sp = s.indexOf(' ', i);
        i = sp < 0 ? n : sp;
        value = s.slice(vs, i);
      }
    } else if (count === 0) {
      return undefined; // a logfmt line starts with key=value
    } else if (i < n && s.charCodeAt(i) === 0x22) {
      return undefined;
    }
    if (++count > MAX_LOGFMT_FIELDS) return undefined;
    const at = keys.indexOf(key);
    if (at >= 0) values[at] = value;
    else {
      keys.push(key);
      values.push(value);
    }
  }
  return count > 0 ? { keys, values } : undefined;
}
