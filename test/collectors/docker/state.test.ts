// The Docker state collector against generated data roots: what it reads, and one regression test per guard.
import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ProblemLog, TimeDesc, type TimelineEvent } from '../../../src/events/event.js';
import { HostDirVfs } from '../../../src/fs/host-dir/host-dir.js';
import { collectDocker, type DockerCollection } from '../../../src/collectors/docker/collect.js';
import { containerRow, CONTAINER_COLUMNS } from '../../../src/collectors/docker/container-row.js';
import {
  MAX_CONTAINER_CONFIG_BYTES,
  MAX_ENV_ENTRIES,
  MAX_LABELS,
  sortRotated,
} from '../../../src/collectors/docker/containers.js';
import { chainIds, MAX_HISTORY } from '../../../src/collectors/docker/images.js';
import { MAX_FIELD_CHARS } from '../../../src/collectors/docker/json-guard.js';
import { tempDir, writeTree } from '../../helpers/corpus.js';

const ID = 'ab12cd34ef56'.padEnd(64, '0');
const ID2 = 'cd'.repeat(32);
const IMG = 'ee'.repeat(32);
const ROOT = 'var/lib/docker';
const CDIR = `${ROOT}/containers/${ID}`;

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function configV2(over: Record<string, unknown> = {}, id = ID): Record<string, unknown> {
  return {
    ID: id,
    Name: '/web',
    Created: '2024-05-01T10:00:00.123456789Z',
    Path: 'nginx',
    Args: ['-g', 'daemon off;'],
    Image: `sha256:${IMG}`,
    Driver: 'overlay2',
    LogPath: `/var/lib/docker/containers/${id}/${id}-json.log`,
    RestartCount: 2,
    HasBeenStartedBefore: true,
    HasBeenManuallyStopped: false,
    State: {
      Running: false,
      Paused: false,
      Restarting: false,
      OOMKilled: true,
      RemovalInProgress: false,
      Dead: false,
      Pid: 0,
      ExitCode: 137,
      Error: '',
      StartedAt: '2024-05-01T10:00:01Z',
      FinishedAt: '2024-05-01T11:00:00.5Z',
    },
    Config: {
      Hostname: 'ab12cd34ef56',
      User: 'www-data',
      WorkingDir: '/srv',
      Image: 'nginx:1.25',
      Env: ['PATH=/usr/bin', 'SECRET=x'],
      Cmd: ['nginx', '-g', 'daemon off;'],
      Entrypoint: ['/docker-entrypoint.sh'],
      Labels: { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'front' },
    },
    MountPoints: {
      '/data': { Source: '', Destination: '/data', RW: true, Name: 'shopdata', Driver: 'local', Type: 'volume' },
      '/etc/nginx': { Source: '/srv/nginx', Destination: '/etc/nginx', RW: false, Name: '', Driver: '', Type: 'bind' },
    },
    ...over,
  };
}

const HOSTCONFIG = {
  Binds: ['/srv/nginx:/etc/nginx:ro'],
  LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
  NetworkMode: 'host',
  PortBindings: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }, { HostIp: '::', HostPort: '8080' }] },
  RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 5 },
  AutoRemove: false,
  Privileged: true,
  CapAdd: ['SYS_ADMIN'],
  CapDrop: ['MKNOD'],
  PidMode: 'host',
  IpcMode: 'private',
};

interface Run {
  c: DockerCollection;
  problems: ProblemLog;
  events: TimelineEvent[];
  reasons: string[];
  dir: string;
}

