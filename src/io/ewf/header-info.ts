// Case metadata of an EWF set (see ./ewf-source.ts): the header2 / header / xheader values as an EwfHeaderInfo, and
// the flat XML of ewfx xheader / xhash sections.
import type { EwfHeaderInfo, HeaderDate } from './source-types.js';
import { HEADER_KEYS, interpretHeaderDate } from './structures.js';

/** Builds the header info from the values of header2 (preferred), header, then xheader (fills what they lack). */
export function buildHeaderInfo(
  header2: Map<string, string> | undefined,
  headerText: Map<string, string> | undefined,
  xheader: Map<string, string> | undefined,
): EwfHeaderInfo {
  const source = header2 ? 'header2' : headerText ? 'header' : xheader ? 'xheader' : 'none';
  const values = header2 ?? headerText ?? new Map<string, string>();
  const info: EwfHeaderInfo = { source, values: Object.fromEntries(values) };
  const put = (name: string, v: string | undefined) => {
    if (v === undefined || v === '') return;
    if (name === 'acquisitionDate' || name === 'systemDate') (info as unknown as Record<string, HeaderDate>)[name] = { raw: v, ...interpretHeaderDate(v) };
    else (info as unknown as Record<string, string>)[name] = v;
  };
  for (const [k, v] of values) {
    const name = HEADER_KEYS[k];
    if (name) put(name, v);
  }
  if (xheader) {
    const x = xheader;
    const map: Record<string, string> = {
      case_number: 'caseNumber', description: 'description', examiner_name: 'examinerName', evidence_number: 'evidenceNumber',
      notes: 'notes', acquiry_operating_system: 'acquisitionOperatingSystem', acquiry_software: 'acquisitionSoftware',
      acquiry_software_version: 'acquisitionSoftwareVersion', acquiry_date: 'acquisitionDate', system_date: 'systemDate',
      model: 'model', serial_number: 'serialNumber', device_label: 'deviceLabel',
    };
    for (const [k, name] of Object.entries(map)) {
      if ((info as unknown as Record<string, unknown>)[name] === undefined) put(name, x.get(k));
    }
    if (source === 'xheader') info.values = Object.fromEntries(x);
  }
  return info;
}

/** Flat <tag>text</tag> pairs of ewfx xheader/xhash XML (keys lower-cased). No entities beyond the five basic ones. */
export function parseXml(b: Uint8Array): Map<string, string> {
  const text = new TextDecoder('utf-8').decode(b);
  const out = new Map<string, string>();
  const re = /<([A-Za-z0-9_]+)>([^<]*)<\/\1>/g;
  let m: RegExpExecArray | null;
  let count = 0;
  while ((m = re.exec(text)) !== null && count++ < 1000) {
    const v = (m[2] as string).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
    out.set((m[1] as string).toLowerCase(), v.trim());
  }
  return out;
}
