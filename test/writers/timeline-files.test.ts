// TimelineFilesSink (one JSON encode shared by timeline.jsonl and timeline.json) must write exactly what the
// individual sinks write; and the hand-written CSV encoder must agree with csv-stringify, the reference library.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CsvTimelineSink,
  JsonArrayTimelineSink,
  JsonlTimelineSink,
  TIMELINE_CSV_COLUMNS,
  TimelineFilesSink,
} from '../../src/writers/index.js';
import type { TimelineEvent } from '../../src/events/event.js';
import { formatIsoNano } from '../../src/events/time.js';
import { MAX_TRANSPORT_DEFINITIONS } from '../../src/writers/row-transport.js';
import { randomEvents, rng } from '../timeline/helpers.js';

/** A frozen attrs object shared by many events, as the json-file reader emits them (the writer caches it by identity). */
const SHARED_ATTRS = Object.freeze({ stream: 'stderr', attrs: { tag: '=x,"y"' } });

/**
 * raw_time values: the row's own datetime (the transport then omits it) and its near misses (another nanosecond,
 * another second, trimmed zeros, lowercase z, a sign), a fixed string, or hostile text.
 */
function rawTimeFor(time: bigint, r: () => number, text: () => string): string {
  const dt = formatIsoNano(time);
  const roll = r();
  if (roll < 0.35) return dt;
  if (roll < 0.4) return formatIsoNano(time + 1n);
  if (roll < 0.45) return formatIsoNano(time + 1_000_000_000n);
  if (roll < 0.5) return dt.replace(/0+Z$/, 'Z');
  if (roll < 0.53) return dt.slice(0, -1) + 'z';
  if (roll < 0.56) return '+' + dt.slice(1);
  if (roll < 0.75) return '2024-05-01T10:00:00.1Z';
  return text();
}

