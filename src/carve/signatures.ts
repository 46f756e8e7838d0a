// What the carver looks for and how a candidate is bounded and accepted: the byte-level signatures, the brace
// matcher and the required-field checks. Pure functions over bytes, apart from the scan loop (scanner.ts) so each is
// tested on its own; scanner.ts re-exports the public ones.
//
// Signatures (docs/formats/carving.md). Every object Docker writes starts with `{"`, and that two-byte needle is
// found by Buffer.indexOf at several GB/s; only its hits are looked at more closely:
//   `{"StreamConfig":`      config.v2.json (Docker >= 17; Go marshals Container's fields in declaration order)
//   `{"State":{`            config.v2.json / config.json of older Dockers (State first)
//   `{"Binds":`             hostconfig.json (HostConfig's first field)
//   `{"log":"`              a json-file log line (one per "\n"; parsed by the json-file reader's fast parser)
// A config is extended to its closing brace (string- and escape-aware, at most maxConfigBytes, stopping at the
// first byte JSON cannot hold outside a string), then JSON.parse'd and checked for its required fields.
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { HEX64, isObject, type JsonObject } from '../collectors/docker/json-guard.js';

// byte constants
export const LBRACE = 0x7b;
export const RBRACE = 0x7d;
export const QUOTE = 0x22;
const BSLASH = 0x5c;
export const NL = 0x0a;
export const OPEN = Buffer.from('{"', 'latin1');
export const SIG_STREAMCONFIG = Buffer.from('{"StreamConfig":', 'latin1');
export const SIG_STATE = Buffer.from('{"State":{', 'latin1');
export const SIG_BINDS = Buffer.from('{"Binds":', 'latin1');
export const SIG_LOG = Buffer.from('{"log":"', 'latin1');

export function matchAt(buf: Uint8Array, at: number, sig: Uint8Array, end: number): boolean {
  if (at + sig.length > end) return false;
  for (let i = 2; i < sig.length; i++) if (buf[at + i] !== sig[i]) return false;
  return true;
}

/**
 * End (exclusive) of the JSON object starting with `{` at `start`, or -1: unbalanced within `limit` bytes, or a
 * byte no JSON text holds outside a string (a control character, NUL). String- and escape-aware; iterative, so
 * any nesting depth costs only a counter. Reports the bytes walked through `walked`.
 */
export function objectEnd(buf: Uint8Array, start: number, limit: number, walked: { n: number }): number {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const end = Math.min(b.length, start + limit);
  let depth = 0;
  let i = start;
  while (i < end) {
    const c = b[i]!;
    if (c === QUOTE) {
      // jump to the closing quote: the next `"` not preceded by an odd run of backslashes
      let q = i + 1;
      for (;;) {
        q = b.indexOf(QUOTE, q);
        if (q < 0 || q >= end) {
          walked.n += end - start;
          return -1;
        }
        let k = q - 1;
        while (b[k] === BSLASH) k--;
        if (((q - 1 - k) & 1) === 0) break;
        q++;
      }
      i = q + 1;
      continue;
    }
    if (c === LBRACE || c === 0x5b) depth++;
    else if (c === RBRACE || c === 0x5d) {
      depth--;
      if (depth === 0) {
        walked.n += i + 1 - start;
        return c === RBRACE ? i + 1 : -1;
      }
      if (depth < 0) break;
    } else if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
    else if (c >= 0x80) break; // non-ASCII outside a string: not JSON
    i++;
  }
  walked.n += i - start;
  return -1;
}

export function sha256(buf: Uint8Array, s: number, e: number): string {
  return createHash('sha256').update(buf.subarray(s, e)).digest('hex');
}

/** A carved config.v2.json / config.json: ID of 64 hex, a State object, and Created or Config. */
export function isCarvedConfig(v: unknown): v is JsonObject {
  if (!isObject(v)) return false;
  return typeof v.ID === 'string' && HEX64.test(v.ID) && isObject(v.State) && (typeof v.Created === 'string' || isObject(v.Config));
}

/** A carved hostconfig.json: Binds (null or a list) and LogConfig, NetworkMode or RestartPolicy. */
export function isCarvedHostConfig(v: unknown): v is JsonObject {
  if (!isObject(v) || !('Binds' in v)) return false;
  if (v.Binds !== null && !Array.isArray(v.Binds)) return false;
  return isObject(v.LogConfig) || typeof v.NetworkMode === 'string' || isObject(v.RestartPolicy);
}
