// The Docker state collector against sample-images/sample-host (built by a real dockerd), compared with what the
// docker CLI reported just before the snapshot (sample-images/captures). Ids and times change on every rebuild, so
// everything is read from the captures, never hard-coded.
import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProblemLog, type TimelineEvent } from '../../../src/events/event.js';
import { HostDirVfs } from '../../../src/fs/host-dir/host-dir.js';
import { collectDocker, type DockerCollection } from '../../../src/collectors/docker/collect.js';
import type { ContainerRecord } from '../../../src/collectors/docker/containers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SAMPLE = path.resolve(here, '../../../sample-images');
const HOST = path.join(SAMPLE, 'sample-host');
const CAPTURES = path.join(SAMPLE, 'captures');
const available = fs.existsSync(path.join(HOST, 'var/lib/docker')) && fs.existsSync(path.join(CAPTURES, 'inspect.json'));
if (!available) console.warn(`\n*** SKIPPING sample-host docker state tests: ${HOST} or ${CAPTURES} missing ***\n`);

// docker inspect output (only the fields compared).
interface Inspect {
  Id: string;
  Name: string;
  Created: string;
  Image: string;
  Driver: string;
  LogPath: string;
  RestartCount: number;
  State: { Status: string; Running: boolean; Restarting: boolean; ExitCode: number; Pid: number; StartedAt: string; FinishedAt: string; OOMKilled: boolean };
  Config: { Image: string; Labels: Record<string, string> | null; Env: string[] | null; Cmd: string[] | null };
  HostConfig: {
    Privileged: boolean;
    CapAdd: string[] | null;
    PidMode: string;
    NetworkMode: string;
    LogConfig: { Type: string; Config: Record<string, string> };
    RestartPolicy: { Name: string; MaximumRetryCount: number };
    PortBindings: Record<string, Array<{ HostIp: string; HostPort: string }>> | null;
  };
  Mounts: Array<{ Type: string; Name?: string | null; Source: string; Destination: string; RW: boolean }>;
}

