// Kubernetes CRI logs as a timeline source (cri-log.ts): records, rotation order, and the ReadBudget that keeps
// thousands of them open at once small.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ProblemLog, type TimelineEvent } from '../../src/events/event.js';
import { HostDirVfs } from '../../src/fs/host-dir/host-dir.js';
import { criLogSource } from '../../src/lifecycle/cri-log.js';
import { tempDir } from '../helpers/corpus.js';

const t = tempDir('flotsam-cri-log-');
afterAll(() => t.cleanup());

const time = (i: number): string => `2026-11-26T10:00:${String(Math.floor(i / 1000)).padStart(2, '0')}.${String(i % 1000).padStart(3, '0')}000001Z`;
const lines = (from: number, to: number): string => {
  let s = '';
  for (let i = from; i < to; i++) s += `${time(i)} ${i % 2 ? 'stderr' : 'stdout'} F ${i % 50 === 0 ? 'y'.repeat(6000) : `msg ${i}`}\n`;
  return s;
};

describe('criLogSource', () => {
  const dir = path.join(t.dir, 'var/log/pods/ns_pod_uid/app');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, '0.log.20261126-100000'), lines(0, 2000));
  fs.writeFileSync(path.join(dir, '0.log'), lines(2000, 4000));
  const ref = { containerId: 'c1', name: 'app', pod: 'pod', namespace: 'ns', path: '/var/log/pods/ns_pod_uid/app/0.log' };

  it('reads the rotated file first; a small ReadBudget gives small batches of the same events', async () => {
    const problems = new ProblemLog();
    const ctx = { vfs: new HostDirVfs(t.dir), host: 'h', problems };
    const full: TimelineEvent[] = [];
    for await (const b of criLogSource(ctx, ref).open()) full.push(...b);
    expect(full).toHaveLength(4000);
    expect(full[0]).toMatchObject({ path: '/var/log/pods/ns_pod_uid/app/0.log.20261126-100000', line: 1, offset: 0 });
    expect(full[1].message).toBe('ns/pod/app stderr: msg 1');
    expect(full[3999]).toMatchObject({ path: ref.path, line: 2000, raw_time: time(3999) });
    const batches: TimelineEvent[][] = [];
    for await (const b of criLogSource(ctx, ref).open({ batchEvents: 16, bufferBytes: 4096 })) batches.push(b);
    expect(batches.flat()).toEqual(full);
    expect(problems.problems).toEqual([]);
    // A batch ends after the chunk that fills it: 16 events, plus the records of one 4 KiB chunk.
    for (const b of batches) expect(b.length).toBeLessThanOrEqual(16 + 4096 / 40);
  });
});
