// Findings on the real-Docker sample host (priv, web, tamper) and on generated configurations and host files.
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ProblemLog } from '../../src/events/event.js';
import { HostDirVfs } from '../../src/fs/host-dir/host-dir.js';
import { collectDocker } from '../../src/collectors/docker/collect.js';
import type { ContainerRecord } from '../../src/collectors/docker/containers.js';
import { computeFindings, type Finding, findingEvents, journaldStorage, MAX_TIME_STEP_FINDINGS, RULES, timeStepFindings } from '../../src/findings/index.js';
import { TimeDesc, type TimelineEvent } from '../../src/events/event.js';
import { REPO } from '../fixtures-scripts/assembly-images.js';
import { tempDir } from '../helpers/corpus.js';

const SAMPLE = path.join(REPO, 'sample-images/sample-host');

function sampleFindings(): { findings: Finding[]; containers: ContainerRecord[] } {
  const vfs = new HostDirVfs(SAMPLE);
  const ctx = { vfs, host: 'flotsam-sample', problems: new ProblemLog() };
  const d = collectDocker(ctx);
  return { findings: computeFindings(ctx, { containers: d.containers, diffs: d.diffs, isLinuxRoot: true }), containers: d.containers };
}

const has = (fs_: Finding[], name: string, rule: string, field?: string): boolean =>
  fs_.some((f) => f.container_name === name && f.rule === rule && (field === undefined || f.evidence_field.includes(field)));

describe('findings on the sample host', () => {
  const { findings } = sampleFindings();

  it('flags priv: privileged, docker.sock, host PID namespace, SYS_ADMIN', () => {
    expect(has(findings, 'priv', 'privileged-container', 'HostConfig.Privileged')).toBe(true);
    expect(has(findings, 'priv', 'runtime-socket-mount', '/var/run/docker.sock')).toBe(true);
    expect(has(findings, 'priv', 'host-pid-namespace', 'HostConfig.PidMode')).toBe(true);
    expect(has(findings, 'priv', 'dangerous-capability', 'SYS_ADMIN')).toBe(true);
    const priv = findings.find((f) => f.rule === 'privileged-container')!;
    expect(priv.evidence_path).toMatch(/\/containers\/[0-9a-f]{64}\/hostconfig\.json$/);
    expect(priv.severity).toBe('critical');
    // the bind-mount stub Docker created in the writable layer is not an "executable added"
    expect(findings.some((f) => f.container_name === 'priv' && f.rule === 'executable-in-writable-layer')).toBe(false);
  });

  it('flags web port 0.0.0.0:8080 and tamper /tmp/evil.sh (added under /tmp, executable)', () => {
    const port = findings.find((f) => f.container_name === 'web' && f.rule === 'port-all-interfaces')!;
    expect(port.message).toContain('0.0.0.0:8080');
    expect(has(findings, 'tamper', 'added-file-in-tmp', 'A /tmp/evil.sh')).toBe(true);
    expect(has(findings, 'tamper', 'executable-in-writable-layer', 'A /tmp/evil.sh')).toBe(true);
    expect(has(findings, 'web', 'added-file-in-tmp', 'A /tmp/exec-was-here')).toBe(true);
    expect(has(findings, 'web', 'executable-in-writable-layer')).toBe(false);
  });

  it('readiness: daemon.json sets max-size (no size finding); no persistent journal on this host', () => {
    expect(findings.some((f) => f.rule === 'json-file-no-size-limit')).toBe(false);
    expect(findings.some((f) => f.rule === 'log-file-missing')).toBe(false);
    expect(findings.filter((f) => f.rule === 'no-persistent-journal')).toHaveLength(1);
  });

  it('is deterministic, sorted by severity, and every rule is declared', () => {
    const again = sampleFindings().findings;
    expect(again).toEqual(findings);
    const ranks = findings.map((f) => ['critical', 'high', 'medium', 'low', 'info'].indexOf(f.severity));
    expect([...ranks].sort((a, b) => a - b)).toEqual(ranks);
    for (const f of findings) expect(RULES[f.rule], f.rule).toBeDefined();
    const evs = findingEvents(findings);
    expect(evs.length).toBeGreaterThan(0);
    for (const e of evs) {
      expect(e.source).toBe('finding');
      expect(e.attrs).toMatchObject({ severity: expect.any(String), rule: expect.any(String) });
    }
  });
});

