// The lifecycle view of json-file logs: only the first record of each file (gzip from a prefix) and the last of
// each plain file (a tail window). A counting VFS proves a huge current file is read only at its ends, and the
// edge events carry the same ids as the full reader's events for the same records.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { ProblemLog, type TimelineEvent } from '../../src/events/event.js';
import { HostDirVfs } from '../../src/fs/host-dir/host-dir.js';
import type { Vfs, VfsFile } from '../../src/fs/vfs.js';
import type { CollectorContext } from '../../src/collectors/types.js';
import { jsonLogSource } from '../../src/collectors/docker/json-log.js';
import { computeEventId } from '../../src/events/event-id.js';

const ID = 'c'.repeat(64);
const DIR = `/var/lib/docker/containers/${ID}`;
let root: string;

function rec(i: number, pad = ''): string {
  const t = new Date(Date.UTC(2024, 4, 1) + i * 1000).toISOString().slice(0, 19);
  return JSON.stringify({ log: `line ${i} ${pad}\n`, stream: 'stdout', time: `${t}.000000001Z` }) + '\n';
}

function lines(from: number, to: number, pad: () => string): string {
  let s = '';
  for (let i = from; i < to; i++) s += rec(i, pad());
  return s;
}

/** Counts bytes read per path. */
class CountingVfs {
  readonly bytes = new Map<string, number>();
  constructor(private readonly inner: Vfs) {}
  wrap(): Vfs {
    const self = this;
    return new Proxy(this.inner, {
      get(target, prop, recv) {
        if (prop === 'open') {
          return (p: string): VfsFile => {
            const f = target.open(p);
            return {
              size: f.size,
              ino: f.ino,
              read(buf, off, len, pos) {
                const n = f.read(buf, off, len, pos);
                self.bytes.set(p, (self.bytes.get(p) ?? 0) + n);
                return n;
              },
              close: () => f.close(),
            };
          };
        }
        const v = Reflect.get(target, prop, recv);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  }
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'flotsam-edges-'));
  const dir = path.join(root, DIR);
  fs.mkdirSync(dir, { recursive: true });
  const noisy = (): string => randomBytes(24).toString('hex');
  // oldest: a gzip bigger than MAX_GZ_TAIL_INFLATE_BYTES (only its first record is read)
  fs.writeFileSync(path.join(dir, `${ID}-json.log.2.gz`), gzipSync(lines(0, 40_000, noisy)));
  // a small gzip (only its beginning is read)
  fs.writeFileSync(path.join(dir, `${ID}-json.log.1.gz`), gzipSync(lines(40_000, 40_100, () => '')));
  // current: ~40 MB plain
  const fd = fs.openSync(path.join(dir, `${ID}-json.log`), 'w');
  for (let k = 0; k < 40; k++) fs.writeSync(fd, lines(40_100 + k * 10_000, 40_100 + (k + 1) * 10_000, () => 'x'.repeat(40)));
  fs.closeSync(fd);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function ctxOf(vfs: Vfs): CollectorContext {
  return { vfs, host: 'h', problems: new ProblemLog() };
}

const files = (): Array<{ path: string; containerId: string }> =>
  [`${ID}-json.log.2.gz`, `${ID}-json.log.1.gz`, `${ID}-json.log`].map((n) => ({ path: `${DIR}/${n}`, containerId: ID }));

describe('json-file lifecycle edges', () => {
  it('reads the first record of every file and the last of the newest, touching only the file ends', async () => {
    const counting = new CountingVfs(new HostDirVfs(root));
    const ctx = ctxOf(counting.wrap());
    const src = jsonLogSource(ctx, files());
    const got: TimelineEvent[] = [];
    for await (const b of src.lifecycle!()) got.push(...b);
    expect(ctx.problems.problems).toEqual([]);
    const msgs = got.map((e) => `${e.attrs?.lifecycle_edge} ${e.message.split(' ').slice(0, 2).join(' ')}`);
    // the small rotated .gz gives only its first record (not the newest file: not inflated whole)
    expect(msgs).toEqual(['first line 0', 'file-first line 40000', 'file-first line 40100', 'last line 440099']);
    const current = fs.statSync(path.join(root, DIR, `${ID}-json.log`)).size;
    const bigGz = fs.statSync(path.join(root, DIR, `${ID}-json.log.2.gz`)).size;
    expect(current).toBeGreaterThan(30 * 1024 * 1024);
    expect(bigGz).toBeGreaterThan(1024 * 1024);
    expect(counting.bytes.get(`${DIR}/${ID}-json.log`)).toBeLessThan(256 * 1024);
    expect(counting.bytes.get(`${DIR}/${ID}-json.log.2.gz`)).toBeLessThan(256 * 1024);
  });

  it('edge events have the ids of the full reader\'s events for the same records', async () => {
    const ctx = ctxOf(new HostDirVfs(root));
    const src = jsonLogSource(ctx, files());
    const edges: TimelineEvent[] = [];
    for await (const b of src.lifecycle!()) edges.push(...b);
    const want = new Set(edges.map(computeEventId));
    const found = new Set<string>();
    for await (const b of src.open()) for (const e of b) {
      const id = computeEventId(e);
      if (want.has(id)) found.add(id);
    }
    expect([...found].sort()).toEqual([...want].sort());
  }, 60_000);

  it('a tail window without a line start is widened; a file without records gives nothing', async () => {
    const dir = path.join(root, 'w');
    fs.mkdirSync(dir, { recursive: true });
    const long = rec(1, 'y'.repeat(200_000));
    fs.writeFileSync(path.join(dir, 'a-json.log'), rec(0) + long);
    fs.writeFileSync(path.join(dir, 'b-json.log'), '');
    const ctx = ctxOf(new HostDirVfs(root));
    const got: TimelineEvent[] = [];
    for await (const b of jsonLogSource(ctx, [{ path: '/w/a-json.log', containerId: ID }]).lifecycle!()) got.push(...b);
    expect(got.map((e) => e.message.slice(0, 6))).toEqual(['line 0', 'line 1']);
    expect(got[1].offset).toBe(rec(0).length);
    const none: TimelineEvent[] = [];
    for await (const b of jsonLogSource(ctx, [{ path: '/w/b-json.log', containerId: ID }]).lifecycle!()) none.push(...b);
    expect(none).toEqual([]);
  });
});
