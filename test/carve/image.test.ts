// Carving an ext4 image where one container was removed the way docker rm removes it (test/fixtures-scripts/
// carve-images.sh): the removed container comes back from its deleted inodes and from free blocks, with offsets
// that point at its bytes in the image; nothing is carved from live files.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { carveRecovery } from '../../src/carve/carve.js';
import { ImageRecoverySource } from '../../src/carve/evidence.js';
import { openEvidenceDetailed, type OpenedEvidence } from '../../src/fs/open-evidence.js';
import { triage } from '../../src/triage/triage.js';

const script = path.resolve(__dirname, '../fixtures-scripts/carve-images.sh');
let dir: string;
let img: string;
let expected: { live: string; gone: string };
let opened: OpenedEvidence;

function imageBytes(offset: number, length: number): Buffer {
  const fd = fs.openSync(img, 'r');
  try {
    const b = Buffer.alloc(length);
    fs.readSync(fd, b, 0, length, offset);
    return b;
  } finally {
    fs.closeSync(fd);
  }
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flotsam-carve-'));
  const r = spawnSync('bash', [script, dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`carve-images.sh failed: ${r.stderr}`);
  img = path.join(dir, 'carve.img');
  expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8'));
  opened = openEvidenceDetailed(img);
});

afterAll(() => {
  opened?.vfs.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const goneLines = () =>
  fs
    .readFileSync(path.join(dir, 'gone-json.log'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { log: string; time: string; stream: string });

describe('carving a removed container', () => {
  it('the live view no longer has it', () => {
    expect(opened.vfs.readdir('/var/lib/docker/containers').map((e) => e.name)).toEqual([expected.live]);
  });

  it('recovers config.v2.json and hostconfig.json through the deleted inodes, with id, name, times and offset', () => {
    const r = carveRecovery(new ImageRecoverySource(opened.layout!), {
      mode: 'unallocated',
      host: 'carvehost',
      liveIds: new Set([expected.live]),
    });
    expect(r.containers).toHaveLength(1);
    const c = r.containers[0]!;
    expect(c.id).toBe(expected.gone);
    expect(c.name).toBe('evil');
    expect(c.created.raw).toBe('2024-05-02T08:00:00.123456789Z');
    expect(c.started.raw).toBe('2024-05-02T08:00:01.25Z');
    expect(c.finished.raw).toBe('2024-05-02T09:30:00.75Z');
    expect(c.exitCode).toBe(137);
    expect(c.status).toBe('exited(137)');
    expect(c.recovered).toBe('carved');
    expect(c.live).toBe(false);
    expect(c.carve_via).toBe('deleted-inode');
    expect(c.carve_inode).toBeGreaterThan(0);
    expect(c.carve_fs).toBe('disk');
    // hostconfig matched through the deleted directory that named both files
    expect(c.hostconfig_match).toBe('same-deleted-directory');
    expect(c.privileged).toBe(true);
    expect(c.pidMode).toBe('host');
    expect(c.binds).toEqual(['/:/host']);
    // the offset points at the bytes of the removed file in the image
    const want = fs.readFileSync(path.join(dir, 'gone-config.v2.json'));
    expect(imageBytes(Number(c.carve_offset), want.length).equals(want)).toBe(true);
    expect(c.duplicates).toBe(1); // the same bytes met again in the free-block scan
    // events
    const cev = r.events.filter((e) => e.source === 'carve:docker-config');
    expect(cev.map((e) => e.timestamp_desc)).toEqual(['Creation Time', 'Start Time', 'End Time']);
    expect(cev.every((e) => e.container_id === expected.gone && e.container_name === 'evil')).toBe(true);
    expect(cev[0]!.offset).toBe(Number(c.carve_offset));
    expect(cev[0]!.attrs).toMatchObject({ recovered: 'carved' });
  });

  it('recovers every log line, attributed through the deleted <id>-json.log name, offsets on the line', () => {
    const r = carveRecovery(new ImageRecoverySource(opened.layout!), { mode: 'unallocated', host: 'carvehost' });
    const logs = r.events.filter((e) => e.source === 'carve:json-log');
    const want = goneLines();
    expect(logs.map((e) => e.raw_time)).toEqual(want.map((l) => l.time));
    expect(logs.map((e) => e.message)).toEqual(want.map((l) => l.log.replace(/\n$/, '')));
    expect(logs.every((e) => e.container_id === expected.gone && e.container_name === 'evil')).toBe(true);
    expect(logs.every((e) => e.inode !== undefined && e.path === 'disk@deleted-inode')).toBe(true);
    const raw = fs.readFileSync(path.join(dir, 'gone-json.log'), 'utf8').split('\n');
    logs.slice(0, 10).concat(logs.slice(-3)).forEach((e, k) => {
      const i = k < 10 ? k : want.length - 3 + (k - 10);
      expect(imageBytes(e.offset!, Buffer.byteLength(raw[i]!)).toString('utf8')).toBe(raw[i]);
    });
    // nothing from live files
    expect(r.events.some((e) => e.message.includes('live line'))).toBe(false);
    expect(r.containers.some((c) => c.id === expected.live)).toBe(false);
    expect(r.summary.logLines).toBe(want.length);
    expect(r.summary.duplicates).toBeGreaterThanOrEqual(want.length); // met again in free blocks
  });

  it('finds the same from free blocks alone (deleted inodes not read), even with tiny chunks', () => {
    for (const limits of [{}, { chunkBytes: 1000, maxConfigBytes: 4096, maxLogLineBytes: 512 }]) {
      const r = carveRecovery(new ImageRecoverySource(opened.layout!), {
        mode: 'unallocated',
        host: 'carvehost',
        deletedInodes: false,
        limits,
      });
      expect(r.containers.map((c) => [c.id, c.carve_via])).toEqual([[expected.gone, 'unallocated']]);
      expect(r.containers[0]!.hostconfig_match).toBe('adjacent');
      const logs = r.events.filter((e) => e.source === 'carve:json-log');
      expect(logs).toHaveLength(goneLines().length);
      expect(logs[0]!.path).toBe('disk@unallocated');
      expect(logs[0]!.container_id).toBeUndefined();
    }
  });

  it('--carve-all scans the disk minus live files: same findings, no live data', () => {
    const r = carveRecovery(new ImageRecoverySource(opened.layout!), { mode: 'all', host: 'carvehost', deletedInodes: false });
    expect(r.summary.mode).toBe('all');
    expect(r.containers.map((c) => c.id)).toEqual([expected.gone]);
    expect(r.events.filter((e) => e.source === 'carve:json-log')).toHaveLength(goneLines().length);
    expect(r.events.some((e) => e.message.includes('live line'))).toBe(false);
  });

  it('triage writes carved rows and events; --no-carve leaves them out', async () => {
    const out = path.join(dir, 'out');
    await triage({ sources: [img], out, formats: ['jsonl'] });
    const rows = JSON.parse(fs.readFileSync(path.join(out, 'containers.json'), 'utf8')) as Array<Record<string, unknown>>;
    const carved = rows.filter((r) => r.recovered === 'carved');
    expect(carved.map((r) => [r.id, r.name])).toEqual([[expected.gone, 'evil']]);
    expect(carved[0]).toMatchObject({ carve_fs: 'disk', carve_via: 'deleted-inode' });
    expect(rows.filter((r) => r.recovered === undefined).map((r) => r.id)).toEqual([expected.live]);
    const csv = fs.readFileSync(path.join(out, 'containers.csv'), 'utf8');
    expect(csv).toContain(expected.gone);
    const tl = fs
      .readFileSync(path.join(out, 'timeline.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(tl.filter((e) => e.source === 'carve:json-log')).toHaveLength(goneLines().length);
    expect(tl.filter((e) => e.source === 'carve:docker-config')).toHaveLength(3);
    const report = JSON.parse(fs.readFileSync(path.join(out, 'carve.json'), 'utf8'));
    expect(report.summary.configs).toBe(1);
    // carve.json is evidence-determined: a second run writes the same bytes (the scan's duration is in the manifest).
    const again = path.join(dir, 'out-again');
    await triage({ sources: [img], out: again, formats: ['jsonl'] });
    expect(fs.readFileSync(path.join(again, 'carve.json')).equals(fs.readFileSync(path.join(out, 'carve.json')))).toBe(true);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    expect(manifest.sources[0].carve_timing.seconds).toBeGreaterThan(0);

    const out2 = path.join(dir, 'out-off');
    await triage({ sources: [img], out: out2, formats: ['jsonl'], carve: 'off' });
    const rows2 = JSON.parse(fs.readFileSync(path.join(out2, 'containers.json'), 'utf8')) as Array<Record<string, unknown>>;
    expect(rows2.some((r) => r.recovered === 'carved')).toBe(false);
    expect(fs.readFileSync(path.join(out2, 'timeline.jsonl'), 'utf8')).not.toContain('carve:');
  });
});
