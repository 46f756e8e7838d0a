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
import { randomEvents } from '../timeline/helpers.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flotsam-tf-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

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
