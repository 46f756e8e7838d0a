// The carving core from literal bytes: signatures, validation, chunk boundaries, dedupe and the hostile-input guards.
import { describe, expect, it } from 'vitest';
import { Carver, type ScanTarget, memoryTarget, objectEnd } from '../../src/carve/scanner.js';

const ID = 'c'.repeat(64);
const cfg = (id = ID, name = '/carved', started = '2024-05-02T08:00:01.25Z') =>
  `{"StreamConfig":{},"State":{"Running":false,"Paused":false,"ExitCode":3,"StartedAt":"${started}","FinishedAt":"2024-05-02T09:00:00Z"},` +
  `"ID":"${id}","Created":"2024-05-02T07:59:59.5Z","Path":"sh","Args":["-c","echo {not a brace} \\"quoted\\" \\\\"],"Config":{"Image":"alpine"},"Name":"${name}"}`;
const hc = '{"Binds":null,"ContainerIDFile":"","LogConfig":{"Type":"json-file","Config":{}},"NetworkMode":"default","Privileged":true}';
const line = (i: number, stream = 'stdout') =>
  `{"log":"line ${i} with \\"quotes\\" and {braces}\\n","stream":"${stream}","time":"2024-05-02T08:00:${String(i % 60).padStart(2, '0')}.000000001Z"}\n`;

