// Syslog family: line layouts (RFC 3164, rsyslog high precision, RFC 5424), year inference from mtime and
// roll-overs, the evidence's time zone (never the analyst's), rotation and gzip, and every bad-input guard.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSyslogLine } from '../../../src/collectors/host-logs/syslog-parse.js';
import {
  YearTracker,
  authLogCollector,
  inferStartYear,
  parseSyslogBytes,
  readSyslogFile,
  syslogCollector,
  type SyslogFileInfo,
} from '../../../src/collectors/host-logs/syslog.js';
import { FixedZone, PosixZone, parsePosixTz } from '../../../src/collectors/host-logs/tzif.js';
import { type HostZone, resolveHostZone } from '../../../src/collectors/host-logs/timezone.js';
import { MAX_LINE_BYTES } from '../../../src/collectors/host-logs/text-file.js';
import { contextFor, drain, iso, tempRoot, writeTree } from './helpers.js';
import { TimeStepWatch } from '../../../src/timeline/index.js';

const roots: string[] = [];
afterAll(() => roots.forEach((r) => fs.rmSync(r, { recursive: true, force: true })));
function root(): string {
  const r = tempRoot();
  roots.push(r);
  return r;
}

const UTC: HostZone = { zone: new FixedZone('UTC'), name: 'UTC', source: 'assumed UTC', data: 'none' };
const BERLIN: HostZone = {
  zone: new PosixZone('Europe/Berlin', parsePosixTz('CET-1CEST,M3.5.0,M10.5.0/3')!),
  name: 'Europe/Berlin',
  source: 'etc/localtime',
  data: 'evidence-tzif',
};
const info = (kind = 'syslog'): SyslogFileInfo => ({ path: `/var/log/${kind}`, host: 'h', compressed: false, kind });
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('line layouts', () => {
  it('RFC 3164 (rsyslog traditional file format)', () => {
    expect(parseSyslogLine('May  1 10:20:30 web01 sshd[1234]: Accepted publickey for root from 10.0.0.5 port 50522 ssh2')).toMatchObject({
      format: 'rfc3164', rawTime: 'May  1 10:20:30', month: 5, day: 1, hour: 10, minute: 20, second: 30,
      hostname: 'web01', program: 'sshd', pid: '1234', message: 'Accepted publickey for root from 10.0.0.5 port 50522 ssh2',
    });
    expect(parseSyslogLine('Dec 31 23:59:59 h kernel: [    0.000000] Linux version 6.1')).toMatchObject({ program: 'kernel', message: '[    0.000000] Linux version 6.1' });
    expect(parseSyslogLine('<38>Feb 29 00:00:00 h sudo:    alice : TTY=pts/0')).toMatchObject({ pri: 38, rawTime: 'Feb 29 00:00:00', program: 'sudo', message: '   alice : TTY=pts/0' });
    expect(parseSyslogLine('May 1 10:20:30 h last message repeated 3 times')).toMatchObject({ message: 'last message repeated 3 times' });
  });

  it('rsyslog high-precision ISO timestamps keep the offset and fraction', () => {
    expect(parseSyslogLine('2024-05-01T10:20:30.123456+02:00 web01 dockerd[812]: hello')).toMatchObject({
      format: 'iso', rawTime: '2024-05-01T10:20:30.123456+02:00', year: 2024, nanos: 123456000, utoff: 7200, program: 'dockerd', pid: '812',
    });
  });

  it('RFC 5424 with structured data and BOM', () => {
    const r = parseSyslogLine('<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Appl\\]ication"] \ufeffAn application event');
    expect(r).toMatchObject({
      format: 'rfc5424', pri: 165, hostname: 'mymachine.example.com', program: 'evntslog', msgid: 'ID47',
      structuredData: '[exampleSDID@32473 iut="3" eventSource="Appl\\]ication"]', message: 'An application event', utoff: 0, nanos: 3000000,
    });
    expect(parseSyslogLine('<34>1 2003-10-11T22:14:15.003Z host su - ID47 - msg')).toMatchObject({ message: 'msg', program: 'su' });
  });

  it('rejects what is not a timestamp', () => {
    for (const l of ['', 'hello', 'Foo  1 10:20:30 h x: y', 'May 41 10:20:30 h x: y', '2024-13-01T00:00:00Z h x']) expect(parseSyslogLine(l), l).toBeUndefined();
  });
});

