// Docker json-file log reader: the byte-level core (json-log-parse.ts), the fast time parser and the VFS source
// (json-log.ts) with rotation and gzip. Every fixture is built here the way Docker writes it (moby
// jsonlog/jsonlogbytes.go MarshalJSONBuf, jsonfilelog.go marshalMessage, copier.go 16 KiB partial messages,
// loggerutils/logfile.go rotation), and each named limit has a regression test.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { ProblemLog, type TimelineEvent } from '../../../src/events/event.js';
import { formatIsoNano, parseRfc3339Nano } from '../../../src/events/time.js';
import { HostDirVfs } from '../../../src/fs/host-dir/host-dir.js';
import type { CollectorContext } from '../../../src/collectors/types.js';
import {
  type JsonLogFileInfo,
  type JsonLogFileRef,
  type JsonLogOptions,
  JsonLogParser,
  MAX_LOG_LINE_BYTES,
  MAX_PROBLEMS_PER_FILE,
  jsonLogRotationIndex,
  jsonLogSource,
  parseJsonLogBytes,
} from '../../../src/collectors/docker/json-log.js';
import { DockerTimeParser } from '../../../src/collectors/docker/json-log-time.js';

// ---------------------------------------------------------------------------------------------------------------
// Fixture builders: Docker's encoder, reimplemented.

const HEX = '0123456789abcdef';

/** Go's ffjsonWriteJSONBytesAsString for a (valid Unicode) JS string. */
function goJsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (c < 0x80) {
      if (c >= 0x20 && ch !== '\\' && ch !== '"' && ch !== '<' && ch !== '>' && ch !== '&') out += ch;
      else if (ch === '\\' || ch === '"') out += '\\' + ch;
      else if (ch === '\n') out += '\\n';
      else if (ch === '\r') out += '\\r';
      else out += '\\u00' + HEX[c >> 4] + HEX[c & 15];
    } else if (c === 0x2028 || c === 0x2029) {
      out += '\\u202' + HEX[c & 15];
    } else {
      out += ch;
    }
  }
  return out + '"';
}

/** One record line with its "\n"; `log` as given (end it with "\n" for the last record of a message). */
function rec(log: string, time: string, stream = 'stdout', attrs?: Record<string, string>): string {
  const fields: string[] = [];
  if (log.length > 0) fields.push('"log":' + goJsonString(log));
  if (stream !== '') fields.push('"stream":' + goJsonString(stream));
  if (attrs) fields.push('"attrs":' + JSON.stringify(attrs));
  fields.push('"time":"' + time + '"');
  return '{' + fields.join(',') + '}\n';
}

/** Go's RFC3339Nano of a UTC time: trailing zeros of the fraction trimmed (no fraction when zero). */
function goTime(ns: bigint): string {
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19) + (frac ? '.' + frac : '') + 'Z';
}

const T0 = 1714558830_000000000n; // 2024-05-01T10:20:30Z
const t = (i: number): string => goTime(T0 + BigInt(i) * 1_001_000n);

/** A message as Docker's copier logs it: 16 KiB partial records, only the last one ending in "\n". */
function dockerMessage(message: string, startNs: bigint, stream = 'stdout', chunk = 16384): string[] {
  const parts: string[] = [];
  for (let i = 0; i < message.length; i += chunk) parts.push(message.slice(i, i + chunk));
  if (parts.length === 0) parts.push('');
  const out: string[] = [];
  const time = (): string => goTime(startNs + BigInt(out.length) * 1000n);
  for (let j = 0; j < parts.length - 1; j++) out.push(rec(parts[j], time(), stream));
  const last = parts[parts.length - 1];
  if (last.length === chunk) {
    // Exactly k*16 KiB: the full buffer goes out as a partial record, the newline alone afterwards.
    out.push(rec(last, time(), stream));
    out.push(rec('\n', time(), stream));
  } else {
    out.push(rec(last + '\n', time(), stream));
  }
  return out;
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const INFO: JsonLogFileInfo = { path: '/c/abc-json.log', host: 'h1', containerId: 'abc', containerName: 'web', compressed: false };

function parse(data: string | Uint8Array, limits = {}, chunk?: number): { events: TimelineEvent[]; problems: string[] } {
  const bytes = typeof data === 'string' ? enc(data) : data;
  if (!chunk) return parseJsonLogBytes(bytes, INFO, limits);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += chunk) chunks.push(bytes.subarray(i, i + chunk));
  return parseJsonLogBytes(chunks, INFO, limits);
}

function parseSlowOnly(data: string | Uint8Array): { events: TimelineEvent[]; problems: string[] } {
  const problems: string[] = [];
  const p = new JsonLogParser(INFO, (r) => problems.push(r));
  p.disableFastPath = true;
  p.feed(typeof data === 'string' ? enc(data) : data);
  p.finish();
  return { events: p.take(), problems };
}