async function run(files: Record<string, string | Uint8Array>, extraDirs: string[] = []): Promise<Run> {
  const t = tempDir();
  cleanups.push(t.cleanup);
  writeTree(t.dir, files);
  fs.mkdirSync(path.join(t.dir, ROOT, 'containers'), { recursive: true });
  for (const d of extraDirs) fs.mkdirSync(path.join(t.dir, d), { recursive: true });
  const problems = new ProblemLog();
  const c = collectDocker({ vfs: new HostDirVfs(t.dir), host: 'box', problems });
  const events: TimelineEvent[] = [];
  for (const s of c.sources) for await (const b of s.open()) events.push(...b);
  return { c, problems, events, reasons: problems.problems.map((p) => `${p.path}: ${p.reason}`), dir: t.dir };
}

const layerdb = (id = ID): Record<string, string> => ({
  [`${ROOT}/image/overlay2/layerdb/mounts/${id}/mount-id`]: 'f00d'.repeat(16),
  [`${ROOT}/image/overlay2/layerdb/mounts/${id}/init-id`]: 'f00d'.repeat(16) + '-init',
  [`${ROOT}/image/overlay2/layerdb/mounts/${id}/parent`]: `sha256:${'aa'.repeat(32)}`,
});

function standard(over: Record<string, unknown> = {}): Record<string, string> {
  return {
    [`${CDIR}/config.v2.json`]: JSON.stringify(configV2(over)),
    [`${CDIR}/hostconfig.json`]: JSON.stringify(HOSTCONFIG),
    [`${CDIR}/${ID}-json.log`]: '{"log":"hi\\n","stream":"stdout","time":"2024-05-01T10:00:02Z"}\n',
    ...layerdb(),
  };
}

