// auth.log messages (openssh, linux-pam, sudo, su, shadow-utils format strings) and audit.log grouping.
import { describe, expect, it } from 'vitest';
import { containerCommand, parseAuthMessage } from '../../../src/collectors/host-logs/auth-parse.js';
import { AUDIT_GROUP_WINDOW_RECORDS, parseAuditBytes, parseAuditLine } from '../../../src/collectors/host-logs/audit.js';

describe('auth messages', () => {
  it('sshd', () => {
    expect(parseAuthMessage('sshd', 'Accepted publickey for root from 2001:db8::5 port 50522 ssh2: ED25519 SHA256:abc')).toEqual({
      event_kind: 'ssh-login', method: 'publickey', user: 'root', src_ip: '2001:db8::5', port: 50522, protocol: 'ssh2', key: 'ED25519 SHA256:abc',
    });
    expect(parseAuthMessage('sshd', 'Failed password for invalid user admin from 198.51.100.9 port 4242 ssh2')).toMatchObject({
      event_kind: 'ssh-login-failed', invalid_user: true, user: 'admin', method: 'password',
    });
    expect(parseAuthMessage('sshd', 'Invalid user oracle from 198.51.100.9 port 4242')).toEqual({ event_kind: 'ssh-invalid-user', user: 'oracle', src_ip: '198.51.100.9', port: 4242 });
    expect(parseAuthMessage('sshd', 'Disconnected from user alice 203.0.113.7 port 50022')).toMatchObject({ event_kind: 'ssh-disconnect', user: 'alice' });
    expect(parseAuthMessage('sshd', 'Disconnected from invalid user admin 198.51.100.9 port 4242 [preauth]')).toMatchObject({ user_state: 'invalid', preauth: true });
    expect(parseAuthMessage('sshd', 'Received disconnect from 203.0.113.7 port 50022:11: disconnected by user')).toMatchObject({ event_kind: 'ssh-disconnect-received', reason_code: 11 });
    expect(parseAuthMessage('sshd', 'Connection closed by authenticating user root 198.51.100.9 port 22 [preauth]')).toMatchObject({ event_kind: 'ssh-connection-closed', user: 'root' });
    expect(parseAuthMessage('sshd', 'Server listening on 0.0.0.0 port 22.')).toBeUndefined();
  });

  it('PAM sessions and failures from any service', () => {
    expect(parseAuthMessage('sshd', 'pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)')).toEqual({
      event_kind: 'session-opened', service: 'sshd', user: 'alice', uid: 1000, by_uid: 0,
    });
    expect(parseAuthMessage('sudo', 'pam_unix(sudo:session): session closed for user root')).toEqual({ event_kind: 'session-closed', service: 'sudo', user: 'root' });
    expect(parseAuthMessage('su', 'pam_unix(su-l:session): session opened for user root(uid=0) by alice(uid=1000)')).toMatchObject({ by_user: 'alice', by_uid: 1000 });
    expect(parseAuthMessage('sshd', 'pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=198.51.100.9  user=root')).toMatchObject({
      event_kind: 'auth-failure', user: 'root', src_ip: '198.51.100.9',
    });
  });

  it('sudo commands and failures', () => {
    expect(parseAuthMessage('sudo', '   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/docker exec -it web sh -c a ; b')).toEqual({
      event_kind: 'sudo-command', user: 'alice', tty: 'pts/0', cwd: '/home/alice', target_user: 'root',
      command: '/usr/bin/docker exec -it web sh -c a ; b', docker_command: true, tool: 'docker', subcommand: 'exec',
    });
    expect(parseAuthMessage('sudo', 'mallory : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/tmp ; USER=root ; COMMAND=/bin/bash')).toMatchObject({
      event_kind: 'sudo-failure', reason: '3 incorrect password attempts', command: '/bin/bash',
    });
    expect(parseAuthMessage('sudo', 'mallory : user NOT in sudoers ; TTY=pts/1 ; PWD=/tmp ; USER=root ; COMMAND=/bin/id')).toMatchObject({ event_kind: 'sudo-failure' });
  });

  it('su and account tools', () => {
    expect(parseAuthMessage('su', '(to root) alice on pts/0')).toEqual({ event_kind: 'su', target_user: 'root', user: 'alice', tty: 'pts/0' });
    expect(parseAuthMessage('su', 'FAILED SU (to root) alice on pts/0')).toMatchObject({ event_kind: 'su-failed' });
    expect(parseAuthMessage('useradd', 'new user: name=bob, UID=1001, GID=1001, home=/home/bob, shell=/bin/bash, from=/dev/pts/0')).toEqual({
      event_kind: 'user-add', user: 'bob', uid: 1001, gid: 1001, home: '/home/bob', shell: '/bin/bash', tty: '/dev/pts/0',
    });
    expect(parseAuthMessage('groupadd', 'group added to /etc/group: name=docker, GID=999')).toEqual({ event_kind: 'group-add', group: 'docker', gid: 999 });
    expect(parseAuthMessage('usermod', "add 'bob' to group 'docker'")).toMatchObject({ event_kind: 'user-group-add', user: 'bob', group: 'docker', shadow: false });
    expect(parseAuthMessage('usermod', "add 'bob' to shadow group 'docker'")).toMatchObject({ shadow: true });
    expect(parseAuthMessage('userdel', "delete user 'bob'")).toEqual({ event_kind: 'user-delete', user: 'bob' });
  });

  it('flags container tooling', () => {
    expect(containerCommand('docker run -d --name x nginx')).toEqual({ tool: 'docker', subcommand: 'run' });
    expect(containerCommand('sudo -E docker -H tcp://1.2.3.4:2375 container rm -f x')).toEqual({ tool: 'docker', subcommand: 'container rm' });
    expect(containerCommand('/usr/bin/ctr -n moby tasks kill abc')).toEqual({ tool: 'ctr', subcommand: 'tasks kill' });
    expect(containerCommand('kubectl exec -it pod -- sh')).toEqual({ tool: 'kubectl', subcommand: 'exec' });
    expect(containerCommand('podman')).toEqual({ tool: 'podman', subcommand: undefined });
    expect(containerCommand('echo docker run')).toBeUndefined();
  });
});

