// ByteFileWriter: whatever the path the bytes take (O_DIRECT blocks with the partial block carried over, the
// ordinary descriptor, oversized rows, a fallback after a refused direct write), the file holds exactly the bytes
// written, after flushes mid-stream and truncations too.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ByteFileWriter, DIRECT_IO_AFTER_BYTES, DIRECT_IO_ALIGNMENT, type ByteFileWriterOptions } from '../../src/writers/byte-file-writer.js';
import { rng } from '../timeline/helpers.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flotsam-bfw-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Can this folder's file system take O_DIRECT at all? (The direct-path assertions need it.) */
function directIoAvailable(): boolean {
  const probe = path.join(dir, 'probe');
  fs.writeFileSync(probe, '');
  try {
    fs.closeSync(fs.openSync(probe, fs.constants.O_WRONLY | fs.constants.O_DIRECT));
    return true;
  } catch {
    return false;
  } finally {
    fs.rmSync(probe);
  }
}
const DIRECT = directIoAvailable();
if (!DIRECT) console.warn(`*** ${os.tmpdir()} refuses O_DIRECT: only the ordinary write path is exercised here ***`);

interface Plan {
  seed: number;
  steps: number;
  bufferBytes: number;
  flushes?: boolean;
  truncates?: boolean;
  drains?: boolean;
  /** Where direct I/O starts (default 0 here: from the first block). */
  directAfter?: number;
}

/** Writes random rows (some larger than a buffer), with flushes, truncations and drains; returns what must be on disk. */
async function run(w: ByteFileWriter, plan: Plan, checkFlushes: boolean): Promise<Buffer> {
  const r = rng(plan.seed);
  let expected: Buffer[] = [];
  for (let i = 0; i < plan.steps; i++) {
    const roll = r();
    const n = roll < 0.02 ? plan.bufferBytes + Math.floor(r() * 3 * plan.bufferBytes) : 1 + Math.floor(r() * 700);
    const row = Buffer.alloc(n);
    for (let k = 0; k < n; k++) row[k] = (i * 31 + k) & 0xff;
    w.ensure(n);
    w.buf.set(row, w.pos);
    w.pos += n;
    expected.push(row);
    if (plan.flushes && r() < 0.01) {
      await w.flush();
      if (checkFlushes) expect(fs.readFileSync(w.path).equals(Buffer.concat(expected))).toBe(true);
    } else if (plan.truncates && r() < 0.003) {
      await w.truncate();
      expected = [];
    } else if (plan.drains && r() < 0.05) {
      await w.drain(4 * plan.bufferBytes);
    }
  }
  await w.close();
  return Buffer.concat(expected);
}

const plans: Plan[] = [
  { seed: 1, steps: 3000, bufferBytes: 16384, drains: true },
  { seed: 2, steps: 3000, bufferBytes: 16384, flushes: true, drains: true },
  { seed: 3, steps: 3000, bufferBytes: 16384, truncates: true, flushes: true },
  // No drains: more buffers in flight than one slab holds, so the pool grows.
  { seed: 4, steps: 4000, bufferBytes: 3 * DIRECT_IO_ALIGNMENT },
  // Buffers smaller than two blocks: ordinary writes only.
  { seed: 5, steps: 2000, bufferBytes: 4096, flushes: true },
  // The page cache for the first 100 KiB, then direct I/O.
  { seed: 6, steps: 3000, bufferBytes: 16384, flushes: true, drains: true, directAfter: 100_000 },
];

describe('ByteFileWriter', () => {
  for (const mode of ['auto', 'off'] as const) {
    for (const plan of plans) {
      it(`writes exactly the bytes given (directIo ${mode}, seed ${plan.seed}, ${plan.bufferBytes} B buffers)`, async () => {
        const file = path.join(dir, `w-${mode}-${plan.seed}`);
        const w = new ByteFileWriter(file, plan.bufferBytes, { directIo: mode, directIoAfterBytes: plan.directAfter ?? 0 });
        const direct = mode === 'auto' && DIRECT && plan.bufferBytes >= 2 * DIRECT_IO_ALIGNMENT;
        if (direct) expect(w.directIoOff).toBeUndefined();
        else expect(w.directIoOff).toBeDefined();
        const expected = await run(w, plan, true);
        expect(fs.readFileSync(file).equals(expected)).toBe(true);
        if (direct) {
          expect(w.directIoOff).toBeUndefined();
          // Blocks went the direct way (oversized rows, in ordinary buffers, and the tail did not).
          expect(w.directBytes).toBeGreaterThan(0);
          expect(w.directBytes % DIRECT_IO_ALIGNMENT).toBe(0);
        } else expect(w.directBytes).toBe(0);
      });
    }
  }

  it('falls back to ordinary writes when a direct write is refused, with the same bytes', async () => {
    const file = path.join(dir, 'misaligned');
    const options: ByteFileWriterOptions = { misalignForTest: 16, directIoAfterBytes: 0 };
    const w = new ByteFileWriter(file, 16384, options);
    const expected = await run(w, { seed: 7, steps: 2000, bufferBytes: 16384, flushes: true, drains: true }, true);
    expect(fs.readFileSync(file).equals(expected)).toBe(true);
    // ext4 and XFS refuse a buffer 16 bytes off a page boundary (EINVAL); a file system that copies anyway is fine too.
    if (DIRECT && w.directIoOff !== undefined) expect(w.directIoOff).toMatch(/direct write refused/);
  });

  it('writes a small file entirely through the page cache by default (DIRECT_IO_AFTER_BYTES)', async () => {
    const w = new ByteFileWriter(path.join(dir, 'small'), 16384);
    const expected = await run(w, { seed: 8, steps: 3000, bufferBytes: 16384, drains: true }, false);
    expect(expected.length).toBeLessThan(DIRECT_IO_AFTER_BYTES);
    expect(fs.readFileSync(w.path).equals(expected)).toBe(true);
    expect(w.directBytes).toBe(0);
  });

  it('a write after close is an error, close is idempotent', async () => {
    const w = new ByteFileWriter(path.join(dir, 'closed'), 16384);
    w.ensure(3);
    w.ascii('abc');
    await w.close();
    await w.close();
    expect(w.closed).toBe(true);
    expect(fs.readFileSync(w.path, 'latin1')).toBe('abc');
    await expect(w.truncate()).rejects.toThrow(/closed/);
  });
});
