// dockerd/containerd messages -> container events. Fixtures: the real docker.log captured while the sample host
// was built (sample-images/sample-host/var/log/docker.log), checked against the engine's own event stream of the
// same run (sample-images/captures/events.jsonl), plus lines whose wording is quoted from the daemons' sources
// for messages the sample lacks.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { daemonEventFromMessage } from '../../../src/collectors/daemon-events/daemon-events.js';
import { MAX_LOGFMT_FIELDS, parseLogfmt } from '../../../src/collectors/daemon-events/logfmt.js';
import { syslogCollector } from '../../../src/collectors/host-logs/syslog.js';
import { HOST_COLLECTORS } from '../../../src/collectors/registry.js';
import { contextFor, drain } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SAMPLE = path.join(here, '../../../sample-images/sample-host');
const CAPTURES = path.join(here, '../../../sample-images/captures');
const DOCKER_LOG = path.join(SAMPLE, 'var/log/docker.log');
const sampleLines = fs.readFileSync(DOCKER_LOG, 'utf8').split('\n').filter(Boolean);
const line = (needle: string): string => sampleLines.find((l) => l.includes(needle))!;

describe('logfmt', () => {
  it('decodes Go-quoted values and bare values', () => {
    expect(parseLogfmt('time="2026-11-26T17:19:22.786914488Z" level=info msg="[core] parsed scheme: \\"unix\\"" module=grpc')).toEqual({
      time: '2026-11-26T17:19:22.786914488Z', level: 'info', msg: '[core] parsed scheme: "unix"', module: 'grpc',
    });
    expect(parseLogfmt('msg=serving... address=/var/run/docker/containerd/containerd.sock')).toEqual({ msg: 'serving...', address: '/var/run/docker/containerd/containerd.sock' });
    expect(parseLogfmt('a="x\\ty\\u00e9\\x41\\101\\n" b= c')).toEqual({ a: 'x\tyéAA\n', b: '', c: '' });
    expect(parseLogfmt('graphdriver(s)=overlay2 version=20.10.24+dfsg1')).toEqual({ 'graphdriver(s)': 'overlay2', version: '20.10.24+dfsg1' });
  });

  it('rejects what is not logfmt, and too many fields', () => {
    for (const bad of ['hello world', 'msg="unterminated', 'msg="a"b', '"quoted"', 'a="x\\q"']) expect(parseLogfmt(bad), bad).toBeUndefined();
    expect(parseLogfmt(Array.from({ length: MAX_LOGFMT_FIELDS + 1 }, (_, i) => `k${i}=v`).join(' '))).toBeUndefined();
  });
});

