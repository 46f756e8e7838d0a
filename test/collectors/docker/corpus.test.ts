// The Docker state collector against real /var/lib/docker trees (google/docker-explorer test data, Apache-2.0).
// Expected values were read from the tarballs with tar + jq (see docs/formats/docker-state.md).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProblemLog, TimeDesc, type TimelineEvent } from '../../../src/events/event.js';
import { HostDirVfs } from '../../../src/fs/host-dir/host-dir.js';
import { collectDocker, type DockerCollection } from '../../../src/collectors/docker/collect.js';
import { containerRow, CONTAINER_COLUMNS } from '../../../src/collectors/docker/index.js';
import { dockerExplorerAvailable, extractDockerExplorer, tempDir } from '../../helpers/corpus.js';

const available = dockerExplorerAvailable();
const TARBALLS = ['aufs.v1', 'aufs.v2', 'overlay.v2', 'overlay2.v2', 'vols.v2'] as const;

interface Loaded {
  c: DockerCollection;
  problems: ProblemLog;
  events: TimelineEvent[];
}

async function drain(c: DockerCollection): Promise<TimelineEvent[]> {
  const out: TimelineEvent[] = [];
  for (const s of c.sources) for await (const b of s.open()) out.push(...b);
  return out;
}

describe.skipIf(!available)('docker-explorer corpus (skipped: ../shared/corpus/docker-explorer absent)', () => {
  let tmp: ReturnType<typeof tempDir>;
  const hostTrees: Record<string, Loaded> = {};
  let bare: Loaded;

  beforeAll(async () => {
    tmp = tempDir('flotsam-dx-');
    for (const t of TARBALLS) {
      extractDockerExplorer(`${t}.tgz`, `${tmp.dir}/${t}`);
      const problems = new ProblemLog();
      const c = collectDocker({ vfs: new HostDirVfs(`${tmp.dir}/${t}`), host: 'dx', problems });
      hostTrees[t] = { c, problems, events: await drain(c) };
    }
    // The same aufs.v2 tree given as a bare data root (`flotsam triage ./docker`).
    const problems = new ProblemLog();
    const c = collectDocker({ vfs: new HostDirVfs(`${tmp.dir}/aufs.v2/var/lib/docker`), host: 'dx', problems });
    bare = { c, problems, events: await drain(c) };
  });
  afterAll(() => tmp?.cleanup());

  const byName = (t: string) => new Map(hostTrees[t].c.containers.map((r) => [r.name, r]));

  it('finds /var/lib/docker in every host tree, and / in a bare data root', () => {
    for (const t of TARBALLS) {
      expect(hostTrees[t].c.roots).toEqual([{ path: '/var/lib/docker', how: ['default /var/lib/docker'], exists: true }]);
    }
    expect(bare.c.roots).toEqual([{ path: '/', how: ['evidence root is a data root'], exists: true }]);
  });

  it('overlay2.v2: 5 containers with names, states and exit codes', () => {
    const m = byName('overlay2.v2');
    expect([...m.keys()].sort()).toEqual(
      ['festive_perlman', 'mystifying_murdock', 'objective_franklin', 'reverent_wing', 'zealous_lalande'],
    );
    expect(m.get('festive_perlman')).toMatchObject({ status: 'running', running: true, pid: 71799, exitCode: 0 });
    expect(m.get('mystifying_murdock')).toMatchObject({ status: 'exited(0)', exitCode: 0 });
    expect(m.get('objective_franklin')).toMatchObject({
      status: 'exited(0)',
      hasBeenManuallyStopped: true,
      imageName: 'gcr.io/google-containers/busybox:latest',
    });
    for (const n of ['reverent_wing', 'zealous_lalande']) {
      const r = m.get(n)!;
      expect(r.status).toBe('created');
      expect(r.exitCode).toBe(127);
      expect(r.started).toEqual({ raw: '0001-01-01T00:00:00Z', zero: true });
      expect(r.error).toContain('oci runtime error');
    }
    const f = m.get('festive_perlman')!;
    expect(f.id).toBe('8e8b7f23eb7cbd4dfe7e91646ddd0e0f524218e25d50113559f078dfb2690206');
    expect(f.imageId).toBe('sha256:8ac48589692a53a9b8c2d1ceaa6b402665aa7fe667ba51ccc03002300856d8c7');
    expect(f.storageDriver).toBe('overlay2');
    expect(f.layer?.mountId).toBe('92fd3b3e7d6101bb701743c9518c45b0d036b898c8a3d7cae84e1a06e6829b53');
    expect(f.layer?.initId).toBe('92fd3b3e7d6101bb701743c9518c45b0d036b898c8a3d7cae84e1a06e6829b53-init');
    expect(f.logDriver).toBe('json-file');
    expect(f.logFiles).toEqual([
      `/var/lib/docker/containers/${f.id}/${f.id}-json.log`,
    ]);
  });

  it('zero StartedAt/FinishedAt are never events; real ones are', () => {
    const { events } = hostTrees['overlay2.v2'];
    expect(events.some((e) => e.raw_time.startsWith('0001-01-01'))).toBe(false);
    const rw = events.filter((e) => e.source === 'docker:container' && e.container_name === 'reverent_wing');
    expect(rw.map((e) => e.timestamp_desc)).toEqual([TimeDesc.creation]);
    const mm = events.filter((e) => e.source === 'docker:container' && e.container_name === 'mystifying_murdock');
    expect(mm.map((e) => [e.timestamp_desc, e.raw_time])).toEqual([
      [TimeDesc.creation, '2018-05-16T10:50:56.955107238Z'],
      [TimeDesc.start, '2018-05-16T10:50:57.324126749Z'],
      [TimeDesc.end, '2018-05-16T10:50:57.346107125Z'],
    ]);
    expect(mm[1].message).toBe('Container mystifying_murdock (9949fa153b77) started: sh');
    expect(mm[2].message).toBe('Container mystifying_murdock (9949fa153b77) finished, exit code 0');
    expect(mm[0].time).toBe(1526467856955107238n);
    expect(mm[0].path).toBe('/var/lib/docker/containers/9949fa153b778e39d6cab0a4e0ba60fa34a13fedb1f256d613a2f88c0c98408a/config.v2.json');
    expect(mm[0].host).toBe('dx');
  });

  it('image tags, digests, history and layers', () => {
    const imgs = hostTrees['overlay2.v2'].c.images;
    expect(imgs).toHaveLength(1);
    const i = imgs[0];
    expect(i.driver).toBe('overlay2');
    expect(i.tags).toEqual(['busybox:latest']);
    expect(i.digests).toEqual(['busybox@sha256:58ac43b2cc92c687a32c8be6278e50a063579655fe3090125dcb2af0ff9e1a64']);
    expect(i.created.raw).toBe('2018-04-05T10:41:28.876407948Z');
    expect(i.history.map((h) => h.emptyLayer)).toEqual([false, true]);
    expect(i.layers).toHaveLength(1);
    expect(i.layers[0].present).toBe(true);
    expect(i.layers[0].chainId).toBe(i.diffIds[0]);
    const hist = hostTrees['overlay2.v2'].events.filter((e) => e.source === 'docker:image-history');
    expect(hist).toHaveLength(2);
    expect(hist[1].message).toContain('history step 2/2 (empty layer)');
    expect(hostTrees['vols.v2'].c.images.map((x) => x.tags)).toEqual([['alpine:latest']]);
    expect(hostTrees['overlay.v2'].c.images.map((x) => x.tags)).toEqual([['busybox:latest']]);
    expect(hostTrees['aufs.v2'].c.images.map((x) => x.tags)).toEqual([['busybox:latest']]);
  });

  it('overlay.v2: 6 containers, exit codes 0/127/130, one running', () => {
    const m = byName('overlay.v2');
    expect(m.size).toBe(6);
    expect([...m.values()].map((r) => r.status).sort()).toEqual(
      ['created', 'created', 'created', 'exited(0)', 'exited(130)', 'running'],
    );
    expect(m.get('frosty_lichterman')?.exitCode).toBe(130);
    expect(m.get('elastic_booth')?.pid).toBe(31713);
  });

  it('aufs.v2: 7 containers; LogPath under /tmp/docker is mapped onto the evidence', () => {
    const m = byName('aufs.v2');
    expect(m.size).toBe(7);
    const r = m.get('insane_shirley')!;
    expect(r.status).toBe('exited(1)');
    expect(r.logPath.startsWith('/tmp/docker/containers/')).toBe(true);
    expect(r.logFiles).toEqual([`/var/lib/docker/containers/${r.id}/${r.id}-json.log`]);
    // Never-started containers have no log file and an empty LogPath.
    expect(m.get('modest_hodgkin')?.logFiles).toEqual([]);
    expect(hostTrees['aufs.v2'].c.logFiles).toHaveLength(4);
    expect(m.get('dreamy_snyder')?.mounts.map((x) => x.destination)).toEqual(['/var/jenkins_home']);
    // Bare data root: same inventory, paths relative to the data root.
    const b = bare.c.containers.find((x) => x.name === 'insane_shirley')!;
    expect(b.logFiles).toEqual([`/containers/${r.id}/${r.id}-json.log`]);
    expect(bare.c.containers).toHaveLength(7);
  });

  it('vols.v2: FinishedAt before StartedAt is kept and reported; volume references', () => {
    const { c, problems, events } = hostTrees['vols.v2'];
    const m = byName('vols.v2');
    expect(m.size).toBe(4);
    const bad = problems.problems.filter((p) => p.reason.includes('is before State.StartedAt'));
    expect(bad.map((p) => p.path).sort()).toEqual([
      '/var/lib/docker/containers/8b6e90cc742bd63f6acb7ecd40ddadb4e5dee27d8db2b739963f7cd2c7bcff4a/config.v2.json',
      '/var/lib/docker/containers/a000dd4eb4d5652602e0fbae425d57f18f601ccc51a3c1c53c4f7c3f8443a350/config.v2.json',
    ]);
    const end = events.find((e) => e.container_name === 'sad_lichterman' && e.timestamp_desc === TimeDesc.end)!;
    expect(end.raw_time).toBe('2020-07-20T15:32:16.218028955Z');
    const sad = m.get('sad_lichterman')!;
    const byDest = new Map(sad.mounts.map((x) => [x.destination, x]));
    expect(byDest.get('/opt')).toMatchObject({ type: 'bind', source: '/opt/vols/bind', rw: true, name: '' });
    // A named (anonymous) volume whose directory no longer exists.
    expect(byDest.get('/var/jenkins_home')).toMatchObject({
      type: 'volume',
      name: 'eda9ee495beccf988d963bf91de0276847e838b9531ab9118caef38a33894bb4',
      volumeExists: false,
    });
    expect(m.get('alpine_vol')?.mounts[0]).toMatchObject({
      name: '8858cf2c8ea9f74fbbe433b56dbaec042523a195227e2f2b7c860de70b5e74f8',
      volumeExists: true,
    });
    expect(c.images[0].id).toBe('sha256:a24bb4013296f61e89ba57005a7b3e52274d8edd3ae2077d04395f806b63d83e');
  });

  it('aufs.v1: v1 layout (config.json) inventory and graph/ images', () => {
    const { c } = hostTrees['aufs.v1'];
    const m = byName('aufs.v1');
    expect([...m.keys()].sort()).toEqual(['angry_rosalind', 'insane_rosalind', 'kickass_mestorf']);
    for (const r of m.values()) {
      expect(r.layout).toBe('v1');
      expect(r.configPath.endsWith('/config.json')).toBe(true);
      expect(r.imageName).toBe('busybox');
      expect(r.imageId).toBe('1cee97b18f87b5fa91633db35f587e2c65c093facfa2cbbe83d5ebe06e1d9125');
      expect(r.logDriver).toBe('json-file');
    }
    expect(m.get('angry_rosalind')).toMatchObject({ status: 'running', pid: 1276 });
    expect(m.get('insane_rosalind')).toMatchObject({ status: 'exited(0)' });
    expect(m.get('kickass_mestorf')).toMatchObject({ status: 'created', exitCode: -1 });
    const img = c.images.find((i) => i.id === '1cee97b18f87b5fa91633db35f587e2c65c093facfa2cbbe83d5ebe06e1d9125')!;
    expect(img.layout).toBe('v1');
    expect(img.tags).toEqual(['busybox:latest']);
    expect(img.driver).toBe('aufs');
    expect(img.parent).toBe('df557f39d413a1408f5c28d8aab2892f927237ec22e903ef04b331305130ab38');
    expect(c.images).toHaveLength(2);
  });

  it('MACB events for container files carry inode, raw ns and attrs', () => {
    const { events } = hostTrees['overlay2.v2'];
    const macb = events.filter((e) => e.source === 'fs:macb');
    const paths = new Set(macb.map((e) => e.path));
    const id = '9949fa153b778e39d6cab0a4e0ba60fa34a13fedb1f256d613a2f88c0c98408a';
    for (const p of [
      `/var/lib/docker/containers/${id}`,
      `/var/lib/docker/containers/${id}/config.v2.json`,
      `/var/lib/docker/containers/${id}/hostconfig.json`,
      `/var/lib/docker/containers/${id}/${id}-json.log`,
      `/var/lib/docker/image/overlay2/layerdb/mounts/${id}`,
      `/var/lib/docker/image/overlay2/layerdb/mounts/${id}/mount-id`,
    ]) {
      expect(paths.has(p), p).toBe(true);
    }
    const mt = macb.find((e) => e.path.endsWith(`${id}/hostconfig.json`) && e.timestamp_desc === TimeDesc.modification)!;
    expect(mt.raw_time).toBe(mt.time.toString());
    expect(typeof mt.inode).toBe('bigint');
    expect(mt.container_id).toBe(id);
    expect(mt.attrs).toMatchObject({ kind: 'macb', size: '1117' });
  });

  it('containers.csv rows have the documented columns in order', () => {
    for (const r of hostTrees['vols.v2'].c.containers) {
      expect(Object.keys(containerRow(r))).toEqual(CONTAINER_COLUMNS.map(([c]) => c));
    }
    const row = containerRow(hostTrees['vols.v2'].c.containers.find((r) => r.name === 'sad_lichterman')!);
    expect(row.status).toBe('exited(0)');
    expect(row.started_ns).toBe('1595259136219153370');
    expect(JSON.parse(row.mounts)).toHaveLength(2);
  });

  it('no unexpected problems on clean corpus trees', () => {
    for (const t of TARBALLS) {
      const reasons = hostTrees[t].problems.problems.map((p) => `${p.path}: ${p.reason}`);
      expect(reasons.filter((r) => !r.includes('is before State.StartedAt'))).toEqual([]);
    }
  });
});