describe.skipIf(!available)('sample-host vs docker CLI captures (skipped: sample-images/sample-host absent)', () => {
  let c: DockerCollection;
  let problems: ProblemLog;
  let events: TimelineEvent[];
  let inspect: Inspect[];
  let byId: Map<string, ContainerRecord>;

  beforeAll(async () => {
    problems = new ProblemLog();
    c = collectDocker({ vfs: new HostDirVfs(HOST), host: 'flotsam-sample', problems });
    events = [];
    for (const s of c.sources) for await (const b of s.open()) events.push(...b);
    inspect = JSON.parse(fs.readFileSync(path.join(CAPTURES, 'inspect.json'), 'utf8')) as Inspect[];
    byId = new Map(c.containers.map((r) => [r.id, r]));
  });

  it('finds the default data root (daemon.json has no data-root)', () => {
    expect(c.roots).toEqual([{ path: '/var/lib/docker', how: ['default /var/lib/docker'], exists: true }]);
  });

  it('same containers as `docker ps -a`, the removed one absent', () => {
    const ps = fs
      .readFileSync(path.join(CAPTURES, 'ps-a.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { ID: string; Names: string; State: string });
    expect([...byId.keys()].sort()).toEqual(ps.map((p) => p.ID).sort());
    for (const p of ps) {
      const r = byId.get(p.ID)!;
      expect(r.name).toBe(p.Names);
      expect(r.status.replace(/\(.*$/, ''), p.Names).toBe(p.State);
    }
    const removed = JSON.parse(fs.readFileSync(path.join(CAPTURES, 'removed-containers.json'), 'utf8')) as unknown;
    const removedIds = JSON.stringify(removed).match(/[0-9a-f]{64}/g) ?? [];
    for (const id of removedIds) expect(byId.has(id)).toBe(false);
  });

  it('state, config and host config agree with `docker inspect`', () => {
    for (const i of inspect) {
      const r = byId.get(i.Id);
      expect(r, i.Name).toBeDefined();
      if (!r) continue;
      const n = i.Name;
      expect(r.name, n).toBe(i.Name.replace(/^\//, ''));
      expect(r.created.raw, n).toBe(i.Created);
      expect(r.started.raw, n).toBe(i.State.StartedAt);
      expect(r.finished.raw, n).toBe(i.State.FinishedAt);
      expect(r.running, n).toBe(i.State.Running);
      expect(r.restarting, n).toBe(i.State.Restarting);
      expect(r.exitCode, n).toBe(i.State.ExitCode);
      expect(r.pid, n).toBe(i.State.Pid);
      expect(r.oomKilled, n).toBe(i.State.OOMKilled);
      expect(r.restartCount, n).toBe(i.RestartCount);
      expect(r.status.startsWith(i.State.Status), `${n}: ${r.status} vs ${i.State.Status}`).toBe(true);
      expect(r.imageName, n).toBe(i.Config.Image);
      expect(r.imageId, n).toBe(i.Image);
      expect(r.storageDriver, n).toBe(i.Driver);
      expect(r.logPath, n).toBe(i.LogPath);
      expect(r.labels, n).toEqual(i.Config.Labels ?? {});
      expect(r.env, n).toEqual(i.Config.Env ?? []);
      expect(r.cmd, n).toEqual(i.Config.Cmd ?? []);
      expect(r.privileged, n).toBe(i.HostConfig.Privileged);
      expect(r.capAdd, n).toEqual(i.HostConfig.CapAdd ?? []);
      expect(r.pidMode, n).toBe(i.HostConfig.PidMode);
      expect(r.networkMode, n).toBe(i.HostConfig.NetworkMode);
      expect(r.logDriver, n).toBe(i.HostConfig.LogConfig.Type);
      expect(r.logOptions, n).toEqual(i.HostConfig.LogConfig.Config);
      expect(r.restartPolicy, n).toEqual({ name: i.HostConfig.RestartPolicy.Name, maximumRetryCount: i.HostConfig.RestartPolicy.MaximumRetryCount });
      const ports = Object.entries(i.HostConfig.PortBindings ?? {}).flatMap(([p, bs]) =>
        bs.map((b) => ({ containerPort: p, hostIp: b.HostIp, hostPort: b.HostPort })),
      );
      expect(r.portBindings, n).toEqual(ports);
      const mounts = i.Mounts.map((m) => ({ type: m.Type, name: m.Name ?? '', destination: m.Destination, rw: m.RW }));
      expect(r.mounts.map((m) => ({ type: m.type, name: m.name, destination: m.destination, rw: m.rw })), n).toEqual(mounts);
    }
  });

  it('compose labels, named volume and log files', () => {
    const web = c.containers.find((r) => r.name === 'web')!;
    expect([web.composeProject, web.composeService]).toEqual(['shop', 'web']);
    const vol = c.containers.find((r) => r.name === 'vol')!;
    expect(vol.mounts[0]).toMatchObject({ name: 'appdata', type: 'volume', volumeExists: true });
    const rot = c.containers.find((r) => r.name === 'rotator')!;
    const base = `/var/lib/docker/containers/${rot.id}/${rot.id}-json.log`;
    expect(rot.logFiles).toEqual([`${base}.3.gz`, `${base}.2.gz`, `${base}.1.gz`, base]);
    const nostart = c.containers.find((r) => r.name === 'nostart')!;
    expect(nostart.logFiles).toEqual([]);
    expect(nostart.status).toBe('created');
    const local = c.containers.find((r) => r.name === 'localdrv')!;
    expect(local.logFiles).toEqual([]);
    expect(local.localLogFiles).toEqual([`/var/lib/docker/containers/${local.id}/local-logs/container.log`]);
    const refs = c.logFiles.filter((l) => l.containerId === rot.id).map((l) => l.path);
    expect(refs).toEqual(rot.logFiles);
  });

  it('images agree with `docker images`', () => {
    const imgs = fs
      .readFileSync(path.join(CAPTURES, 'images.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { ID: string; Repository: string; Tag: string });
    for (const i of imgs) {
      const rec = c.images.find((x) => x.id === i.ID);
      expect(rec, i.ID).toBeDefined();
      expect(rec!.tags).toContain(`${i.Repository}:${i.Tag}`);
      expect(rec!.layers.every((l) => l.present)).toBe(true);
    }
  });

  it('FinishedAt-before-StartedAt problems only for stopped containers that show it', () => {
    // RFC 3339 with the fraction padded to 9 digits compares correctly as text.
    const norm = (t: string): string => t.replace(/(?:\.(\d+))?Z$/, (_, f: string | undefined) => '.' + (f ?? '').padEnd(9, '0') + 'Z');
    const expected = inspect
      .filter((i) => !i.State.Running && !i.State.FinishedAt.startsWith('0001') && norm(i.State.FinishedAt) < norm(i.State.StartedAt))
      .map((i) => `/var/lib/docker/containers/${i.Id}/config.v2.json`)
      .sort();
    const got = problems.problems.filter((p) => p.reason.includes('is before State.StartedAt')).map((p) => p.path).sort();
    expect(got).toEqual(expected);
    const others = problems.problems.filter((p) => !p.reason.includes('is before State.StartedAt'));
    expect(others.map((p) => `${p.path}: ${p.reason}`)).toEqual([]);
  });

  it('no zero-time events', () => {
    expect(events.some((e) => e.raw_time.startsWith('0001-01-01'))).toBe(false);
    expect(events.filter((e) => e.source === 'docker:container').length).toBeGreaterThan(20);
  });
});
