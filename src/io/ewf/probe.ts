// Probe of a file's first bytes for an EWF signature (see ./ewf-source.ts, which re-exports probeEwfFile).
import * as fs from 'node:fs';
import { EVF2_SIGNATURE, LVF_SIGNATURE, isEwfSignature } from './structures.js';

/**
 * Probe for IMAGE_OPENERS: does the file start with an EWF signature (EVF, or the LVF/EVF2 variants we refuse with a
 * clear error rather than read as raw)? Content only: the extension does not matter.
 */
export function probeEwfFile(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(path, 'r');
    if (!fs.fstatSync(fd).isFile()) return false;
    const b = new Uint8Array(8);
    if (fs.readSync(fd, b, 0, 8, 0) < 8) return false;
    return isEwfSignature(b) || startsWithBytes(b, LVF_SIGNATURE) || startsWithBytes(b, EVF2_SIGNATURE);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function startsWithBytes(b: Uint8Array, sig: Uint8Array): boolean {
  return sig.every((x, i) => b[i] === x);
}