/** Events whose every text field is hostile to CSV/JSON encoding, with extreme times and numbers. */
function hostileEvents(n: number, seed: number): TimelineEvent[] {
  const r = rng(seed);
  const pieces = ['plain', '"q"', 'a,b', 'cr\r', 'lf\n', '=1+1', '+x', '-rw', '@SUM', '\ttab', '\\back', 'é', '✓', '😀',
    '\ud800', '\udc00x', '\u0000', '\u001f', '\ufffd', '', ' ', "'", '<>&', '\u2028'];
  const text = (): string => {
    let s = '';
    const k = Math.floor(r() * 5);
    for (let i = 0; i < k; i++) s += pieces[Math.floor(r() * pieces.length)];
    return s;
  };
  const times = [0n, 1n, -1n, 999_999_999n, 1_000_000_000n, -62_135_596_800_000_000_000n, -70_000_000_000_000_000_000n,
    253_402_300_800_000_000_000n, 1_714_557_600_123_456_789n];
  const out: TimelineEvent[] = [];
  for (let i = 0; i < n; i++) {
    const e: TimelineEvent = {
      time: r() < 0.3 ? times[Math.floor(r() * times.length)] : 1_714_557_600_000_000_000n + BigInt(Math.floor(r() * 1e12)),
      timestamp_desc: r() < 0.8 ? 'Event Recorded Time' : text(),
      source: r() < 0.8 ? 'docker:json-log' : text(),
      host: r() < 0.8 ? 'h' : text(),
      message: i % 1500 === 7 ? 'x"'.repeat(800_000) : text(),
      path: r() < 0.7 ? '/var/lib/docker/containers/abc/abc-json.log' : text(),
      raw_time: '',
    };
    e.raw_time = rawTimeFor(e.time, r, text);
    if (r() < 0.6) e.line = r() < 0.9 ? Math.floor(r() * 1e7) : [-1, 1.5, Number.MAX_SAFE_INTEGER + 2, NaN][Math.floor(r() * 4)];
    if (r() < 0.5) e.offset = r() < 0.9 ? Math.floor(r() * 1e12) : [-7, 0.25, 2 ** 60][Math.floor(r() * 3)];
    if (r() < 0.6) e.container_id = r() < 0.8 ? 'ab'.repeat(32) : text();
    if (r() < 0.5) e.container_name = text();
    if (r() < 0.5) e.inode = r() < 0.8 ? BigInt(Math.floor(r() * 1e9)) : [2n ** 60n, -5n, 0n][Math.floor(r() * 3)];
    if (r() < 0.5) {
      e.attrs = r() < 0.5 ? (r() < 0.5 ? SHARED_ATTRS : { stream: 'stdout', compressed: true }) : { [text() || 'k']: text(), message: 1n, attr_x: { n: [1, text()] }, u: undefined, big: 2n ** 70n };
    }
    if (r() < 0.05) e.event_id = 'preset' + text();
    out.push(e);
  }
  return out;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flotsam-tf-'));
afterAll(() => { if (!process.env.KEEP) fs.rmSync(dir, { recursive: true, force: true }); });

describe('TimelineFilesSink', () => {
  it('writes the same bytes as CsvTimelineSink, JsonlTimelineSink and JsonArrayTimelineSink, also after reset', async () => {
    const events = randomEvents(5000, 7);
    const a = { csv: path.join(dir, 'a.csv'), jsonl: path.join(dir, 'a.jsonl'), json: path.join(dir, 'a.json') };
    const combined = new TimelineFilesSink(a);
    combined.write(events.slice(0, 100));
    await combined.reset();
    for (let i = 0; i < events.length; i += 1000) combined.write(events.slice(i, i + 1000));
    await combined.close();
    const singles = [new CsvTimelineSink(path.join(dir, 'b.csv')), new JsonlTimelineSink(path.join(dir, 'b.jsonl')), new JsonArrayTimelineSink(path.join(dir, 'b.json'))];
    for (const s of singles) {
      for (let i = 0; i < events.length; i += 1000) await s.write(events.slice(i, i + 1000));
      await s.close();
    }
    for (const ext of ['csv', 'jsonl', 'json']) {
      expect(fs.readFileSync(path.join(dir, `a.${ext}`)).equals(fs.readFileSync(path.join(dir, `b.${ext}`))), ext).toBe(true);
    }
  });

  it('writes the same bytes as the reference sinks on hostile events (quotes, formula triggers, escapes, surrogates, odd times and numbers, huge rows)', async () => {
    const events = hostileEvents(4000, 99);
    for (const formats of [['csv', 'jsonl', 'json'], ['json'], ['jsonl'], ['csv', 'json']]) {
      const tag = formats.join('-');
      const paths = Object.fromEntries(formats.map((f) => [f, path.join(dir, `h-${tag}.${f}`)]));
      const combined = new TimelineFilesSink(paths);
      for (let i = 0; i < events.length; i += 700) await combined.write(events.slice(i, i + 700));
      await combined.close();
      const make = { csv: CsvTimelineSink, jsonl: JsonlTimelineSink, json: JsonArrayTimelineSink } as const;
      for (const f of formats) {
        const ref = new make[f as keyof typeof make](path.join(dir, `r-${tag}.${f}`));
        // fresh copies: the reference sinks cache event ids on the events
        for (let i = 0; i < events.length; i += 700) await ref.write(events.slice(i, i + 700).map((e) => ({ ...e })));
        await ref.close();
        const ours = fs.readFileSync(paths[f]);
        const theirs = fs.readFileSync(path.join(dir, `r-${tag}.${f}`));
        expect(ours.equals(theirs), `${tag} ${f}`).toBe(true);
      }
    }
  });

  it(`more artifacts than MAX_TRANSPORT_DEFINITIONS (${MAX_TRANSPORT_DEFINITIONS}): definitions are forgotten and redefined, same bytes`, async () => {
    const events: TimelineEvent[] = [];
    for (let i = 0; i < MAX_TRANSPORT_DEFINITIONS + 3000; i++) {
      // Each artifact twice, far apart, so some come back after the tables were cleared.
      const k = i % (MAX_TRANSPORT_DEFINITIONS + 1000);
      events.push({
        time: 1_714_557_600_000_000_000n + BigInt(i),
        timestamp_desc: 'Event Recorded Time',
        source: 'docker:json-log',
        host: 'h',
        message: `m${i}`,
        path: `/var/lib/docker/containers/c${k}/c${k}-json.log`,
        raw_time: '',
        line: i,
        attrs: Object.freeze({ stream: 'stdout', n: k }),
      });
    }
    const paths = { csv: path.join(dir, 'many.csv'), jsonl: path.join(dir, 'many.jsonl') };
    const sink = new TimelineFilesSink(paths);
    for (let i = 0; i < events.length; i += 1000) await sink.write(events.slice(i, i + 1000));
    await sink.close();
    for (const [f, Ref] of [['csv', CsvTimelineSink], ['jsonl', JsonlTimelineSink]] as const) {
      const refPath = path.join(dir, `many-ref.${f}`);
      const ref = new Ref(refPath);
      for (let i = 0; i < events.length; i += 1000) await ref.write(events.slice(i, i + 1000).map((e) => ({ ...e })));
      await ref.close();
      expect(fs.readFileSync(paths[f]).equals(fs.readFileSync(refPath)), f).toBe(true);
    }
  });

  it('the two-thread sink (compiled, with its encoder thread) writes the same bytes on hostile events, also after reset', async () => {
    const compiled = path.resolve(__dirname, '../../dist/src/writers/parallel-timeline-files.js');
    // `npm test` compiles first; the encoder thread only exists as compiled JavaScript.
    expect(fs.existsSync(compiled), `${compiled} (run \`npm test\`, which builds first)`).toBe(true);
    const { ParallelTimelineFilesSink: Parallel } = (await import(compiled)) as typeof import('../../src/writers/parallel-timeline-files.js');
    const events = hostileEvents(4000, 123);
    for (const formats of [['csv', 'jsonl', 'json'], ['json'], ['jsonl'], ['csv']]) {
      const tag = 'p-' + formats.join('-');
      const paths = Object.fromEntries(formats.map((f) => [f, path.join(dir, `${tag}.${f}`)]));
      const sink = new Parallel(paths);
      await sink.write(events.slice(0, 300));
      await sink.reset();
      for (let i = 0; i < events.length; i += 500) await sink.write(events.slice(i, i + 500));
      await sink.close();
      const make = { csv: CsvTimelineSink, jsonl: JsonlTimelineSink, json: JsonArrayTimelineSink } as const;
      for (const f of formats) {
        const refPath = path.join(dir, `${tag}-ref.${f}`);
        const ref = new make[f as keyof typeof make](refPath);
        for (let i = 0; i < events.length; i += 500) await ref.write(events.slice(i, i + 500).map((e) => ({ ...e })));
        await ref.close();
        expect(fs.readFileSync(paths[f]).equals(fs.readFileSync(refPath)), `${tag} ${f}`).toBe(true);
      }
    }
  });

  it('the two-thread sink reports a failing encoder thread at close instead of hanging', async () => {
    const compiled = path.resolve(__dirname, '../../dist/src/writers/parallel-timeline-files.js');
    const { ParallelTimelineFilesSink: Parallel } = (await import(compiled)) as typeof import('../../src/writers/parallel-timeline-files.js');
    const sink = new Parallel({ csv: path.join(dir, 'no-such-dir', 'x.csv') });
    await sink.write(hostileEvents(10, 1));
    await expect(sink.close()).rejects.toThrow(/encoder thread/);
  });

  it('writes `[]` and a header-only CSV when nothing arrives, and only the formats asked for', async () => {
    const s = new TimelineFilesSink({ csv: path.join(dir, 'e.csv'), json: path.join(dir, 'e.json') });
    await s.close();
    expect(fs.readFileSync(path.join(dir, 'e.json'), 'utf8')).toBe('[]\n');
    expect(fs.readFileSync(path.join(dir, 'e.csv'), 'utf8')).toBe(TIMELINE_CSV_COLUMNS.join(',') + '\n');
    expect(fs.existsSync(path.join(dir, 'e.jsonl'))).toBe(false);
  });
});

describe('timeline.csv against csv-stringify', () => {
  it('is byte-identical to csv-stringify on the same cells (after neutralisation)', async () => {
    const events = randomEvents(3000, 11);
    const file = path.join(dir, 'c.csv');
    const sink = new CsvTimelineSink(file);
    sink.write(events);
    await sink.close();
    const ours = fs.readFileSync(file, 'utf8');
    // Parse our cells back, then let csv-stringify quote them: quoting must agree exactly.
    const cells = parse(ours, { relax_column_count: false }) as string[][];
    const reference = stringify(cells, { record_delimiter: '\n', quoted_match: /\r/ });
    expect(ours).toBe(reference);
  });
});
