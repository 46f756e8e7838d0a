import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TimelineEvent } from '../../src/events/event.js';
import { formatIsoNano, toMicros } from '../../src/events/time.js';
import {
  compactAttrs,
  compactJson,
  CsvTimelineSink,
  formatJson,
  JsonArrayTimelineSink,
  jsonString,
  JsonlTimelineSink,
  TIMELINE_CSV_COLUMNS,
  TimeFormatter,
  writeJson,
  writeRecordsCsv,
} from '../../src/writers/index.js';
import { ev, randomEvents, rng, T0 } from '../timeline/helpers.js';
import { computeEventId } from '../../src/events/event-id.js';

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'flotsam-wr-test-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A small, strict RFC 4180 parser (records end with \n; CR and LF inside quotes are data). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  while (i < text.length) {
    let cell = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quote');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            cell += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        cell += text[i++];
      }
      if (i < text.length && text[i] !== ',' && text[i] !== '\n') throw new Error(`junk after quote at ${i}`);
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\n') {
        if (text[i] === '"' || text[i] === '\r') throw new Error(`bare ${JSON.stringify(text[i])} at ${i}`);
        cell += text[i++];
      }
    }
    row.push(cell);
    if (text[i] === ',') {
      i++;
      if (i === text.length) throw new Error('trailing comma');
    } else {
      rows.push(row);
      row = [];
      i++; // '\n'
    }
  }
  if (row.length > 0) throw new Error('last record without newline');
  return rows;
}

async function writeCsv(events: TimelineEvent[]): Promise<string> {
  const p = join(tmp, 'timeline.csv');
  const s = new CsvTimelineSink(p);
  s.write(events);
  await s.close();
  return readFile(p, 'utf8');
}

describe('timeline.csv', () => {
  it('writes a header-only file for an empty timeline', async () => {
    expect(await writeCsv([])).toBe(TIMELINE_CSV_COLUMNS.join(',') + '\n');
    expect(TIMELINE_CSV_COLUMNS.join(',')).toBe(
      'datetime,timestamp,timestamp_desc,source,host,container_id,container_name,message,path,inode,line,offset,raw_time,event_id,extra',
    );
  });

  it('writes every column', async () => {
    const text = await writeCsv([
      ev(T0 + 123_456_789n, {
        container_id: 'abc',
        container_name: 'web',
        inode: 42n,
        line: 7,
        offset: 0,
        attrs: { stream: 'stdout', n: 5n },
      }),
      ev(T0 - 1n),
    ]);
    const rows = parseCsv(text);
    expect(rows[1]).toEqual([
      '2024-05-01T10:20:30.123456789Z',
      '1714558830123456',
      'Written Time',
      'docker:json-log',
      'h1',
      'abc',
      'web',
      `m${T0 + 123_456_789n}`,
      '/var/log/a.log',
      '42',
      '7',
      '0',
      `${T0 + 123_456_789n}`,
      expect.stringMatching(/^[0-9a-f]{16}$/),
      '{"stream":"stdout","n":"5"}',
    ]);
    expect(rows[2].slice(0, 2)).toEqual(['2024-05-01T10:20:29.999999999Z', '1714558829999999']);
    expect(rows[2].slice(5, 7)).toEqual(['', '']);
    expect(rows[2].slice(9, 12)).toEqual(['', '', '']);
    expect(rows[2][14]).toBe('');
    expect(rows[1][13]).not.toBe(rows[2][13]);
  });

  it('neutralises formula-like text cells (OWASP) but not numeric columns', async () => {
    const evil = ["=cmd|' /C calc'!A0", '+1', '-1 text', '@SUM(A1:A2)', '\tX', '\rX', '-rw-r--r--'];
    const text = await writeCsv(
      evil.map((m, i) => ev(T0 + BigInt(i), { message: m, host: m, raw_time: m, line: -5, offset: -1, inode: -3n })),
    );
    const rows = parseCsv(text).slice(1);
    rows.forEach((r, i) => {
      expect(r[7]).toBe("'" + evil[i]);
      expect(r[4]).toBe("'" + evil[i]);
      expect(r[12]).toBe("'" + evil[i]);
      expect(r.slice(9, 12)).toEqual(['-3', '-5', '-1']);
    });
  });

  it('round-trips quotes, commas, CR/LF and non-ASCII through an RFC 4180 parser', async () => {
    const r = rng(3);
    const alphabet = ['a', '"', ',', '\n', '\r', '\r\n', ' ', 'é', '😀', '""', "'", '\\', '='];
    const msgs = Array.from({ length: 500 }, () => {
      let s = '';
      const n = Math.floor(r() * 12);
      for (let i = 0; i < n; i++) s += alphabet[Math.floor(r() * alphabet.length)];
      return s;
    });
    const rows = parseCsv(await writeCsv(msgs.map((m, i) => ev(T0 + BigInt(i), { message: m, path: m }))));
    expect(rows).toHaveLength(501);
    const neutral = (s: string): string => (/^[=+\-@\t\r]/.test(s) ? "'" + s : s);
    rows.slice(1).forEach((row, i) => {
      expect(row).toHaveLength(15);
      expect(row[7]).toBe(neutral(msgs[i]));
      expect(row[8]).toBe(neutral(msgs[i]));
    });
  });

  it('reset truncates and rewrites the header; close is idempotent', async () => {
    const p = join(tmp, 't.csv');
    const s = new CsvTimelineSink(p);
    s.write(randomEvents(1000, 1));
    await s.reset();
    s.write([ev(T0)]);
    await s.close();
    await s.close();
    expect(parseCsv(await readFile(p, 'utf8'))).toHaveLength(2);
  });
});

