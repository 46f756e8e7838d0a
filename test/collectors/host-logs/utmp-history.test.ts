// wtmp/btmp/utmp records (made by test/fixtures-scripts/make-wtmp.py with python's struct module, checked against
// util-linux `utmpdump` as the oracle) and shell histories.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { UTMP, parseUtmpBytes, utmpCollector } from '../../../src/collectors/host-logs/utmp.js';
import { parseHistoryBytes, shellHistoryCollector } from '../../../src/collectors/host-logs/shell-history.js';
import { contextFor, drain, tempRoot, writeTree } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SCRIPT = path.join(here, '../../fixtures-scripts/make-wtmp.py');
const roots: string[] = [];
afterAll(() => roots.forEach((r) => fs.rmSync(r, { recursive: true, force: true })));
const has = (cmd: string, args: string[]): boolean => {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const havePython = has('python3', ['-c', 'import struct']);
const haveUtmpdump = has('utmpdump', ['--version']);

function makeWtmp(partial = 0): { file: string; bytes: Uint8Array } {
  const dir = tempRoot();
  roots.push(dir);
  const file = path.join(dir, 'wtmp');
  execFileSync('python3', [SCRIPT, file, ...(partial ? ['--partial', String(partial)] : [])]);
  return { file, bytes: new Uint8Array(fs.readFileSync(file)) };
}

describe.skipIf(!havePython)('utmp records', () => {
  it('the struct is 384 bytes with glibc offsets', () => {
    expect(UTMP.size).toBe(384);
    expect([UTMP.ut_line, UTMP.ut_id, UTMP.ut_user, UTMP.ut_host, UTMP.ut_session, UTMP.tv_sec, UTMP.ut_addr_v6]).toEqual([8, 40, 44, 76, 336, 340, 348]);
  });

  it.skipIf(!haveUtmpdump)('every field matches utmpdump', () => {
    const { file, bytes } = makeWtmp();
    const { events, problems } = parseUtmpBytes(bytes, { path: '/var/log/wtmp', host: 'h', kind: 'wtmp' });
    expect(problems).toEqual([]);
    const dump = execFileSync('utmpdump', [file], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .filter((l) => l.startsWith('['));
    expect(dump).toHaveLength(events.length);
    dump.forEach((line, i) => {
      const m = /^\[(\d+)\] \[(\d+)\] \[(.*?)\s*\] \[(.*?)\s*\] \[(.*?)\s*\] \[(.*?)\s*\] \[(.*?)\s*\] \[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d),(\d{6})\+00:00\]$/.exec(line)!;
      const ev = events[i];
      const a = ev.attrs as Record<string, unknown>;
      const typeNo = { EMPTY: 0, RUN_LVL: 1, BOOT_TIME: 2, LOGIN_PROCESS: 6, USER_PROCESS: 7, DEAD_PROCESS: 8 }[a.ut_type as string];
      expect([typeNo, a.pid, a.ut_id, a.user, a.tty, a.remote_host ?? '', a.src_ip ?? '0.0.0.0']).toEqual([
        Number(m[1]), Number(m[2]), m[3], m[4], m[5], m[6], m[7],
      ]);
      expect(new Date(Number(ev.time / 1_000_000n)).toISOString().slice(0, 19)).toBe(m[8]);
      expect(ev.time % 1_000_000_000n).toBe(BigInt(Number(m[9]) * 1000));
    });
    expect(events.map((e) => e.attrs?.event_kind)).toEqual(['boot', 'runlevel', 'login-process', 'login', 'login', 'logout', 'shutdown']);
    expect(events[4].attrs?.src_ip).toBe('2001:db8::5');
    expect(events[3]).toMatchObject({ source: 'wtmp', offset: 3 * 384, message: 'login alice on pts/0 from 203.0.113.7', raw_time: '1714558830.123456' });
  });

  it('a partial trailing record is a problem; whole records are kept', async () => {
    const { bytes } = makeWtmp(100);
    const { events, problems } = parseUtmpBytes(bytes, { path: '/var/log/wtmp', host: 'h', kind: 'wtmp' });
    expect(events).toHaveLength(7);
    expect(problems).toEqual([expect.stringMatching(/partial trailing record of 100 bytes at offset 2688/)]);
    // and through the collector, with btmp and a /var/run -> /run symlink deduplicated
    const r = tempRoot();
    roots.push(r);
    writeTree(r, { 'var/log/wtmp': bytes, 'var/log/btmp': bytes.subarray(3 * 384, 4 * 384), 'run/utmp': bytes.subarray(0, 384) });
    fs.symlinkSync('/run', path.join(r, 'var/run'));
    const ctx = contextFor(r);
    const sources = utmpCollector.collect(ctx).sources;
    expect(sources.map((s) => s.id)).toEqual(['/var/log/btmp', '/var/log/wtmp', '/run/utmp']);
    const all = await drain(sources);
    expect(all.filter((e) => e.source === 'btmp').map((e) => e.attrs?.event_kind)).toEqual(['login-failed']);
    expect(all.filter((e) => e.source === 'wtmp')).toHaveLength(7);
    expect(ctx.problems.problems.map((p) => p.reason)).toEqual([expect.stringMatching(/partial trailing record/)]);
  });

  it('an unknown ut_type is skipped with a problem', () => {
    const { bytes } = makeWtmp();
    const bad = bytes.slice(0, 384);
    bad[0] = 0x63;
    const { events, problems } = parseUtmpBytes(bad, { path: '/var/log/wtmp', host: 'h', kind: 'wtmp' });
    expect(events).toEqual([]);
    expect(problems[0]).toMatch(/ut_type 99/);
  });
});

describe('shell history', () => {
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  const info = { path: '/root/.bash_history', host: 'h', user: 'root', shell: 'bash', mtime: 1714600000_000000000n };

  it('bash: #epoch lines time the next command; others take the mtime as an upper bound', () => {
    const { events } = parseHistoryBytes(enc('ls -la\n#1714558830\ndocker run -d --name web nginx\n#1714558840\nsudo docker rm -f web\nexit\n'), info);
    expect(events.map((e) => [e.message, e.time, e.timestamp_desc, e.line])).toEqual([
      ['ls -la', 1714600000_000000000n, 'Content Modification Time', 1],
      ['docker run -d --name web nginx', 1714558830_000000000n, 'Event Recorded Time', 3],
      ['sudo docker rm -f web', 1714558840_000000000n, 'Event Recorded Time', 5],
      ['exit', 1714600000_000000000n, 'Content Modification Time', 6],
    ]);
    expect(events[0].attrs).toEqual({ shell: 'bash', user: 'root', time_is_upper_bound: true });
    expect(events[1].attrs).toMatchObject({ docker_command: true, tool: 'docker', subcommand: 'run' });
    expect(events[2].attrs).toMatchObject({ docker_command: true, subcommand: 'rm' });
    expect(events[1]).toMatchObject({ source: 'bash_history', raw_time: '#1714558830' });
  });

  it('zsh extended history with continuation lines and metafied bytes', () => {
    const bytes = new Uint8Array([...enc(': 1714558830:0;kubectl get pods\n: 1714558831:12;for i in 1 2; do\\\necho $i\\\ndone\n: 1714558840:0;echo caf'), 0x83, 0xc3 ^ 0x20, 0xa9, ...enc('\n')]);
    const { events } = parseHistoryBytes(bytes, { ...info, path: '/root/.zsh_history', shell: 'zsh' });
    expect(events.map((e) => e.message)).toEqual(['kubectl get pods', 'for i in 1 2; do\necho $i\ndone', 'echo café']);
    expect(events[1].attrs).toMatchObject({ duration_seconds: 12 });
    expect(events[0].attrs).toMatchObject({ docker_command: true, tool: 'kubectl', subcommand: 'get' });
  });

  it('binary junk and invalid UTF-8 never throw', () => {
    const { events } = parseHistoryBytes(new Uint8Array([0xff, 0xfe, 0x0a, 0x00, 0x00, 0x6c, 0x73, 0x0a]), info);
    expect(events.map((e) => e.message)).toEqual(['\ufffd\ufffd', 'ls']);
  });

  it('finds histories of /root, /home/* and passwd homes', async () => {
    const r = tempRoot();
    roots.push(r);
    writeTree(r, {
      'etc/passwd': 'root:x:0:0:root:/root:/bin/bash\nsvc:x:999:999::/srv/svc:/bin/sh\n',
      'root/.bash_history': '#1714558830\ndocker ps\n',
      'home/alice/.zsh_history': ': 1714558831:0;podman ps\n',
      'srv/svc/.ash_history': 'id\n',
    }, { 'srv/svc/.ash_history': 1714600000 });
    const events = await drain(shellHistoryCollector.collect(contextFor(r)).sources);
    expect(events.map((e) => `${e.attrs?.user} ${e.attrs?.shell} ${e.message}`).sort()).toEqual(['alice zsh podman ps', 'root bash docker ps', 'svc ash id']);
  });
});
