// A host whose clock was set back while its containers ran: every container's json-file log steps back an hour
// at the same instant. The CLI must still write one complete, sorted timeline, name every stepped log, and merge
// twice (src/timeline/live-sources.ts), not once per container.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flotsam, readJsonl, tmp } from './helpers.js';

const CONTAINERS = 12;
const LINES = 800;
const START_NS = 1_714_557_600_000_000_000n; // 2024-05-01T10:00:00Z
const LINE_NS = 50_000_000n;
const STEP_AT_NS = START_NS + 400n * LINE_NS; // the moment the host clock went back
const HOUR_NS = 3_600_000_000_000n;

function isoNano(ns: bigint): string {
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19) + '.' + frac + 'Z';
}

/** A minimal Docker host: each container writes LINES lines; the clock reads an hour less from STEP_AT_NS on. */
function makeHost(root: string): void {
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc/hostname'), 'clock-host\n');
  fs.writeFileSync(path.join(root, 'etc/os-release'), 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n');
  for (let c = 0; c < CONTAINERS; c++) {
    const id = (c.toString(16).padStart(8, '0') + 'cd'.repeat(28)).slice(0, 64);
    const dir = path.join(root, 'var/lib/docker/containers', id);
    fs.mkdirSync(dir, { recursive: true });
    const config = {
      ID: id,
      Created: isoNano(START_NS - 1_000_000_000n),
      Name: `/app-${c}`,
      Path: 'sh',
      Args: [],
      Config: { Image: 'clock/app:1', Env: [], Labels: {} },
      Image: 'sha256:' + 'ef'.repeat(32),
      State: { Running: true, Pid: 0, ExitCode: 0, StartedAt: isoNano(START_NS), FinishedAt: '0001-01-01T00:00:00Z' },
      LogPath: `/var/lib/docker/containers/${id}/${id}-json.log`,
      Driver: 'overlay2',
    };
    fs.writeFileSync(path.join(dir, 'config.v2.json'), JSON.stringify(config));
    fs.writeFileSync(path.join(dir, 'hostconfig.json'), JSON.stringify({ LogConfig: { Type: 'json-file', Config: {} } }));
    const lines: string[] = [];
    for (let k = 0; k < LINES; k++) {
      const real = START_NS + BigInt(k) * LINE_NS + BigInt(c) * 1000n;
      const shown = real >= STEP_AT_NS ? real - HOUR_NS : real;
      lines.push(JSON.stringify({ log: `app-${c} line ${k}\n`, stream: 'stdout', time: isoNano(shown) }));
    }
    fs.writeFileSync(path.join(dir, `${id}-json.log`), lines.join('\n') + '\n');
  }
}

let work: string;
beforeAll(() => {
  work = tmp();
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('a host clock set back under every container', () => {
  it('gives one complete sorted timeline, a step finding per log, and every log sorted in full', () => {
    const host = path.join(work, 'host');
    makeHost(host);
    const out = path.join(work, 'out');
    const r = flotsam(['triage', host, '--out', out, '--format', 'jsonl', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as {
      sources: Array<{ timeline_fallbacks: string[]; timeline_passes: number; time_steps_back: number }>;
    };
    // The first log to trip the merge; the probe reads the others on a few batches and finds the other eleven.
    expect(manifest.sources[0].timeline_passes).toBe(2);
    const fallbacks = manifest.sources[0].timeline_fallbacks;
    expect(fallbacks).toHaveLength(CONTAINERS);
    expect(new Set(fallbacks).size).toBe(CONTAINERS);
    expect(manifest.sources[0].time_steps_back).toBe(CONTAINERS);
    const events = readJsonl(path.join(out, 'timeline.jsonl'));
    const logLines = events.filter((e) => e.source === 'docker:json-log');
    expect(logLines).toHaveLength(CONTAINERS * LINES);
    for (let i = 1; i < events.length; i++) expect(String(events[i].datetime) >= String(events[i - 1].datetime)).toBe(true);
    // The first line written after the step sorts an hour before the step.
    const stepped = logLines.filter((e) => e.message === 'app-0 line 400');
    expect(stepped).toHaveLength(1);
    expect(stepped[0].datetime).toBe(isoNano(STEP_AT_NS - HOUR_NS));
  });
});
