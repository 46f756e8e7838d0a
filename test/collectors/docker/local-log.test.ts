// Docker `local` log driver reader: the protobuf decoder and framing parser from literal bytes and corrupted copies,
// partial-message rejoining, rotation + gzip through the VFS, the dual-logging cache, and the real sample host
// against `docker logs --timestamps` (sample-images/captures/logs-localdrv.*.txt).
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { ProblemLog, type TimelineEvent } from '../../../src/events/event.js';
import { formatIsoNano } from '../../../src/events/time.js';
import { HostDirVfs } from '../../../src/fs/host-dir/host-dir.js';
import { collectDocker } from '../../../src/collectors/docker/collect.js';
import { decodeLogEntry, encodeLogEntry, frameRecord, ProtoError } from '../../../src/collectors/docker/local-log-proto.js';
import {
  type LocalLogFileInfo,
  LocalLogParser,
  localLogSource,
  MAX_LOCAL_LOG_RECORD_BYTES,
  parseLocalLogBytes,
} from '../../../src/collectors/docker/local-log.js';
import { tempDir } from '../../helpers/corpus.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SAMPLE = path.resolve(here, '../../../sample-images');
const HOST = path.join(SAMPLE, 'sample-host');
const CAPTURES = path.join(SAMPLE, 'captures');
const sampleAvailable = fs.existsSync(path.join(HOST, 'var/lib/docker')) && fs.existsSync(path.join(CAPTURES, 'logs-localdrv.stdout.txt'));

const INFO: LocalLogFileInfo = { path: '/c/local-logs/container.log', host: 'h', containerId: 'c1', compressed: false, kind: 'local' };

// The first record of the sample host's localdrv container.log, byte for byte (written by dockerd 20.10).
const SAMPLE_RECORD = Uint8Array.from(
  Buffer.from(
    '000000270a067374646572721' + '0dd85f3edaaffe9f5181a136c6f63616c20647269766572207374646572720000' + '0027',
    'hex',
  ),
);

function rec(e: Parameters<typeof encodeLogEntry>[0]): Uint8Array {
  return frameRecord(encodeLogEntry(e));
}

function cat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts.map((p) => Buffer.from(p))));
}

function parse(bytes: Uint8Array, limits = {}): { events: TimelineEvent[]; problems: string[] } {
  const problems: string[] = [];
  const events = parseLocalLogBytes(bytes, INFO, (r) => problems.push(r), limits);
  return { events, problems };
}

/** Go's time.RFC3339Nano as `docker logs --timestamps` prints it (fraction's trailing zeros trimmed). */
function rfc3339Nano(ns: bigint): string {
  return formatIsoNano(ns).replace(/\.?0+Z$/, 'Z');
}

