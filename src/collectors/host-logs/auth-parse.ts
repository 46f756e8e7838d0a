// auth.log / secure messages -> structured attrs: sshd logins and disconnects, PAM sessions, sudo, su, and the
// shadow-utils account tools (useradd, usermod, groupadd, userdel, groupdel, passwd, chpasswd).
// The patterns are the programs' own format strings:
//   openssh auth.c auth_log ("%s %s%s for %s%.100s from %.200s port %d%s%s%s": Accepted/Failed/Postponed
//     <method> for [invalid user ]<user> from <ip> port <n> ssh2[: <key info>]), auth2.c / auth.c
//     ("Invalid user %.100s from %.100s port %d"), packet.c / sshd.c ("Disconnected from user %s %s port %d",
//     "Received disconnect from %s port %d:%u: %.400s", "Connection closed by [authenticating|invalid ]user %s %s
//     port %d [preauth]");
//   linux-pam modules/pam_unix/pam_unix_sess.c ("session opened for user %s(uid=%u) by %s(uid=%lu)",
//     "session closed for user %s"), pam_unix_auth.c ("authentication failure; logname=%s uid=%d euid=%d tty=%s
//     ruser=%s rhost=%s  user=%s");
//   sudo plugins/sudoers/logging.c ("%s : TTY=%s ; PWD=%s ; USER=%s ; COMMAND=%s", with a leading reason such as
//     "3 incorrect password attempts" or "user NOT in sudoers" before TTY on failures);
//   shadow-utils src/su.c (old: "(to %s) %s on %s", "FAILED SU (to %s) %s on %s"), src/useradd.c ("new user:
//     name=%s, UID=%u, GID=%u, home=%s, shell=%s, from=%s", "new group: name=%s, GID=%u"), src/groupadd.c
//     ("group added to %s: name=%s, GID=%u"), src/usermod.c ("add '%s' to group '%s'", "change user '%s' shell
//     from '%s' to '%s'" ...), src/userdel.c ("delete user '%s'", "removed group '%s' owned by '%s'").
// docs/formats/auth-log.md.

export type AuthAttrs = Record<string, unknown> & { event_kind: string };

const SSH_ACCEPTED =
  /^(Accepted|Failed|Postponed) (\S+) for (invalid user )?(.*?) from (\S+) port (\d+)(?: (ssh2?))?(?:: (.*))?$/;
const SSH_INVALID = /^Invalid user (.*?) from (\S+)(?: port (\d+))?$/;
const SSH_DISCONNECTED = /^Disconnected from (?:(invalid |authenticating )?user (\S+) )?(\S+) port (\d+)(?: \[preauth\])?$/;
const SSH_RECEIVED_DISCONNECT = /^Received disconnect from (\S+) port (\d+):(\d+): (.*?)(?: \[preauth\])?$/;
const SSH_CLOSED = /^Connection closed by (?:(invalid |authenticating )?user (\S+) )?(\S+) port (\d+)(?: \[preauth\])?$/;
const PAM_SESSION =
  /^pam_unix\(([^:)]+):session\): session (opened|closed) for user ([^\s(]+)(?:\(uid=(\d+)\))?(?: by ([^\s(]*)(?:\(uid=(\d+)\))?)?$/;
const PAM_AUTH_FAIL = /^pam_unix\(([^:)]+):auth\): authentication failure; (.*)$/;
const SU_OLD = /^(FAILED SU |Successful su )?\(to ([^)]+)\) (\S+) on (\S+)$/;

function kv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/(\w+)=(\S*)/g)) out[m[1]] = m[2];
  return out;
}

/** Options of container tools that take a value (skipped with it when looking for the subcommand). */
const WITH_VALUE = new Set(['-H', '--host', '-c', '--context', '--config', '-l', '--log-level', '-n', '--namespace',
  '-a', '--address', '--kubeconfig', '-f', '--file', '-p', '--project-name', '--url', '--connection']);