describe('timeline.jsonl / timeline.json', () => {
  it('writes Timesketch fields first, attrs flattened with attr_ on collisions, inode number or string', async () => {
    const p = join(tmp, 't.jsonl');
    const s = new JsonlTimelineSink(p);
    s.write([
      ev(T0 + 5_000n, {
        container_id: 'c',
        inode: 2n ** 53n,
        line: 1,
        attrs: { stream: 'stderr', message: 'clash', attr_y: 2, big: 2n ** 64n, u: undefined, nested: { b: 1n } },
      }),
      ev(T0, { inode: 2n ** 53n - 1n }),
    ]);
    await s.close();
    const lines = (await readFile(p, 'utf8')).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(lines[0]).toBe(
      `{"message":"m${T0 + 5_000n}","datetime":"2024-05-01T10:20:30.000005000Z","timestamp":1714558830000005,` +
        `"timestamp_desc":"Written Time","source":"docker:json-log","host":"h1","container_id":"c",` +
        `"path":"/var/log/a.log","inode":"9007199254740992","line":1,"raw_time":"${T0 + 5_000n}",` +
        `"event_id":"${computeEventId(ev(T0 + 5_000n, { container_id: 'c', line: 1 }))}",` +
        `"stream":"stderr","attr_message":"clash","attr_attr_y":2,"big":"18446744073709551616","nested":{"b":"1"}}`,
    );
    expect(JSON.parse(lines[1]).inode).toBe(2 ** 53 - 1);
  });

  it('streams a valid JSON array, [] when empty, and resets', async () => {
    const p = join(tmp, 't.json');
    let s = new JsonArrayTimelineSink(p);
    await s.close();
    expect(await readFile(p, 'utf8')).toBe('[]\n');
    s = new JsonArrayTimelineSink(p);
    s.write(randomEvents(10, 2));
    await s.reset();
    const evs = randomEvents(3000, 3);
    s.write(evs.slice(0, 1));
    s.write(evs.slice(1));
    await s.close();
    const text = await readFile(p, 'utf8');
    const arr = JSON.parse(text) as Array<Record<string, unknown>>;
    expect(arr).toHaveLength(3000);
    expect(Object.keys(arr[0]).slice(0, 4)).toEqual(['message', 'datetime', 'timestamp', 'timestamp_desc']);
    expect(text.startsWith('[\n{')).toBe(true);
    expect(text.endsWith('}\n]\n')).toBe(true);
  });

  it('JSONL lines equal the JSON array elements', async () => {
    const evs = randomEvents(500, 8);
    const a = new JsonlTimelineSink(join(tmp, 'a.jsonl'));
    const b = new JsonArrayTimelineSink(join(tmp, 'b.json'));
    a.write(evs);
    b.write(evs);
    await a.close();
    await b.close();
    const l = (await readFile(join(tmp, 'a.jsonl'), 'utf8')).trimEnd().split('\n').map((x) => JSON.parse(x));
    expect(JSON.parse(await readFile(join(tmp, 'b.json'), 'utf8'))).toEqual(l);
  });
});

