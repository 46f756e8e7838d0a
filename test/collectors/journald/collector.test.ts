// The journald host collector: which files it finds (persistent and volatile storage, archived and dirty names),
// one ordered source per file, and its place in HOST_COLLECTORS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ProblemLog, type TimelineEvent } from '../../../src/events/event.js';
import { HostDirVfs } from '../../../src/fs/host-dir/host-dir.js';
import type { CollectorContext } from '../../../src/collectors/types.js';
import { HOST_COLLECTORS } from '../../../src/collectors/registry.js';
import { findJournalFiles, isJournalFileName, journaldCollector } from '../../../src/collectors/journald/index.js';
import { journaldFixtures, journaldToolsMissing } from '../../fixtures-scripts/journald-make.js';

const MID = '0123456789abcdef0123456789abcdef';

describe.skipIf(journaldToolsMissing().length > 0)('journald collector', () => {
  let root = '';
  beforeAll(() => {
    const dir = journaldFixtures();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'flotsam-journald-host-'));
    const put = (rel: string, variant: string): void => {
      const p = path.join(root, rel);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.copyFileSync(path.join(dir, `${variant}.journal`), p);
    };
    put(`var/log/journal/${MID}/system.journal`, 'zstd-compact');
    put(`var/log/journal/${MID}/system@00061a2b3c4d5e6f-0000000000000001-00061a2b3c4d5e6f.journal`, 'lz4-regular');
    put(`var/log/journal/${MID}/user-1000.journal`, 'xz-compact');
    put(`var/log/journal/${MID}/system@00061a2b3c4d5e6f-0000000000000002-00061a2b3c4d5e70.journal~`, 'plain-compact');
    put(`run/log/journal/${MID}/system.journal`, 'plain-regular');
    put(`var/log/journal/${MID}/notes.txt`, 'plain-regular');
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('finds system, user, archived and dirty files under /var/log/journal and /run/log/journal', () => {
    const ctx: CollectorContext = { vfs: new HostDirVfs(root), host: 'h', problems: new ProblemLog() };
    expect(findJournalFiles(ctx)).toEqual([
      `/run/log/journal/${MID}/system.journal`,
      `/var/log/journal/${MID}/system.journal`,
      `/var/log/journal/${MID}/system@00061a2b3c4d5e6f-0000000000000001-00061a2b3c4d5e6f.journal`,
      `/var/log/journal/${MID}/system@00061a2b3c4d5e6f-0000000000000002-00061a2b3c4d5e70.journal~`,
      `/var/log/journal/${MID}/user-1000.journal`,
    ]);
    expect(ctx.problems.problems).toEqual([]);
    expect(isJournalFileName('system.journal~')).toBe(true);
    expect(isJournalFileName('system.journal.bak')).toBe(false);
  });

  it('gives one ordered source per file, each yielding every entry', async () => {
    const ctx: CollectorContext = { vfs: new HostDirVfs(root), host: 'h', problems: new ProblemLog() };
    const { sources } = journaldCollector.collect(ctx);
    expect(sources.length).toBe(5);
    for (const s of sources) {
      expect(s.ordered).toBe(true);
      const events: TimelineEvent[] = [];
      for await (const batch of s.open()) events.push(...batch);
      expect(events.length, s.id).toBe(300);
      expect(events.every((e) => e.path === s.id && e.host === 'h')).toBe(true);
    }
    expect(ctx.problems.problems).toEqual([]);
  });

  it('is registered in HOST_COLLECTORS', () => {
    expect(HOST_COLLECTORS).toContain(journaldCollector);
  });

  it('a host without journals gives no sources and no problems', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'flotsam-journald-empty-'));
    const ctx: CollectorContext = { vfs: new HostDirVfs(empty), host: 'h', problems: new ProblemLog() };
    expect(journaldCollector.collect(ctx).sources).toEqual([]);
    expect(ctx.problems.problems).toEqual([]);
    fs.rmSync(empty, { recursive: true });
  });
});