describe('LogEntry protobuf decoder', () => {
  it('decodes the literal first record of the sample host', () => {
    expect(SAMPLE_RECORD.length).toBe(47);
    const e = decodeLogEntry(SAMPLE_RECORD, 4, 4 + 0x27);
    expect(e.source).toBe('stderr');
    expect(e.timeNano).toBe(1795713571535766237n);
    expect(Buffer.from(e.line).toString()).toBe('local driver stderr');
    expect(e.partial).toBe(false);
    expect(e.partialMetadata).toBeUndefined();
  });

  it('round-trips every field, negative times and attrs', () => {
    const bytes = encodeLogEntry({
      source: 'stdout',
      timeNano: -5n,
      line: 'x',
      partial: true,
      partialMetadata: { last: true, id: 'abc', ordinal: 3 },
      attrs: [['tag', 'web']],
    });
    const e = decodeLogEntry(bytes);
    expect(e).toMatchObject({ source: 'stdout', timeNano: -5n, partial: true, partialMetadata: { last: true, id: 'abc', ordinal: 3 }, attrs: [['tag', 'web']] });
  });

  it('skips unknown fields of every wire type', () => {
    const extra = Uint8Array.from([0x38, 0x01, 0x41, 1, 2, 3, 4, 5, 6, 7, 8, 0x4d, 1, 2, 3, 4, 0x52, 0x02, 0x61, 0x62]);
    const e = decodeLogEntry(cat(encodeLogEntry({ source: 'stdout', timeNano: 7n, line: 'a' }), extra));
    expect(e.timeNano).toBe(7n);
  });

  it('refuses malformed input with a ProtoError (never over-reads)', () => {
    const bad: Array<[string, number[]]> = [
      ['length past the end', [0x0a, 0x7f, 0x41]],
      ['varint too long', [0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
      ['truncated varint', [0x10, 0xff]],
      ['wrong wire type for a known field', [0x0d, 0, 0, 0, 0]],
      ['group wire type', [0x0b]],
      ['field number 0', [0x02, 0x00]],
    ];
    for (const [what, bytes] of bad) expect(() => decodeLogEntry(Uint8Array.from(bytes)), what).toThrow(ProtoError);
  });
});

describe('local log framing parser', () => {
  const r1 = rec({ source: 'stdout', timeNano: 1000n, line: 'one' });
  const r2 = rec({ source: 'stderr', timeNano: 2000n, line: 'two' });
  const r3 = rec({ source: 'stdout', timeNano: 3000n, line: 'three' });
  const good = cat(r1, r2, r3);
  const o2 = r1.length;
  const o3 = r1.length + r2.length;

  it('emits one event per record with time, raw_time, offset and stream', () => {
    const { events, problems } = parse(good);
    expect(problems).toEqual([]);
    expect(events.map((e) => [e.message, e.time, e.raw_time, e.offset, (e.attrs as { stream: string }).stream])).toEqual([
      ['one', 1000n, '1000', 0, 'stdout'],
      ['two', 2000n, '2000', o2, 'stderr'],
      ['three', 3000n, '3000', o3, 'stdout'],
    ]);
    expect(events[0].source).toBe('docker:local-log');
    expect(events[0].timestamp_desc).toBe('Event Recorded Time');
  });

  it('gives the same events whatever the chunking', () => {
    const whole = parse(good).events;
    const p = new LocalLogParser(INFO, () => {});
    for (const b of good) p.feed(Uint8Array.of(b));
    p.finish();
    expect(p.events).toEqual(whole);
  });

  it('rejoins partial records by metadata id and ordinal, interleaved with other streams', () => {
    const md = (ordinal: number, last: boolean) => ({ id: 'p1', ordinal, last });
    const bytes = cat(
      rec({ source: 'stdout', timeNano: 10n, line: 'A'.repeat(5), partial: true, partialMetadata: md(1, false) }),
      rec({ source: 'stderr', timeNano: 11n, line: 'err' }),
      rec({ source: 'stdout', timeNano: 12n, line: 'B'.repeat(5), partial: true, partialMetadata: md(2, false) }),
      rec({ source: 'stdout', timeNano: 13n, line: 'C', partial: true, partialMetadata: md(3, true) }),
      rec({ source: 'stdout', timeNano: 14n, line: 'after' }),
    );
    const { events, problems } = parse(bytes);
    expect(problems).toEqual([]);
    expect(events.map((e) => e.message)).toEqual(['err', 'AAAAABBBBBC', 'after']);
    const joined = events[1];
    expect(joined.time).toBe(10n);
    expect(joined.offset).toBe(0);
    expect(joined.attrs?.partial).toMatchObject({ chunks: 3, complete: true, id: 'p1', ordinals: [1, 2, 3], times: ['10', '12', '13'] });
  });

  it('rejoins the legacy partial flag (no metadata) per stream', () => {
    const bytes = cat(
      rec({ source: 'stdout', timeNano: 1n, line: 'ab', partial: true }),
      rec({ source: 'stdout', timeNano: 2n, line: 'cd', partial: true }),
      rec({ source: 'stdout', timeNano: 3n, line: 'ef' }),
    );
    const { events } = parse(bytes);
    expect(events.map((e) => e.message)).toEqual(['abcdef']);
    expect(events[0].attrs?.partial).toMatchObject({ chunks: 3, complete: true, id: '' });
  });

  it('emits an unfinished partial chain at the end, marked incomplete, and flags ordinal gaps', () => {
    const bytes = cat(
      rec({ source: 'stdout', timeNano: 1n, line: 'x', partial: true, partialMetadata: { id: 'q', ordinal: 1, last: false } }),
      rec({ source: 'stdout', timeNano: 2n, line: 'y', partial: true, partialMetadata: { id: 'q', ordinal: 3, last: false } }),
    );
    const { events } = parse(bytes);
    expect(events).toHaveLength(1);
    expect(events[0].attrs?.partial).toMatchObject({ complete: false, gaps: true, chunks: 2 });
  });

  it('caps open partial chains (MAX_LOCAL_OPEN_PARTIAL_CHAINS)', () => {
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 5; i++) parts.push(rec({ source: 'stdout', timeNano: 1n, line: 'x', partial: true, partialMetadata: { id: `id${i}`, ordinal: 1, last: false } }));
    const { events, problems } = parse(cat(...parts), { maxOpenPartialChains: 2 });
    expect(events).toHaveLength(5);
    expect(problems.filter((p) => p.includes('MAX_LOCAL_OPEN_PARTIAL_CHAINS'))).toHaveLength(3);
  });

  it('size header != trailer: a problem, then resynchronises on the next record', () => {
    const bad = Uint8Array.from(good);
    expect(r1.length).toBe(24);
    bad[r1.length - 1] ^= 0xff; // trailer of the first record
    const { events, problems } = parse(bad);
    expect(events.map((e) => e.message)).toEqual(['two', 'three']);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^24 bytes from offset 0 skipped \(record at offset 0: size header 16 but trailer \d+\); resynchronised at offset 24$/);
  });

  it('an absurd size (above MAX_LOCAL_LOG_RECORD_BYTES) resynchronises without waiting for 4 GB', () => {
    const bad = Uint8Array.from(good);
    bad.set([0xff, 0xff, 0xff, 0xff], 0);
    const { events, problems } = parse(bad);
    expect(events.map((e) => e.message)).toEqual(['two', 'three']);
    expect(problems[0]).toContain(`outside 2..${MAX_LOCAL_LOG_RECORD_BYTES}`);
  });

  it('garbage between records is skipped and reported once', () => {
    const junk = Uint8Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff);
    const { events, problems } = parse(cat(r1, junk, r2, r3));
    expect(events.map((e) => e.message)).toEqual(['one', 'two', 'three']);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('300 bytes from offset 24 skipped');
  });

  it('a truncated tail is reported, the records before are kept', () => {
    const { events, problems } = parse(good.subarray(0, good.length - 3));
    expect(events.map((e) => e.message)).toEqual(['one', 'two']);
    expect(problems).toEqual([`truncated record at offset ${o3}: ${r3.length - 3} bytes left at the end of the file`]);
  });

  it('a consistent frame whose body is not a LogEntry is skipped alone', () => {
    const body = Uint8Array.from([0x0a, 0x7f, 0x41, 0x42]);
    const { events, problems } = parse(cat(r1, frameRecord(body), r2, r3));
    expect(events.map((e) => e.message)).toEqual(['one', 'two', 'three']);
    expect(problems[0]).toMatch(/not a LogEntry.*skipped/);
  });

  it('all-zero and random bytes end without hanging (no progress guard)', () => {
    for (const bytes of [new Uint8Array(100_000), Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7919) & 0xff)]) {
      const { events, problems } = parse(bytes);
      expect(events).toEqual([]);
      expect(problems.length).toBeGreaterThanOrEqual(1);
    }
  });

  it('lists at most maxProblemsPerFile problems and counts the rest', () => {
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 10; i++) parts.push(frameRecord(Uint8Array.from([0x0a, 0x7f])));
    const { problems } = parse(cat(...parts), { maxProblemsPerFile: 3 });
    expect(problems).toHaveLength(4);
    expect(problems[3]).toContain('7 more problems');
  });
});