describe('year inference', () => {
  it('roll-overs count back from the mtime year', () => {
    const t = new YearTracker();
    for (const m of [11, 12, 12, 1, 2, 2, 1 /* out of order by one month: same year */, 3]) t.see(m, 1);
    expect(t.rollovers).toBe(1);
    // file modified 2025-03-02 -> last line (Mar 1) is 2025, first (Nov) 2024
    expect(inferStartYear(t, BigInt(Date.UTC(2025, 2, 2)) * 1_000_000n, UTC, 'mtime')).toEqual({ startYear: 2024, source: 'mtime' });
  });

  it('a last line dated after the mtime belongs to the previous year', () => {
    const t = new YearTracker();
    t.see(12, 30);
    expect(inferStartYear(t, BigInt(Date.UTC(2025, 0, 3)) * 1_000_000n, UTC, 'mtime').startYear).toBe(2024);
  });

  it('events carry the inferred years across Dec -> Jan and say so', () => {
    const text = 'Dec 31 23:59:58 h a: one\nDec 31 23:59:59 h a: two\nJan  1 00:00:00 h a: three\n';
    const { events, problems } = parseSyslogBytes(enc(text), info(), UTC, { startYear: 2023, source: 'mtime' });
    expect(problems).toEqual([]);
    expect(events.map((e) => iso(e.time))).toEqual(['2023-12-31T23:59:58.000Z', '2023-12-31T23:59:59.000Z', '2024-01-01T00:00:00.000Z']);
    expect(events[2].attrs).toMatchObject({ year_inferred: true, year_source: 'mtime', tz: 'UTC', tz_source: 'assumed UTC', hostname: 'h', program: 'a' });
    expect(events[0]).toMatchObject({ raw_time: 'Dec 31 23:59:58', line: 1, offset: 0, message: 'one', source: 'syslog' });
  });
});

