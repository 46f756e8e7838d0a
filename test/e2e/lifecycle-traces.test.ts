// Removed containers found from traces without a containers/<id> config, end to end through triage() on copies of
// the real sample host, damaged or extended the way removals and other runtimes leave hosts:
//  1 a left-over containers/<id> directory with only its json-file log (a real one, crasher, and a synthetic one),
//  2 an orphan image/overlay2/layerdb/mounts/<id> with its overlay2 writable layer (synthetic, and the real vol),
//  3 an overlay2 directory (with its -init sibling) that no layerdb entry owns: a container of unknown id,
//  4 a Kubernetes /var/log/containers link to a CRI-format /var/log/pods log,
//  5 a named volume whose only container was removed,
//  6 `docker rm web` in the shell history while containers/<web id> still holds its config.
// Every evidence id must name an event of timeline.jsonl. docs/formats/lifecycle.md lists what each trace proves.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { triage } from '../../src/triage/triage.js';
import { CAPTURES, copySampleHost, readJsonl, tmp } from './helpers.js';

interface TJson {
  kind: string;
  time: string;
  confidence: string;
  sources: string[];
  evidence: Array<{ id?: string; source: string; path: string; detail?: string }>;
  note?: string;
  request_only?: boolean;
  contradicted?: boolean;
}
interface LJson {
  id: string;
  names: string[];
  removed: string;
  present: boolean;
  state_at_capture: string;
  transitions: TJson[];
  conflicts: string[];
  traces: Array<{ kind: string; path: string; time?: string; detail?: string }>;
  name_links: string[];
  evidence_counts: Record<string, number>;
}
interface Run {
  lifecycles: LJson[];
  orphanLayers: Array<{ path: string; hasInit: boolean }>;
  csv: Array<Record<string, string>>;
  timeline: Array<Record<string, unknown>>;
  problems: Array<{ path: string; reason: string; component: string }>;
  removedCount: number;
}

const D = 'var/lib/docker';
const CRASHER = 'c7176984e0a80ce8d643c407f4901622c16133cba57353a9d6bea2a1bcdd5874';
const VOL = 'e575516134765eb18e4848518513cd0a90692d400745038c9ad79529336dcf5c';
const TAMPER = 'c1928c14f719ae703ca5bbc59c59ce1b7f3ad21d46da73fcf6519bf284944f84';
const WEB = '6e1830bebeb4cc23aba5ae29476f88118dbdcbab28ef42abbbaf27441a35c386';
const GONE = '19d28fe433db';
const LEFT = '1'.repeat(64); // synthetic left-over log directory
const MNT = '2'.repeat(64); // synthetic orphan layerdb mount
const MOUNT_ID = '3'.repeat(64);
const ORPHAN = '4'.repeat(64); // overlay2 dir owned by nobody, with -init
const LOOSE = '6'.repeat(64); // overlay2 dir owned by nobody, without -init (an image layer? not claimed)
const K8S = '5'.repeat(64);
const K8S_LINK = `/var/log/containers/api-7f9c_prod_app-${K8S}.log`;
const K8S_LOG = '/var/log/pods/prod_api-7f9c_0000-1111/app/0.log';
const IMAGE_TOP = 'sha256:16d79f11b2d7b242ff7f678853287f38e05972ffd80e0607268ca0539e2ec3f7';

let base: string;
let A: Run; // 1, 2 (synthetic), 3, 4, 6
let B: Run; // 2 (real), 5

async function run(host: string, out: string): Promise<Run> {
  const r = await triage({ sources: [host], out, formats: ['jsonl'] });
  const j = JSON.parse(fs.readFileSync(path.join(out, 'lifecycles.json'), 'utf8')) as { lifecycles: LJson[]; orphan_layers: Run['orphanLayers'] };
  return {
    lifecycles: j.lifecycles,
    orphanLayers: j.orphan_layers,
    csv: parse(fs.readFileSync(path.join(out, 'lifecycles.csv'), 'utf8'), { columns: true }) as Array<Record<string, string>>,
    timeline: readJsonl(path.join(out, 'timeline.jsonl')),
    problems: r.problems,
    removedCount: r.manifest.sources[0].removed_containers ?? -1,
  };
}