/** Flags container tooling in a shell or sudo command line. */
export function containerCommand(cmd: string): { tool: string; subcommand?: string } | undefined {
  const words = cmd.trim().split(/\s+/);
  let i = 0;
  // wrappers
  while (i < words.length && /^(?:sudo|doas|env|nohup|time|exec|command|watch)$/.test(words[i])) {
    i++;
    while (i < words.length && (words[i].startsWith('-') || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]))) i++;
  }
  while (i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i])) i++;
  if (i >= words.length) return undefined;
  const base = words[i].slice(words[i].lastIndexOf('/') + 1);
  const m = /^(docker|podman|nerdctl|ctr|crictl|kubectl|docker-compose|runc|buildah|skopeo|k3s|minikube)$/.exec(base);
  if (!m) return undefined;
  const tool = m[1];
  i++;
  const withValue = WITH_VALUE;
  const sub: string[] = [];
  while (i < words.length && sub.length < 2) {
    const w = words[i];
    if (w.startsWith('-')) {
      if (sub.length > 0) break;
      i += withValue.has(w) && !w.includes('=') ? 2 : 1;
      continue;
    }
    sub.push(w);
    // management commands take a second word: `docker container rm`, `ctr tasks kill`, `docker compose up`
    if (!/^(container|containers|image|images|network|volume|system|compose|builder|buildx|plugin|node|service|stack|swarm|secret|config|context|manifest|trust|tasks|task|c|i|t|snapshots|content|namespaces|ns|pod|pods|machine|generate|kube)$/.test(w)) break;
    i++;
  }
  return { tool, subcommand: sub.length ? sub.join(' ') : undefined };
}

/** JS RegExp `\s` (WhiteSpace and LineTerminator code units). */
function isJsSpace(c: number): boolean {
  return (
    c === 0x20 || (c >= 0x09 && c <= 0x0d) ||
    (c >= 0xa0 &&
      (c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f ||
        c === 0x205f || c === 0x3000 || c === 0xfeff))
  );
}

/** `/^([A-Z]+)=(.*)$/s` on p: the length of the upper-case key before `=`, 0 when p is not KEY=value. */
function upperKeyLength(p: string): number {
  let i = 0;
  for (;;) {
    const c = p.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) i++;
    else return c === 0x3d && i > 0 ? i : 0;
  }
}

/** containerCommand results of recent short sudo commands (they repeat); the results are only read. */
const COMMAND_CACHE = new Map<string, ReturnType<typeof containerCommand>>();
const COMMAND_CACHE_MAX = 1024;
const COMMAND_CACHE_CHARS = 256;

function containerCommandCached(cmd: string): ReturnType<typeof containerCommand> {
  if (cmd.length > COMMAND_CACHE_CHARS) return containerCommand(cmd);
  let cc = COMMAND_CACHE.get(cmd);
  if (cc === undefined && !COMMAND_CACHE.has(cmd)) {
    cc = containerCommand(cmd);
    if (COMMAND_CACHE.size >= COMMAND_CACHE_MAX) COMMAND_CACHE.clear();
    COMMAND_CACHE.set(cmd, cc);
  }
  return cc;
}

function sudoAttrs(message: string): AuthAttrs | undefined {
  // /^\s*(\S+) : (.*)$/s: the first run of non-space after leading space, then exactly " : "
  const n = message.length;
  let us = 0;
  while (us < n && isJsSpace(message.charCodeAt(us))) us++;
  let ue = us;
  while (ue < n && !isJsSpace(message.charCodeAt(ue))) ue++;
  if (ue === us || !message.startsWith(' : ', ue)) return undefined;
  const rest = message.slice(ue + 3);
  // /(?:^| ; )?TTY=|COMMAND=|USER=/
  if (!rest.includes('TTY=') && !rest.includes('COMMAND=') && !rest.includes('USER=')) return undefined;
  const parts = rest.split(' ; ');
  const a: AuthAttrs = { event_kind: 'sudo-command', user: message.slice(us, ue) };
  let at = 0; // offset of parts[i] in rest
  for (let i = 0; i < parts.length; at += parts[i].length + 3, i++) {
    const p = parts[i];
    const kl = upperKeyLength(p);
    if (kl === 0) {
      a.reason = p;
      a.event_kind = 'sudo-failure';
      continue;
    }
    const key = p.slice(0, kl);
    if (key === 'COMMAND') {
      a.command = rest.slice(at + 'COMMAND='.length); // parts[i..] joined again
      break;
    }
    const value = p.slice(kl + 1);
    if (key === 'TTY') a.tty = value;
    else if (key === 'PWD') a.cwd = value;
    else if (key === 'USER') a.target_user = value;
    else if (key === 'GROUP') a.target_group = value;
    else a[key.toLowerCase()] = value;
  }
  if (typeof a.command === 'string') {
    const cc = containerCommandCached(a.command);
    if (cc) {
      a.docker_command = true;
      a.tool = cc.tool;
      if (cc.subcommand) a.subcommand = cc.subcommand;
    }
  }
  return a;
}