describe('time zones', () => {
  it('local RFC 3164 times are read in the host zone, with DST gap/overlap marked', () => {
    const text = 'Jul  1 12:00:00 h a: summer\nOct 27 02:30:00 h a: twice\nMar 31 02:30:00 h a: never\n';
    const { events } = parseSyslogBytes(enc(text), info(), BERLIN, { startYear: 2024, source: 'mtime' });
    expect(iso(events[0].time)).toBe('2024-07-01T10:00:00.000Z');
    expect(events[0].attrs).toMatchObject({ tz: 'Europe/Berlin', tz_source: 'etc/localtime' });
    expect(iso(events[1].time)).toBe('2024-10-27T00:30:00.000Z');
    expect(events[1].attrs?.tz_ambiguous).toBe(true);
  });

  it('the hour repeated when daylight saving ends is marked, so the timeline does not call it a clock set back', () => {
    const text = 'Oct 27 02:59:59 h a: first pass\nOct 27 02:00:00 h a: second pass\nOct 27 02:30:00 h a: still\nOct 27 03:00:00 h a: after\n';
    const { events } = parseSyslogBytes(enc(text), info(), BERLIN, { startYear: 2024, source: 'mtime' });
    // Read as the earlier instant, the second 02:00 lands an hour before the first 02:59:59.
    expect(events.map((e) => iso(e.time))).toEqual(['2024-10-27T00:59:59.000Z', '2024-10-27T00:00:00.000Z', '2024-10-27T00:30:00.000Z', '2024-10-27T02:00:00.000Z']);
    const watch = new TimeStepWatch('/var/log/syslog');
    watch.see(events);
    expect(watch.steps).toEqual([]);
  });

  it('times with an offset ignore the zone (and keep nanoseconds)', () => {
    const { events } = parseSyslogBytes(enc('2024-05-01T10:20:30.123456789+02:00 h a: x\n'), info(), BERLIN);
    expect(events[0].time).toBe(BigInt(Date.UTC(2024, 4, 1, 8, 20, 30)) * 1_000_000n + 123456789n);
    expect(events[0].attrs?.tz).toBeUndefined();
  });

  it('resolves /etc/localtime (symlink into the evidence zoneinfo), /etc/timezone, --tz, else assumed UTC', () => {
    const zi = '/usr/share/zoneinfo';
    if (!fs.existsSync(`${zi}/America/New_York`)) return;
    const ny = fs.readFileSync(`${zi}/America/New_York`);
    // symlink
    const r1 = root();
    writeTree(r1, { 'usr/share/zoneinfo/America/New_York': ny, 'etc/timezone': 'America/New_York\n' });
    fs.symlinkSync('/usr/share/zoneinfo/America/New_York', path.join(r1, 'etc/localtime'));
    const warn: string[] = [];
    const z1 = resolveHostZone(contextFor(r1).vfs, (_p, r) => warn.push(r));
    expect([z1.name, z1.source, z1.data]).toEqual(['America/New_York', 'etc/localtime', 'evidence-tzif']);
    expect(z1.zone.utoffAt(Date.UTC(2024, 0, 1) / 1000)).toBe(-5 * 3600);
    // a copied file: the name comes from /etc/timezone
    const r2 = root();
    writeTree(r2, { 'etc/localtime': ny, 'etc/timezone': 'America/New_York\n' });
    expect(resolveHostZone(contextFor(r2).vfs, () => undefined)).toMatchObject({ name: 'America/New_York', source: 'etc/localtime' });
    // only /etc/timezone, zoneinfo present in the evidence
    const r3 = root();
    writeTree(r3, { 'usr/share/zoneinfo/America/New_York': ny, 'etc/timezone': 'America/New_York\n' });
    expect(resolveHostZone(contextFor(r3).vfs, () => undefined)).toMatchObject({ source: 'etc/timezone', data: 'evidence-tzif' });
    // --tz wins
    expect(resolveHostZone(contextFor(r3).vfs, () => undefined, 'Asia/Tokyo')).toMatchObject({ name: 'Asia/Tokyo', source: '--tz' });
    // a bad --tz is ignored with a problem
    const w4: string[] = [];
    expect(resolveHostZone(contextFor(r3).vfs, (_p, r) => w4.push(r), '../../etc/passwd')).toMatchObject({ source: 'etc/timezone' });
    expect(w4.join()).toMatch(/not a zone name/);
    // nothing: UTC, reported
    const w5: string[] = [];
    expect(resolveHostZone(contextFor(root()).vfs, (_p, r) => w5.push(r))).toMatchObject({ name: 'UTC', source: 'assumed UTC' });
    expect(w5.join()).toMatch(/read as UTC/);
    // a corrupt /etc/localtime falls back to /etc/timezone with a problem
    const r6 = root();
    writeTree(r6, { 'etc/localtime': 'TZif garbage', 'etc/timezone': 'UTC\n' });
    const w6: string[] = [];
    expect(resolveHostZone(contextFor(r6).vfs, (_p, r) => w6.push(r))).toMatchObject({ source: 'etc/timezone', name: 'UTC' });
    expect(w6.join()).toMatch(/cannot use/);
  });
});

