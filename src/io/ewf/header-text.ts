// EWF header and header2 sections: their text (after inflating), the "main" category's tab-separated identifiers
// and values, and the two date forms they hold. Apart from structures.ts (which re-exports it) because this is text
// parsing, not a binary structure; header-info.ts turns the values into an EwfHeaderInfo.
// References: libyal/libewf `documentation/Expert Witness Compression Format (EWF).asciidoc` (rev. 0.0.79: the
// header2 and header sections, 3.2; identifiers in 3.2.3 "Header2 values").

/** Header value identifiers (EWF spec 3.2.3 "Header2 values"), mapped to our names. */
export const HEADER_KEYS: Record<string, string> = {
  a: 'description',
  c: 'caseNumber',
  n: 'evidenceNumber',
  e: 'examinerName',
  t: 'notes',
  md: 'model',
  sn: 'serialNumber',
  l: 'deviceLabel',
  av: 'acquisitionSoftwareVersion',
  ov: 'acquisitionOperatingSystem',
  m: 'acquisitionDate',
  u: 'systemDate',
  p: 'passwordHash',
  pid: 'processIdentifier',
  r: 'compressionType',
};

/** Decodes header (ASCII / codepage, read as latin1) or header2 (UTF-16 with BOM) text. */
export function decodeHeaderText(b: Uint8Array, utf16: boolean): string {
  if (utf16 || (b.length >= 2 && ((b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff)))) {
    if (b[0] === 0xfe && b[1] === 0xff) {
      const sw = new Uint8Array(b.length - 2);
      for (let i = 2; i + 1 < b.length; i += 2) {
        sw[i - 2] = b[i + 1] as number;
        sw[i - 1] = b[i] as number;
      }
      return new TextDecoder('utf-16le').decode(sw);
    }
    const body = b[0] === 0xff && b[1] === 0xfe ? b.subarray(2) : b;
    return new TextDecoder('utf-16le').decode(body);
  }
  return new TextDecoder('latin1').decode(b);
}

/**
 * Parses the "main" category of header/header2 text: line 1 the category count, line 2 `main`, line 3 the tab-separated
 * identifiers, line 4 the values (EWF spec 3.2). Lines end in `\n` (header2) or `\r\n` (EnCase header).
 * Returns identifier -> value; an unreadable layout returns an empty map.
 */
export function parseHeaderValues(text: string): Map<string, string> {
  const lines = text.split(/\r?\n/);
  const out = new Map<string, string>();
  const main = lines.findIndex((l) => l.trim() === 'main');
  if (main < 0 || main + 2 >= lines.length) return out;
  const keys = (lines[main + 1] as string).split('\t');
  const values = (lines[main + 2] as string).split('\t');
  for (let i = 0; i < keys.length; i++) {
    const k = (keys[i] as string).trim();
    if (k !== '' && !out.has(k)) out.set(k, values[i] ?? '');
  }
  return out;
}

/**
 * An acquisition/system date as stored: header2 holds Unix seconds ("1142163845"); the EnCase header holds the
 * acquiring machine's local time "2006 3 12 11 44 5" with no zone. Returns the UTC ISO time for the former, and a
 * zone-less ISO-like local time for the latter.
 */
export function interpretHeaderDate(raw: string): { iso?: string; local?: string } {
  const s = raw.trim();
  if (/^\d{1,12}$/.test(s)) {
    const secs = Number(s);
    if (secs === 0) return {};
    return { iso: new Date(secs * 1000).toISOString().replace('.000Z', 'Z') };
  }
  const m = /^(\d{4}) (\d{1,2}) (\d{1,2}) (\d{1,2}) (\d{1,2}) (\d{1,2})$/.exec(s);
  if (m) {
    const p = (x: string | undefined) => (x as string).padStart(2, '0');
    return { local: `${m[1]}-${p(m[2])}-${p(m[3])}T${p(m[4])}:${p(m[5])}:${p(m[6])}` };
  }
  return {};
}