describe('helpers', () => {
  it('TimeFormatter matches formatIsoNano and toMicros', () => {
    const r = rng(5);
    const tf = new TimeFormatter();
    const samples: bigint[] = [0n, -1n, 1n, 999n, -1000n, -1001n, 10n ** 18n, -(10n ** 18n), 253_402_300_800n * 10n ** 9n];
    let t = T0;
    for (let i = 0; i < 20_000; i++) {
      t += BigInt(Math.floor(r() * 3e8)) - 1n;
      samples.push(t);
      samples.push(BigInt(Math.floor((r() - 0.5) * 2 ** 52)) * 997n);
    }
    for (const ns of samples) {
      tf.format(ns);
      expect(tf.datetime).toBe(formatIsoNano(ns));
      expect(tf.micros).toBe(toMicros(ns).toString());
    }
  });

  it('jsonString, compactAttrs match JSON.stringify', () => {
    for (const s of ['', 'plain', 'q"uote', 'back\\slash', '\u0000\u001f', 'é😀', '\ud800lone', 'x\udc00', '\u2028']) {
      expect(jsonString(s)).toBe(JSON.stringify(s));
    }
    const attrs = { a: 1, b: 'x"', c: null, d: undefined, e: [1n, { f: 2n }], g: true, h: NaN, i: -0, j: () => 1 };
    expect(compactAttrs(attrs)).toBe(compactJson(attrs));
    expect(compactAttrs({})).toBe('{}');
    expect(compactAttrs({ d: undefined })).toBe('{}');
  });

  it('writeJson: 2-space indent, key order kept, bigint safe, trailing newline', async () => {
    const p = join(tmp, 'x.json');
    writeJson(p, { z: 1, a: [2n, 2n ** 60n], m: { s: 'x' } });
    expect(await readFile(p, 'utf8')).toBe(
      '{\n  "z": 1,\n  "a": [\n    2,\n    "1152921504606846976"\n  ],\n  "m": {\n    "s": "x"\n  }\n}\n',
    );
    expect(formatJson([])).toBe('[]\n');
  });

  it('writeRecordsCsv: header, typed cells, neutralised text, getters', async () => {
    const p = join(tmp, 'r.csv');
    const n = writeRecordsCsv<Record<string, unknown>>(
      p,
      ['id', 'size', 'ok', 'labels', { header: 'upper', value: (r) => String(r.id).toUpperCase() }],
      [
        { id: '=bad', size: -5, ok: true, labels: { a: 'b,c' } },
        { id: 'x', size: 2n ** 64n, ok: false, labels: undefined },
      ],
    );
    expect(n).toBe(2);
    const rows = parseCsv(await readFile(p, 'utf8'));
    expect(rows).toEqual([
      ['id', 'size', 'ok', 'labels', 'upper'],
      ["'=bad", '-5', 'true', '{"a":"b,c"}', "'=BAD"],
      ['x', '18446744073709551616', 'false', '', 'X'],
    ]);
    writeRecordsCsv(p, ['a'], []);
    expect(await readFile(p, 'utf8')).toBe('a\n');
  });
});