const ACCOUNT_TOOLS = /^(useradd|usermod|userdel|groupadd|groupmod|groupdel|gpasswd|passwd|chpasswd|chage|adduser|deluser|newusers)$/;

/** Every message parseAuthMessage matches for any program starts with this (the PAM patterns). */
export const AUTH_ANY_PROGRAM_PREFIX = 'pam_unix(';

/**
 * False when parseAuthMessage(program, message) is undefined for every message not starting with
 * AUTH_ANY_PROGRAM_PREFIX (a cheap pre-check for the syslog hot loop; mirrors parseAuthMessage's dispatch).
 */
export function authProgramKnown(program: string | undefined): boolean {
  const prog = program ?? '';
  return prog === 'sshd' || prog.startsWith('sshd-') || prog === 'sudo' || prog === 'su' || ACCOUNT_TOOLS.test(prog);
}

/**
 * Structured attrs for an authentication message of `program` (the syslog tag: sshd, sudo, su, useradd ...);
 * undefined when the message is not one we know.
 */
export function parseAuthMessage(program: string | undefined, message: string): AuthAttrs | undefined {
  const prog = program ?? '';
  let m: RegExpExecArray | null;
  // PAM lines come from any service (sshd, sudo, su, login, cron, systemd-user); both patterns start with the prefix
  const pam = message.startsWith(AUTH_ANY_PROGRAM_PREFIX);
  if (pam && (m = PAM_SESSION.exec(message))) {
    const a: AuthAttrs = { event_kind: m[2] === 'opened' ? 'session-opened' : 'session-closed', service: m[1], user: m[3] };
    if (m[4] !== undefined) a.uid = Number(m[4]);
    if (m[5] !== undefined && m[5] !== '') a.by_user = m[5];
    if (m[6] !== undefined) a.by_uid = Number(m[6]);
    return a;
  }
  if (pam && (m = PAM_AUTH_FAIL.exec(message))) {
    const f = kv(m[2]);
    const a: AuthAttrs = { event_kind: 'auth-failure', service: m[1] };
    if (f.user) a.user = f.user;
    if (f.rhost) a.src_ip = f.rhost;
    if (f.ruser) a.remote_user = f.ruser;
    if (f.tty) a.tty = f.tty;
    if (f.uid) a.uid = Number(f.uid);
    return a;
  }
  if (prog === 'sshd' || prog.startsWith('sshd-')) {
    if ((m = SSH_ACCEPTED.exec(message))) {
      const a: AuthAttrs = {
        event_kind: m[1] === 'Accepted' ? 'ssh-login' : m[1] === 'Failed' ? 'ssh-login-failed' : 'ssh-login-postponed',
        method: m[2],
        user: m[4],
        src_ip: m[5],
        port: Number(m[6]),
      };
      if (m[3]) a.invalid_user = true;
      if (m[7]) a.protocol = m[7];
      if (m[8]) a.key = m[8];
      return a;
    }
    if ((m = SSH_INVALID.exec(message))) {
      const a: AuthAttrs = { event_kind: 'ssh-invalid-user', user: m[1], src_ip: m[2] };
      if (m[3]) a.port = Number(m[3]);
      return a;
    }
    if ((m = SSH_DISCONNECTED.exec(message))) {
      const a: AuthAttrs = { event_kind: 'ssh-disconnect', src_ip: m[3], port: Number(m[4]) };
      if (m[2]) a.user = m[2];
      if (m[1]) a.user_state = m[1].trim();
      if (message.endsWith('[preauth]')) a.preauth = true;
      return a;
    }
    if ((m = SSH_RECEIVED_DISCONNECT.exec(message))) {
      return { event_kind: 'ssh-disconnect-received', src_ip: m[1], port: Number(m[2]), reason_code: Number(m[3]), reason: m[4] };
    }
    if ((m = SSH_CLOSED.exec(message))) {
      const a: AuthAttrs = { event_kind: 'ssh-connection-closed', src_ip: m[3], port: Number(m[4]) };
      if (m[2]) a.user = m[2];
      if (m[1]) a.user_state = m[1].trim();
      if (message.endsWith('[preauth]')) a.preauth = true;
      return a;
    }
    return undefined;
  }
  if (prog === 'sudo') return sudoAttrs(message);
  if (prog === 'su') {
    if ((m = SU_OLD.exec(message))) {
      return {
        event_kind: m[1] === 'FAILED SU ' ? 'su-failed' : 'su',
        target_user: m[2],
        user: m[3],
        tty: m[4],
      };
    }
    return undefined;
  }
  if (ACCOUNT_TOOLS.test(prog)) {
    return accountAttrs(prog, message);
  }
  return undefined;
}