describe('bad input', () => {
  it('NUL-filled regions (power loss) are skipped with one problem per run', () => {
    const bytes = new Uint8Array([...enc('May  1 10:00:00 h a: before\nMay  1 10:00:01 h a: cut'), ...new Uint8Array(5000), ...enc('May  1 10:05:00 h a: after\n')]);
    // fed in small chunks so the run spans chunk boundaries
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 333) chunks.push(bytes.subarray(i, i + 333));
    const { events, problems } = parseSyslogBytes(chunks, info(), UTC, { startYear: 2024, source: 'mtime' });
    expect(events.map((e) => e.message)).toEqual(['before', 'cut', 'after']);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/5000 NUL bytes at offset 52/);
  });

  it('binary garbage is reported and skipped; the rest is parsed', () => {
    const garbage = new Uint8Array(200).map((_, i) => (i * 37 + 1) % 32);
    const bytes = new Uint8Array([...enc('May  1 10:00:00 h a: one\n'), ...garbage, 0x0a, ...enc('May  1 10:00:02 h a: two\n')]);
    const { events, problems } = parseSyslogBytes(bytes, info(), UTC, { startYear: 2024, source: 'mtime' });
    expect(events.map((e) => e.message)).toEqual(['one', 'two']);
    expect(problems.join('\n')).toMatch(/line 2: binary data/);
  });

  it('a line over MAX_LINE_BYTES is skipped to the next newline with bounded memory', () => {
    const limit = 4096;
    const big = 'x'.repeat(limit * 5);
    const chunks = [enc('May  1 10:00:00 h a: one\nMay  1 10:00:01 h a: '), ...Array.from({ length: 5 }, () => enc(big.slice(0, limit))), enc('\nMay  1 10:00:02 h a: two\n')];
    const { events, problems } = parseSyslogBytes(chunks, info(), UTC, { startYear: 2024, source: 'mtime' }, limit);
    expect(events.map((e) => e.message)).toEqual(['one', 'two']);
    expect(problems).toEqual([expect.stringMatching(/line 2: longer than 4096 bytes \(MAX_LINE_BYTES\)/)]);
    expect(MAX_LINE_BYTES).toBeGreaterThanOrEqual(64 * 1024);
  });

  it('invalid UTF-8 becomes U+FFFD and never throws', () => {
    const bytes = new Uint8Array([...enc('May  1 10:00:00 h a: caf'), 0xe9, 0xff, 0xc3, ...enc(' ok\n')]);
    const { events, problems } = parseSyslogBytes(bytes, info(), UTC, { startYear: 2024, source: 'mtime' });
    expect(problems).toEqual([]);
    expect(events[0].message).toBe('caf\ufffd\ufffd\ufffd ok');
  });

  it('lines without a timestamp are problems, not events; CRLF is tolerated', () => {
    const { events, problems } = parseSyslogBytes(enc('May  1 10:00:00 h a: one\r\n\tcontinuation\n'), info(), UTC, { startYear: 2024, source: 'mtime' });
    expect(events.map((e) => e.message)).toEqual(['one']);
    expect(problems[0]).toMatch(/line 2: no syslog timestamp/);
  });
});