describe('containers', () => {
  it('reads the full inventory of a v2 container', async () => {
    const { c, reasons } = await run(standard());
    expect(reasons).toEqual([]);
    expect(c.containers).toHaveLength(1);
    const r = c.containers[0];
    expect(r).toMatchObject({
      id: ID,
      idValid: true,
      layout: 'v2',
      name: 'web',
      imageName: 'nginx:1.25',
      imageId: `sha256:${IMG}`,
      status: 'exited(137)',
      oomKilled: true,
      exitCode: 137,
      restartCount: 2,
      hasBeenStartedBefore: true,
      hasBeenManuallyStopped: false,
      path: 'nginx',
      args: ['-g', 'daemon off;'],
      entrypoint: ['/docker-entrypoint.sh'],
      cmd: ['nginx', '-g', 'daemon off;'],
      env: ['PATH=/usr/bin', 'SECRET=x'],
      composeProject: 'shop',
      composeService: 'front',
      hostname: 'ab12cd34ef56',
      user: 'www-data',
      workingDir: '/srv',
      privileged: true,
      capAdd: ['SYS_ADMIN'],
      capDrop: ['MKNOD'],
      pidMode: 'host',
      ipcMode: 'private',
      networkMode: 'host',
      binds: ['/srv/nginx:/etc/nginx:ro'],
      restartPolicy: { name: 'on-failure', maximumRetryCount: 5 },
      autoRemove: false,
      logDriver: 'json-file',
      logOptions: { 'max-size': '10m', 'max-file': '3' },
      storageDriver: 'overlay2',
      layer: { mountId: 'f00d'.repeat(16), initId: 'f00d'.repeat(16) + '-init', parent: `sha256:${'aa'.repeat(32)}` },
    });
    expect(r.created).toEqual({ raw: '2024-05-01T10:00:00.123456789Z', ns: 1714557600123456789n, zero: false });
    expect(r.portBindings).toEqual([
      { containerPort: '80/tcp', hostIp: '0.0.0.0', hostPort: '8080' },
      { containerPort: '80/tcp', hostIp: '::', hostPort: '8080' },
    ]);
    expect(r.mounts).toEqual([
      { destination: '/data', source: '', type: 'volume', name: 'shopdata', driver: 'local', rw: true, volumeExists: false },
      { destination: '/etc/nginx', source: '/srv/nginx', type: 'bind', name: '', driver: '', rw: false },
    ]);
    const row = containerRow(r);
    expect(Object.keys(row)).toEqual(CONTAINER_COLUMNS.map(([k]) => k));
    expect(row.restart_policy).toBe('on-failure:5');
    expect(JSON.parse(row.env)).toEqual(['PATH=/usr/bin', 'SECRET=x']);
  });

  it('emits created/started/finished with readable messages', async () => {
    const { events } = await run(standard({ State: { ...(configV2().State as object), Error: 'boom' } }));
    const life = events.filter((e) => e.source === 'docker:container');
    expect(life.map((e) => [e.timestamp_desc, e.raw_time, e.message])).toEqual([
      [TimeDesc.creation, '2024-05-01T10:00:00.123456789Z', 'Container web (ab12cd34ef56) created from image nginx:1.25'],
      [TimeDesc.start, '2024-05-01T10:00:01Z', 'Container web (ab12cd34ef56) started: nginx -g daemon off;'],
      [TimeDesc.end, '2024-05-01T11:00:00.5Z', 'Container web (ab12cd34ef56) finished, exit code 137, OOMKilled, error: boom'],
    ]);
    for (const e of life) {
      expect(e).toMatchObject({ host: 'box', container_id: ID, container_name: 'web', path: `/${CDIR}/config.v2.json` });
    }
  });

  it('a running container whose FinishedAt predates StartedAt is a previous run, not a problem', async () => {
    const { events, reasons } = await run(
      standard({ State: { Running: true, Pid: 42, ExitCode: 0, StartedAt: '2024-05-02T00:00:00Z', FinishedAt: '2024-05-01T11:00:00Z' } }),
    );
    expect(reasons).toEqual([]);
    const end = events.find((e) => e.timestamp_desc === TimeDesc.end && e.source === 'docker:container')!;
    expect(end.message).toContain('finished (previous run)');
  });

  it('a stopped container whose FinishedAt predates StartedAt: both events and a problem', async () => {
    const { events, reasons } = await run(
      standard({ State: { Running: false, ExitCode: 0, StartedAt: '2024-05-02T00:00:00.002Z', FinishedAt: '2024-05-02T00:00:00.001Z' } }),
    );
    expect(events.filter((e) => e.source === 'docker:container')).toHaveLength(3);
    expect(reasons).toEqual([expect.stringContaining('is before State.StartedAt')]);
  });

  it('lists rotated json-file logs oldest first', async () => {
    const files = standard();
    for (const n of ['.1', '.2.gz', '.10', '.3']) files[`${CDIR}/${ID}-json.log${n}`] = '';
    files[`${CDIR}/local-logs/container.log`] = '';
    files[`${CDIR}/local-logs/container.log.1`] = '';
    const { c, events } = await run(files);
    const base = `/${CDIR}/${ID}-json.log`;
    expect(c.logFiles).toEqual(
      ['.10', '.3', '.2.gz', '.1', ''].map((s) => ({ containerId: ID, containerName: 'web', path: base + s, driver: 'json-file' })),
    );
    expect(c.containers[0].localLogFiles).toEqual([`/${CDIR}/local-logs/container.log.1`, `/${CDIR}/local-logs/container.log`]);
    expect(events.some((e) => e.source === 'fs:macb' && e.path === `/${CDIR}/local-logs/container.log`)).toBe(true);
  });

  it('sortRotated ignores unrelated names', () => {
    expect(sortRotated('a.log', ['a.log', 'a.log.2', 'a.log.1.gz', 'b.log.1', 'a.logx', 'a.log.x'])).toEqual(['a.log.2', 'a.log.1.gz', 'a.log']);
  });

  it('fs:macb events: one per time, raw ns, inode, attrs', async () => {
    const { events } = await run(standard());
    const cfg = events.filter((e) => e.source === 'fs:macb' && e.path === `/${CDIR}/config.v2.json`);
    const descs = cfg.map((e) => e.timestamp_desc);
    expect(descs).toEqual(expect.arrayContaining([TimeDesc.lastAccess, TimeDesc.modification, TimeDesc.metadataModification]));
    for (const e of cfg) {
      expect(e.raw_time).toBe(e.time.toString());
      expect(typeof e.inode).toBe('bigint');
      expect(e.attrs).toMatchObject({ kind: 'macb', uid: expect.any(Number), gid: expect.any(Number) });
      expect(e.container_id).toBe(ID);
    }
    expect(events.some((e) => e.path === `/${ROOT}/image/overlay2/layerdb/mounts/${ID}/init-id`)).toBe(true);
  });

  it('v1 layout: config.json with Volumes', async () => {
    const v1 = {
      ID,
      Name: '/old',
      Created: '2015-01-01T00:00:00Z',
      Image: IMG,
      Driver: 'aufs',
      State: { Running: false, ExitCode: 2, StartedAt: '2015-01-01T00:00:01Z', FinishedAt: '2015-01-01T00:00:02Z' },
      Config: { Image: 'debian', Cmd: ['bash'] },
      Volumes: { '/data': '/var/lib/docker/vfs/dir/xyz' },
      VolumesRW: { '/data': true },
      LogPath: `/var/lib/docker/containers/${ID}/${ID}-json.log`,
    };
    const { c, reasons } = await run({
      [`${CDIR}/config.json`]: JSON.stringify(v1),
      [`${CDIR}/hostconfig.json`]: JSON.stringify({ LogConfig: { Type: '', Config: {} } }),
    });
    expect(reasons).toEqual([]);
    expect(c.containers[0]).toMatchObject({
      layout: 'v1',
      name: 'old',
      status: 'exited(2)',
      imageName: 'debian',
      logDriver: 'json-file',
      mounts: [{ destination: '/data', source: '/var/lib/docker/vfs/dir/xyz', rw: true, type: '', name: '', driver: '' }],
    });
    expect(c.containers[0].layer).toBeUndefined();
  });
});