describe('the sample host docker.log (real dockerd 20.10 / containerd 1.6 output)', () => {
  it('classifies daemon start-up lines', () => {
    expect(daemonEventFromMessage(line('msg="Starting up"'))).toMatchObject({ source: 'docker:daemon', attrs: { event_kind: 'daemon-start', level: 'info' } });
    expect(daemonEventFromMessage(line('Loading containers: start.'))?.attrs.event_kind).toBe('loading-containers-start');
    expect(daemonEventFromMessage(line('Loading containers: done.'))?.attrs.event_kind).toBe('loading-containers-done');
    expect(daemonEventFromMessage(line('Daemon has completed initialization'))?.attrs.event_kind).toBe('daemon-ready');
    expect(daemonEventFromMessage(line('msg="Docker daemon"'))?.attrs).toMatchObject({ event_kind: 'daemon-version', version: '20.10.24+dfsg1', commit: '5d6db84' });
    expect(daemonEventFromMessage(line('msg="starting containerd"'))).toMatchObject({ source: 'containerd:daemon', attrs: { event_kind: 'containerd-start', revision: '1.6.20~ds1-1+deb12u3' } });
    const sec = daemonEventFromMessage(line('containerd config version'))!;
    expect(sec.rawTime).toBe('2026-11-26T17:19:22Z');
  });

  it('keeps nanoseconds and keys container events by the full id', () => {
    const ev = daemonEventFromMessage(line('msg="ignoring event" container=e4ed0e33'))!;
    expect(ev).toMatchObject({
      source: 'docker:daemon',
      container_id: 'e4ed0e33ba7720d0abef2a13c4bfb88e70027db866af1ce358b319fdca9820d1',
      rawTime: '2026-11-26T17:19:25.894259108Z',
      attrs: { event_kind: 'ignoring-event', topic: '/tasks/delete', task_event: 'task-delete', lifecycle: 'delete', type: '*events.TaskDelete', module: 'libcontainerd', namespace: 'moby' },
    });
    expect(ev.time! % 1_000_000_000n).toBe(894259108n);
    expect(daemonEventFromMessage(line('msg="starting signal loop" namespace=moby path=/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby/6e1830be'))).toMatchObject({
      source: 'containerd:daemon', container_id: '6e1830bebeb4cc23aba5ae29476f88118dbdcbab28ef42abbbaf27441a35c386', attrs: { event_kind: 'shim-start', pid: 427, lifecycle: 'create' },
    });
    expect(daemonEventFromMessage(line('msg="shim disconnected" id=e4ed0e33'))).toMatchObject({
      source: 'containerd:daemon', container_id: 'e4ed0e33ba7720d0abef2a13c4bfb88e70027db866af1ce358b319fdca9820d1', attrs: { event_kind: 'shim-disconnected', lifecycle: 'exit' },
    });
  });

  it('every container die/start of the engine event stream has its daemon-log counterpart', async () => {
    const ctx = contextFor(SAMPLE);
    const events = (await drain(syslogCollector.collect(ctx).sources)).filter((e) => e.path === '/var/log/docker.log');
    expect(events).toHaveLength(sampleLines.length);
    expect(ctx.problems.problems).toEqual([]);
    const captured = fs.readFileSync(path.join(CAPTURES, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const checked = { die: 0, start: 0 };
    for (const e of captured) {
      if (e.Type !== 'container' || (e.Action !== 'die' && e.Action !== 'start')) continue;
      const t = BigInt(e.timeNano);
      const want = e.Action === 'die' ? ['exit', 'delete'] : ['create'];
      const match = events.find(
        (d) => d.container_id === e.id && want.includes(d.attrs?.lifecycle as string) && (d.time > t ? d.time - t : t - d.time) < 1_000_000_000n,
      );
      expect(match, `${e.Action} ${e.id} at ${e.timeNano}`).toBeDefined();
      checked[e.Action as 'die' | 'start']++;
    }
    expect(checked.die).toBeGreaterThan(10);
    expect(checked.start).toBeGreaterThan(10);
  });
});

describe('messages the sample lacks (wording from the daemons sources, lines as real hosts log them)', () => {
  const ID = 'b806a87b780c8b11ecd5057b666a44c1c1dea1d99a519258df20a6e14b735b1c';
  it('forced kills, old and new wording (moby daemon/stop.go)', () => {
    expect(daemonEventFromMessage(`time="2024-02-06T00:00:00.000000000+09:00" level=info msg="Container failed to exit within 10s of signal 15 - using the force" container=${ID}`, 'docker.service')).toMatchObject({
      container_id: ID, attrs: { event_kind: 'kill-forced', timeout: '10s', signal: 15, lifecycle: 'kill' },
    });
    expect(daemonEventFromMessage(`time="2016-05-31T15:26:33.137235364+08:00" level=info msg="Container ${ID} failed to exit within 10 seconds of signal 15 - using the force"`)).toMatchObject({
      container_id: ID, time: 1464679593137235364n, attrs: { timeout_seconds: 10, signal: 15 },
    });
  });

  it('daemon stop (moby cmd/dockerd)', () => {
    expect(daemonEventFromMessage('time="2022-02-07T23:14:39.650748331+08:00" level=info msg="Processing signal \'terminated\'"', 'dockerd')?.attrs).toMatchObject({ event_kind: 'daemon-signal', signal: 'terminated' });
    expect(daemonEventFromMessage('time="2022-02-07T23:14:39.651618153+08:00" level=info msg="Daemon shutdown complete"', 'docker.service')?.attrs).toMatchObject({ event_kind: 'daemon-stop', lifecycle: 'daemon-stop' });
    expect(daemonEventFromMessage('time="2022-02-07T23:14:39.651413602+08:00" level=info msg="stopping event stream following graceful shutdown" error="<nil>" module=libcontainerd namespace=moby')?.attrs).toMatchObject({ event_kind: 'daemon-stopping', error: '<nil>' });
  });

  it('health check failure, OOM, task exit, image pull (moby daemon/health.go, containerd pkg/cri)', () => {
    expect(daemonEventFromMessage(`time="2024-05-01T10:00:00Z" level=warning msg="Health check for container ${ID} error: context deadline exceeded"`)).toMatchObject({
      container_id: ID, attrs: { event_kind: 'health-check-error', error: 'context deadline exceeded', lifecycle: 'health' },
    });
    expect(daemonEventFromMessage(`time="2024-05-01T10:00:00.1Z" level=info msg="TaskOOM event &TaskOOM{ContainerID:${ID},XXX_unrecognized:[],}"`, 'containerd.service')).toMatchObject({
      source: 'containerd:daemon', container_id: ID, attrs: { event_kind: 'oom', lifecycle: 'oom' },
    });
    expect(daemonEventFromMessage(`time="2024-05-01T10:00:00.2Z" level=info msg="TaskExit event &TaskExit{ContainerID:${ID},ID:${ID},Pid:4242,ExitStatus:137,ExitedAt:2024-05-01 10:00:00.19 +0000 UTC,XXX_unrecognized:[],}"`, 'containerd')).toMatchObject({
      container_id: ID, attrs: { event_kind: 'task-exit', exit_status: 137, pid: 4242, lifecycle: 'exit' },
    });
    expect(daemonEventFromMessage('time="2024-05-01T10:00:01Z" level=info msg="PullImage \\"docker.io/library/nginx:latest\\" returns image reference \\"sha256:abc\\""', 'containerd')?.attrs).toMatchObject({
      event_kind: 'image-pull', image: 'docker.io/library/nginx:latest', image_ref: 'sha256:abc', pull_done: true,
    });
  });

  it('non-logfmt messages of a docker unit are kept as plain daemon events; others are not daemon events', () => {
    expect(daemonEventFromMessage('failed to start daemon: Error initializing network controller', 'docker.service')).toMatchObject({ source: 'docker:daemon', attrs: { event_kind: 'log' } });
    expect(daemonEventFromMessage('Started Session 3 of user root.', 'systemd')).toBeUndefined();
  });
});

describe('HOST_COLLECTORS on the sample host', () => {
  it('are registered and read the sample without problems', async () => {
    expect(HOST_COLLECTORS.map((c) => c.name)).toEqual(expect.arrayContaining(['syslog', 'auth-log', 'audit', 'utmp', 'shell-history']));
    const ctx = contextFor(SAMPLE);
    const events = await drain(HOST_COLLECTORS.flatMap((c) => c.collect(ctx).sources));
    expect(events.filter((e) => e.source.endsWith(':daemon')).length).toBe(sampleLines.length);
  });
});
