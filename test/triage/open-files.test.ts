// maxOpenSourcesPerJob: how many log sources a triage keeps open, from the descriptor limit the kernel reports.
import { describe, expect, it } from 'vitest';
import { MAX_OPEN_ORDERED_SOURCES } from '../../src/timeline/index.js';
import { MAX_LIVE_SOURCES, maxOpenSourcesPerJob, parseOpenFileLimit } from '../../src/triage/open-files.js';

const limits = (soft: string, hard = soft): string =>
  'Limit                     Soft Limit           Hard Limit           Units     \n' +
  'Max processes             95000                95000                processes \n' +
  `Max open files            ${soft.padEnd(20)} ${hard.padEnd(20)} files     \n` +
  'Max locked memory         8388608              8388608              bytes     \n';

describe('maxOpenSourcesPerJob', () => {
  it('reads the soft limit of /proc/self/limits', () => {
    expect(parseOpenFileLimit(limits('1024', '4096'))).toBe(1024);
    expect(parseOpenFileLimit(limits('unlimited'))).toBeUndefined();
    expect(parseOpenFileLimit('garbage')).toBeUndefined();
  });

  it('half of what the limit leaves, shared by the jobs, between 64 and MAX_LIVE_SOURCES', () => {
    expect(maxOpenSourcesPerJob(1, limits('4096'))).toBe(1792);
    expect(maxOpenSourcesPerJob(2, limits('4096'))).toBe(896);
    expect(maxOpenSourcesPerJob(1, limits('1048576'))).toBe(MAX_LIVE_SOURCES);
    expect(maxOpenSourcesPerJob(1, limits('256'))).toBe(64);
    expect(maxOpenSourcesPerJob(1, limits('unlimited'))).toBe(MAX_OPEN_ORDERED_SOURCES);
    expect(maxOpenSourcesPerJob(1, '')).toBe(MAX_OPEN_ORDERED_SOURCES);
  });

  it('on this machine: a number the timeline accepts', () => {
    const n = maxOpenSourcesPerJob(1);
    expect(Number.isInteger(n) && n >= 64 && n <= MAX_LIVE_SOURCES).toBe(true);
  });
});