describe('container guards (one per guard)', () => {
  it('truncated config.v2.json: problem, container skipped, others still read', async () => {
    const files = standard();
    files[`${ROOT}/containers/${ID2}/config.v2.json`] = JSON.stringify(configV2({}, ID2)).slice(0, 100);
    const { c, reasons } = await run(files);
    expect(c.containers.map((r) => r.id)).toEqual([ID]);
    expect(reasons).toEqual([expect.stringMatching(new RegExp(`${ID2}/config.v2.json: invalid JSON`))]);
  });

  it('config that is a JSON array', async () => {
    const { c, reasons } = await run({ [`${CDIR}/config.v2.json`]: '[]' });
    expect(c.containers).toEqual([]);
    expect(reasons).toEqual([`/${CDIR}/config.v2.json: expected a JSON object, found array`]);
  });

  it('container directory without any config', async () => {
    const { c, reasons } = await run({ [`${CDIR}/hostname`]: 'x' });
    expect(c.containers).toEqual([]);
    expect(reasons[0]).toContain('neither config.v2.json nor config.json');
  });

  it('config larger than MAX_CONTAINER_CONFIG_BYTES', async () => {
    const big = JSON.stringify({ ...configV2(), Pad: 'x'.repeat(MAX_CONTAINER_CONFIG_BYTES) });
    const { c, reasons } = await run({ [`${CDIR}/config.v2.json`]: big });
    expect(c.containers).toEqual([]);
    expect(reasons[0]).toMatch(/cannot read: .*file size/);
  });

  it('wrong types: string where a number is, number where a string is, string where a list is', async () => {
    const cfg = configV2({ Name: 42, RestartCount: '3' });
    (cfg.State as Record<string, unknown>).Pid = '1234';
    (cfg.State as Record<string, unknown>).StartedAt = 12345;
    (cfg.Config as Record<string, unknown>).Env = 'PATH=/bin';
    (cfg.Config as Record<string, unknown>).Labels = ['a'];
    const { c, reasons, events } = await run({ [`${CDIR}/config.v2.json`]: JSON.stringify(cfg) });
    const r = c.containers[0];
    expect(r).toMatchObject({ name: '', restartCount: undefined, pid: undefined, env: [], labels: {} });
    expect(r.started).toEqual({ raw: '', zero: true });
    expect(reasons).toEqual(
      expect.arrayContaining([
        expect.stringContaining('Name is number, expected string'),
        expect.stringContaining('RestartCount is string "3", expected number'),
        expect.stringContaining('Pid is string "1234", expected number'),
        expect.stringContaining('StartedAt is number, expected string'),
        expect.stringContaining('Env is string, expected array'),
        expect.stringContaining('Labels is array, expected object'),
      ]),
    );
    expect(events.filter((e) => e.source === 'docker:container').map((e) => e.timestamp_desc)).toEqual([
      TimeDesc.creation,
      TimeDesc.end,
    ]);
  });

  it('State that is not an object', async () => {
    const { c, reasons } = await run({ [`${CDIR}/config.v2.json`]: JSON.stringify(configV2({ State: 'running' })) });
    expect(c.containers[0]).toMatchObject({ running: false, status: 'created' });
    expect(reasons).toEqual([expect.stringContaining('State is string, expected object')]);
  });

  it('huge Env list is capped at MAX_ENV_ENTRIES', async () => {
    const cfg = configV2();
    (cfg.Config as Record<string, unknown>).Env = Array.from({ length: MAX_ENV_ENTRIES + 5 }, (_, i) => `V${i}=1`);
    const { c, reasons } = await run({ [`${CDIR}/config.v2.json`]: JSON.stringify(cfg) });
    expect(c.containers[0].env).toHaveLength(MAX_ENV_ENTRIES);
    expect(reasons).toEqual([expect.stringContaining(`Env has ${MAX_ENV_ENTRIES + 5} entries, limit ${MAX_ENV_ENTRIES}`)]);
  });

  it('huge Labels map is capped at MAX_LABELS', async () => {
    const cfg = configV2();
    (cfg.Config as Record<string, unknown>).Labels = Object.fromEntries(
      Array.from({ length: MAX_LABELS + 1 }, (_, i) => [`l${i}`, 'v']),
    );
    const { c, reasons } = await run({ [`${CDIR}/config.v2.json`]: JSON.stringify(cfg) });
    expect(Object.keys(c.containers[0].labels)).toHaveLength(MAX_LABELS);
    expect(reasons).toEqual([expect.stringContaining('Labels has')]);
  });

  it('a __proto__ label stays an ordinary label', async () => {
    const text = JSON.stringify(configV2()).replace('"com.docker.compose.project"', '"__proto__":"evil","com.docker.compose.project"');
    const { c } = await run({ [`${CDIR}/config.v2.json`]: text });
    const labels = c.containers[0].labels;
    expect(Object.getOwnPropertyDescriptor(labels, '__proto__')?.value).toBe('evil');
    expect(Object.getPrototypeOf(labels)).toBe(Object.prototype);
  });

  it('overlong string field is cut at MAX_FIELD_CHARS', async () => {
    const cfg = configV2({ Path: 'x'.repeat(MAX_FIELD_CHARS + 10) });
    const { c, reasons } = await run({ [`${CDIR}/config.v2.json`]: JSON.stringify(cfg) });
    expect(c.containers[0].path).toHaveLength(MAX_FIELD_CHARS);
    expect(reasons).toEqual([expect.stringContaining(`Path is ${MAX_FIELD_CHARS + 10} chars`)]);
  });

  it('directory name that is not a 64-hex id: reported, flagged, still read', async () => {
    const bad = 'not-an-id';
    const { c, reasons } = await run({ [`${ROOT}/containers/${bad}/config.v2.json`]: JSON.stringify(configV2({}, bad)) });
    expect(c.containers[0]).toMatchObject({ id: bad, idValid: false, name: 'web' });
    expect(reasons).toEqual(
      expect.arrayContaining([expect.stringContaining('is not 64 hex characters')]),
    );
  });

  it('config ID with path traversal: never used for paths, reported', async () => {
    const cfg = configV2({ ID: '../../../../etc' });
    const { c, reasons } = await run({ ...standard(), [`${CDIR}/config.v2.json`]: JSON.stringify(cfg) });
    expect(c.containers[0].id).toBe(ID);
    expect(c.containers[0].layer?.path).toBe(`/${ROOT}/image/overlay2/layerdb/mounts/${ID}`);
    expect(reasons).toEqual([expect.stringContaining('differs from the directory name')]);
  });

  it('storage Driver with a slash is not used as a path component', async () => {
    const cfg = configV2({ Driver: '../../etc' });
    const { c, reasons } = await run({ ...standard(), [`${CDIR}/config.v2.json`]: JSON.stringify(cfg) });
    // Falls back to scanning image/*: finds the overlay2 mounts entry.
    expect(c.containers[0].layer?.path).toBe(`/${ROOT}/image/overlay2/layerdb/mounts/${ID}`);
    expect(reasons).toEqual([]);
  });

  it('invalid hostconfig.json: problem, container kept with defaults', async () => {
    const files = standard();
    files[`${CDIR}/hostconfig.json`] = '{"Privileged": tru';
    const { c, reasons } = await run(files);
    expect(c.containers[0]).toMatchObject({ privileged: false, logDriver: 'json-file', restartPolicy: { name: '' } });
    expect(reasons).toEqual([expect.stringContaining('hostconfig.json: invalid JSON')]);
  });

  it('missing layerdb mounts entry is reported', async () => {
    const files = standard();
    for (const k of Object.keys(layerdb())) delete files[k];
    const { c, reasons } = await run(files, [`${ROOT}/image/overlay2/layerdb/mounts`]);
    expect(c.containers[0].layer).toBeUndefined();
    expect(reasons).toEqual([expect.stringContaining('no layerdb mounts entry')]);
  });

  it('unparseable time: problem, no event, raw kept', async () => {
    const { c, reasons, events } = await run(standard({ Created: 'yesterday' }));
    expect(c.containers[0].created).toEqual({ raw: 'yesterday', zero: false });
    expect(reasons).toEqual([expect.stringContaining('Created "yesterday" is not an RFC 3339 time')]);
    expect(events.some((e) => e.source === 'docker:container' && e.timestamp_desc === TimeDesc.creation)).toBe(false);
  });

  it('PortBindings with a non-array value', async () => {
    const files = standard();
    files[`${CDIR}/hostconfig.json`] = JSON.stringify({ ...HOSTCONFIG, PortBindings: { '80/tcp': 'x' } });
    const { c, reasons } = await run(files);
    expect(c.containers[0].portBindings).toEqual([]);
    expect(reasons).toEqual([expect.stringContaining('80/tcp is string, expected array')]);
  });
});