describe('local log files through the VFS (rotation, gzip, dual-logging cache)', () => {
  const t = tempDir('flotsam-local-log-');
  afterAll(() => t.cleanup());

  it('reads container.log.2.gz, container.log.1, container.log oldest first as one ordered source', async () => {
    const dir = path.join(t.dir, 'c', 'local-logs');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'container.log.2.gz'), gzipSync(rec({ source: 'stdout', timeNano: 1n, line: 'oldest' })));
    fs.writeFileSync(path.join(dir, 'container.log.1'), rec({ source: 'stdout', timeNano: 2n, line: 'middle' }));
    fs.writeFileSync(path.join(dir, 'container.log'), rec({ source: 'stdout', timeNano: 3n, line: 'newest' }));
    const problems = new ProblemLog();
    const ctx = { vfs: new HostDirVfs(t.dir), host: 'h', problems };
    const files = ['container.log.2.gz', 'container.log.1', 'container.log'].map((n) => ({ path: `/c/local-logs/${n}`, containerId: 'c', kind: 'local' as const }));
    const src = localLogSource(ctx, files);
    expect(src.ordered).toBe(true);
    expect(src.id).toBe('/c/local-logs/container.log');
    const events: TimelineEvent[] = [];
    for await (const b of src.open()) events.push(...b);
    expect(events.map((e) => e.message)).toEqual(['oldest', 'middle', 'newest']);
    expect(events[0].attrs?.compressed).toBe(true);
    expect(problems.problems).toEqual([]);
  });
});

