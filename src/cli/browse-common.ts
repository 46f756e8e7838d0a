// What every browsing command shares: opening evidence with one error shape, making evidence text safe for the
// analyst's terminal, and the ls-style mode string. Apart from the commands (browse-info.ts, browse-files.ts) so
// each command file holds one kind of look at the evidence; browse.ts re-exports the public helpers.
import { once } from 'node:events';
import * as fs from 'node:fs';
import { EvidenceError, type OpenedEvidence, openEvidenceDetailed } from '../fs/open-evidence.js';
import { VfsError } from '../fs/vfs.js';

/** Bytes of one xattr value shown (the rest is counted). */
export const MAX_XATTR_SHOWN = 256;

/** Control characters from evidence must not drive the analyst's terminal. */
export function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** An xattr value: a quoted string when it is printable UTF-8 (one trailing NUL allowed), else hex. */
export function formatXattrValue(v: Uint8Array): string {
  let body = v;
  if (body.length > 0 && body[body.length - 1] === 0) body = body.subarray(0, body.length - 1);
  let text: string | undefined;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    text = undefined;
  }
  if (text !== undefined && body.length <= MAX_XATTR_SHOWN && !/[\u0000-\u0008\u000e-\u001f\u007f-\u009f]/.test(text)) {
    return JSON.stringify(text);
  }
  const shown = v.subarray(0, MAX_XATTR_SHOWN);
  const hex = '0x' + Array.from(shown, (b) => b.toString(16).padStart(2, '0')).join('');
  return v.length > MAX_XATTR_SHOWN ? `${hex}... (${v.length} bytes)` : hex;
}

const TYPE_CHAR: Record<string, string> = { file: '-', dir: 'd', symlink: 'l', char: 'c', block: 'b', fifo: 'p', socket: 's', unknown: '?' };

export function modeString(mode: number, type: string): string {
  const r = (bit: number, c: string) => (mode & bit ? c : '-');
  const x = (bit: number, special: number, on: string, onNoX: string) =>
    mode & special ? (mode & bit ? on : onNoX) : mode & bit ? 'x' : '-';
  return (
    (TYPE_CHAR[type] ?? '?') +
    r(0o400, 'r') + r(0o200, 'w') + x(0o100, 0o4000, 's', 'S') +
    r(0o040, 'r') + r(0o020, 'w') + x(0o010, 0o2000, 's', 'S') +
    r(0o004, 'r') + r(0o002, 'w') + x(0o001, 0o1000, 't', 'T')
  );
}

/** `IMAGE[:PATH]`: the longest prefix before a `:` that exists on the analyst's machine is the evidence. */
export function parseTarget(target: string): { evidence: string; path: string } {
  if (fs.existsSync(target)) return { evidence: target, path: '/' };
  for (let i = target.lastIndexOf(':'); i > 0; i = target.lastIndexOf(':', i - 1)) {
    const ev = target.slice(0, i);
    if (fs.existsSync(ev)) return { evidence: ev, path: target.slice(i + 1) || '/' };
  }
  return { evidence: target, path: '/' };
}

/** Opens evidence, runs `fn`, closes; VfsErrors become EvidenceErrors (exit code 2, one line). */
export async function withEvidence<T>(evidence: string, fn: (ev: OpenedEvidence) => Promise<T> | T): Promise<T> {
  const ev = openEvidenceDetailed(evidence);
  try {
    return await fn(ev);
  } catch (err) {
    if (err instanceof VfsError) throw new EvidenceError(`${evidence}: ${err.message}`);
    throw err;
  } finally {
    ev.vfs.close();
  }
}

/** A path as typed, made absolute; `..` is left for the VFS to resolve physically (through symlinks, across mounts). */
export function evidencePath(p: string): string {
  return p.startsWith('/') ? p : '/' + p;
}

export async function write(out: NodeJS.WritableStream, text: string | Uint8Array): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}