function noise(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

function place(total: number, items: Array<[number, string]>, fill?: Uint8Array): Uint8Array {
  const b = fill ? fill.slice(0, total) : new Uint8Array(total);
  for (const [at, s] of items) b.set(Buffer.from(s, 'utf8'), at);
  return b;
}

function carve(data: Uint8Array, limits = {}, t?: Partial<ScanTarget>): Carver {
  const c = new Carver('h', limits);
  c.scan({ ...memoryTarget(data, { fs: 'p1', at: 1000n }), ...t });
  return c;
}

describe('objectEnd', () => {
  it('balances braces outside strings, honours escapes', () => {
    const s = Buffer.from(cfg() + 'xyz');
    expect(objectEnd(s, 0, s.length, { n: 0 })).toBe(cfg().length);
  });
  it('stops at control bytes, non-ASCII outside strings, and at the limit', () => {
    expect(objectEnd(Buffer.from('{"a":1\u0001}'), 0, 100, { n: 0 })).toBe(-1);
    expect(objectEnd(Buffer.from('{"a":\xff}', 'latin1'), 0, 100, { n: 0 })).toBe(-1);
    expect(objectEnd(Buffer.from('{"a":"' + 'x'.repeat(100) + '"}'), 0, 50, { n: 0 })).toBe(-1);
  });
  it('any nesting depth costs a counter, not the stack', () => {
    const deep = '{"a":' + '['.repeat(200_000) + ']'.repeat(200_000) + '}';
    expect(objectEnd(Buffer.from(deep), 0, deep.length, { n: 0 })).toBe(deep.length);
  });
});

describe('Carver', () => {
  it('finds a config, a hostconfig and log lines in noise, with absolute offsets', () => {
    const data = place(
      200_000,
      [
        [4096, cfg()],
        [12288, hc],
        [20000, line(1) + line(2) + line(3, 'stderr')],
      ],
      noise(200_000),
    );
    const c = carve(data);
    const objs = c.carved;
    expect(objs.map((o) => o.kind)).toEqual(['config', 'hostconfig']);
    expect(objs[0]!.offset).toBe(1000n + 4096n);
    expect(objs[0]!.fsOffset).toBe(4096n);
    expect(objs[0]!.value.ID).toBe(ID);
    expect(objs[1]!.offset).toBe(1000n + 12288n);
    expect(c.events.map((e) => e.message)).toEqual(['line 1 with "quotes" and {braces}', 'line 2 with "quotes" and {braces}', 'line 3 with "quotes" and {braces}']);
    expect(c.events[0]!.offset).toBe(1000 + 20000);
    expect(c.events[1]!.offset).toBe(1000 + 20000 + Buffer.byteLength(line(1)));
    expect(c.events[0]!.source).toBe('carve:json-log');
    expect(c.events[0]!.path).toBe('p1@unallocated');
    expect(c.events[0]!.attrs).toMatchObject({ recovered: 'carved', stream: 'stdout', fs_offset: '20000' });
    expect(c.events[2]!.attrs).toMatchObject({ stream: 'stderr' });
  });

  it('rejects look-alikes: wrong id, missing State, cut objects, lines without a time', () => {
    const bad = [
      cfg('nothex'),
      '{"StreamConfig":{},"ID":"' + ID + '","Created":"x"}',
      cfg().slice(0, 200) + '\u0000\u0000',
      '{"Binds":"notalist","LogConfig":{}}',
      '{"log":"no time","stream":"stdout"}\n',
      '{"log":"cut line',
    ];
    const data = place(50_000, bad.map((s, i) => [i * 4096, s] as [number, string]));
    const c = carve(data);
    expect(c.carved).toEqual([]);
    expect(c.events).toEqual([]);
    expect(c.stats.rejected).toBeGreaterThan(0);
  });

  it('finds objects and log fragments across chunk boundaries (tiny chunks)', () => {
    const lines = Array.from({ length: 50 }, (_, i) => line(i)).join('');
    const items: Array<[number, string]> = [
      [1000, cfg()],
      [5000, hc],
      [9000, lines],
    ];
    const data = place(30_000, items, noise(30_000, 7));
    const ref = carve(data);
    for (const chunkBytes of [512, 777, 1024, 4096]) {
      const c = carve(data, { chunkBytes, maxConfigBytes: 4096, maxLogLineBytes: 1024 });
      expect(c.carved.map((o) => [o.kind, o.offset])).toEqual(ref.carved.map((o) => [o.kind, o.offset]));
      expect(c.events.map((e) => [e.offset, e.message])).toEqual(ref.events.map((e) => [e.offset, e.message]));
      expect(c.events).toHaveLength(50);
    }
  });

  it('rejoins Docker 16 KiB partial records within a fragment', () => {
    const part = '{"log":"part one ","stream":"stdout","time":"2024-05-02T08:00:00.1Z"}\n';
    const last = '{"log":"part two\\n","stream":"stdout","time":"2024-05-02T08:00:00.2Z"}\n';
    const c = carve(place(8192, [[100, part + last]]));
    expect(c.events).toHaveLength(1);
    expect(c.events[0]!.message).toBe('part one part two');
    expect(c.events[0]!.offset).toBe(1100);
  });

  it('keeps the first of identical copies and counts the others', () => {
    const data = place(40_000, [
      [0, cfg()],
      [8192, cfg()],
      [16384, line(5)],
      [24576, line(5)],
      [32768, cfg(ID, '/carved', '2024-05-02T08:00:02Z')], // another state of the same container: kept
    ]);
    const c = carve(data);
    expect(c.carved).toHaveLength(2);
    expect(c.carved[0]!.offset).toBe(1000n);
    expect(c.carved[0]!.duplicates).toBe(1);
    expect(c.carved[0]!.duplicateOffsets).toEqual([String(1000 + 8192)]);
    expect(c.events).toHaveLength(1);
    expect(c.stats.duplicates).toBe(2);
  });

  it('hostile: an unterminated { followed by 100 MB of garbage stays bounded in time and memory', () => {
    const size = 100 * 1024 * 1024;
    const data = noise(size, 3);
    data.set(Buffer.from('{"StreamConfig":{"a":"'), 0);
    const heap0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const c = carve(data);
    const ms = performance.now() - t0;
    expect(c.carved).toEqual([]);
    expect(ms).toBeLessThan(5000);
    expect(process.memoryUsage().rss - heap0).toBeLessThan(64 * 1024 * 1024);
  });

  it('hostile: signatures every few bytes cannot make the brace matcher quadratic', () => {
    const unit = '{"StreamConfig":{"x":"';
    const size = 16 * 1024 * 1024;
    const data = Buffer.alloc(size, 0x61);
    for (let at = 0; at + unit.length < size; at += 64) data.write(unit, at, 'latin1');
    const t0 = performance.now();
    const c = carve(data);
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(c.carved).toEqual([]);
    expect(c.stats.budgetSkips).toBeGreaterThan(0);
  });

  it('hostile: a log line that never ends is dropped after maxLogLineBytes', () => {
    const data = Buffer.alloc(4 * 1024 * 1024, 0x61);
    data.write('{"log":"', 0, 'latin1');
    const c = carve(data);
    expect(c.events).toEqual([]);
  });

  it('hostile: deeply nested braces in a signature-led object', () => {
    const deep = '{"StreamConfig":' + '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000) + ',"State":{}}';
    const data = Buffer.from(deep);
    const c = carve(data, { maxConfigBytes: 1024 * 1024 });
    expect(c.carved).toEqual([]); // valid JSON but no ID: rejected, and nothing blew the stack
  });

  it('stops at the configured object count', () => {
    const objs = Array.from({ length: 5 }, (_, i) => [i * 4096, cfg(ID.slice(0, 63) + String(i))] as [number, string]);
    const c = carve(place(30_000, objs), { maxObjects: 3 });
    expect(c.carved).toHaveLength(3);
    expect(c.stats.droppedOverLimit).toBe(2);
  });
});