function accountAttrs(prog: string, message: string): AuthAttrs | undefined {
  let m: RegExpExecArray | null;
  const fields = (text: string): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const part of text.split(/,\s*/)) {
      const eq = part.indexOf('=');
      if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
    }
    return out;
  };
  if ((m = /^new user: (.*)$/.exec(message))) {
    const f = fields(m[1]);
    const a: AuthAttrs = { event_kind: 'user-add', user: f.name };
    if (f.UID) a.uid = Number(f.UID);
    if (f.GID) a.gid = Number(f.GID);
    if (f.home) a.home = f.home;
    if (f.shell) a.shell = f.shell;
    if (f.from) a.tty = f.from;
    return a;
  }
  if ((m = /^(?:new group|group added to \S+?|new group added to \S+?): (.*)$/.exec(message))) {
    const f = fields(m[1]);
    const a: AuthAttrs = { event_kind: 'group-add', group: f.name };
    if (f.GID) a.gid = Number(f.GID);
    return a;
  }
  if ((m = /^add '([^']+)' to (shadow )?group '([^']+)'$/.exec(message))) {
    return { event_kind: 'user-group-add', user: m[1], group: m[3], shadow: m[2] !== undefined };
  }
  if ((m = /^delete '([^']+)' from (shadow )?group '([^']+)'$/.exec(message))) {
    return { event_kind: 'user-group-remove', user: m[1], group: m[3], shadow: m[2] !== undefined };
  }
  if ((m = /^change user '([^']+)' (\w+) from '([^']*)' to '([^']*)'$/.exec(message))) {
    return { event_kind: 'user-change', user: m[1], field: m[2], old_value: m[3], new_value: m[4] };
  }
  if ((m = /^delete user '([^']+)'$/.exec(message))) return { event_kind: 'user-delete', user: m[1] };
  if ((m = /^removed group '([^']+)' owned by '([^']+)'$/.exec(message))) {
    return { event_kind: 'group-delete', group: m[1], user: m[2] };
  }
  if ((m = /^group '([^']+)' removed(?: from \S+)?$/.exec(message))) return { event_kind: 'group-delete', group: m[1] };
  if ((m = /^pam_unix\([^:)]+:chauthtok\): password changed for (\S+)$/.exec(message))) {
    return { event_kind: 'password-change', user: m[1] };
  }
  if ((m = /^password for '([^']+)' changed by '([^']+)'$/.exec(message))) {
    return { event_kind: 'password-change', user: m[1], by_user: m[2] };
  }
  return { event_kind: 'account-change' };
}