beforeAll(async () => {
  base = tmp('flotsam-lc-traces-');
  // --- host A ---
  const a = copySampleHost(path.join(base, 'a'));
  const p = (...x: string[]): string => path.join(a, ...x);
  // 1: crasher loses its config (docker rm interrupted after the config went); a synthetic dir holds only a log
  fs.rmSync(p(D, 'containers', CRASHER, 'config.v2.json'));
  fs.rmSync(p(D, 'containers', CRASHER, 'hostconfig.json'));
  fs.mkdirSync(p(D, 'containers', LEFT));
  fs.writeFileSync(
    p(D, 'containers', LEFT, `${LEFT}-json.log`),
    '{"log":"first\\n","stream":"stdout","time":"2024-05-01T10:00:00.100000001Z"}\n' +
      '{"log":"middle\\n","stream":"stdout","time":"2024-05-01T10:01:00Z"}\n' +
      '{"log":"last\\n","stream":"stderr","time":"2024-05-01T10:05:00.5Z"}\n',
  );
  // 2: layerdb mounts entry + overlay2 writable layer (with a dropped file) of a container that is gone
  const mnt = p(D, 'image/overlay2/layerdb/mounts', MNT);
  fs.mkdirSync(mnt);
  fs.writeFileSync(path.join(mnt, 'mount-id'), MOUNT_ID);
  fs.writeFileSync(path.join(mnt, 'init-id'), `${MOUNT_ID}-init`);
  fs.writeFileSync(path.join(mnt, 'parent'), IMAGE_TOP);
  fs.mkdirSync(p(D, 'overlay2', MOUNT_ID, 'diff/tmp'), { recursive: true });
  fs.mkdirSync(p(D, 'overlay2', `${MOUNT_ID}-init`, 'diff'), { recursive: true });
  fs.writeFileSync(p(D, 'overlay2', MOUNT_ID, 'diff/tmp/dropped.sh'), '#!/bin/sh\n', { mode: 0o755 });
  // 3: overlay2 directories no layerdb entry owns
  fs.mkdirSync(p(D, 'overlay2', ORPHAN, 'diff/etc'), { recursive: true });
  fs.mkdirSync(p(D, 'overlay2', `${ORPHAN}-init`, 'diff'), { recursive: true });
  fs.writeFileSync(p(D, 'overlay2', ORPHAN, 'diff/etc/passwd'), 'x\n');
  fs.mkdirSync(p(D, 'overlay2', LOOSE, 'diff'), { recursive: true });
  // 4: kubelet's link and a CRI log (one partial record, one line not in CRI format)
  fs.mkdirSync(p(path.dirname(K8S_LOG).slice(1)), { recursive: true });
  fs.writeFileSync(
    p(K8S_LOG.slice(1)),
    '2024-05-01T10:20:30.123456789Z stdout F hello from app\n' +
      '2024-05-01T10:20:31.000000001Z stderr P part\n' +
      'garbage\n' +
      '2024-05-01T10:20:31.5Z stderr F ial\n',
  );
  fs.mkdirSync(p('var/log/containers'), { recursive: true });
  fs.symlinkSync(K8S_LOG, p(K8S_LINK.slice(1)));
  // 6: a `docker rm web` typed after the capture's last web evidence; web's directory is intact
  fs.appendFileSync(p('root/.bash_history'), '#1795713999\ndocker rm web\n');
  A = await run(a, path.join(base, 'out-a'));

  // --- host B: vol and tamper removed, but their layerdb mounts and writable layers stay; vol's named volume
  // `appdata` remains ---
  const b = copySampleHost(path.join(base, 'b'));
  fs.rmSync(path.join(b, D, 'containers', VOL), { recursive: true });
  fs.rmSync(path.join(b, D, 'containers', TAMPER), { recursive: true });
  B = await run(b, path.join(base, 'out-b'));
});

afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

const lc = (r: Run, id: string): LJson => {
  const l = r.lifecycles.find((x) => x.id === id);
  if (!l) throw new Error(`no lifecycle ${id}`);
  return l;
};
const kinds = (l: LJson): string[] => l.transitions.map((t) => `${t.kind}:${t.confidence}`);
const idsOf = (r: Run): Set<string> => new Set(r.timeline.map((e) => e.event_id as string));