describe('findings on generated configurations', () => {
  const t = tempDir('flotsam-findings-');
  afterAll(() => t.cleanup());
  const base = sampleFindings().containers.find((c) => c.name === 'job-ok')!;

  function run(c: Partial<ContainerRecord>, files: Record<string, string> = {}, dirs: string[] = []): Finding[] {
    const root = fs.mkdtempSync(path.join(t.dir, 'h-'));
    for (const [p, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
      fs.writeFileSync(path.join(root, p), text);
    }
    for (const d of dirs) fs.mkdirSync(path.join(root, d), { recursive: true });
    const ctx = { vfs: new HostDirVfs(root), host: 'gen', problems: new ProblemLog() };
    const rec = { ...base, ...c } as ContainerRecord;
    return computeFindings(ctx, { containers: [rec], diffs: new Map(), isLinuxRoot: true });
  }

  const mount = (source: string, destination: string, rw = true) => ({ source, destination, rw, type: 'bind', name: '', driver: '' });

  it('host namespaces, capabilities (CAP_ prefix, case, ALL), sensitive mounts, port binding interfaces', () => {
    const f = run({
      user: '1000:1000',
      networkMode: 'host',
      ipcMode: 'host',
      capAdd: ['cap_net_admin', 'ALL', 'CHOWN'],
      mounts: [mount('/', '/host', false), mount('/etc', '/h/etc', false), mount('/run/docker.sock', '/s'), mount('/srv/data', '/data')],
      portBindings: [
        { containerPort: '80/tcp', hostIp: '127.0.0.1', hostPort: '80' },
        { containerPort: '443/tcp', hostIp: '::', hostPort: '443' },
        { containerPort: '22/tcp', hostIp: '', hostPort: '' },
      ],
    }, {}, ['var/log/journal']);
    const rules = f.map((x) => `${x.rule}|${x.evidence_field}|${x.severity}`).sort();
    expect(rules).toEqual(
      [
        'dangerous-capability|HostConfig.CapAdd["ALL"]|critical',
        'dangerous-capability|HostConfig.CapAdd["cap_net_admin"]|high',
        'host-ipc-namespace|HostConfig.IpcMode|medium',
        'host-network-namespace|HostConfig.NetworkMode|medium',
        'host-root-mount|MountPoints["/host"].Source|critical',
        'port-all-interfaces|HostConfig.PortBindings["22/tcp"]|medium',
        'port-all-interfaces|HostConfig.PortBindings["443/tcp"]|medium',
        'runtime-socket-mount|MountPoints["/s"].Source|critical',
        'sensitive-host-mount|MountPoints["/h/etc"].Source|medium',
      ].sort(),
    );
  });

  it('runs-as-root for empty, 0, root and root:group users only', () => {
    for (const [user, flagged] of [['', true], ['0', true], ['root', true], ['root:wheel', true], ['0:0', true], ['1000', false], ['nobody', false]] as const) {
      expect(run({ user }, {}, ['var/log/journal']).some((x) => x.rule === 'runs-as-root'), user).toBe(flagged);
    }
  });

  it('json-file without max-size: flagged unless daemon.json log-opts has one; --log-driver none; missing log file', () => {
    const noLimit = run({ logOptions: {} }, { '/etc/docker/daemon.json': '{"log-driver":"json-file"}' }, ['var/log/journal']);
    expect(noLimit.find((x) => x.rule === 'json-file-no-size-limit')?.message).toContain('/etc/docker/daemon.json');
    const daemonLimit = run({ logOptions: {} }, { '/etc/docker/daemon.json': '{"log-opts":{"max-size":"10m"}}' }, ['var/log/journal']);
    expect(daemonLimit.some((x) => x.rule === 'json-file-no-size-limit')).toBe(false);
    expect(run({ logDriver: 'none' }, {}, ['var/log/journal']).some((x) => x.rule === 'log-driver-none')).toBe(true);
    const missing = run({ logFiles: [] }, {}, ['var/log/journal']);
    expect(missing.find((x) => x.rule === 'log-file-missing')?.message).toContain('-json.log');
    // never started: no log file expected
    const created = run({ logFiles: [], started: { raw: '0001-01-01T00:00:00Z', zero: true }, hasBeenStartedBefore: false }, {}, ['var/log/journal']);
    expect(created.some((x) => x.rule === 'log-file-missing')).toBe(false);
  });

  it('journald Storage= from journald.conf and drop-ins, and /var/log/journal', () => {
    const j = (files: Record<string, string>, dirs: string[] = []) => run({}, files, dirs).filter((x) => x.rule === 'no-persistent-journal');
    expect(j({})).toHaveLength(1); // auto, no /var/log/journal
    expect(j({}, ['var/log/journal'])).toHaveLength(0); // auto with the directory = persistent
    expect(j({ '/etc/systemd/journald.conf': '[Journal]\nStorage=persistent\n' })).toHaveLength(0);
    const vol = j({ '/etc/systemd/journald.conf': '[Journal]\nStorage=persistent\n', '/etc/systemd/journald.conf.d/10-v.conf': '[Journal]\nStorage=volatile\n' }, ['var/log/journal']);
    expect(vol).toHaveLength(1);
    expect(vol[0]).toMatchObject({ evidence_path: '/etc/systemd/journald.conf.d/10-v.conf', evidence_field: 'Journal.Storage' });
    expect(j({ '/etc/systemd/journald.conf': '[Other]\nStorage=none\n[Journal]\n#Storage=none\n' }, ['var/log/journal'])).toHaveLength(0);
    const root = fs.mkdtempSync(path.join(t.dir, 'j-'));
    fs.mkdirSync(path.join(root, 'etc/systemd'), { recursive: true });
    fs.writeFileSync(path.join(root, 'etc/systemd/journald.conf'), '[Journal]\nStorage=none\n');
    expect(journaldStorage(new HostDirVfs(root))).toEqual({ value: 'none', path: '/etc/systemd/journald.conf' });
  });

  it('no host-level findings for a bare data root', () => {
    const ctx = { vfs: new HostDirVfs(t.dir), host: 'gen', problems: new ProblemLog() };
    const f = computeFindings(ctx, { containers: [], diffs: new Map(), isLinuxRoot: false });
    expect(f).toEqual([]);
  });
});

describe('timeStepFindings', () => {
  const base = { timestamp_desc: TimeDesc.recorded, source: 'docker:json-log', host: 'h', message: 'm' };
  const log = '/var/lib/docker/containers/abc/abc-json.log';
  it('names the log, both lines and times, and how far back, in one medium finding per step', () => {
    const before: TimelineEvent = { ...base, time: 1_714_557_604_714_913_809n, path: log, line: 821, container_id: 'abcdef0123456789', container_name: 'web', raw_time: 'r1' };
    const after: TimelineEvent = { ...before, time: 1_714_554_004_715_225_768n, line: 822, raw_time: '2024-05-01T09:00:04.715225768Z' };
    const [f, g] = timeStepFindings('h', [
      { before, after },
      { before: { ...base, time: 90_061_000_000_000n, path: '/var/log/syslog', line: 2 }, after: { ...base, time: 0n, path: '/var/log/syslog', line: 3 } },
    ]);
    expect(f).toEqual({
      rule: 'log-time-steps-back',
      severity: 'medium',
      host: 'h',
      container_id: 'abcdef0123456789',
      container_name: 'web',
      evidence_path: log,
      evidence_field: 'line 822',
      message:
        `web (abcdef012345): time goes back 59 min 59.999688041 s in ${log} at line 822: 2024-05-01T09:00:04.715225768Z ` +
        'follows 2024-05-01T10:00:04.714913809Z (line 821); the host clock was set back, or the file was edited',
      time: after.time,
      time_desc: TimeDesc.recorded,
      raw_time: '2024-05-01T09:00:04.715225768Z',
    });
    expect(g.message).toBe(
      'time goes back 1 d 1 h 1 min 1 s in /var/log/syslog at line 3: 1970-01-01T00:00:00.000000000Z follows ' +
        '1970-01-02T01:01:01.000000000Z (line 2); the host clock was set back, or the file was edited',
    );
    expect(RULES[g.rule].severity).toBe('medium');
  });

  it(`lists MAX_TIME_STEP_FINDINGS (${MAX_TIME_STEP_FINDINGS}) steps at most`, () => {
    const step = { before: { ...base, time: 5_000_000_000n, path: '/l', line: 1 }, after: { ...base, time: 0n, path: '/l', line: 2 } };
    expect(timeStepFindings('h', Array.from({ length: MAX_TIME_STEP_FINDINGS + 5 }, () => step))).toHaveLength(MAX_TIME_STEP_FINDINGS);
  });
});