describe('images', () => {
  const A = 'sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb';
  const B = 'sha256:3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d';
  const C = 'sha256:2e7d2c03a9507ae265ecf5b5356885a53393a2029d241394997265a1a25aefc6';
  // Computed independently: printf '%s %s' "$A" "$B" | sha256sum, then with C.
  const AB = 'sha256:51c0c8ace48498d6f5fee6b0592cc06f2da0f3cbe09c5a34a97dce85c3889676';
  const ABC = 'sha256:2fce7f8ce91bcf0a1428b36e1024639fdbd9469eea762dba98aa749631885106';
  const IDIR = `${ROOT}/image/overlay2`;

  it('chainIds matches moby CreateChainID', () => {
    expect(chainIds([A, B, C])).toEqual([A, AB, ABC]);
    expect(chainIds([])).toEqual([]);
  });

  function imageFiles(over: Record<string, unknown> = {}): Record<string, string> {
    const cfg = {
      created: '2024-04-01T00:00:03Z',
      author: 'me',
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['sh'], Env: ['A=1'], Labels: { maintainer: 'x' } },
      history: [
        { created: '2024-04-01T00:00:01Z', created_by: '/bin/sh -c #(nop) ADD file:abc in /' },
        { created: '2024-04-01T00:00:02Z', created_by: 'RUN apk add curl' },
        { created: '2024-04-01T00:00:03Z', created_by: 'CMD ["sh"]', empty_layer: true },
        { created: '0001-01-01T00:00:00Z', created_by: 'zero' },
      ],
      rootfs: { type: 'layers', diff_ids: [A, B, C] },
      ...over,
    };
    const l = (chain: string, diff: string, parent?: string): Record<string, string> => {
      const d = `${IDIR}/layerdb/sha256/${chain.slice(7)}`;
      return {
        [`${d}/diff`]: diff,
        [`${d}/size`]: '123',
        [`${d}/cache-id`]: 'c'.repeat(64),
        ...(parent ? { [`${d}/parent`]: parent } : {}),
      };
    };
    return {
      [`${IDIR}/repositories.json`]: JSON.stringify({
        Repositories: { app: { 'app:1': `sha256:${IMG}`, ['app@sha256:' + 'd'.repeat(64)]: `sha256:${IMG}` } },
      }),
      [`${IDIR}/imagedb/content/sha256/${IMG}`]: JSON.stringify(cfg),
      [`${IDIR}/imagedb/metadata/sha256/${IMG}/lastUpdated`]: '2024-04-02T08:00:00.000000001Z',
      [`${IDIR}/imagedb/metadata/sha256/${IMG}/parent`]: `sha256:${'9'.repeat(64)}`,
      ...l(A, A),
      ...l(AB, B, A),
      ...l(ABC, C, AB),
    };
  }

  it('reads tags, digests, config, history, layers and lastUpdated', async () => {
    const { c, reasons, events } = await run(imageFiles());
    expect(reasons).toEqual([]);
    const img = c.images[0];
    expect(img).toMatchObject({
      id: `sha256:${IMG}`,
      idValid: true,
      driver: 'overlay2',
      tags: ['app:1'],
      digests: ['app@sha256:' + 'd'.repeat(64)],
      author: 'me',
      architecture: 'amd64',
      os: 'linux',
      cmd: ['sh'],
      env: ['A=1'],
      labels: { maintainer: 'x' },
      parent: `sha256:${'9'.repeat(64)}`,
    });
    expect(img.layers.map((l) => [l.chainId, l.present, l.size, l.parent])).toEqual([
      [A, true, '123', undefined],
      [AB, true, '123', A],
      [ABC, true, '123', AB],
    ]);
    const ie = events.filter((e) => e.source.startsWith('docker:image'));
    expect(ie.map((e) => [e.source, e.timestamp_desc, e.raw_time])).toEqual([
      ['docker:image', TimeDesc.creation, '2024-04-01T00:00:03Z'],
      ['docker:image', TimeDesc.lastUpdate, '2024-04-02T08:00:00.000000001Z'],
      ['docker:image-history', TimeDesc.creation, '2024-04-01T00:00:01Z'],
      ['docker:image-history', TimeDesc.creation, '2024-04-01T00:00:02Z'],
      ['docker:image-history', TimeDesc.creation, '2024-04-01T00:00:03Z'],
    ]);
    expect(ie[3].message).toBe(`Image app:1 (${IMG.slice(0, 12)}) history step 2/4: RUN apk add curl`);
    expect(ie[1].path).toBe(`/${IDIR}/imagedb/metadata/sha256/${IMG}/lastUpdated`);
  });

  it('guard: missing layerdb entry is reported and marked, the image kept', async () => {
    const files = imageFiles();
    for (const k of Object.keys(files)) if (k.includes(AB.slice(7))) delete files[k];
    const { c, reasons } = await run(files);
    expect(c.images[0].layers.map((l) => l.present)).toEqual([true, false, true]);
    expect(reasons).toEqual([expect.stringContaining('layerdb entry for layer 1')]);
  });

  it('guard: layerdb diff that disagrees with the image', async () => {
    const files = imageFiles();
    files[`${IDIR}/layerdb/sha256/${A.slice(7)}/diff`] = B;
    const { reasons } = await run(files);
    expect(reasons).toEqual([expect.stringContaining('differs from the image')]);
  });

  it('guard: diff_id that is not a sha256 digest is never used as a path', async () => {
    const { c, reasons } = await run(imageFiles({ rootfs: { diff_ids: ['../../../etc/passwd'] } }));
    expect(c.images[0].layers).toEqual([{ diffId: '../../../etc/passwd', chainId: '../../../etc/passwd', path: '', present: false }]);
    expect(reasons).toEqual([expect.stringContaining('is not sha256:<64 hex>')]);
  });

  it('guard: repositories.json that is an array', async () => {
    const files = imageFiles();
    files[`${IDIR}/repositories.json`] = '[1,2]';
    const { c, reasons } = await run(files);
    expect(c.images[0].tags).toEqual([]);
    expect(reasons).toEqual([expect.stringContaining('expected a JSON object, found array')]);
  });

  it('guard: repositories.json reference to an image with no config', async () => {
    const files = imageFiles();
    files[`${IDIR}/repositories.json`] = JSON.stringify({ Repositories: { x: { 'x:1': `sha256:${'7'.repeat(64)}`, 'x:2': 5 } } });
    const { reasons } = await run(files);
    expect(reasons).toEqual([
      expect.stringContaining('maps to a non-string'),
      expect.stringContaining('no image config in imagedb'),
    ]);
  });

  it('guard: truncated image config keeps the image id, reports, no events', async () => {
    const files = imageFiles();
    files[`${IDIR}/imagedb/content/sha256/${IMG}`] = '{"created": "2024-';
    const { c, reasons, events } = await run(files);
    expect(c.images[0]).toMatchObject({ id: `sha256:${IMG}`, tags: ['app:1'], layers: [] });
    expect(reasons).toEqual([expect.stringContaining('invalid JSON')]);
    expect(events.filter((e) => e.source === 'docker:image')).toHaveLength(1); // lastUpdated only
  });

  it('guard: image file name that is not 64 hex', async () => {
    const files = imageFiles();
    files[`${IDIR}/imagedb/content/sha256/zzz`] = '{}';
    const { c, reasons } = await run(files);
    expect(c.images.find((i) => i.id === 'sha256:zzz')?.idValid).toBe(false);
    expect(reasons).toEqual([expect.stringContaining('image id "zzz" is not 64 hex characters')]);
  });

  it('guard: history longer than MAX_HISTORY is capped', async () => {
    const history = Array.from({ length: MAX_HISTORY + 1 }, () => ({ created_by: 'x' }));
    const { c, reasons } = await run(imageFiles({ history }));
    expect(c.images[0].history).toHaveLength(MAX_HISTORY);
    expect(reasons).toEqual([expect.stringContaining(`history has ${MAX_HISTORY + 1} entries`)]);
  });

  it('guard: garbage lastUpdated', async () => {
    const files = imageFiles();
    files[`${IDIR}/imagedb/metadata/sha256/${IMG}/lastUpdated`] = 'not a time';
    const { events, reasons } = await run(files);
    expect(events.some((e) => e.timestamp_desc === TimeDesc.lastUpdate)).toBe(false);
    expect(reasons).toEqual([expect.stringContaining('lastUpdated "not a time" is not an RFC 3339 time')]);
  });
});