describe('removed containers from traces (triage on modified copies of the sample host)', () => {
  it('every evidence id of every lifecycle is an event_id of timeline.jsonl; lifecycle events match transitions', () => {
    for (const r of [A, B]) {
      const ids = idsOf(r);
      let n = 0;
      for (const l of r.lifecycles) {
        for (const t of l.transitions) {
          for (const e of t.evidence) {
            if (e.id === undefined) continue;
            n++;
            expect(ids.has(e.id), `${l.id.slice(0, 12)} ${t.kind} ${e.source} ${e.id}`).toBe(true);
          }
        }
      }
      expect(n).toBeGreaterThan(50);
      expect(r.timeline.filter((e) => e.source === 'lifecycle')).toHaveLength(r.lifecycles.reduce((s, l) => s + l.transitions.length, 0));
    }
  });

  it('1a. a left-over containers/<id> dir with only a log: removed (inferred), log events in the timeline, started inferred from the first line', () => {
    const l = lc(A, LEFT);
    expect(l.present).toBe(false);
    expect(l.removed).toBe('inferred');
    expect(l.state_at_capture).toBe('removed');
    expect(kinds(l)).toEqual(['started:inferred', 'removed:inferred']);
    const logs = A.timeline.filter((e) => e.source === 'docker:json-log' && e.container_id === LEFT);
    expect(logs.map((e) => e.datetime)).toEqual(['2024-05-01T10:00:00.100000001Z', '2024-05-01T10:01:00.000000000Z', '2024-05-01T10:05:00.500000000Z']);
    const started = l.transitions[0];
    expect(started.time).toBe('2024-05-01T10:00:00.100000001Z');
    expect(started.evidence.map((e) => e.id)).toEqual([logs[0].event_id]);
    expect(started.evidence[0].detail).toBe('first log record');
    const removed = l.transitions[1];
    expect(removed.sources).toEqual(['state']);
    expect(removed.evidence.map((e) => e.detail?.split(':')[0])).toEqual(['no containers/<id> directory with a config in the evidence', 'leftover-log-dir']);
    expect(l.traces.map((t) => t.kind)).toEqual(['leftover-log-dir']);
    expect(l.conflicts[0]).toMatch(/^removed container left \/var\/lib\/docker\/containers\/1{64} behind$/);
    const row = A.csv.find((x) => x.id === LEFT);
    expect(row).toMatchObject({ removed: 'inferred', state_at_capture: 'removed', first_start: '2024-05-01T10:00:00.100000001Z', starts: '1' });
    const ev = A.timeline.filter((e) => e.source === 'lifecycle' && e.container_id === LEFT);
    expect(ev.map((e) => [e.transition, e.confidence, e.container_removed])).toEqual([['started', 'inferred', 'inferred'], ['removed', 'inferred', 'inferred']]);
    expect(ev[1].time_is_lower_bound).toBe(true);
  });

  it('1b. crasher with config and hostconfig deleted: removed (inferred) with its daemon history; its logs stay attributed to it', () => {
    const l = lc(A, CRASHER);
    expect(l.present).toBe(false);
    expect(l.removed).toBe('inferred');
    // the daemon lines of docker.log still give its run; the log's first record (after the shim start) infers nothing
    expect(kinds(l)).toEqual(['started:observed', 'died:observed', 'removed:inferred']);
    expect(l.traces.map((t) => t.kind).sort()).toEqual(['leftover-log-dir', 'orphan-layerdb-mount', 'orphan-writable-layer']);
    const logs = A.timeline.filter((e) => e.source === 'docker:json-log' && e.container_id === CRASHER);
    expect(logs.length).toBeGreaterThan(0);
    expect(l.evidence_counts['docker:json-log']).toBe(2); // first and last record (the pre-pass reads edges only)
    // its name is only in the shell history; two unnamed removed containers (crasher, gone) follow the `docker run
    // --name crasher` within the link window, so the name is not guessed
    expect(l.names).toEqual([]);
    const nameOnly = A.lifecycles.find((x) => x.id === '' && x.names.includes('crasher'));
    expect(nameOnly?.name_links[0]).toMatch(/^name crasher not linked: 2 unnamed containers/);
    expect(nameOnly?.removed).toBe('unknown');
    // gone is still linked: crasher appeared before the `docker run --name gone` window
    expect(A.lifecycles.find((x) => x.id.startsWith(GONE))?.names).toEqual(['gone']);
  });

  it('2a. an orphan layerdb mount with its overlay2 layer: removed (inferred) container with the layer\'s file changes in the timeline', () => {
    const l = lc(A, MNT);
    expect(l.present).toBe(false);
    expect(l.removed).toBe('inferred');
    expect(kinds(l)).toEqual(['removed:inferred']);
    expect(l.traces.map((t) => [t.kind, t.path])).toEqual([
      ['orphan-layerdb-mount', `/var/lib/docker/image/overlay2/layerdb/mounts/${MNT}`],
      ['orphan-writable-layer', `/var/lib/docker/overlay2/${MOUNT_ID}`],
    ]);
    expect(l.traces[0].detail).toBe(`mount-id ${MOUNT_ID}`);
    const rm = l.transitions[0];
    expect(rm.evidence.map((e) => e.path)).toEqual([`containers/${MNT}`, ...l.traces.map((t) => t.path)]);
    expect(rm.evidence.every((e) => e.id === undefined)).toBe(true); // directories, not timeline events
    const changes = A.timeline.filter((e) => e.source === 'docker:fs-change' && e.container_id === MNT);
    const added = changes.filter((e) => e.container_path === '/tmp/dropped.sh');
    expect(added.length).toBeGreaterThan(0);
    expect(added.every((e) => e.change === 'A' && e.executable === true && e.layer === MOUNT_ID && e.container_name === undefined)).toBe(true);
  });

  it('2b. vol and tamper removed (containers/<id> gone), layerdb mounts and writable layers kept: removed (inferred); tamper\'s changes = docker diff', () => {
    for (const id of [VOL, TAMPER]) {
      const l = lc(B, id);
      expect(l.removed).toBe('inferred');
      expect(kinds(l).at(-1)).toBe('removed:inferred');
      expect(kinds(l).filter((k) => k.startsWith('started'))).toEqual(['started:observed']); // docker.log's shim start
      expect(l.traces.map((t) => t.kind)).toEqual(['orphan-layerdb-mount', 'orphan-writable-layer']);
    }
    // the writable layer of the removed tamper is diffed as when it was present (host A, same evidence form: a
    // directory copy, where whiteouts and opaque xattrs are not visible, so the deletions of diff-tamper.txt are
    // missing on both sides; diff.test.ts compares with `docker diff` on the full-fidelity forms)
    const set = (r: Run): string[] => [...new Set(r.timeline.filter((e) => e.source === 'docker:fs-change' && e.container_id === TAMPER).map((e) => `${e.change as string} ${e.container_path as string}`))].sort();
    expect(set(B)).toEqual(set(A));
    expect(set(B)).toContain('A /tmp/evil.sh');
    const captured = fs.readFileSync(path.join(CAPTURES, 'diff-tamper.txt'), 'utf8').split('\n').filter((x) => x.startsWith('A '));
    for (const line of captured) expect(set(B)).toContain(line);
    // vol wrote only to its volume: an empty diff (diff-vol.txt is empty), no change events
    expect(fs.readFileSync(path.join(CAPTURES, 'diff-vol.txt'), 'utf8')).toBe('');
    expect(B.timeline.some((e) => e.source === 'docker:fs-change' && e.container_id === VOL)).toBe(false);
    // Known limit (not fixed here): tamper's and vol's first evidence also fall in the link window (-2 s, +10 s) of `docker run --name
    // gone`, so the name gone is not linked to 19d28fe4… (three candidates, no guess) and gone is counted twice: the
    // name-only lifecycle (removed yes, from `docker rm -f gone`) and the id (removed inferred).
    const goneByName = B.lifecycles.find((x) => x.id === '' && x.names.includes('gone'));
    expect(goneByName?.removed).toBe('yes');
    expect(goneByName?.name_links[0]).toMatch(/^name gone not linked: 3 unnamed containers/);
    expect(B.removedCount).toBe(4);
  });

  it('3. an overlay2 dir with -init owned by no layerdb entry: an unknown container (no id), removed (inferred); without -init only listed', () => {
    const orphans = A.lifecycles.filter((x) => x.id === '' && x.traces.some((t) => t.kind === 'orphan-layer-dir'));
    expect(orphans).toHaveLength(1);
    const l = orphans[0];
    expect(l.names).toEqual([]);
    expect(l.removed).toBe('inferred');
    expect(l.state_at_capture).toBe('removed');
    expect(kinds(l)).toEqual(['removed:inferred']);
    expect(l.traces[0].path).toBe(`/var/lib/docker/overlay2/${ORPHAN}`);
    expect(l.transitions[0].evidence).toEqual([expect.objectContaining({ source: 'state', path: `/var/lib/docker/overlay2/${ORPHAN}` })]);
    const ev = A.timeline.find((e) => e.source === 'lifecycle' && e.path === `/var/lib/docker/overlay2/${ORPHAN}`);
    expect(ev?.message).toMatch(/^Container \? \(id unknown\) removed \(inferred: a writable layer no container/);
    expect(ev?.container_id).toBeUndefined();
    // both directories are listed as orphan layers and in problems.json; only the one with -init is a container
    expect(A.orphanLayers.map((o) => [path.basename(o.path), o.hasInit]).sort()).toEqual([[ORPHAN, true], [LOOSE, false]]);
    expect(A.problems.filter((x) => x.component === 'lifecycle' && /owned by no layerdb entry/.test(x.reason))).toHaveLength(2);
    expect(A.lifecycles.some((x) => x.traces.some((t) => t.path.endsWith(LOOSE)))).toBe(false);
  });

  it('4. a Kubernetes log link to a CRI log: names from the path, CRI records in the timeline, removal unknown (not a Docker container)', () => {
    const l = lc(A, K8S);
    expect(l.names).toEqual(['app']);
    expect(l.traces).toEqual([expect.objectContaining({ kind: 'kubernetes-log-path', path: K8S_LINK, detail: 'pod api-7f9c namespace prod container app -> 0.log' })]);
    // the container ran under a CRI runtime (containerd/CRI-O): no Docker containers/<id> is expected, so its
    // absence proves nothing
    expect(l.removed).toBe('unknown');
    expect(l.state_at_capture).toBe('unknown');
    const recs = A.timeline.filter((e) => e.source === 'kubernetes:cri-log');
    expect(recs.map((e) => [e.datetime, e.stream, e.partial, e.line])).toEqual([
      ['2024-05-01T10:20:30.123456789Z', 'stdout', false, 1],
      ['2024-05-01T10:20:31.000000001Z', 'stderr', true, 2],
      ['2024-05-01T10:20:31.500000000Z', 'stderr', false, 4],
    ]);
    expect(recs.every((e) => e.container_id === K8S && e.container_name === 'app' && e.pod === 'api-7f9c' && e.namespace === 'prod' && e.path === K8S_LOG)).toBe(true);
    expect(recs[0].message).toBe('prod/api-7f9c/app stdout: hello from app');
    expect(kinds(l)).toEqual(['started:inferred']);
    expect(l.transitions[0].evidence.map((e) => e.id)).toEqual([recs[0].event_id]);
    expect(l.evidence_counts['kubernetes:cri-log']).toBe(2);
    const row = A.csv.find((x) => x.id === K8S);
    expect(row).toMatchObject({ first_seen: '2024-05-01T10:20:30.123456789Z', removed: 'unknown' });
    expect(A.problems.some((x) => x.component === 'cri-log' && /1 line\(s\) not in CRI log format/.test(x.reason))).toBe(true);
  });

  it('5. the named volume of a removed container: its files are orphan volume events; no lifecycle links it to vol', () => {
    const files = B.timeline.filter((e) => e.source === 'docker:volume-file' && e.volume === 'appdata');
    expect(files.length).toBeGreaterThan(0);
    expect(files.every((e) => e.orphan === true && e.container_id === undefined && /no container references it/.test(e.message as string))).toBe(true);
    // with vol present (host A) the same files are attributed to vol
    const attributed = A.timeline.filter((e) => e.source === 'docker:volume-file' && e.volume === 'appdata');
    expect(attributed.length).toBe(files.length);
    expect(attributed.every((e) => e.container_id === VOL && e.orphan === undefined)).toBe(true);
    // volumes/metadata.db names no container: the removed vol's lifecycle cannot claim the volume
    expect(JSON.stringify(lc(B, VOL))).not.toMatch(/appdata/);
  });

  it('6. `docker rm web` in the shell history while web\'s config is on disk: not removed; the request is kept, marked contradicted', () => {
    const l = lc(A, WEB);
    expect(l.present).toBe(true);
    expect(l.removed).toBe('no');
    expect(l.state_at_capture).toBe('running');
    const rm = l.transitions.filter((t) => t.kind === 'removed');
    expect(rm).toHaveLength(1);
    expect(rm[0]).toMatchObject({ confidence: 'observed', sources: ['bash_history'], request_only: true, contradicted: true });
    expect(l.conflicts).toEqual([expect.stringMatching(/^removal at 2026-11-26T17:26:39\.000000000Z \(bash_history\) but containers\/6e1830bebeb4 still holds its config$/)]);
    expect(A.csv.find((x) => x.id === WEB)).toMatchObject({ removed: 'no', state_at_capture: 'running' });
    const ev = A.timeline.find((e) => e.source === 'lifecycle' && e.container_id === WEB && e.transition === 'removed');
    expect(ev?.contradicted).toBe(true);
    expect(ev?.container_removed).toBeUndefined();
    expect(ev?.message).toMatch(/removed \(observed: bash_history; contradicted: the container still exists at capture\)/);
    // only gone, crasher, the synthetic ones and the unknown-id layer are removed on host A
    const removedIds = A.lifecycles.filter((x) => x.removed === 'yes' || x.removed === 'inferred').map((x) => x.id.slice(0, 12)).sort();
    expect(removedIds).toEqual(['', GONE, LEFT.slice(0, 12), MNT.slice(0, 12), CRASHER.slice(0, 12)].sort());
    expect(A.removedCount).toBe(5);
  });
});