const messages = (evs: TimelineEvent[]): string[] => evs.map((e) => e.message);

// ---------------------------------------------------------------------------------------------------------------

describe('DockerTimeParser', () => {
  it('agrees with parseRfc3339Nano on Docker layouts, every fraction length, and falls back for others', () => {
    const p = new DockerTimeParser();
    const samples = [
      '2024-05-01T10:20:30Z',
      '2024-05-01T10:20:30.1Z',
      '2024-05-01T10:20:30.12Z',
      '2024-05-01T10:20:30.123456789Z',
      '2024-05-01T10:20:59.999999999Z',
      '2024-05-01T10:21:00.000000001Z',
      '1970-01-01T00:00:00Z',
      '1969-12-31T23:59:59.5Z',
      '0001-01-01T00:00:00Z',
      '9999-12-31T23:59:60.9Z',
      '2024-02-29T23:59:59.000001Z',
      '2024-05-01T12:20:30.5+02:00', // offset: fallback
      '2024-05-01t10:20:30z', // lower case: fallback
      '2024-05-01T10:20:30.1234567891Z', // 10 digits: fallback truncates
    ];
    for (const s of samples) {
      expect(p.parse(s), s).toBe(parseRfc3339Nano(s));
      const b = enc(`xx${s}yy`);
      const viaBytes = p.parseBytes(b, 2, b.length - 2);
      if (viaBytes !== undefined) expect(viaBytes, s).toBe(parseRfc3339Nano(s));
    }
    for (let i = 0; i < 5000; i++) {
      const ns = BigInt(Math.floor(Math.random() * 4e9)) * 1_000_000_000n + BigInt(Math.floor(Math.random() * 1e9));
      const s = goTime(ns);
      expect(p.parse(s)).toBe(ns);
      const b = enc(s);
      expect(p.parseBytes(b, 0, b.length)).toBe(ns);
    }
  });

  it('rejects what parseRfc3339Nano rejects', () => {
    const p = new DockerTimeParser();
    for (const s of ['', 'x', '2024-13-01T10:20:30Z', '2024-05-01T24:20:30Z', '2024-05-01T10:60:30Z', '2024-05-01T10:20:61Z',
      '2024-05-01T10:20:30.Z', '2024-05-01T10:20:3aZ', '2024-05-01 10:20:30', '2024-05-01T10:20:30.123456789']) {
      expect(p.parse(s), s).toBe(parseRfc3339Nano(s));
      expect(p.parse(s), s).toBeUndefined();
      const b = enc(s);
      expect(p.parseBytes(b, 0, b.length), s).toBeUndefined();
    }
  });
});