describe('local log files under a small ReadBudget (thousands of live sources)', () => {
  const t = tempDir('flotsam-local-log-budget-');
  afterAll(() => t.cleanup());

  it('yields the same events in small batches, plain and .gz, records longer than the buffers included', async () => {
    const dir = path.join(t.dir, 'c', 'local-logs');
    fs.mkdirSync(dir, { recursive: true });
    const records = (from: number, to: number): Uint8Array[] =>
      Array.from({ length: to - from }, (_, k) => {
        const i = from + k;
        return rec({ source: i % 3 ? 'stdout' : 'stderr', timeNano: BigInt(i + 1), line: i % 97 === 0 ? 'x'.repeat(9000) : `line ${i}` });
      });
    fs.writeFileSync(path.join(dir, 'container.log.1.gz'), gzipSync(cat(...records(0, 3000))));
    fs.writeFileSync(path.join(dir, 'container.log'), cat(...records(3000, 6000)));
    const problems = new ProblemLog();
    const ctx = { vfs: new HostDirVfs(t.dir), host: 'h', problems };
    const files = ['container.log.1.gz', 'container.log'].map((n) => ({ path: `/c/local-logs/${n}`, containerId: 'c', kind: 'local' as const }));
    const full: TimelineEvent[] = [];
    for await (const b of localLogSource(ctx, files).open()) full.push(...b);
    const batches: TimelineEvent[][] = [];
    for await (const b of localLogSource(ctx, files).open({ batchEvents: 16, bufferBytes: 4096 })) batches.push(b);
    expect(problems.problems).toEqual([]);
    expect(full).toHaveLength(6000);
    expect(batches.flat()).toEqual(full);
    // 16 events, plus at most one 4 KiB feed of the shortest records (over 10 bytes each).
    for (const b of batches) expect(b.length).toBeLessThanOrEqual(16 + 4096 / 10);
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThan(256);
  });
});

describe.skipIf(!sampleAvailable)('sample host localdrv vs `docker logs --timestamps`', () => {
  it('text and nanosecond times equal the captures exactly, per stream', async () => {
    const problems = new ProblemLog();
    const c = collectDocker({ vfs: new HostDirVfs(HOST), host: 'flotsam-sample', problems });
    const events: TimelineEvent[] = [];
    for (const s of c.sources) for await (const b of s.open()) events.push(...b.filter((e) => e.source === 'docker:local-log'));
    expect(events.every((e) => e.container_name === 'localdrv')).toBe(true);
    for (const stream of ['stdout', 'stderr']) {
      const want = fs.readFileSync(path.join(CAPTURES, `logs-localdrv.${stream}.txt`), 'utf8');
      const got = events
        .filter((e) => (e.attrs as { stream: string }).stream === stream)
        .map((e) => `${rfc3339Nano(e.time)} ${e.message}\n`)
        .join('');
      expect(got).toBe(want);
    }
    expect(problems.problems.filter((p) => p.component === 'local-log')).toEqual([]);
  });

  it('reads the dual-logging cache (container-cached.log) of a copied container, marked as such', async () => {
    const t = tempDir('flotsam-cache-');
    try {
      const root = path.join(t.dir, 'var/lib/docker');
      fs.mkdirSync(path.join(root, 'containers'), { recursive: true });
      const src = path.join(HOST, 'var/lib/docker/containers');
      const id = fs.readdirSync(src).find((d) => fs.existsSync(path.join(src, d, 'local-logs')))!;
      fs.cpSync(path.join(src, id), path.join(root, 'containers', id), { recursive: true });
      fs.renameSync(path.join(root, 'containers', id, 'local-logs/container.log'), path.join(root, 'containers', id, 'container-cached.log'));
      const problems = new ProblemLog();
      const c = collectDocker({ vfs: new HostDirVfs(t.dir), host: 'h', problems });
      const events: TimelineEvent[] = [];
      for (const s of c.sources) for await (const b of s.open()) events.push(...b.filter((e) => e.source === 'docker:local-log'));
      expect(events).toHaveLength(6);
      expect(events.every((e) => e.attrs?.dual_logging_cache === true && e.path.endsWith('/container-cached.log'))).toBe(true);
    } finally {
      t.cleanup();
    }
  });
});
