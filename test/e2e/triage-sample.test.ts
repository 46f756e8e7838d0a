// The CLI end to end on the real-Docker sample host (sample-images/README.md), as a consultant runs it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAPTURES, SAMPLE_HOST, flotsam, readJsonl, settleDirectoryAtimes, tmp, treeFingerprint } from './helpers.js';

let out: string;
let run: ReturnType<typeof flotsam>;
let fingerprintBefore: string;
let events: Array<Record<string, unknown>>;

const psA = fs
  .readFileSync(path.join(CAPTURES, 'ps-a.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as { ID: string; Names: string; State: string; Status: string; Image: string });
const inspect = JSON.parse(fs.readFileSync(path.join(CAPTURES, 'inspect.json'), 'utf8')) as Array<{
  Id: string;
  Name: string;
  State: { ExitCode: number; Running: boolean; Restarting: boolean; StartedAt: string };
  RestartCount: number;
}>;

beforeAll(() => {
  settleDirectoryAtimes(SAMPLE_HOST);
  fingerprintBefore = treeFingerprint(SAMPLE_HOST);
  out = path.join(tmp(), 'case');
  run = flotsam(['triage', SAMPLE_HOST, '--out', out]);
  events = readJsonl(path.join(out, 'timeline.jsonl'));
});

afterAll(() => fs.rmSync(path.dirname(out), { recursive: true, force: true }));

describe('flotsam triage on the sample host', () => {
  it('exits 0, writes every output and reports on stderr', () => {
    expect(run.code, run.stderr).toBe(0);
    for (const f of ['timeline.csv', 'timeline.jsonl', 'timeline.json', 'containers.csv', 'containers.json', 'images.json', 'problems.json', 'manifest.json']) {
      expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    }
    expect(run.stderr).toMatch(/flotsam: \d+ events from 1 source\(s\), 11 containers/);
  });

  it('leaves the evidence untouched (contents, modes and mtimes hash the same)', () => {
    expect(treeFingerprint(SAMPLE_HOST)).toBe(fingerprintBefore);
  });

  it('finds every container docker ps -a showed, with its state', () => {
    const containers = JSON.parse(fs.readFileSync(path.join(out, 'containers.json'), 'utf8')) as Array<{
      id: string; name: string; status: string; exitCode?: number; restartCount?: number; running: boolean; host: string;
    }>;
    expect(containers).toHaveLength(psA.length);
    for (const ps of psA) {
      const c = containers.find((x) => x.id === ps.ID);
      expect(c, ps.Names).toBeDefined();
      expect(c!.name).toBe(ps.Names);
      expect(c!.host).toBe('flotsam-sample');
      const ins = inspect.find((i) => i.Id === ps.ID)!;
      expect(c!.exitCode).toBe(ins.State.ExitCode);
      expect(c!.running).toBe(ins.State.Running);
      expect(c!.restartCount).toBe(ins.RestartCount);
      if (ps.State === 'exited') expect(c!.status).toBe(`exited(${ins.State.ExitCode})`);
      else if (ps.State === 'created') expect(c!.status).toBe('created');
      else if (ps.State === 'restarting') expect(c!.status).toMatch(/^restarting/);
      else expect(c!.status).toBe(ps.State);
    }
  });

  it('writes a timeline sorted by time with Timesketch fields on every line', () => {
    expect(events.length).toBeGreaterThan(500);
    let prev = '';
    for (const e of events) {
      expect(typeof e.message).toBe('string');
      expect(e.datetime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
      expect(typeof e.timestamp).toBe('number');
      expect(typeof e.timestamp_desc).toBe('string');
      expect(typeof e.path).toBe('string');
      expect(typeof e.raw_time).toBe('string');
      expect((e.datetime as string) >= prev).toBe(true);
      prev = e.datetime as string;
    }
    const rows = parse(fs.readFileSync(path.join(out, 'timeline.csv')), { columns: true }) as Array<Record<string, string>>;
    const json = JSON.parse(fs.readFileSync(path.join(out, 'timeline.json'), 'utf8')) as Array<Record<string, unknown>>;
    expect(json).toEqual(events);
    expect(rows).toHaveLength(events.length);
    rows.forEach((r, i) => {
      expect(r.datetime).toBe(events[i].datetime);
      expect(r.timestamp).toBe(String(events[i].timestamp));
      expect(r.message.replace(/^'(?=[=+\-@\t\r])/, '')).toBe(events[i].message);
    });
  });

  it('has as many log events per stopped container as `docker logs` printed, times to the nanosecond', () => {
    for (const name of ['job-ok', 'crasher', 'rotator', 'bigline', 'vol', 'tamper']) {
      const captured = ['stdout', 'stderr']
        .flatMap((s) => fs.readFileSync(path.join(CAPTURES, `logs-${name}.${s}.txt`), 'utf8').split('\n'))
        .filter(Boolean);
      const ours = events.filter((e) => e.source === 'docker:json-log' && e.container_name === name);
      expect(ours.length, name).toBe(captured.length);
      const stamps = new Set(captured.map((l) => l.slice(0, l.indexOf(' '))));
      for (const e of ours) expect(stamps.has(e.datetime as string), `${name} ${e.datetime}`).toBe(true);
    }
  });

  it('rejoins the 40 000-character line split into 16 KiB records', () => {
    const big = events.filter((e) => e.container_name === 'bigline' && e.source === 'docker:json-log');
    expect(big.map((e) => (e.message as string).length)).toContain(40000);
  });

  it('reads rotated, gzipped logs oldest first', () => {
    const rot = events.filter((e) => e.container_name === 'rotator' && e.source === 'docker:json-log');
    const files = [...new Set(rot.map((e) => path.basename(e.path as string)))];
    expect(files.map((f) => f.replace(/^[0-9a-f]{64}/, ''))).toEqual(['-json.log.3.gz', '-json.log.2.gz', '-json.log.1.gz', '-json.log']);
  });

  it('has container lifecycle events and file-system times with provenance', () => {
    const web = psA.find((p) => p.Names === 'web')!;
    const kinds = events.filter((e) => e.container_id === web.ID).map((e) => `${e.source}/${e.timestamp_desc}`);
    expect(kinds).toContain('docker:container/Creation Time');
    expect(kinds).toContain('docker:container/Start Time');
    const macb = events.filter((e) => e.source === 'fs:macb');
    expect(macb.length).toBeGreaterThan(0);
    for (const m of macb) expect(typeof m.inode).toBe('number');
  });

  it('gives every event an id, and every lifecycle transition names events that exist', () => {
    const ids = new Set(events.map((e) => e.event_id as string));
    expect(ids.size).toBe(events.length);
    const transitions = events.filter((e) => e.source === 'lifecycle');
    expect(transitions.length).toBeGreaterThan(0);
    for (const t of transitions) {
      for (const id of t.evidence_ids as string[]) expect(ids.has(id), `${t.message}: ${id}`).toBe(true);
    }
    // The removed container is reconstructed from the host's own logs and shell history.
    const removedId = JSON.parse(fs.readFileSync(path.join(CAPTURES, 'removed-containers.json'), 'utf8')).Id as string;
    expect(transitions.filter((t) => t.container_id === removedId).map((t) => t.transition)).toContain('removed');
  });

  it("lists FinishedAt-before-StartedAt as problems, with path and reason", () => {
    const problems = JSON.parse(fs.readFileSync(path.join(out, 'problems.json'), 'utf8')) as Array<{ path: string; reason: string }>;
    for (const p of problems) {
      expect(p.path).toMatch(/^\//);
      expect(p.reason.length).toBeGreaterThan(0);
    }
    expect(problems.some((p) => /FinishedAt .* is before .*StartedAt/.test(p.reason))).toBe(true);
  });

  it('records the source identity and counts in the manifest', () => {
    const m = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    expect(m.tool).toBe('flotsam');
    expect(m.command_line).toEqual(['flotsam', 'triage', SAMPLE_HOST, '--out', out]);
    expect(m.sources[0].hostname).toBe('flotsam-sample');
    expect(m.sources[0].os_release).toMatch(/Debian/);
    expect(m.sources[0].data_roots.map((r: { path: string }) => r.path)).toEqual(['/var/lib/docker']);
    expect(m.sources[0].events).toBe(events.length);
    const bySource = m.sources[0].events_by_source as Record<string, number>;
    expect(Object.values(bySource).reduce((a, b) => a + b, 0)).toBe(events.length);
  });

  it('produces byte-identical outputs on a second run', () => {
    const out2 = path.join(path.dirname(out), 'case2');
    const r2 = flotsam(['triage', SAMPLE_HOST, '--out', out2]);
    expect(r2.code).toBe(0);
    // Every output but manifest.json (which records when and how long the run took) must be byte-identical.
    const files = fs.readdirSync(out).filter((f) => f !== 'manifest.json').sort();
    expect(fs.readdirSync(out2).filter((f) => f !== 'manifest.json').sort()).toEqual(files);
    for (const f of ['timeline.csv', 'timeline.jsonl', 'timeline.json', 'containers.json', 'lifecycles.json', 'findings.json']) {
      expect(files).toContain(f);
    }
    for (const f of files) {
      if (!fs.statSync(path.join(out, f)).isFile()) continue;
      expect(fs.readFileSync(path.join(out2, f)).equals(fs.readFileSync(path.join(out, f))), f).toBe(true);
    }
  });

  it('filters with --since/--until (inclusive since, exclusive until)', () => {
    const times = events.map((e) => e.datetime as string);
    const since = times[Math.floor(times.length / 3)];
    const until = times[Math.floor((2 * times.length) / 3)];
    const out3 = path.join(path.dirname(out), 'case3');
    const r = flotsam(['triage', SAMPLE_HOST, '--out', out3, '--since', since, '--until', until, '--format', 'jsonl', '-q']);
    expect(r.code).toBe(0);
    const filtered = readJsonl(path.join(out3, 'timeline.jsonl'));
    expect(filtered.length).toBe(times.filter((t) => t >= since && t < until).length);
    expect(fs.existsSync(path.join(out3, 'timeline.csv'))).toBe(false);
  });
});

describe('flotsam containers', () => {
  it('prints a table, CSV and JSON', () => {
    const table = flotsam(['containers', SAMPLE_HOST]);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^CONTAINER ID\s+NAME\s+IMAGE\s+STATUS/);
    for (const ps of psA) expect(table.stdout).toContain(ps.ID.slice(0, 12));
    const json = JSON.parse(flotsam(['containers', SAMPLE_HOST, '--format', 'json']).stdout) as Array<{ id: string }>;
    expect(json.map((c) => c.id).sort()).toEqual(psA.map((p) => p.ID).sort());
    const csv = flotsam(['containers', SAMPLE_HOST, '--format', 'csv']).stdout.split('\n').filter(Boolean);
    expect(csv[0].startsWith('host,id,')).toBe(true);
    expect(csv).toHaveLength(psA.length + 1);
  });
});