// Real-format auditd records (a sudo/execve event as `ausearch --raw` prints it).
const AUDIT = [
  'type=SYSCALL msg=audit(1714558830.123:456): arch=c000003e syscall=59 success=yes exit=0 a0=55d1 a1=55d2 a2=55d3 a3=0 items=2 ppid=1000 pid=1001 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm="docker" exe="/usr/bin/docker" subj=unconfined key="docker-exec"',
  'type=EXECVE msg=audit(1714558830.123:456): argc=4 a0="docker" a1="run" a2="-v" a3=2F3A2F686F7374206D6F756E74',
  'type=CWD msg=audit(1714558830.123:456): cwd=2F686F6D652F616C69636520646972',
  'type=PATH msg=audit(1714558830.123:456): item=0 name="/usr/bin/docker" inode=1234 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL',
  'type=PATH msg=audit(1714558830.123:456): item=1 name=(null) inode=99 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL',
  'type=PROCTITLE msg=audit(1714558830.123:456): proctitle=646F636B65720072756E002D76',
  'type=EOE msg=audit(1714558830.123:456): ',
  "type=USER_START msg=audit(1714558831.500:457): pid=1002 uid=0 auid=1000 ses=3 subj=unconfined msg='op=PAM:session_open grantors=pam_limits,pam_unix acct=\"root\" exe=\"/usr/bin/sudo\" hostname=? addr=? terminal=/dev/pts/0 res=success'\u001dUID=\"root\" AUID=\"alice\"",
  'node=web01 type=SERVICE_START msg=audit(1714558832.000:458): pid=1 uid=0 auid=4294967295 ses=4294967295 msg=\'unit=docker comm="systemd" exe="/usr/lib/systemd/systemd" hostname=? addr=? terminal=? res=success\'',
].join('\n') + '\n';