describe('json-log parser: records from literal bytes', () => {
  it('turns one Docker record into one event with provenance', () => {
    const line = '{"log":"hello world\\n","stream":"stderr","time":"2024-05-01T10:20:30.123456789Z"}\n';
    const { events, problems } = parse(line + line.replace('hello world', 'second'));
    expect(problems).toEqual([]);
    expect(events).toHaveLength(2);
    expect(events[0]).toEqual({
      time: 1714558830_123456789n,
      timestamp_desc: 'Event Recorded Time',
      source: 'docker:json-log',
      host: 'h1',
      container_id: 'abc',
      container_name: 'web',
      message: 'hello world',
      path: '/c/abc-json.log',
      inode: undefined,
      line: 1,
      offset: 0,
      raw_time: '2024-05-01T10:20:30.123456789Z',
      attrs: { stream: 'stderr' },
    });
    expect(events[1]).toMatchObject({ message: 'second', line: 2, offset: enc(line).length });
  });

  it('keeps attrs (labels/env/tag) and a non-Docker field order via JSON.parse', () => {
    const a = rec('with attrs\n', t(1), 'stdout', { tag: 'web', 'com.example': 'x"y' });
    const b = '{"time":"2024-05-01T10:20:31Z", "stream":"stdout", "log":"reordered\\n"}\n';
    const c = '{"log":"other stream\\n","stream":"custom","time":"2024-05-01T10:20:32Z"}\n';
    const d = '{"log":"odd key\\n","xxxxxx":"stdout","time":"2024-05-01T10:20:33Z"}\n';
    const { events, problems } = parse(a + b + c + d);
    expect(problems).toEqual([]);
    expect(messages(events)).toEqual(['with attrs', 'reordered', 'other stream', 'odd key']);
    expect(events[0].attrs).toEqual({ stream: 'stdout', attrs: { tag: 'web', 'com.example': 'x"y' } });
    expect(events[2].attrs).toEqual({ stream: 'custom' });
    expect(events[3].attrs).toEqual({ stream: '' });
  });

  it('decodes every JSON escape exactly as JSON.parse does, fast path and fallback alike', () => {
    const raw =
      '{"log":"q\\" b\\\\ s\\/ b\\b f\\f n\\n r\\r t\\t e\\u00e9 E\\u00C9 lt\\u003c amp\\u0026 nul\\u0000 ' +
      'smile\\ud83d\\ude00 lone\\ud800 ls\\u2028 end\\\\\\n","stream":"stdout","time":"2024-05-01T10:20:30Z"}\n';
    const expected = JSON.parse(raw).log.slice(0, -1);
    const fast = parse(raw);
    const slow = parseSlowOnly(raw);
    expect(fast.problems).toEqual([]);
    expect(fast.events[0].message).toBe(expected);
    expect(slow.events[0].message).toBe(expected);
    expect(expected).toContain('😀');
    expect(expected.endsWith('end\\')).toBe(true);
  });

  it('fast path and JSON.parse agree on random messages written by Docker\'s encoder', () => {
    const alphabet = ['a', 'Z', ' ', '"', '\\', '/', '<', '>', '&', '\t', '\r', '\n', '\u0001', '\u001f', 'é', '€', '😀',
      '\u2028', '\u2029', '{', '}', ':', ',', '"stream":"', '\\n', 'u00'];
    let text = '';
    for (let i = 0; i < 2000; i++) {
      let m = '';
      const len = Math.floor(Math.random() * 40);
      for (let j = 0; j < len; j++) m += alphabet[Math.floor(Math.random() * alphabet.length)];
      // Docker never writes an empty partial record (it would omit "log").
      text += rec(i % 5 === 0 ? m || 'p' : m + '\n', t(i), i % 3 === 0 ? 'stderr' : 'stdout');
    }
    const fast = parse(text);
    const slow = parseSlowOnly(text);
    expect(fast.problems).toEqual([]);
    expect(fast.events).toEqual(slow.events);
  });

  it('gives the same events whatever the chunking (1 byte, odd sizes, whole)', () => {
    let text = '';
    for (let i = 0; i < 50; i++) text += rec(`line ${i} é€😀 "q" \\ <x>\n`, t(i), i % 2 ? 'stdout' : 'stderr');
    text += dockerMessage('L'.repeat(40000), T0 + 10n ** 9n).join('');
    const whole = parse(text);
    expect(whole.problems).toEqual([]);
    for (const size of [1, 7, 100, 4093, 16384]) expect(parse(text, {}, size)).toEqual(whole);
  });

  it('replaces invalid UTF-8 instead of failing', () => {
    const bytes = Buffer.concat([
      Buffer.from('{"log":"bad '),
      Buffer.from([0xff, 0xc3, 0x28, 0xe2, 0x82]),
      Buffer.from(' end\\n","stream":"stdout","time":"2024-05-01T10:20:30Z"}\n'),
      Buffer.from('{"log":"esc\\"'),
      Buffer.from([0xfe]),
      Buffer.from('\\n","stream":"stdout","time":"2024-05-01T10:20:30Z"}\n'),
    ]);
    const { events, problems } = parse(bytes);
    expect(problems).toEqual([]);
    expect(events[0].message).toBe('bad \ufffd\ufffd(\ufffd end');
    expect(events[1].message).toBe('esc"\ufffd');
  });
});

