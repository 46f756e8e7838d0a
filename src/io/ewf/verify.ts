// Image verification: recompute MD5 and SHA-1 over the whole media of any image openImage() reads (streamed in
// VERIFY_READ_BYTES reads, memory flat in the image size) and compare them with the hashes the image stores (E01
// digest/hash sections). A raw image stores none: its hashes are computed and printed, with nothing to compare.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { type ByteSource, ByteSourceError } from '../byte-source.js';
import { IMAGE_OPENERS } from '../raw.js';
import type { EwfProblem } from './errors.js';
import { EwfSource } from './ewf-source.js';

/** Bytes read per step. */
export const VERIFY_READ_BYTES = 4 * 1024 * 1024;

export interface VerifyProgress {
  done: bigint;
  total: bigint;
}

export interface HashCheck {
  algorithm: 'md5' | 'sha1';
  stored: string;
  computed: string;
  match: boolean;
}

export interface VerifyResult {
  path: string;
  /** The opener that claimed the image (`ewf`, `raw`, `split-raw`, `qcow2`, ...). */
  format: string;
  size: bigint;
  computed: { md5: string; sha1: string };
  stored: { md5?: string; sha1?: string };
  checks: HashCheck[];
  /** `match`: every stored hash matches; `mismatch`: at least one differs; `no-stored-hashes`: nothing to compare. */
  verdict: 'match' | 'mismatch' | 'no-stored-hashes';
  /** Problems the reader met (unreadable chunks read as zeros, checksum errors ...). */
  problems: EwfProblem[];
  problemCount: number;
  seconds: number;
}

export interface VerifyOptions {
  /** Worker threads inflating E01 chunks (default 0: inline, the faster on the machines measured). */
  inflateWorkers?: number;
  onProgress?: (p: VerifyProgress) => void;
}

/** Hashes stored inside an image, when its reader exposes them (`metadata.storedHashes`). */
function storedHashesOf(src: ByteSource): { md5?: string; sha1?: string } {
  const meta = (src as { metadata?: { storedHashes?: { md5?: string; sha1?: string } } }).metadata;
  return { ...(meta?.storedHashes ?? {}) };
}

/**
 * Recomputes MD5 and SHA-1 over the media of `path` and compares them with the stored ones.
 * Throws ByteSourceError (EwfError included) when the image cannot be opened at all.
 */
export async function verifyImage(path: string, onProgress?: (p: VerifyProgress) => void, options: VerifyOptions = {}): Promise<VerifyResult> {
  const abs = nodePath.resolve(path);
  if (!fs.existsSync(abs)) throw new ByteSourceError('ENOENT', abs, 'no such file');
  const matches = IMAGE_OPENERS.filter((o) => o.probe(abs));
  if (matches.length !== 1) {
    throw new ByteSourceError('EFORMAT', abs, matches.length === 0 ? 'not a known image format' : `matches several image formats: ${matches.map((m) => m.name).join(', ')}`);
  }
  const opener = matches[0] as (typeof IMAGE_OPENERS)[number];
  // The worker pool measured slower than inflating inline (scripts/bench-ewf.ts), so it is opt-in.
  const workers = options.inflateWorkers ?? 0;
  const src = opener.name === 'ewf' ? EwfSource.open(abs, { inflateWorkers: workers }) : opener.open(abs);
  const progress = onProgress ?? options.onProgress;
  const t0 = process.hrtime.bigint();
  try {
    const md5 = createHash('md5');
    const sha1 = createHash('sha1');
    const buf = new Uint8Array(VERIFY_READ_BYTES);
    let pos = 0n;
    let step = 0;
    while (pos < src.size) {
      const want = src.size - pos < BigInt(buf.length) ? Number(src.size - pos) : buf.length;
      const n = src.read(buf, 0, want, pos);
      if (n <= 0) throw new ByteSourceError('EIO', src.description, `read returned ${n} at ${pos} of ${src.size}`);
      const view = buf.subarray(0, n);
      md5.update(view);
      sha1.update(view);
      pos += BigInt(n);
      if (++step % 16 === 0) {
        progress?.({ done: pos, total: src.size });
        await new Promise((r) => setImmediate(r)); // let signals and progress output through
      }
    }
    progress?.({ done: pos, total: src.size });
    const computed = { md5: md5.digest('hex'), sha1: sha1.digest('hex') };
    const stored = storedHashesOf(src);
    const checks: HashCheck[] = [];
    for (const algorithm of ['md5', 'sha1'] as const) {
      const s = stored[algorithm];
      if (s) checks.push({ algorithm, stored: s, computed: computed[algorithm], match: s.toLowerCase() === computed[algorithm] });
    }
    const verdict = checks.length === 0 ? 'no-stored-hashes' : checks.every((c) => c.match) ? 'match' : 'mismatch';
    const ewf = src instanceof EwfSource ? src : undefined;
    return {
      path: abs,
      format: opener.name,
      size: src.size,
      computed,
      stored,
      checks,
      verdict,
      problems: ewf ? [...ewf.problems] : [],
      problemCount: ewf ? ewf.problemCount : 0,
      seconds: Number(process.hrtime.bigint() - t0) / 1e9,
    };
  } finally {
    src.close();
  }
}
