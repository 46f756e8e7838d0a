// Bad and hostile evidence, several sources, exit codes: what the CLI promises when things go wrong.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAPTURES, copySampleHost, flotsam, readJsonl, tmp, treeFingerprint } from './helpers.js';

let work: string;
beforeAll(() => {
  work = tmp();
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const psA = fs
  .readFileSync(path.join(CAPTURES, 'ps-a.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as { ID: string; Names: string });
const idOf = (name: string): string => psA.find((p) => p.Names === name)!.ID;

describe('damaged artifacts never abort the run', () => {
  it('reports a truncated config, a non-JSON log line, a corrupt gz and an unreadable file as problems; exit 0', () => {
    const host = copySampleHost(path.join(work, 'damaged'));
    const cdir = (name: string): string => path.join(host, 'var/lib/docker/containers', idOf(name));
    // 1. truncated JSON config
    const cfg = path.join(cdir('crasher'), 'config.v2.json');
    fs.writeFileSync(cfg, fs.readFileSync(cfg).subarray(0, 100));
    // 2. a log line that is not JSON, in the middle of job-ok's log
    const log = path.join(cdir('job-ok'), `${idOf('job-ok')}-json.log`);
    const lines = fs.readFileSync(log, 'utf8').split('\n');
    lines.splice(2, 0, 'this is not json at all');
    fs.writeFileSync(log, lines.join('\n'));
    // 3. a corrupt gz rotation of rotator
    const gz = path.join(cdir('rotator'), `${idOf('rotator')}-json.log.2.gz`);
    const bytes = fs.readFileSync(gz);
    bytes.fill(0x41, 20, 60);
    fs.writeFileSync(gz, bytes);
    // 4. an unreadable hostconfig (a directory where a file should be)
    const hc = path.join(cdir('vol'), 'hostconfig.json');
    fs.rmSync(hc);
    fs.mkdirSync(hc);
    const before = treeFingerprint(host);

    const out = path.join(work, 'damaged-out');
    const r = flotsam(['triage', host, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(treeFingerprint(host)).toBe(before);
    const problems = JSON.parse(fs.readFileSync(path.join(out, 'problems.json'), 'utf8')) as Array<{ path: string; reason: string }>;
    const about = (p: string): Array<{ path: string; reason: string }> => problems.filter((x) => x.path.includes(p));
    expect(about(`${idOf('crasher')}/config.v2.json`).length).toBeGreaterThan(0);
    expect(about(`${idOf('job-ok')}-json.log`).some((x) => /line 3/.test(x.reason))).toBe(true);
    expect(about(`${idOf('rotator')}-json.log.2.gz`).length).toBeGreaterThan(0);
    expect(about(`${idOf('vol')}/hostconfig.json`).length).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/warning: .*config\.v2\.json/);
    // The rest is still reported.
    const events = readJsonl(path.join(out, 'timeline.jsonl'));
    expect(events.filter((e) => e.container_name === 'job-ok' && e.source === 'docker:json-log')).toHaveLength(5);
    expect(events.some((e) => e.container_name === 'web')).toBe(true);
    expect(events.some((e) => e.container_name === 'vol' && e.source === 'docker:json-log')).toBe(true);
  });

  it('refuses a gz that would inflate past its limit without reading it all', () => {
    const host = copySampleHost(path.join(work, 'bomb'));
    const id = idOf('rotator');
    // ~1 GiB of zeros compresses to ~1 MiB: far above what a 10 MiB rotated log can hold... the reader bounds it.
    const bomb = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20), { level: 9 });
    fs.writeFileSync(path.join(host, 'var/lib/docker/containers', id, `${id}-json.log.3.gz`), bomb);
    const out = path.join(work, 'bomb-out');
    const r = flotsam(['triage', host, '--out', out, '--format', 'jsonl', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const problems = JSON.parse(fs.readFileSync(path.join(out, 'problems.json'), 'utf8')) as Array<{ path: string; reason: string }>;
    expect(problems.some((p) => p.path.endsWith('.log.3.gz'))).toBe(true);
  });
});

describe('a host clock set back', () => {
  it('web\'s log going back an hour halfway is a log-time-steps-back finding; the timeline stays sorted and complete', () => {
    const host = copySampleHost(path.join(work, 'clock'));
    const id = idOf('web');
    const log = path.join(host, 'var/lib/docker/containers', id, `${id}-json.log`);
    const lines = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
    const half = Math.floor(lines.length / 2);
    const shifted = lines.map((l, i) => {
      if (i < half) return l;
      const rec = JSON.parse(l) as { time: string };
      const ms = Date.parse(rec.time) - 3_600_000;
      const frac = /\.(\d+)Z$/.exec(rec.time)?.[1] ?? '0';
      // Same nanoseconds, one hour earlier, in Docker's own field order.
      return l.replace(rec.time, `${new Date(ms).toISOString().slice(0, 19)}.${frac}Z`);
    });
    fs.writeFileSync(log, shifted.join('\n') + '\n');
    const out = path.join(work, 'clock-out');
    const r = flotsam(['triage', host, '--out', out, '--format', 'jsonl', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const rows = parse(fs.readFileSync(path.join(out, 'findings.csv'), 'utf8'), { columns: true }) as Array<Record<string, string>>;
    const steps = rows.filter((f) => f.rule === 'log-time-steps-back');
    expect(steps).toHaveLength(1);
    expect(steps[0]).toMatchObject({ severity: 'medium', container_name: 'web', evidence_field: `line ${half + 1}` });
    expect(steps[0].evidence_path).toBe(`/var/lib/docker/containers/${id}/${id}-json.log`);
    expect(steps[0].message).toMatch(/^web \(6e1830bebeb4\): time goes back 59 min 5\d\.\d+ s in .* at line \d+: .* follows .*; the host clock was set back, or the file was edited$/);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { sources: Array<{ time_steps_back: number }> };
    expect(manifest.sources[0].time_steps_back).toBe(1);
    const events = readJsonl(path.join(out, 'timeline.jsonl'));
    expect(events.filter((e) => e.container_name === 'web' && e.source === 'docker:json-log')).toHaveLength(lines.length);
    for (let i = 1; i < events.length; i++) expect(String(events[i].datetime) >= String(events[i - 1].datetime)).toBe(true);
    // Every other line an hour back: 16 findings for the log, the rest counted in a warning.
    const zigzag = lines.map((l, i) => {
      if (i % 2 === 0) return l;
      const rec = JSON.parse(l) as { time: string };
      const frac = /\.(\d+)Z$/.exec(rec.time)?.[1] ?? '0';
      return l.replace(rec.time, `${new Date(Date.parse(rec.time) - 3_600_000).toISOString().slice(0, 19)}.${frac}Z`);
    });
    fs.writeFileSync(log, zigzag.join('\n') + '\n');
    const zout = path.join(work, 'clock-zigzag-out');
    const z = flotsam(['triage', host, '--out', zout, '--format', 'jsonl', '-q']);
    expect(z.code, z.stderr).toBe(0);
    const zrows = parse(fs.readFileSync(path.join(zout, 'findings.csv'), 'utf8'), { columns: true }) as Array<Record<string, string>>;
    expect(zrows.filter((f) => f.rule === 'log-time-steps-back')).toHaveLength(16);
    const zsteps = Math.floor(lines.length / 2);
    const zproblems = JSON.parse(fs.readFileSync(path.join(zout, 'problems.json'), 'utf8')) as Array<{ reason: string }>;
    expect(zproblems.map((p) => p.reason)).toContain(
      `${zsteps - 16} more steps back in log times not listed as findings (16 per log, MAX_TIME_STEP_FINDINGS 1000 per host)`,
    );
    // The unmodified sample has no step.
    const clean = path.join(work, 'clock-clean-out');
    expect(flotsam(['triage', copySampleHost(path.join(work, 'clock-clean')), '--out', clean, '--format', 'jsonl', '-q']).code).toBe(0);
    expect(fs.readFileSync(path.join(clean, 'findings.csv'), 'utf8')).not.toContain('log-time-steps-back');
  });
});

describe('hostile trees', () => {
  it('never reads the analyst machine through symlinks in the evidence', () => {
    const host = copySampleHost(path.join(work, 'hostile'));
    const id = idOf('job-ok');
    const dir = path.join(host, 'var/lib/docker/containers', id);
    // The current log becomes a link to /etc/passwd (absolute: must resolve inside the evidence).
    fs.rmSync(path.join(dir, `${id}-json.log`));
    fs.symlinkSync('/etc/passwd', path.join(dir, `${id}-json.log`));
    fs.symlinkSync('../../../../../../../../../../../etc/passwd', path.join(dir, `${id}-json.log.1`));
    fs.writeFileSync(path.join(host, 'etc/passwd'), '{"log":"evidence passwd\\n","stream":"stdout","time":"2024-01-01T00:00:00Z"}\n');
    // daemon.json points the data root at the analyst's /var/lib — resolved inside the evidence.
    fs.writeFileSync(path.join(host, 'etc/docker/daemon.json'), JSON.stringify({ 'data-root': '/../../../../var/lib/docker' }));
    const out = path.join(work, 'hostile-out');
    const r = flotsam(['triage', host, '--out', out, '--format', 'jsonl', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const text = fs.readFileSync(path.join(out, 'timeline.jsonl'), 'utf8');
    const analystPasswd = fs.readFileSync('/etc/passwd', 'utf8').split('\n')[0];
    expect(text).not.toContain(analystPasswd);
    expect(text).toContain('evidence passwd');
  });

  it('neutralises spreadsheet formulas coming from the evidence', () => {
    const host = copySampleHost(path.join(work, 'formula'));
    const id = idOf('job-ok');
    const log = path.join(host, 'var/lib/docker/containers', id, `${id}-json.log`);
    const payloads = ['=cmd|\' /C calc\'!A0', '+SUM(1,2)', '-2+3', '@SUM(A1)', '\tTAB', '\rCR'];
    fs.appendFileSync(
      log,
      payloads.map((p, i) => JSON.stringify({ log: p + '\n', stream: 'stdout', time: `2030-01-01T00:00:0${i}.000000001Z` }) + '\n').join(''),
    );
    const out = path.join(work, 'formula-out');
    expect(flotsam(['triage', host, '--out', out, '--format', 'csv', '-q']).code).toBe(0);
    const rows = parse(fs.readFileSync(path.join(out, 'timeline.csv')), { columns: true, relax_quotes: false }) as Array<Record<string, string>>;
    const ours = rows.filter((r) => r.datetime.startsWith('2030-01-01'));
    expect(ours.map((r) => r.message)).toEqual(payloads.map((p) => `'${p}`));
    for (const row of rows) for (const cell of Object.values(row)) expect(cell).not.toMatch(/^[=+@\t\r]/);
  });
});

describe('several sources', () => {
  it('writes per-host outputs and one merged, sorted timeline with --jobs 2', () => {
    const a = copySampleHost(path.join(work, 'hostA'));
    const b = copySampleHost(path.join(work, 'hostB'));
    fs.writeFileSync(path.join(b, 'etc/hostname'), 'second-host\n');
    const out = path.join(work, 'multi');
    const r = flotsam(['triage', a, b, '--out', out, '--jobs', '2', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const merged = readJsonl(path.join(out, 'timeline.jsonl'));
    const ha = readJsonl(path.join(out, 'flotsam-sample/timeline.jsonl'));
    const hb = readJsonl(path.join(out, 'second-host/timeline.jsonl'));
    expect(merged.length).toBe(ha.length + hb.length);
    expect(new Set(merged.map((e) => e.host))).toEqual(new Set(['flotsam-sample', 'second-host']));
    for (let i = 1; i < merged.length; i++) expect(merged[i].datetime >= merged[i - 1].datetime).toBe(true);
    const m = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    expect(m.sources.map((s: { hostname: string }) => s.hostname)).toEqual(['flotsam-sample', 'second-host']);
    const containers = JSON.parse(fs.readFileSync(path.join(out, 'containers.json'), 'utf8')) as Array<{ host: string }>;
    expect(containers).toHaveLength(2 * psA.length);
    // Same bytes as a sequential run.
    const out2 = path.join(work, 'multi-seq');
    expect(flotsam(['triage', a, b, '--out', out2, '-q']).code).toBe(0);
    for (const f of ['timeline.jsonl', 'timeline.csv', 'containers.csv', 'second-host/timeline.csv']) {
      expect(fs.readFileSync(path.join(out2, f)).equals(fs.readFileSync(path.join(out, f))), f).toBe(true);
    }
  });

  it('keeps going when one of several sources is missing, and says so', () => {
    const a = copySampleHost(path.join(work, 'hostC'));
    const out = path.join(work, 'multi-missing');
    const r = flotsam(['triage', a, path.join(work, 'no-such-host'), '--out', out, '-q']);
    expect(r.code).toBe(0);
    const problems = JSON.parse(fs.readFileSync(path.join(out, 'problems.json'), 'utf8')) as Array<{ path: string }>;
    expect(problems.some((p) => p.path.endsWith('no-such-host'))).toBe(true);
  });
});

describe('exit codes', () => {
  it('is 2 with a one-line message for a missing source', () => {
    const r = flotsam(['triage', path.join(work, 'nothing-here'), '--out', path.join(work, 'x')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/no such file or directory/);
  });

  it('is 2 for a folder with no Linux root and no Docker data', () => {
    const empty = path.join(work, 'empty');
    fs.mkdirSync(empty, { recursive: true });
    fs.writeFileSync(path.join(empty, 'notes.txt'), 'hello');
    const r = flotsam(['triage', empty, '--out', path.join(work, 'y')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no Linux root and no Docker data/);
  });

  it('is 2 when the output folder lies inside the evidence', () => {
    const host = copySampleHost(path.join(work, 'inside'));
    const r = flotsam(['triage', host, '--out', path.join(host, 'out')]);
    expect(r.code).toBe(2);
    expect(fs.existsSync(path.join(host, 'out'))).toBe(false);
  });

  it('is 2 for bad arguments', () => {
    expect(flotsam(['triage']).code).toBe(2);
    expect(flotsam(['triage', '/tmp', '--out', path.join(work, 'z'), '--format', 'xml']).code).toBe(2);
    expect(flotsam(['triage', '/tmp', '--out', path.join(work, 'z'), '--since', 'tomorrow']).code).toBe(2);
  });

  it('triages a bare Docker data root', () => {
    const host = copySampleHost(path.join(work, 'bare'));
    const out = path.join(work, 'bare-out');
    const r = flotsam(['containers', path.join(host, 'var/lib/docker'), '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as unknown[]).length).toBe(psA.length);
    const t = flotsam(['triage', path.join(host, 'var/lib/docker'), '--out', out, '--format', 'jsonl', '-q']);
    expect(t.code, t.stderr).toBe(0);
    expect(readJsonl(path.join(out, 'timeline.jsonl')).some((e) => e.source === 'docker:json-log')).toBe(true);
  });
});