describe('collectors over generated trees', () => {
  it('reads rotated .N.gz, .1 and the current file oldest first, inferring years per file', async () => {
    const r = root();
    writeTree(
      r,
      {
        'etc/timezone': 'UTC\n',
        'var/log/syslog.2.gz': gzipSync(enc('Dec 30 08:00:00 h cron[1]: gz-one\nJan  2 08:00:00 h cron[1]: gz-two\n')),
        'var/log/syslog.1': 'Jan  3 09:00:00 h cron[1]: one\n',
        'var/log/syslog': '2025-01-04T10:00:00.5+00:00 h cron[1]: iso\n',
        'var/log/kern.log': 'Jan  3 09:00:00 h kernel: [    1.0] k\n',
        'var/log/syslog.bak': 'not ours\n',
      },
      { 'var/log/syslog.2.gz': Date.UTC(2025, 0, 2, 9) / 1000, 'var/log/syslog.1': Date.UTC(2025, 0, 3, 10) / 1000 },
    );
    const ctx = contextFor(r);
    const sources = syslogCollector.collect(ctx).sources;
    expect(sources.map((s) => s.id)).toEqual(['/var/log/syslog.2.gz', '/var/log/syslog.1', '/var/log/syslog', '/var/log/kern.log']);
    const events = await drain(sources);
    expect(events.map((e) => `${iso(e.time)} ${e.message}`)).toEqual([
      '2024-12-30T08:00:00.000Z gz-one',
      '2025-01-02T08:00:00.000Z gz-two',
      '2025-01-03T09:00:00.000Z one',
      '2025-01-04T10:00:00.500Z iso',
      expect.stringMatching(/ k$/),
    ]);
    expect(events[0].attrs).toMatchObject({ compressed: true, tz: 'UTC', tz_source: 'etc/timezone', year_source: 'mtime' });
    expect(ctx.problems.problems).toEqual([]);
  });

  it('corrupt gz and gz past the inflate limit: problems, lines before kept', async () => {
    const r = root();
    const lines = Array.from({ length: 2000 }, (_, i) => `May  1 10:00:${String(i % 60).padStart(2, '0')} h a: line ${i}\n`).join('');
    const gz = gzipSync(enc(lines));
    const broken = Uint8Array.from(gz);
    broken.fill(0x55, 200, 400);
    writeTree(r, { 'var/log/syslog.2.gz': broken, 'var/log/syslog.3.gz': gz, 'var/log/messages.1.gz': 'plain text\n' });
    const ctx = contextFor(r);
    const a: unknown[] = [];
    for await (const b of readSyslogFile(ctx, '/var/log/syslog.2.gz', 'syslog')) a.push(...b);
    const b2: unknown[] = [];
    for await (const b of readSyslogFile(ctx, '/var/log/syslog.3.gz', 'syslog', { maxGzInflatedBytes: 10_000 })) b2.push(...b);
    for await (const _ of readSyslogFile(ctx, '/var/log/messages.1.gz', 'messages')) void _;
    const reasons = ctx.problems.problems.map((p) => `${p.path}: ${p.reason}`).join('\n');
    expect(reasons).toMatch(/syslog\.2\.gz: gzip stream damaged/);
    expect(reasons).toMatch(/syslog\.3\.gz: inflates to more than 10000 bytes \(MAX_GZ_INFLATED_BYTES\)/);
    expect(reasons).toMatch(/messages\.1\.gz: named \.gz but does not start with the gzip magic/);
    expect(a.length).toBeLessThan(2000);
    expect(b2.length).toBeGreaterThan(100);
    expect(b2.length).toBeLessThan(400);
  });

  it('auth.log lines become source auth with structured attrs', async () => {
    const r = root();
    writeTree(r, {
      'var/log/auth.log': [
        'May  1 10:00:00 h sshd[100]: Accepted password for alice from 203.0.113.7 port 50022 ssh2',
        'May  1 10:00:01 h sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/docker run -it --rm alpine sh',
      ].join('\n') + '\n',
    }, { 'var/log/auth.log': Date.UTC(2024, 4, 2) / 1000 });
    const events = await drain(authLogCollector.collect(contextFor(r)).sources);
    expect(events.map((e) => [e.source, e.attrs?.event_kind])).toEqual([['auth', 'ssh-login'], ['auth', 'sudo-command']]);
    expect(events[0].attrs).toMatchObject({ user: 'alice', src_ip: '203.0.113.7', port: 50022, method: 'password', program: 'sshd', pid: 100 });
    expect(events[1].attrs).toMatchObject({ docker_command: true, subcommand: 'run', target_user: 'root', cwd: '/home/alice' });
  });

  it('dockerd lines in syslog become daemon events timed by their own time= (nanoseconds kept)', async () => {
    const r = root();
    // journald-forwarded dockerd line as seen in real syslogs (moby daemon/stop.go, pre-23 wording)
    const line = 'Nov  8 19:48:38 A40 dockerd[1788]: time="2020-11-08T19:48:38.187468949-03:00" level=info msg="Container e9c6e729c0dc819e2fd098677c608573ba9c9bf4c113f7f22c2c1e832b39d7f1 failed to exit within 10 seconds of signal 15 - using the force"';
    writeTree(r, { 'var/log/syslog': line + '\n', 'etc/timezone': 'UTC\n' }, { 'var/log/syslog': Date.UTC(2020, 10, 9) / 1000 });
    const [ev] = await drain(syslogCollector.collect(contextFor(r)).sources);
    expect(ev).toMatchObject({
      source: 'docker:daemon',
      container_id: 'e9c6e729c0dc819e2fd098677c608573ba9c9bf4c113f7f22c2c1e832b39d7f1',
      raw_time: '2020-11-08T19:48:38.187468949-03:00',
      attrs: { event_kind: 'kill-forced', lifecycle: 'kill', timeout_seconds: 10, signal: 15, program: 'dockerd', syslog_time: 'Nov  8 19:48:38', hostname: 'A40' },
    });
    expect(ev.time).toBe(BigInt(Date.UTC(2020, 10, 8, 22, 48, 38)) * 1_000_000n + 187468949n);
  });
});