describe('json-log parser: partial messages (16 KiB chunks)', () => {
  it('rejoins a chain into one event at the first chunk\'s time, keeping every chunk\'s time and offset', () => {
    const big = Array.from({ length: 40000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    const recs = dockerMessage(big, T0);
    expect(recs).toHaveLength(3);
    const before = rec('before\n', goTime(T0 - 1000n));
    const text = before + recs.join('') + rec('after\n', goTime(T0 + 5000n));
    const { events, problems } = parse(text);
    expect(problems).toEqual([]);
    expect(messages(events)).toEqual(['before', big, 'after']);
    const e = events[1];
    expect(e.time).toBe(T0);
    expect(e.raw_time).toBe(goTime(T0));
    expect(e.line).toBe(2);
    expect(e.offset).toBe(enc(before).length);
    expect(e.attrs?.partial).toEqual({
      chunks: 3,
      complete: true,
      times: [goTime(T0), goTime(T0 + 1000n), goTime(T0 + 2000n)],
      offsets: [enc(before).length, enc(before + recs[0]).length, enc(before + recs[0] + recs[1]).length],
      lines: [2, 3, 4],
    });
  });

  it('handles a message of exactly 16 KiB (the newline arrives as its own record)', () => {
    const m = 'x'.repeat(16384);
    const recs = dockerMessage(m, T0);
    expect(recs).toHaveLength(2);
    const { events, problems } = parse(recs.join(''));
    expect(problems).toEqual([]);
    expect(events).toHaveLength(1);
    expect(events[0].message).toBe(m);
  });

  it('keeps stdout and stderr chains apart when their records interleave', () => {
    const out = dockerMessage('o'.repeat(20000), T0, 'stdout');
    const err = dockerMessage('e'.repeat(20000), T0 + 10n, 'stderr');
    const text = out[0] + err[0] + rec('short\n', goTime(T0 + 20n), 'stderr') + out[1] + err[1];
    const { events, problems } = parse(text);
    // The stderr chain's records are joined even though a short stderr line came in between?
    // No: a complete stderr record closes nothing (it is not a partial); Docker never interleaves a stream with
    // itself, so "short" here is the end of the stderr chain.
    expect(problems).toEqual([]);
    expect(events.map((e) => [e.attrs?.stream, e.message.length])).toEqual([
      ['stderr', 16384 + 5],
      ['stdout', 20000],
      ['stderr', 20000 - 16384],
    ]);
  });

  it('emits a chain cut by the end of the file, marked incomplete', () => {
    const recs = dockerMessage('z'.repeat(40000), T0);
    const { events, problems } = parse(recs[0] + recs[1]);
    expect(problems).toEqual([]);
    expect(events).toHaveLength(1);
    expect(events[0].message).toBe('z'.repeat(32768));
    expect(events[0].attrs?.partial).toMatchObject({ chunks: 2, complete: false });
  });
});

describe('json-log parser: bad input and guards', () => {
  const good = (i: number): string => rec(`good ${i}\n`, t(i));

  it('skips a line that is not JSON, and JSON without time or log, with one problem each', () => {
    const text =
      good(1) + 'garbage here\n' + '{"log":"no time\\n","stream":"stdout"}\n' + '{"stream":"stdout","time":"2024-05-01T10:20:30Z"}\n' +
      '{"log":"bad time\\n","stream":"stdout","time":"yesterday"}\n' + '[1,2]\n' + '\n' + good(2);
    const { events, problems } = parse(text);
    expect(messages(events)).toEqual(['good 1', 'good 2']);
    expect(problems).toHaveLength(6);
    expect(problems[0]).toMatch(/^line 2: not valid JSON: "garbage here"/);
    expect(problems[1]).toMatch(/^line 3: record has no "time" string/);
    expect(problems[2]).toMatch(/^line 4: record has no "log" string/);
    expect(problems[3]).toMatch(/^line 5: time "yesterday" is not RFC 3339/);
    expect(problems[4]).toMatch(/^line 6: not a JSON object/);
    expect(problems[5]).toBe('line 7: empty line');
  });

  it(`MAX_PROBLEMS_PER_FILE: lists ${MAX_PROBLEMS_PER_FILE} problems, then one summary`, () => {
    let text = '';
    for (let i = 0; i < 250; i++) text += `bad ${i}\n`;
    const { events, problems } = parse(text + good(1));
    expect(messages(events)).toEqual(['good 1']);
    expect(problems).toHaveLength(MAX_PROBLEMS_PER_FILE + 1);
    expect(problems[MAX_PROBLEMS_PER_FILE]).toBe(`150 more problems in this file not listed (limit ${MAX_PROBLEMS_PER_FILE})`);
  });

  it('skips runs of NUL bytes between records with one problem, and keeps the records around them', () => {
    const nuls = '\0'.repeat(5000);
    // A crash leaves the tail of one record missing and zeros up to the block end, then writing resumes.
    const text = good(1) + nuls + good(2) + '{"log":"cut off' + nuls + good(3) + nuls;
    for (const chunk of [undefined, 1000, 3]) {
      const { events, problems } = parse(text, {}, chunk);
      expect(messages(events)).toEqual(['good 1', 'good 2', 'good 3']);
      expect(problems).toEqual([
        `line 2: skipped 5000 NUL bytes at offset ${enc(good(1)).length}`,
        'line 3: not valid JSON: "{\\"log\\":\\"cut off"',
        `line 3: skipped 5000 NUL bytes at offset ${enc(good(1) + nuls + good(2)).length + 15}`,
        `line 4: skipped 5000 NUL bytes at offset ${enc(text).length - 5000}`,
      ]);
    }
  });

  it('MAX_LOG_LINE_BYTES: skips an overlong line to the next newline, in one chunk or across many', () => {
    expect(MAX_LOG_LINE_BYTES).toBe(8 * 1024 * 1024);
    const long = rec('y'.repeat(5000) + '\n', t(2));
    const text = good(1) + long + good(3);
    for (const chunk of [undefined, 1024, 64]) {
      const { events, problems } = parse(text, { maxLineBytes: 4096 }, chunk);
      expect(messages(events)).toEqual(['good 1', 'good 3']);
      expect(problems).toEqual([
        `line 2: longer than 4096 bytes (MAX_LOG_LINE_BYTES), skipped ${enc(long).length - 1} bytes at offset ${enc(good(1)).length}`,
      ]);
    }
    // At the end of the file, without a newline.
    const tail = parse(good(1) + 'q'.repeat(10000), { maxLineBytes: 4096 }, 1000);
    expect(messages(tail.events)).toEqual(['good 1']);
    expect(tail.problems).toEqual([`line 2: longer than 4096 bytes (MAX_LOG_LINE_BYTES), skipped 10000 bytes at offset ${enc(good(1)).length}`]);
  });

  it('a truncated last line without newline is a problem (kept when it is still a whole record)', () => {
    const cut = good(2).slice(0, 30);
    const a = parse(good(1) + cut);
    expect(messages(a.events)).toEqual(['good 1']);
    expect(a.problems).toHaveLength(1);
    expect(a.problems[0]).toMatch(/^line 2: truncated last line without newline \(30 bytes; not valid JSON/);
    const b = parse(good(1) + good(2).slice(0, -1));
    expect(messages(b.events)).toEqual(['good 1', 'good 2']);
    expect(b.problems).toEqual([`line 2: last line has no newline (${enc(good(2)).length - 1} bytes; record kept)`]);
  });

  it('MAX_PARTIAL_CHAIN_BYTES: emits what was joined, marked truncated, and drops the rest of that chain', () => {
    const recs = dockerMessage('w'.repeat(100), T0, 'stdout', 10); // 10 records of 10 bytes + 1 with "\n"
    const limit = enc(recs[0] + recs[1] + recs[2]).length - 3; // record bytes count without their newlines
    const { events, problems } = parse(recs.join('') + good(1), { maxPartialChainBytes: limit });
    expect(messages(events)).toEqual(['w'.repeat(30), 'good 1']);
    expect(events[0].attrs?.partial).toMatchObject({ chunks: 3, complete: false, truncated: true });
    expect(problems).toEqual([
      'line 4: partial message from line 1 longer than ' + limit +
        ' bytes (MAX_PARTIAL_CHAIN_BYTES) or 16384 records (MAX_PARTIAL_CHAIN_CHUNKS); emitted truncated',
      'line 11: dropped 8 partial records after the message from line 1 passed its limit',
    ]);
  });

  it('MAX_PARTIAL_CHAIN_CHUNKS: caps the records in one chain', () => {
    const recs = dockerMessage('v'.repeat(50), T0, 'stdout', 1);
    const { events, problems } = parse(recs.join(''), { maxPartialChainChunks: 20 });
    expect(messages(events)).toEqual(['v'.repeat(20)]);
    expect(events[0].attrs?.partial).toMatchObject({ chunks: 20, truncated: true });
    expect(problems[0]).toMatch(/^line 21: partial message from line 1 .*MAX_PARTIAL_CHAIN_CHUNKS/);
  });

  it('MAX_OPEN_PARTIAL_CHAINS: a file inventing streams cannot keep unbounded chains open', () => {
    let text = '';
    for (let i = 0; i < 6; i++) text += rec(`part ${i}`, t(i), `s${i}`);
    const { events, problems } = parse(text, { maxOpenPartialChains: 4 });
    expect(messages(events)).toEqual(['part 0', 'part 1', 'part 2', 'part 3', 'part 4', 'part 5']);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^line 5: more than 4 partial messages open at once/);
  });

  it('survives truncation at every offset and random byte flips without throwing or hanging', () => {
    let text = '';
    for (let i = 0; i < 8; i++) text += rec(`msg ${i} "é" \\ <>\n`, t(i), i % 2 ? 'stderr' : 'stdout');
    text += dockerMessage('p'.repeat(300), T0, 'stdout', 100).join('');
    const bytes = enc(text);
    for (let cut = 0; cut <= bytes.length; cut += 7) {
      const { events } = parse(bytes.subarray(0, cut));
      for (const e of events) expect(typeof e.message).toBe('string');
    }
    for (let round = 0; round < 300; round++) {
      const copy = Uint8Array.from(bytes);
      for (let k = 0; k < 3; k++) copy[Math.floor(Math.random() * copy.length)] = Math.floor(Math.random() * 256);
      const fast = parse(copy);
      expect(fast.events.length).toBeGreaterThanOrEqual(0);
      // Damage stays local: a flip costs at most two records (one that hits a newline joins two lines).
      expect(fast.events.length).toBeGreaterThanOrEqual(8 - 2 * 3);
    }
  });

  it('fast path and JSON.parse agree on damaged copies too', () => {
    let text = '';
    for (let i = 0; i < 30; i++) text += rec(`m${i} \\ "x" <y> é\n`, t(i));
    const bytes = enc(text);
    for (let round = 0; round < 300; round++) {
      const copy = Uint8Array.from(bytes);
      const at = Math.floor(Math.random() * copy.length);
      copy[at] = [0x22, 0x5c, 0x7b, 0x7d, 0x2c, 0x3a, 0x6e, 0x75, 0x30, 0x20][round % 10];
      const fast = parse(copy);
      const slow = parseSlowOnly(copy);
      // Docker's encoder never writes raw control bytes, so the only deliberate difference (the fast path
      // tolerating raw control bytes in "log") cannot arise from these flips.
      expect(fast.events).toEqual(slow.events);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The VFS source: rotation, gzip, batches.

describe('jsonLogSource over a directory', () => {
  let root: string;
  const dir = '/var/lib/docker/containers/abc';
  const p = (name: string): string => path.join(root, dir, name);
  const ctx = (): CollectorContext & { problems: ProblemLog } => ({ vfs: new HostDirVfs(root), host: 'h1', problems: new ProblemLog() });
  const refs = (...names: string[]): JsonLogFileRef[] =>
    names.map((n) => ({ path: `${dir}/${n}`, containerId: 'abc', containerName: 'web' }));
  async function collect(c: CollectorContext, files: JsonLogFileRef[], opts: JsonLogOptions = {}): Promise<TimelineEvent[][]> {
    const batches: TimelineEvent[][] = [];
    for await (const b of jsonLogSource(c, files, opts).open()) batches.push(b);
    return batches;
  }
  const lines = (from: number, to: number): string => {
    let s = '';
    for (let i = from; i < to; i++) s += rec(`n${i}\n`, t(i));
    return s;
  };

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'flotsam-json-log-'));
    fs.mkdirSync(path.join(root, dir), { recursive: true });
    // max-file=4, compress=true: .3.gz oldest, .2.gz, .1 still uncompressed (compression runs after rotation).
    fs.writeFileSync(p('abc-json.log.3.gz'), gzipSync(Buffer.from(lines(0, 10))));
    fs.writeFileSync(p('abc-json.log.2.gz'), gzipSync(Buffer.from(lines(10, 20))));
    fs.writeFileSync(p('abc-json.log.1'), lines(20, 30));
    fs.writeFileSync(p('abc-json.log'), lines(30, 40));
    // A long partial chain cut by rotation: first records in .1 of another container, the rest in current.
    fs.writeFileSync(p('big.log'), lines(0, 5000));
    const good = Buffer.from(lines(0, 200));
    const gz = gzipSync(good);
    fs.writeFileSync(p('trunc.log.1.gz'), gz.subarray(0, Math.floor(gz.length * 0.6)));
    const bad = Buffer.from(gz);
    bad[Math.floor(bad.length / 2)] ^= 0xff;
    fs.writeFileSync(p('flip.log.1.gz'), bad);
    fs.writeFileSync(p('bomb.log.1.gz'), gzipSync(Buffer.from(lines(0, 100) + rec('z'.repeat(1 << 20) + '\n', t(100)))));
    fs.writeFileSync(p('fake.log.1.gz'), lines(0, 3));
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('reads rotated files oldest first, .gz inflated, offsets and lines per file', async () => {
    const c = ctx();
    const src = jsonLogSource(c, refs('abc-json.log.3.gz', 'abc-json.log.2.gz', 'abc-json.log.1', 'abc-json.log'));
    expect(src.ordered).toBe(true);
    expect(src.id).toBe(`${dir}/abc-json.log`);
    const evs = (await collect(c, refs('abc-json.log.3.gz', 'abc-json.log.2.gz', 'abc-json.log.1', 'abc-json.log'))).flat();
    expect(c.problems.problems).toEqual([]);
    expect(messages(evs)).toEqual(Array.from({ length: 40 }, (_, i) => `n${i}`));
    expect(evs[0]).toMatchObject({ path: `${dir}/abc-json.log.3.gz`, line: 1, offset: 0, attrs: { stream: 'stdout', compressed: true } });
    expect(evs[12]).toMatchObject({ path: `${dir}/abc-json.log.2.gz`, line: 3, offset: enc(lines(10, 12)).length });
    expect(evs[25]).toMatchObject({ path: `${dir}/abc-json.log.1`, line: 6, attrs: { stream: 'stdout' } });
    expect(evs[39]).toMatchObject({ path: `${dir}/abc-json.log`, line: 10, container_name: 'web', host: 'h1' });
    expect(typeof evs[39].inode).toBe('bigint');
    for (let i = 1; i < evs.length; i++) expect(evs[i].time > evs[i - 1].time).toBe(true);
    // open() may be called again and starts over.
    expect((await collect(c, refs('abc-json.log'))).flat()).toHaveLength(10);
  });

  it('yields batches of bounded size', async () => {
    const batches = await collect(ctx(), refs('big.log'), { batchEvents: 1000, readChunkBytes: 65536 });
    expect(batches.flat()).toHaveLength(5000);
    expect(batches.length).toBeGreaterThanOrEqual(3);
    for (const b of batches) expect(b.length).toBeLessThanOrEqual(2000);
  });

  it('under a small ReadBudget (thousands of live sources) yields small batches of the same events, plain and .gz', async () => {
    const files = refs('abc-json.log.3.gz', 'abc-json.log.2.gz', 'abc-json.log.1', 'abc-json.log', 'big.log');
    const c = ctx();
    const full: TimelineEvent[] = [];
    for await (const b of jsonLogSource(c, files).open()) full.push(...b);
    const budgeted: TimelineEvent[][] = [];
    for await (const b of jsonLogSource(c, files).open({ batchEvents: 16, bufferBytes: 4096 })) budgeted.push(b);
    expect(c.problems.problems).toEqual([]);
    expect(budgeted.flat()).toEqual(full);
    // A batch is yielded once it holds 16 events; one 4 KiB feed adds at most 4096 / (shortest record) more.
    const shortest = Math.min(...lines(0, 5000).split('\n').filter(Boolean).map((l) => l.length + 1));
    for (const b of budgeted) expect(b.length).toBeLessThan(16 + Math.ceil(4096 / shortest));
    expect(budgeted.length).toBeGreaterThan(5000 / 64);
  });

  it('keeps the events of a truncated .gz and reports it', async () => {
    const c = ctx();
    const evs = (await collect(c, refs('trunc.log.1.gz'))).flat();
    expect(evs.length).toBeGreaterThan(0);
    expect(evs.length).toBeLessThan(200);
    expect(messages(evs)).toEqual(Array.from({ length: evs.length }, (_, i) => `n${i}`));
    expect(c.problems.problems.map((x) => x.reason).join('\n')).toMatch(/gzip stream damaged after \d+ inflated bytes/);
    expect(c.problems.problems.every((x) => x.component === 'json-log' && x.path === `${dir}/trunc.log.1.gz`)).toBe(true);
  });

  it('reports a corrupt .gz (flipped byte) without throwing', async () => {
    const c = ctx();
    await collect(c, refs('flip.log.1.gz'));
    expect(c.problems.problems.length).toBeGreaterThan(0);
  });

  it('MAX_GZ_INFLATED_BYTES: stops inflating at the limit with a problem, keeping what came before', async () => {
    const c = ctx();
    const limit = enc(lines(0, 100)).length + 1000;
    const evs = (await collect(c, refs('bomb.log.1.gz'), { maxGzInflatedBytes: limit })).flat();
    expect(messages(evs)).toEqual(Array.from({ length: 100 }, (_, i) => `n${i}`));
    const reasons = c.problems.problems.map((x) => x.reason);
    expect(reasons[0]).toBe(`inflates to more than ${limit} bytes (MAX_GZ_INFLATED_BYTES); stopped there, kept the events before`);
    expect(reasons[1]).toMatch(/^line 101: truncated last line without newline \(1000 bytes/);
  });

  it('reads a .gz name without gzip magic as text, and reports a missing file', async () => {
    const c = ctx();
    const evs = (await collect(c, refs('fake.log.1.gz', 'missing-json.log'))).flat();
    expect(messages(evs)).toEqual(['n0', 'n1', 'n2']);
    expect(evs[0].attrs).toEqual({ stream: 'stdout' });
    expect(c.problems.problems.map((x) => x.reason)).toEqual([
      'named .gz but does not start with the gzip magic 1f 8b; read as text',
      expect.stringMatching(/^cannot open: /),
    ]);
  });

  it('jsonLogRotationIndex orders Docker file names', () => {
    expect(jsonLogRotationIndex('/x/abc-json.log')).toBe(0);
    expect(jsonLogRotationIndex('/x/abc-json.log.1')).toBe(1);
    expect(jsonLogRotationIndex('/x/abc-json.log.12.gz')).toBe(12);
    expect(jsonLogRotationIndex('/x/abc.txt')).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Against logs written by a real dockerd (sample-images/sample-host, built by test/fixtures-scripts).

const here = path.dirname(fileURLToPath(import.meta.url));
const SAMPLE_HOST = path.resolve(here, '../../../sample-images/sample-host');
const CONTAINERS = path.join(SAMPLE_HOST, 'var/lib/docker/containers');
const sampleAvailable = fs.existsSync(CONTAINERS);
if (!sampleAvailable) console.warn(`\n*** SKIPPING json-log sample-host tests: ${CONTAINERS} missing ***\n`);

describe.skipIf(!sampleAvailable)('json-log against sample-host (real dockerd output)', () => {
  function containerLogs(): Array<{ id: string; name?: string; files: JsonLogFileRef[] }> {
    const out: Array<{ id: string; name?: string; files: JsonLogFileRef[] }> = [];
    for (const id of fs.readdirSync(CONTAINERS)) {
      let name: string | undefined;
      try {
        name = JSON.parse(fs.readFileSync(path.join(CONTAINERS, id, 'config.v2.json'), 'utf8')).Name?.replace(/^\//, '');
      } catch {
        name = undefined;
      }
      const names = fs.readdirSync(path.join(CONTAINERS, id)).filter((n) => jsonLogRotationIndex(n) !== undefined);
      names.sort((a, b) => (jsonLogRotationIndex(b) as number) - (jsonLogRotationIndex(a) as number));
      out.push({ id, name, files: names.map((n) => ({ path: `/var/lib/docker/containers/${id}/${n}`, containerId: id, containerName: name })) });
    }
    return out;
  }

  it('parses every container log without problems, and the fast path agrees with JSON.parse', async () => {
    const vfs = new HostDirVfs(SAMPLE_HOST);
    for (const c of containerLogs()) {
      if (c.files.length === 0) continue;
      const problems = new ProblemLog();
      const evs: TimelineEvent[] = [];
      for await (const b of jsonLogSource({ vfs, host: 'sample', problems }, c.files).open()) evs.push(...b);
      const slow: TimelineEvent[] = [];
      for await (const b of jsonLogSource({ vfs, host: 'sample', problems: new ProblemLog() }, c.files, { disableFastPath: true }).open()) slow.push(...b);
      expect(problems.problems, c.name).toEqual([]);
      expect(evs, c.name).toEqual(slow);
    }
  });

  it('gives back exactly what `docker logs` printed (sample-images/captures/logs-<name>.<stream>.txt)', async () => {
    const captures = path.resolve(SAMPLE_HOST, '../captures');
    const inspect = JSON.parse(fs.readFileSync(path.join(captures, 'inspect.json'), 'utf8')) as Array<{ Name: string; State: { Running: boolean; Restarting: boolean } }>;
    const vfs = new HostDirVfs(SAMPLE_HOST);
    let compared = 0;
    for (const c of containerLogs()) {
      if (c.files.length === 0 || !c.name || !fs.existsSync(path.join(captures, `logs-${c.name}.stdout.txt`))) continue;
      const evs: TimelineEvent[] = [];
      for await (const b of jsonLogSource({ vfs, host: 'sample', problems: new ProblemLog() }, c.files).open()) evs.push(...b);
      const live = inspect.find((x) => x.Name === '/' + c.name)?.State;
      for (const stream of ['stdout', 'stderr']) {
        // `docker logs --timestamps` prints each record's time (9 digits) before its text, partial records too.
        const captured = fs.readFileSync(path.join(captures, `logs-${c.name}.${stream}.txt`), 'utf8');
        const want = captured.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /g, '');
        const mine = evs.filter((e) => e.attrs?.stream === stream);
        const got = mine.map((e) => e.message + '\n').join('');
        const firstTimes = captured.split('\n').filter((l) => l !== '').map((l) => l.slice(0, 30));
        const gotTimes = mine.map((e) => formatIsoNano(e.time));
        if (live?.Running || live?.Restarting) {
          // The logs were captured right after the snapshot: a running container may have logged more.
          expect(want.startsWith(got), `${c.name} ${stream}`).toBe(true);
        } else {
          expect(got, `${c.name} ${stream}`).toBe(want);
          expect(gotTimes, `${c.name} ${stream}`).toEqual(firstTimes);
        }
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(6);
  });

  it('rejoins the >16 KiB line of container "bigline"', async () => {
    const c = containerLogs().find((x) => x.name === 'bigline');
    expect(c).toBeDefined();
    const evs: TimelineEvent[] = [];
    const problems = new ProblemLog();
    for await (const b of jsonLogSource({ vfs: new HostDirVfs(SAMPLE_HOST), host: 'sample', problems }, c!.files).open()) evs.push(...b);
    const big = evs.filter((e) => e.message.length > 16384);
    expect(big.length).toBeGreaterThan(0);
    expect(big).toHaveLength(1);
    expect(big[0].message).toBe('0123456789'.repeat(4000));
    expect(big[0].attrs?.partial).toMatchObject({ chunks: 3, complete: true });
  });

  it('reads the rotated, compressed logs of container "rotator" in order', async () => {
    const c = containerLogs().find((x) => x.name === 'rotator');
    expect(c).toBeDefined();
    expect(c!.files.some((f) => f.path.endsWith('.gz'))).toBe(true);
    const evs: TimelineEvent[] = [];
    const problems = new ProblemLog();
    for await (const b of jsonLogSource({ vfs: new HostDirVfs(SAMPLE_HOST), host: 'sample', problems }, c!.files).open()) evs.push(...b);
    expect(problems.problems).toEqual([]);
    expect(evs.some((e) => e.attrs?.compressed === true)).toBe(true);
    for (let i = 1; i < evs.length; i++) expect(evs[i].time >= evs[i - 1].time).toBe(true);
  });
});
