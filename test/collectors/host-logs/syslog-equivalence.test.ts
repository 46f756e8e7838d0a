// The syslog reader's byte-level fast path (syslog-sink.ts) against its reference path (parseSyslogLine on the
// decoded line): the same events (same attrs in the same key order) and the same problems on a corpus of usual
// and unusual lines; plus the hot-loop helpers against what they replace.
import { describe, expect, it } from 'vitest';
import { parseSyslogBytes, type SyslogFileInfo } from '../../../src/collectors/host-logs/syslog.js';
import { month3164, monthDay3164 } from '../../../src/collectors/host-logs/syslog-parse.js';
import { FixedZone, PosixZone, parsePosixTz } from '../../../src/collectors/host-logs/tzif.js';
import type { HostZone } from '../../../src/collectors/host-logs/timezone.js';
import { parseLogfmt, parseLogfmtPairs } from '../../../src/collectors/daemon-events/logfmt.js';
import { rfc3339Nano } from '../../../src/collectors/daemon-events/daemon-events.js';
import { parseRfc3339Nano } from '../../../src/events/time.js';

const UTC: HostZone = { zone: new FixedZone('UTC'), name: 'UTC', source: 'assumed UTC', data: 'none' };
const BERLIN: HostZone = {
  zone: new PosixZone('Europe/Berlin', parsePosixTz('CET-1CEST,M3.5.0,M10.5.0/3')!),
  name: 'Europe/Berlin',
  source: 'etc/localtime',
  data: 'evidence-tzif',
};
const ID = 'e4ed0e33ba7720d0abef2a13c4bfb88e70027db866af1ce358b319fdca9820d1';

const MESSAGES = [
  'sshd[1234]: Accepted publickey for alice from 203.0.113.7 port 50022 ssh2: ED25519 SHA256:q2nXgq',
  'sshd[12]: Failed password for invalid user bob from 10.0.0.9 port 22 ssh2',
  'sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/docker run -it --rm alpine sh',
  'sudo:     bob : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/ ; USER=root ; LOG=x ; COMMAND=/bin/ls ; a ; b',
  'sudo: pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)',
  'cron[5]: pam_unix(cron:session): session closed for user root',
  'kernel: [    1.000000] docker0: port 1(veth12) entered forwarding state',
  'CRON[2000]: (root) CMD (   cd / && run-parts --report /etc/cron.hourly)',
  `dockerd[812]: time="2024-03-01T10:00:00.000000004Z" level=info msg="ignoring event" container=${ID} module=libcontainerd namespace=moby topic=/tasks/delete type="*events.TaskDelete"`,
  `dockerd[812]: time="2024-03-01T10:00:00Z" level=info msg="Container ${ID} failed to exit within 10 seconds of signal 15 - using the force" pid=7`,
  `dockerd: time="2024-03-01T10:00:00+01:00" level=info msg="shim disconnected" id=${ID} pid=9 log=x hostname=y`,
  `containerd[77]: time="2024-03-01T10:00:00.1-05:30" level=info msg="cleaning up \\"dead\\" shim" 1=one 0=zero`,
  'dockerd[812]: plain unstructured dockerd text',
  'containerd: time="bad" msg="x"',
  'systemd[1]: Started Session 7 of user alice.',
  'useradd[99]: new user: name=eve, UID=1001, GID=1001, home=/home/eve, shell=/bin/bash, from=/dev/pts/0',
  'su: (to root) alice on pts/1',
  'prog[abc]: non-numeric pid', 'prog[1234567890123456789]: long pid', 'prog[]: empty pid', 'prog[12 3]: space in pid',
  `prog[${'9'.repeat(33)}]: pid too long`, 'prog:', 'prog: ', 'prog:x no space', 'prog', `${'t'.repeat(129)}: long tag`,
  `${'t'.repeat(128)}: tag 128`, 'prögram[1]: non-ascii tag', 'prog[1]: ünïcödé message ✓', 'no tag here at all',
  'weird]tag: x', 'a:b: colon', 'tag\twith: tab', 'prog[1]:', 'prog[1]', '[1]: bracket first', 'p[1][2]: two',
  'constructor[1]: toString', 'sshd-session[4]: Invalid user x from 1.2.3.4 port 4',
  'sshd[1]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4  user=root',
];
const TIMES = [
  'Mar  1 10:20:30', 'Mar 1 10:20:30', 'Mar 11 10:20:31', 'Mar  1 10:20:30.5', 'Mar  1 10:20:30.123456789', 'Dec 31 23:59:60',
  'Jan  1 00:00:00', 'Mar 31 02:30:00', 'Oct 27 02:30:00', 'Oct 27 02:59:59', 'Mar 31 01:59:59',
  '2024-05-01T10:20:30.123456+02:00', '2024-05-01T10:20:30Z', '2024-05-01T10:20:30,5-0530', '2024-05-01 10:20:30',
  '2024-05-01T10:20:30.1234567891234', '2024-10-27T02:30:00', '2024-05-01T10:20:30-00:00', '<38>Mar  1 10:20:30',
  '<165>1 2024-05-01T10:20:30.003Z', 'Foo  1 10:20:30', 'May 41 10:20:30', 'May  1 25:00:00', 'May  1 10:61:00',
  'May 123 10:00:00', 'MAY  1 10:00:00', 'May  1 10:00:00.', 'May  1 10:00:00.1234567890', 'May 00 10:00:00',
  '2024-13-01T00:00:00Z', '2024-05-01T10:20:30+2:00', '2024-05-01T10:20:30Zx',
];
const HOSTS = ['web01', 'hôst', '', ' ', 'h\t'];

