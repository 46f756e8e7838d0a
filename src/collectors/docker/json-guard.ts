// Defensive readers for JSON artifacts from the evidence. Every value in a Docker state file is hostile: the file may
// be truncated, hold an array where an object belongs, a string where a number belongs, or a list with millions of
// entries. These helpers never throw on such input; they report through a `warn` callback and return a safe value.
import { errorMessage, type ProblemLog } from '../../events/event.js';
import { readTextLimited, type Vfs } from '../../fs/vfs.js';

/** Longest string kept from a single JSON field (longer values are cut and flagged). */
export const MAX_FIELD_CHARS = 64 * 1024;

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: unknown };

/** Reports one problem about the artifact being read (the path and component are bound by the caller). */
export type Warn = (reason: string) => void;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/**
 * Reads and parses a JSON object file. Returns undefined (after one warning) when the file cannot be read, exceeds
 * `maxBytes`, is not valid JSON, or is valid JSON but not an object.
 */
export function readJsonObject(
  vfs: Vfs,
  problems: ProblemLog,
  component: string,
  path: string,
  maxBytes: number,
  host?: string,
): JsonObject | undefined {
  let text: string;
  try {
    text = readTextLimited(vfs, path, maxBytes);
  } catch (err) {
    problems.warn(component, path, `cannot read: ${errorMessage(err)}`, host);
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    problems.warn(component, path, `invalid JSON (${text.length} chars): ${errorMessage(err)}`, host);
    return undefined;
  }
  if (!isObject(value)) {
    problems.warn(component, path, `expected a JSON object, found ${kindOf(value)}`, host);
    return undefined;
  }
  return value;
}

/** Reads a small text file (layerdb `mount-id`, `size`, ...), trimmed; undefined (with a warning) on failure. */
export function readSmallText(
  vfs: Vfs,
  problems: ProblemLog,
  component: string,
  path: string,
  maxBytes: number,
  host?: string,
  quietIfMissing = false,
): string | undefined {
  try {
    return readTextLimited(vfs, path, maxBytes).trim();
  } catch (err) {
    const missing = (err as { code?: string }).code === 'ENOENT';
    if (!(missing && quietIfMissing)) problems.warn(component, path, `cannot read: ${errorMessage(err)}`, host);
    return undefined;
  }
}

function cut(s: string, key: string, warn: Warn): string {
  if (s.length <= MAX_FIELD_CHARS) return s;
  warn(`${key} is ${s.length} chars, kept the first ${MAX_FIELD_CHARS}`);
  return s.slice(0, MAX_FIELD_CHARS);
}

/** A string field; null/absent -> undefined; any other type -> warning + undefined. */
export function getStr(obj: JsonObject | undefined, key: string, warn: Warn): string | undefined {
  const v = obj?.[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return cut(v, key, warn);
  warn(`${key} is ${kindOf(v)}, expected string`);
  return undefined;
}

/** A finite number field; anything else -> warning + undefined. */
export function getNum(obj: JsonObject | undefined, key: string, warn: Warn): number | undefined {
  const v = obj?.[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  warn(`${key} is ${kindOf(v)} ${JSON.stringify(v)?.slice(0, 40)}, expected number`);
  return undefined;
}

export function getBool(obj: JsonObject | undefined, key: string, warn: Warn): boolean | undefined {
  const v = obj?.[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  warn(`${key} is ${kindOf(v)}, expected boolean`);
  return undefined;
}

export function getObj(obj: JsonObject | undefined, key: string, warn: Warn): JsonObject | undefined {
  const v = obj?.[key];
  if (v === undefined || v === null) return undefined;
  if (isObject(v)) return v;
  warn(`${key} is ${kindOf(v)}, expected object`);
  return undefined;
}

/** An array field, capped at `max` entries (the rest dropped with a warning). */
export function getArr(obj: JsonObject | undefined, key: string, warn: Warn, max: number): unknown[] {
  const v = obj?.[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    warn(`${key} is ${kindOf(v)}, expected array`);
    return [];
  }
  if (v.length > max) {
    warn(`${key} has ${v.length} entries, limit ${max}; kept the first ${max}`);
    return v.slice(0, max);
  }
  return v;
}

/** An array of strings; non-string entries are skipped with one warning. */
export function getStrArray(obj: JsonObject | undefined, key: string, warn: Warn, max: number): string[] {
  const arr = getArr(obj, key, warn, max);
  const out: string[] = [];
  let bad = 0;
  for (const e of arr) {
    if (typeof e === 'string') out.push(cut(e, key, warn));
    else bad++;
  }
  if (bad > 0) warn(`${key} has ${bad} non-string entries (skipped)`);
  return out;
}

/**
 * A string -> string map (labels, log options), capped at `max` keys. Built with Object.fromEntries so a key such
 * as `__proto__` stays an ordinary own property.
 */
export function getStrMap(
  obj: JsonObject | undefined,
  key: string,
  warn: Warn,
  max: number,
): Record<string, string> {
  const m = getObj(obj, key, warn);
  if (!m) return {};
  let keys = Object.keys(m);
  if (keys.length > max) {
    warn(`${key} has ${keys.length} entries, limit ${max}; kept the first ${max}`);
    keys = keys.slice(0, max);
  }
  const entries: Array<[string, string]> = [];
  let bad = 0;
  for (const k of keys) {
    const v = m[k];
    if (typeof v === 'string') entries.push([cut(k, key, warn), cut(v, key, warn)]);
    else if (v === null) entries.push([k, '']);
    else bad++;
  }
  if (bad > 0) warn(`${key} has ${bad} non-string values (skipped)`);
  return Object.fromEntries(entries);
}

/** `sha256:<64 hex>` or a bare 64-hex id. */
export const HEX64 = /^[0-9a-f]{64}$/;

/** Splits `sha256:<hex>` into its hex part when it is a well-formed sha256 digest. */
export function sha256Hex(digest: string | undefined): string | undefined {
  if (digest === undefined) return undefined;
  const hex = digest.startsWith('sha256:') ? digest.slice(7) : digest;
  return HEX64.test(hex) ? hex : undefined;
}