describe('audit.log', () => {
  const info = { path: '/var/log/audit/audit.log', host: 'h', compressed: false };

  it('groups records by serial, decodes hex values, proctitle NULs -> spaces', () => {
    const { events, problems } = parseAuditBytes(new TextEncoder().encode(AUDIT), info);
    expect(problems).toEqual([]);
    expect(events).toHaveLength(3);
    const [ex, us, svc] = events;
    expect(ex).toMatchObject({ source: 'audit', raw_time: '1714558830.123:456', line: 1, offset: 0 });
    expect(ex.time).toBe(1714558830123000000n);
    expect(ex.attrs).toMatchObject({
      types: ['SYSCALL', 'EXECVE', 'CWD', 'PATH', 'PATH', 'PROCTITLE'], serial: '456', exe: '/usr/bin/docker', comm: 'docker',
      uid: '0', auid: '1000', euid: '0', key: 'docker-exec', syscall: '59', syscall_name: 'execve', success: 'yes', exit: '0',
      cwd: '/home/alice dir', names: ['/usr/bin/docker'], proctitle: 'docker run -v', execve_args: ['docker', 'run', '-v', '/:/host mount'],
    });
    expect(ex.message).toMatch(/^SYSCALL,EXECVE,CWD,PATH,PATH,PROCTITLE execve exe=\/usr\/bin\/docker .* proctitle=docker run -v$/);
    expect(us.attrs).toMatchObject({ types: ['USER_START'], acct: 'root', exe: '/usr/bin/sudo', op: 'PAM:session_open', res: 'success', terminal: '/dev/pts/0' });
    expect((us.attrs?.record_fields as Array<Record<string, unknown>>)[0].enriched).toEqual({ UID: 'root', AUID: 'alice' });
    expect(svc.attrs).toMatchObject({ node: 'web01', comm: 'systemd' });
  });

  it('broken msg=audit(...) stamps and garbage are problems; groups still flush', () => {
    const text = 'type=SYSCALL msg=audit(17145588:1): x=1\ntype=SYSCALL msg=audit(abc.def:1): x=1\nhello\n' + AUDIT;
    const { events, problems } = parseAuditBytes(new TextEncoder().encode(text), info);
    expect(events).toHaveLength(3);
    expect(problems).toEqual([
      expect.stringMatching(/^line 1: broken msg=audit/),
      expect.stringMatching(/^line 2: broken msg=audit/),
      expect.stringMatching(/^line 3: not an audit record/),
    ]);
  });

  it('a group without EOE is flushed after AUDIT_GROUP_WINDOW_RECORDS records (bounded memory)', () => {
    const lines = ['type=SYSCALL msg=audit(1.000:1): syscall=59 exe="/a"'];
    for (let i = 0; i < AUDIT_GROUP_WINDOW_RECORDS + 5; i++) lines.push(`type=USER_CMD msg=audit(2.000:${100 + i}): cmd=6C73`);
    lines.push('type=PATH msg=audit(1.000:1): name="/late"');
    const { events } = parseAuditBytes(new TextEncoder().encode(lines.join('\n')), info);
    const serial1 = events.filter((e) => e.attrs?.serial === '1');
    expect(serial1).toHaveLength(2); // the late record could not rejoin its group
    expect(events.find((e) => e.attrs?.serial === '100')?.attrs?.cmd).toBe('ls');
  });

  it('parseAuditLine keeps (null) and quoted values as they are', () => {
    const r = parseAuditLine('type=PATH msg=audit(1.001:2): name=(null) key=(null)');
    expect(typeof r === 'object' && r.fields).toEqual({ name: '(null)', key: '(null)' });
  });
});