function corpus(): Uint8Array {
  const parts: Uint8Array[] = [];
  const enc = new TextEncoder();
  let i = 0;
  for (const t of TIMES) {
    for (const h of HOSTS) {
      for (const m of MESSAGES) {
        i++;
        parts.push(enc.encode(t.startsWith('<165>1') ? `${t} ${h || '-'} app 1 ID - ${m}\n` : `${t} ${h} ${m}\n`));
      }
    }
  }
  // raw bytes: invalid UTF-8 in the host name and message, CRLF, bare logfmt, blank and binary lines
  parts.push(Uint8Array.from([...enc.encode('Mar  1 10:20:30 h'), 0xff, 0xc3, ...enc.encode(' prog[1]: caf'), 0xe9, 0x0d, 0x0a]));
  parts.push(enc.encode(`time="2024-03-01T10:00:00Z" level=info msg="Starting up"\n\n   \n\tcontinuation\nDec 30 08:00:00 h a: back\n`));
  parts.push(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 0x0a]));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const ser = (v: unknown): string => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x));

describe('fast path = reference path', () => {
  const bytes = corpus();
  for (const [zoneName, zone] of [['UTC', UTC], ['Europe/Berlin', BERLIN]] as const) {
    for (const kind of ['syslog', 'auth.log', 'docker.log'] as const) {
      it(`${kind} in ${zoneName}: same events (attrs in the same order) and problems`, () => {
        const info: SyslogFileInfo = { path: `/var/log/${kind}`, host: 'h', compressed: kind === 'docker.log', kind };
        const year = { startYear: 2024, source: 'mtime' as const };
        // chunked feeding too: lines cut across chunks
        const chunks: Uint8Array[] = [];
        for (let i = 0; i < bytes.length; i += 777) chunks.push(bytes.subarray(i, i + 777));
        const fast = parseSyslogBytes(chunks, info, zone, year);
        const slow = parseSyslogBytes(bytes, info, zone, year, undefined, false);
        expect(fast.events.length).toBeGreaterThan(1000);
        expect(fast.events.map(ser)).toEqual(slow.events.map(ser));
        expect(fast.problems).toEqual(slow.problems);
      });
    }
  }
});

describe('hot-loop helpers', () => {
  it('monthDay3164 packs what month3164 returns', () => {
    const enc = new TextEncoder();
    for (const l of ['Mar  1 10:20:30 h', 'Dec 39 10:20:30 h', '<13>Jan  9 00:00:00 h', 'Foo  1 10:20:30 h', 'Mar 1 10:20:30 h', '<9999>Jan']) {
      const b = enc.encode(l);
      const md = monthDay3164(b, 0, b.length);
      const ref = month3164(b, 0, b.length);
      expect(md < 0 ? undefined : { month: md >> 6, day: md & 63 }, l).toEqual(ref);
    }
  });

  it('parseLogfmtPairs holds parseLogfmt fields (repeated keys: first place, last value)', () => {
    for (const l of ['a=1 b="x y" a=2 c', 'time="t" msg="m\\"q" level=info', 'msg=', 'x', 'k="unterminated']) {
      const p = parseLogfmtPairs(l);
      const o = parseLogfmt(l);
      if (!p) {
        expect(o).toBeUndefined();
        continue;
      }
      expect(Object.fromEntries(p.keys.map((k, i) => [k, p.values[i]]))).toEqual({ ...o });
      expect(p.keys).toEqual(Object.keys(o!));
    }
  });

  it('rfc3339Nano = parseRfc3339Nano', () => {
    for (const t of [
      '2024-03-01T10:00:00Z', '2024-03-01T10:00:00.000000004Z', '2024-03-01t10:00:00.1234567891z', '2024-03-01 10:00:00+01:00',
      '2024-03-01T10:00:00-0530', '2024-03-01T10:00:00.5+05:3', '2024-13-01T10:00:00Z', '2024-03-01T10:00:00', '2024-03-01T10:00:00.Z',
      '999x-03-01T10:00:00Z', '2024-03-01T10:00:60Z', '2024-03-01T24:00:00Z', 'bad', '2024-03-01T10:00:00Z ', '0001-01-01T00:00:00-23:59',
    ]) {
      expect(rfc3339Nano(t), t).toBe(parseRfc3339Nano(t));
    }
  });
});
